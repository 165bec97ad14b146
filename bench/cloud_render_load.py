"""Load test of cloud renders with Locust (headless, loopback, bounded in time).

    .venv/bin/python -m bench.cloud_render_load [--users 100] [--seconds 30] [--share-a 0.8]
                                                [--model instant] [--workers 0]

The server runs as its own process (`photoflux-cloud serve`, embedded store). With
`--workers 0` renders run on its embedded in-process broker and single worker thread;
with `--workers N` (needs Debian's redis-server) a redis-server is started and N
`photoflux-cloud worker` processes share its queue. `--users` Locust users are studio
devices of two studios (a share `--share-a` of them in studio A, the rest in B): each
uploads a photo, generates (instant model by default: the queue, not the model, is what is
measured on a CPU machine), and polls results to the end, then waits 0.5 s and repeats.

Prints one JSON object: jobs and errors by outcome, p50/p95 of queue wait (started_at -
created_at, the service's own clock) and of end-to-end latency (upload sent to final
status seen), per studio and overall, and fairness: each studio's jobs per user and queue
wait (with fair claiming, the smaller studio B does not wait behind A's backlog).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench._util import emit

ADMIN = ("bench@photoflux.example.com", "bench-password-123")
ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).with_name("locust_cloud_render.py")
WORKER_TOKEN = "bench-worker-token-0123456789abcdef0123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def service_env(folder: Path, port: int, redis_url: str | None) -> dict[str, str]:
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "PHOTOFLUX_ENV": "development",
        "PHOTOFLUX_PORT": str(port),
        "PHOTOFLUX_FIRST_ADMIN_EMAIL": ADMIN[0],
        "PHOTOFLUX_FIRST_ADMIN_PASSWORD": ADMIN[1],
        "PHOTOFLUX_RATE_LIMIT_TOKEN": "1000000/minute",
        "PHOTOFLUX_RENDER_CONCURRENT": "100000",
        "PHOTOFLUX_RENDER_DAILY": "1000000",
        "PHOTOFLUX_OBJECTS_DIR": str(folder / "objects"),
        "PHOTOFLUX_MODELS_DIR": str(folder / "models"),
        "PHOTOFLUX_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
    }
    if redis_url:
        env |= {"PHOTOFLUX_REDIS_URL": redis_url, "PHOTOFLUX_WORKER_TOKEN": WORKER_TOKEN}
    return env


def wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not start; see {log}")


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("--workers needs redis-server (apt-get install redis-server)")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
    process = subprocess.Popen(
        [*args, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    return process, f"redis://127.0.0.1:{port}/0"


def studio_tokens(url: str) -> dict[str, str]:
    with httpx.Client(base_url=url, timeout=30) as http:
        login = http.post("/api/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        tokens = {}
        for name in ("A", "B"):
            studio = http.post("/api/studios", json={"name": f"Studio {name}"}, headers=admin)
            device = http.post(
                f"/api/studios/{studio.json()['id']}/devices", json={"name": "kiosk"}, headers=admin
            )
            tokens[name] = device.json()["device_token"]
        return tokens


def warm_up(url: str, token: str, model: str, workers: int) -> None:
    """One job per worker through to the end before the clock starts: the first render of
    a process loads the engine (and OpenCV or the model), which is not queueing."""
    sys.path.insert(0, str(ROOT))
    from bench.locust_cloud_render import PHOTO, _wire

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=60, headers=headers) as http:
        jobs = []
        for _ in range(max(1, workers)):
            upload = http.post("/api/upload", files={"file": ("photo.jpg", PHOTO)}).json()
            body = {"client_request_id": os.urandom(8).hex(), "upload_id": upload["upload_id"],
                    "request": _wire(model)}  # fmt: skip
            jobs.append(http.post("/api/generate", json=body).json()["job_id"])
        deadline = time.monotonic() + 300
        for job_id in jobs:
            while http.get(f"/api/results/{job_id}").json()["status"] not in (
                "succeeded",
                "failed",
                "cancelled",
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError("the warm-up render never finished")
                time.sleep(0.2)


def run_locust(url: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(args.users), "--spawn-rate", str(args.users),
        "--run-time", f"{args.seconds}s", "--stop-timeout", "10", "--host", url,
        "--only-summary", "--loglevel", "WARNING", "--json",
    ]  # fmt: skip
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=args.seconds + 120, check=False
    )
    try:
        stats = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"locust failed ({done.returncode}):\n{done.stderr[-3000:]}") from None
    return {
        item["name"]: {"requests": item["num_requests"], "failures": item["num_failures"]}
        for item in stats
    }


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_s": None, "p95_s": None, "n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(p95, 3),
        "n": len(ordered),
    }


def summarise(records: list[dict[str, Any]], users: dict[str, int], seconds: float) -> dict:
    by_outcome: dict[str, int] = {}
    for record in records:
        by_outcome[record["outcome"]] = by_outcome.get(record["outcome"], 0) + 1
    studios = {}
    for name, count in users.items():
        mine = [r for r in records if r["studio"] == name and r["outcome"] == "succeeded"]
        studios[name] = {
            "users": count,
            "succeeded": len(mine),
            "jobs_per_user": round(len(mine) / count, 2) if count else None,
            "queue_wait": percentiles([r["queue_wait_s"] for r in mine if r["queue_wait_s"]]),
            "end_to_end": percentiles([r["end_to_end_s"] for r in mine]),
        }
    done = [r for r in records if r["outcome"] == "succeeded"]
    a, b = studios["A"], studios["B"]
    return {
        "jobs": by_outcome,
        "errors": sum(n for outcome, n in by_outcome.items() if outcome != "succeeded"),
        "succeeded_per_s": round(len(done) / seconds, 2),
        "queue_wait": percentiles([r["queue_wait_s"] for r in done if r["queue_wait_s"]]),
        "end_to_end": percentiles([r["end_to_end_s"] for r in done]),
        "studios": studios,
        # 1.0: both studios' users got the same number of renders through
        "fairness_jobs_per_user_b_over_a": (
            round(b["jobs_per_user"] / a["jobs_per_user"], 2)
            if a["jobs_per_user"] and b["jobs_per_user"]
            else None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--share-a", type=float, default=0.8)
    parser.add_argument("--model", default="instant")
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="pf-render-load-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    processes: list[subprocess.Popen] = []
    redis_url = None
    if args.workers:
        redis, redis_url = start_redis(folder)
        processes.append(redis)
    env = service_env(folder, port, redis_url)
    log = folder / "server.log"
    try:
        with log.open("w") as sink:
            server = subprocess.Popen([_cli("photoflux-cloud"), "serve"], env=env, stdout=sink,
                                      stderr=sink)  # fmt: skip
        processes.append(server)
        wait_ready(url, server, log)
        for number in range(args.workers):
            worker_env = env | {
                "PHOTOFLUX_WORKER_API_URL": url,
                "PHOTOFLUX_WORKER_ID": f"w{number}",
            }
            with (folder / f"worker{number}.log").open("w") as sink:
                processes.append(
                    subprocess.Popen(
                        [_cli("photoflux-cloud"), "worker"],
                        env=worker_env,
                        stdout=sink,
                        stderr=sink,
                    )
                )
        tokens = studio_tokens(url)
        warm_up(url, tokens["A"], args.model, args.workers)
        records_path = folder / "records.json"
        locust_env = env | {
            "PF_TOKEN_A": tokens["A"],
            "PF_TOKEN_B": tokens["B"],
            "PF_SHARE_A": str(args.share_a),
            "PF_MODEL": args.model,
            "PF_RECORDS": str(records_path),
        }
        requests = run_locust(url, locust_env, args)
        records = json.loads(records_path.read_text()) if records_path.exists() else []
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    share_a = round(args.share_a * 10)
    users = {
        "A": sum(1 for n in range(args.users) if n % 10 < share_a),
        "B": sum(1 for n in range(args.users) if n % 10 >= share_a),
    }
    generated = requests.get("/api/generate", {})
    submitted = generated.get("requests", 0) - generated.get("failures", 0)
    emit(
        "cloud_render_load",
        {
            "users": args.users,
            "seconds": args.seconds,
            "model": args.model,
            "workers": args.workers or "embedded (1 thread in the API process)",
            "requests": requests,
            # jobs accepted but not finished when the time was up (still queued or running)
            "unfinished_at_stop": max(0, submitted - len(records)),
            **summarise(records, users, args.seconds),
        },
    )


if __name__ == "__main__":
    main()

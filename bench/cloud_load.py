"""Load test of the cloud API: 100 concurrent clients posting event batches.

    .venv/bin/python -m bench.cloud_load [--clients 100] [--batch 25] [--seconds 15]

The server runs as its own process (`photoflux-cloud serve`, one worker, embedded
store, INFO logs to a file) so the load generator does not share its interpreter. Each
client is one desktop install with its own device token and keep-alive connection,
speaking raw HTTP/1.1 over asyncio so the client costs little CPU.

Two phases, each bounded in time:
- paced: every client sends one batch per `--interval` seconds (+-10 %, starting at a
  random point), as independent installs syncing their outbox do (100 clients x 25
  events / 1 s = 2,500 events/s offered);
- saturated: every client sends its next batch as soon as the last is answered, which
  finds the most one worker can take and what latency looks like at that point.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench._util import emit

ADMIN = ("bench@photoflux.example.com", "bench-password-123")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    env = os.environ | {
        "PHOTOFLUX_ENV": "development",
        "PHOTOFLUX_PORT": str(port),
        "PHOTOFLUX_FIRST_ADMIN_EMAIL": ADMIN[0],
        "PHOTOFLUX_FIRST_ADMIN_PASSWORD": ADMIN[1],
        "PHOTOFLUX_RATE_LIMIT_TOKEN": "100000/minute",
        "PHOTOFLUX_LOG_LEVEL": "INFO",
    }
    exe = Path(sys.executable).with_name("photoflux-cloud")
    with log.open("w") as sink:
        process = subprocess.Popen([str(exe), "serve"], env=env, stdout=sink, stderr=sink)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start; see {log}")


def device_tokens(url: str, count: int) -> list[str]:
    with httpx.Client(base_url=url, timeout=30) as http:
        login = http.post("/api/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        studio = http.post("/api/studios", json={"name": "Load"}, headers=admin).json()["id"]
        return [
            http.post(
                f"/api/studios/{studio}/devices", json={"name": f"d{i}"}, headers=admin
            ).json()["device_token"]
            for i in range(count)
        ]


class Client:
    """One keep-alive HTTP/1.1 connection posting pre-formatted batches."""

    def __init__(self, number: int, token: str, port: int, batch: int) -> None:
        self.number, self.token, self.port, self.batch = number, token, port, batch
        self.sent = 0
        self.latencies: list[float] = []
        self.errors = 0

    def body(self) -> bytes:
        now = datetime.now(UTC).isoformat()
        events = ",".join(
            f'{{"id":"00000000-{self.number:04x}-4000-8000-{self.sent * self.batch + i:012x}",'
            f'"name":"render_finished","ts":"{now}","session":"s{self.number}",'
            f'"properties":{{"style":"watercolor","steps":4}}}}'
            for i in range(self.batch)
        )
        return f'{{"events":[{events}]}}'.encode()

    async def run(self, until: float, interval: float | None, record_after: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        jitter = random.Random(self.number)
        if interval is not None:
            # installs sync independently: start at a random point of the interval
            await asyncio.sleep(jitter.uniform(0, interval))
        try:
            while time.monotonic() < until:
                started = time.monotonic()
                ok = await self.post(reader, writer, self.body())
                self.sent += 1
                if record_after <= started < until:
                    self.latencies.append(time.monotonic() - started)
                    self.errors += not ok
                if interval is not None:
                    pause = interval * jitter.uniform(0.9, 1.1) - (time.monotonic() - started)
                    await asyncio.sleep(max(0.0, pause))
        finally:
            writer.close()

    async def post(self, reader, writer, body: bytes) -> bool:
        head = (
            f"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        writer.write(head + body)
        await writer.drain()
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        return status_line.split()[1] == b"200"


async def phase(
    tokens: list[str], port: int, batch: int, seconds: float, interval: float | None, warmup: float
) -> dict:
    clients = [Client(i, t, port, batch) for i, t in enumerate(tokens)]
    start = time.monotonic()
    record_after = start + warmup
    await asyncio.gather(
        *(c.run(start + warmup + seconds, interval, record_after) for c in clients)
    )
    elapsed = seconds  # only requests started inside the measured window are counted
    latencies = sorted(x for c in clients for x in c.latencies)
    requests = len(latencies)

    def pct(q: float) -> float:
        return round(latencies[min(requests - 1, int(q * requests))] * 1000, 2)

    return {
        "requests": requests,
        "errors": sum(c.errors for c in clients),
        "requests_per_s": round(requests / elapsed, 1),
        "events_per_s": round(requests * batch / elapsed, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--batch", type=int, default=25, help="events per request")
    parser.add_argument(
        "--interval",
        default="1.0",
        help="paced: seconds between a client's batches; a comma-separated "
        "list (1,0.5,0.33,0.25) sweeps the offered load",
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per phase")
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()

    intervals = [float(x) for x in args.interval.split(",")]
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="pf-bench-")) / "server.log"
    server = start_server(port, log)
    try:
        tokens = device_tokens(f"http://127.0.0.1:{port}", args.clients)
        paced = [
            asyncio.run(phase(tokens, port, args.batch, args.seconds, interval, args.warmup))
            | {"offered_events_per_s": round(args.clients * args.batch / interval, 1)}
            for interval in intervals
        ]
        saturated = asyncio.run(phase(tokens, port, args.batch, args.seconds, None, args.warmup))
    finally:
        server.terminate()
        server.wait(timeout=10)
    emit(
        "cloud_events_load",
        {
            "clients": args.clients,
            "events_per_batch": args.batch,
            "server": "photoflux-cloud serve, 1 worker, embedded store, INFO logs to a file",
            "paced": paced[0] if len(paced) == 1 else paced,
            "saturated": saturated,
            "targets": {"p95_ms": 50, "events_per_s": 2000},
        },
    )


if __name__ == "__main__":
    main()

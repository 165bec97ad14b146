"""Cloud render test helpers: a client that speaks the render contract over HTTP, a
durable redis-server that can be killed and restarted, and render worker processes."""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.cloud.live import LiveServer, bearer, cloud_settings, free_port

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"  # not tests.conftest: that imports torch
WORKER_TOKEN = "worker-token-for-tests-0123456789abcdef"
FINAL = ("succeeded", "failed", "cancelled")


def photo_bytes(size: tuple[int, int] = (96, 64), fmt: str = "JPEG") -> bytes:
    with Image.open(DATA / "astronaut.png") as im:
        small = im.convert("RGB").resize(size, Image.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format=fmt)
    return buffer.getvalue()


def wire(**fields: Any) -> dict[str, Any]:
    """A request as request_to_wire writes it (the photo comes from the upload)."""
    base = {
        "version": 1,
        "style_id": "comic",
        "prompt": "",
        "negative_prompt": None,
        "model": None,
        "steps": 2,
        "strength": 0.75,
        "guidance": None,
        "seed": 7,
        "max_side": 64,
        "likeness": "none",
        "loras": [],
        "device": "cpu",
        "memory": "auto",
        "quantize": "none",
        "compile": False,
        "previews": True,
    }
    return base | fields


class RenderClient:
    """A studio device speaking the render API over real HTTP."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=20, headers=bearer(token))

    def upload(self, data: bytes | None = None, name: str = "photo.jpg") -> httpx.Response:
        return self.http.post("/api/upload", files={"file": (name, data or photo_bytes())})

    def upload_id(self) -> str:
        response = self.upload()
        assert response.status_code == 201, response.text
        return response.json()["upload_id"]

    def generate(
        self, upload_id: str | None, request_id: str | None = None, **fields: Any
    ) -> httpx.Response:
        body = {
            "client_request_id": request_id or uuid.uuid4().hex,
            "upload_id": upload_id,
            "request": wire(**fields),
        }
        return self.http.post("/api/generate", json=body)

    def job(self, upload_id: str, **fields: Any) -> str:
        response = self.generate(upload_id, **fields)
        assert response.status_code == 202, response.text
        return response.json()["job_id"]

    def result(self, job_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/results/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, job_id: str, until: Any = None, timeout: float = 60) -> dict[str, Any]:
        """Polls results until `until(result)` (default: a final status)."""
        until = until or (lambda r: r["status"] in FINAL)
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.get(f"/api/results/{job_id}")
            if response.status_code >= 500:  # Redis restarting under the rate limiter: retry
                time.sleep(0.1)
                continue
            assert response.status_code == 200, response.text
            result = response.json()
            if until(result):
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} never got there: {result}")
            time.sleep(0.02)

    def cancel(self, job_id: str) -> httpx.Response:
        return self.http.post(f"/api/results/{job_id}/cancel")


def install_tiny_sd(folder: Path, models_dir: Path) -> None:
    """The tiny random-weight SD pipeline where `sd-turbo` would be installed."""
    target = models_dir / "sd-turbo"
    if not target.exists():
        shutil.copytree(folder, target)


class DurableRedis:
    """redis-server with an append-only file synced on every write, on a fixed port and
    folder so that it can be killed (SIGKILL) and started again with its data."""

    def __init__(self, folder: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def worker_env(redis_url: str, api_url: str, models_dir: Path, worker_id: str) -> dict[str, str]:
    return os.environ | {
        "PYTHONPATH": str(ROOT),
        "PHOTOFLUX_REDIS_URL": redis_url,
        "PHOTOFLUX_WORKER_API_URL": api_url,
        "PHOTOFLUX_WORKER_TOKEN": WORKER_TOKEN,
        "PHOTOFLUX_WORKER_ID": worker_id,
        "PHOTOFLUX_WORKER_HEARTBEAT_MS": "2000",
        "PHOTOFLUX_QUEUE_MAINTENANCE_CHANCE": "1000000",
        "PHOTOFLUX_RENDER_RETRY_MIN_MS": "100",
        "PHOTOFLUX_RENDER_RETRY_MAX_MS": "400",
        "PHOTOFLUX_MODELS_DIR": str(models_dir),
        "PHOTOFLUX_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",  # two workers share the test machine's cores
        # what a GPU worker runs; "auto" would export each tiny model to OpenVINO here
        "PHOTOFLUX_BACKEND": "torch",
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """`photoflux-cloud worker` as a real process (its output goes to `log`)."""
    code = "from cloud_api.cli import main; raise SystemExit(main(['worker']))"
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", code], env=env, cwd=ROOT, stdout=out, stderr=out
        )


@contextmanager
def render_server(objects_dir: Path, worker_env: dict[str, str], **overrides: Any):
    """The real cloud app on loopback with the embedded broker and its worker thread,
    `worker_env` set for the worker while it runs (the desktop tests' cloud)."""
    from cloud_api.worker.main import start_embedded_worker

    settings = cloud_settings(objects_dir=str(objects_dir), **overrides)
    os.environ.update(worker_env)
    try:
        with LiveServer(settings) as server:
            ctx = server.app.state.ctx
            worker = start_embedded_worker(ctx.queue.broker, server.url, ctx.worker_token)
            yield server
            worker.stop(timeout=10_000)
    finally:
        for name in worker_env:
            os.environ.pop(name, None)

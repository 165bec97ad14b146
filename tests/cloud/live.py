"""A real uvicorn server on a loopback port, in a thread of the test process, so tests
speak real HTTP and can still look at what the store holds."""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn

from cloud_api.app import create_app
from cloud_api.core.config import Settings
from cloud_api.core.server import uvicorn_options

ADMIN_EMAIL = "owner@photoflux.example.com"
ADMIN_PASSWORD = "correct-horse-battery-staple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def key(seed: str) -> str:
    return base64.urlsafe_b64encode(seed.encode().ljust(32, b"k")[:32]).decode()


def cloud_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "secret_key": key("jwt-signing-key-for-tests"),
        "field_keys": [f"k1:{key('field-key-one')}"],
        "hash_key": key("hash-key-for-tests"),
        "first_admin_email": ADMIN_EMAIL,
        "first_admin_password": ADMIN_PASSWORD,
        "log_level": "WARNING",
        # tests sign in far more often than people do
        "rate_limit_account": "10000/minute",
    }
    uri = os.environ.get("PHOTOFLUX_TEST_MONGODB_URI")
    if uri:
        values |= {"mongodb_uri": uri, "mongodb_db": f"pf_test_{uuid.uuid4().hex[:8]}"}
    values.update(overrides)
    return Settings(_env_file=None, **values)


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            access_log=False,
            **uvicorn_options(settings),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def db(self) -> Any:
        return self.app.state.ctx.storage.db

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, **({"timeout": 10} | kwargs))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Api:
    """Small conveniences over real HTTP calls; every call is a real request."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = server.client()

    def login(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> dict:
        response = self.http.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return response.json()

    def admin(self) -> dict[str, str]:
        return bearer(self.login()["access_token"])

    def studio(self, name: str = "Sunny Studio") -> str:
        response = self.http.post("/api/studios", json={"name": name}, headers=self.admin())
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def device(self, studio_id: str, name: str = "kiosk") -> str:
        response = self.http.post(
            f"/api/studios/{studio_id}/devices", json={"name": name}, headers=self.admin()
        )
        assert response.status_code == 201, response.text
        return response.json()["device_token"]

    def studio_admin(self, studio_id: str, email: str) -> dict[str, str]:
        password = "studio-admin-password"
        response = self.http.post(
            f"/api/studios/{studio_id}/admins",
            json={"email": email, "password": password},
            headers=self.admin(),
        )
        assert response.status_code == 201, response.text
        return bearer(self.login(email, password)["access_token"])


def lead(email: str = "jane.doe@example.org", **fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "email": email,
        "name": "Jane Doe",
        "source": "kiosk",
        "consent": True,
        "consent_text_version": "2026-01",
        "consented_at": datetime.now(UTC).isoformat(),
    } | fields


def event(name: str = "render_finished", **fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "ts": datetime.now(UTC).isoformat(),
        "session": "session-1",
        "properties": {"style": "watercolor", "steps": 4},
    } | fields

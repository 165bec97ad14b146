"""Fixtures for studio sync: private data/config folders, the live cloud API from
tests/cloud, the `photoflux` CLI as a subprocess, and an in-memory keyring."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from PIL import Image

from tests.cloud.conftest import api, device_token, make_server, server, studio  # noqa: F401

REPO = Path(__file__).resolve().parents[2]


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in this process only (the OS keyring is not touched)."""

    priority = 10  # type: ignore[assignment]
    viable = False  # keyring must never pick it by itself: only set_keyring() installs it

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("not stored")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "PHOTOFLUX_DATA_DIR": str(tmp_path / "data"),
        "PHOTOFLUX_CONFIG_DIR": str(tmp_path / "config"),
        "PHOTOFLUX_CACHE_DIR": str(tmp_path / "cache"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PHOTOFLUX_CLOUD_URL", raising=False)
    monkeypatch.delenv("PHOTOFLUX_DEVICE_TOKEN", raising=False)
    return env


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def photoflux(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`photoflux ARGS` as a user runs it, in a fresh process with this checkout first."""
    full_env = os.environ | env | {"PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "photoflux_desktop", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def one_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout + result.stderr
    return json.loads(lines[0])


def tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def linked(url: str, token: str, base: dict[str, str]) -> dict[str, str]:
    return base | {"PHOTOFLUX_CLOUD_URL": url, "PHOTOFLUX_DEVICE_TOKEN": token}

"""Where uploaded photos, previews and rendered images live: an object store.

The interface is three calls (put with an expiry, get, delete), so GridFS or an S3
bucket can stand in for the local-disk default. The disk store keeps each object in
one file named by a hash of its key, with its expiry in a small sidecar; an expired
object reads as missing, and `sweep` (run as objects are written) deletes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Protocol

SWEEP_EVERY_S = 300.0


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, expires_at: datetime) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...


class LocalDiskStore:
    """Objects as files under `root` (one host, or a shared volume for several)."""

    def __init__(self, root: str | Path | None) -> None:
        self.temporary = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="pf-obj-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self._last_sweep = 0.0

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.root / digest[:2] / digest

    def put(self, key: str, data: bytes, expires_at: datetime) -> None:
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        # write then rename: a reader never sees half an image
        tmp = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        path.with_suffix(".exp").write_text(str(expires_at.timestamp()))
        tmp.replace(path)
        if time.monotonic() - self._last_sweep > SWEEP_EVERY_S:
            self.sweep()

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        if self._expired(path):
            return None
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        path = self._path(key)
        for item in (path, path.with_suffix(".exp")):
            item.unlink(missing_ok=True)

    def sweep(self, now: float | None = None) -> int:
        """Deletes expired objects; returns how many."""
        self._last_sweep = time.monotonic()
        removed = 0
        for sidecar in self.root.glob("*/*.exp"):
            path = sidecar.with_suffix("")
            if self._expired(path, now):
                path.unlink(missing_ok=True)
                sidecar.unlink(missing_ok=True)
                removed += 1
        return removed

    @staticmethod
    def _expired(path: Path, now: float | None = None) -> bool:
        try:
            expires = float(path.with_suffix(".exp").read_text())
        except (FileNotFoundError, ValueError):
            return False
        return expires <= (time.time() if now is None else now)


def remove_quietly(store: ObjectStore, key: str | None) -> None:
    if key is not None:
        with contextlib.suppress(OSError):
            store.delete(key)

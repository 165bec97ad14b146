"""Cloud renders that wait for the studio: asked for while offline (or the link dropped
after the job was sent), kept in the outbox's SQLite file (table `cloud_renders`) until
their result is in the library.

A row keeps its client request id from the start, so submitting it again after a crash
or a lost answer finds the same cloud job (the API is idempotent by that id). States:
`waiting` (not sent, or sent and not finished) → `done` (filed in the library) or
`failed` (the cloud refused it; the reason is kept). A cancelled job is `cancelled`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoflux_desktop.sync.outbox import outbox_path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cloud_renders (
    id TEXT PRIMARY KEY,
    source_name TEXT NOT NULL,
    wire TEXT NOT NULL,
    photo BLOB NOT NULL,
    upload_id TEXT,
    job_id TEXT,
    state TEXT NOT NULL DEFAULT 'waiting'
        CHECK (state IN ('waiting', 'done', 'failed', 'cancelled')),
    last_error TEXT,
    entry_id TEXT,
    created_at REAL NOT NULL,
    finished_at REAL
);
"""


@dataclass(frozen=True)
class QueuedRender:
    id: str  # the client request id
    source_name: str
    wire: dict[str, Any]
    photo: bytes  # PNG
    upload_id: str | None
    job_id: str | None


class CloudRenderQueue:
    """Thread-safe (one connection under a lock); shares the outbox file (WAL)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or outbox_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # queued means on disk
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(
        self,
        client_request_id: str,
        source_name: str,
        wire: dict[str, Any],
        photo: bytes,
        *,
        upload_id: str | None = None,
        job_id: str | None = None,
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO cloud_renders (id, source_name, wire, photo, upload_id, "
                "job_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    client_request_id,
                    source_name,
                    json.dumps(wire, separators=(",", ":")),
                    photo,
                    upload_id,
                    job_id,
                    time.time(),
                ),
            )

    def waiting(self) -> list[QueuedRender]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, source_name, wire, photo, upload_id, job_id FROM cloud_renders "
                "WHERE state = 'waiting' ORDER BY created_at"
            ).fetchall()
        return [QueuedRender(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5]) for r in rows]

    def count_waiting(self) -> int:
        with self._lock:
            (count,) = self._db.execute(
                "SELECT count(*) FROM cloud_renders WHERE state = 'waiting'"
            ).fetchone()
        return int(count)

    def set_upload(self, item_id: str, upload_id: str | None) -> None:
        self._update(item_id, "upload_id = ?", upload_id)

    def set_job(self, item_id: str, job_id: str) -> None:
        self._update(item_id, "job_id = ?", job_id)

    def finish(
        self, item_id: str, state: str, *, entry_id: str | None = None, error: str | None = None
    ) -> None:
        """`done` (with its library entry), `failed` (with the reason) or `cancelled`.
        The photo is dropped: nothing more will be sent."""
        with self._lock:
            self._db.execute(
                "UPDATE cloud_renders SET state = ?, entry_id = ?, last_error = ?, "
                "finished_at = ?, photo = x'' WHERE id = ?",
                (state, entry_id, error and error[:500], time.time(), item_id),
            )

    def state(self, item_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT state, job_id, entry_id, last_error FROM cloud_renders WHERE id = ?",
                (item_id,),
            ).fetchone()
        if row is None:
            return None
        return {"state": row[0], "job_id": row[1], "entry_id": row[2], "last_error": row[3]}

    def _update(self, item_id: str, assignment: str, value: Any) -> None:
        with self._lock:
            self._db.execute(
                f"UPDATE cloud_renders SET {assignment} WHERE id = ?",
                (value, item_id),
            )

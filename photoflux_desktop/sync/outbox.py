"""The outbox: leads, events and deliveries waiting for the cloud, in one SQLite file.

Every item gets its client-generated id (uuid4) when it is created and is committed
with `synchronous=FULL` before the call returns, so "done" on screen means "on disk".
The server de-duplicates by that id, so sending an item again after a crash or a lost
answer has no second effect (at-least-once delivery, exactly-once effect).

States: `pending` → `sent`, or `failed` (the server refused it for good; kept with the
reason, never dropped silently). Policy (README, "Studio sync"):
- leads and deliveries are never dropped;
- events keep at most `event_cap` unsent rows; past that the oldest are dropped first
  and a persistent counter (`dropped_events`) says how many;
- sent events are deleted (the counter `sent_events` remains); a sent lead keeps only its
  ids (the e-mail address and name are erased from the device once the cloud has them);
- a delivery's or share's image lives as a file next to the database and is deleted
  once sent;
- a share (the image a QR code points to) is sent in two steps: its token first (a tiny
  request, so the page the QR opens knows it at once), then its image.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from photoflux_desktop.engine import paths

Kind = Literal["lead", "event", "delivery", "share"]
KINDS: tuple[Kind, ...] = ("lead", "event", "delivery", "share")
# kinds whose image waits as a file next to the database until it is sent
WITH_IMAGE: tuple[Kind, ...] = ("delivery", "share")
EVENT_CAP = 50_000
ORPHAN_AGE_S = 3600.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('lead', 'event', 'delivery', 'share')),
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    server_id TEXT,
    created_at REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS items_queue ON items (kind, state, next_attempt_at, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def outbox_path() -> Path:
    return paths.data_dir() / "outbox" / "outbox.sqlite3"


@dataclass(frozen=True)
class Item:
    seq: int
    id: str
    kind: Kind
    body: dict[str, Any]
    attempts: int
    last_error: str | None


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Whole file or nothing: a temporary sibling, fsync, rename, fsync the folder."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


class Outbox:
    """Thread-safe: one connection guarded by a lock (the app's sync thread and the UI
    thread may both write). Several processes may share the file (WAL, busy timeout)."""

    def __init__(self, path: Path | None = None, *, event_cap: int = EVENT_CAP) -> None:
        self.path = path or outbox_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # guests' addresses and photos wait here: only this user may enter the folder
        # (POSIX; on Windows the user profile's ACL already keeps others out)
        if os.name == "posix":
            os.chmod(self.path.parent, 0o700)
        self.files = self.path.parent / "files"
        self.files.mkdir(exist_ok=True)
        self.event_cap = event_cap
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before it returns, even across a power cut
        self._db.execute("PRAGMA synchronous=FULL")
        # an erased address is overwritten on disk, not left in a free page
        self._db.execute("PRAGMA secure_delete=ON")
        self._migrate_kinds()
        self._db.executescript(_SCHEMA)
        self._sweep_files()

    def _migrate_kinds(self) -> None:
        """Files made before shares existed refuse the kind 'share' (a CHECK constraint,
        which SQLite cannot alter): copy the rows into a table that takes it."""
        row = self._db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'items'"
        ).fetchone()
        if row is None or "'share'" in row[0]:
            return
        with self._write() as db:
            db.execute("ALTER TABLE items RENAME TO items_old")
            db.execute("DROP INDEX IF EXISTS items_queue")
            # executescript would commit first: one statement at a time, in this transaction
            for statement in _SCHEMA.split(";")[:2]:  # the items table and its index
                db.execute(statement)
            db.execute("INSERT INTO items SELECT * FROM items_old")
            db.execute("DROP TABLE items_old")

    def _sweep_files(self, older_than_s: float = ORPHAN_AGE_S) -> None:
        """Removes images no row points to (a crash between the file and its row) and
        abandoned temporary files. Only old ones: another process may be between the two
        writes right now."""
        cutoff = time.time() - older_than_s
        with self._lock:
            wanted = {
                f"{row[0]}.img"
                for row in self._db.execute(
                    "SELECT id FROM items WHERE kind IN ('delivery', 'share') AND state != 'sent'"
                )
            }
        for path in self.files.iterdir():
            try:
                if path.name not in wanted and path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue  # gone already, or in use (Windows): next time

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- adding ---------------------------------------------------------------------
    def add_lead(self, body: dict[str, Any]) -> str:
        """`body` is the API's lead body without `id`; returns the new client id."""
        return self._add("lead", [body])[0]

    def add_events(self, bodies: Iterable[dict[str, Any]]) -> list[str]:
        """Events without `id`; one transaction for all of them. Enforces the cap."""
        return self._add("event", list(bodies))

    def add_event(self, body: dict[str, Any]) -> str:
        return self.add_events([body])[0]

    def add_delivery(
        self,
        lead_client_id: str,
        image: bytes,
        *,
        filename: str = "photoflux.jpg",
        style: str | None = None,
    ) -> str:
        """Queues an e-mail of `image` to the lead recorded here under `lead_client_id`.
        The image is written (atomically) as a file before the row that points to it."""
        item_id = str(uuid.uuid4())
        write_atomically(self.files / f"{item_id}.img", image)
        body = {"lead_client_id": lead_client_id, "filename": filename, "style": style}
        self._add("delivery", [body], ids=[item_id])
        return item_id

    def add_share(self, token: str, image: bytes, *, campaign: str | None = None) -> str:
        """Queues a share: the token the QR code carries, then the image its page shows.
        The image file is written (atomically) before the row that points to it."""
        item_id = str(uuid.uuid4())
        write_atomically(self.files / f"{item_id}.img", image)
        body = {"token": token, "campaign": campaign, "registered": False}
        self._add("share", [body], ids=[item_id])
        return item_id

    def _add(self, kind: Kind, bodies: list[dict[str, Any]], ids: list[str] | None = None):
        ids = ids or [str(uuid.uuid4()) for _ in bodies]
        now = time.time()
        rows = [
            (i, kind, json.dumps(b, separators=(",", ":")), now)
            for i, b in zip(ids, bodies, strict=True)
        ]
        with self._write() as db:
            db.executemany(
                "INSERT INTO items (id, kind, body, created_at) VALUES (?, ?, ?, ?)", rows
            )
            if kind == "event":
                self._enforce_event_cap(db)
        return ids

    def _enforce_event_cap(self, db: sqlite3.Connection) -> None:
        (held,) = db.execute(
            "SELECT count(*) FROM items WHERE kind = 'event' AND state != 'sent'"
        ).fetchone()
        excess = held - self.event_cap
        if excess <= 0:
            return
        db.execute(
            "DELETE FROM items WHERE seq IN (SELECT seq FROM items WHERE kind = 'event' "
            "AND state != 'sent' ORDER BY seq LIMIT ?)",
            (excess,),
        )
        self._bump(db, "dropped_events", excess)

    # ---- reading --------------------------------------------------------------------
    def due(self, kind: Kind, limit: int, now: float | None = None) -> list[Item]:
        """Pending items of `kind` whose next attempt is due, oldest first.
        `now=math.inf` ignores the schedule (an explicit `photoflux sync`)."""
        moment = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, id, kind, body, attempts, last_error FROM items "
                "WHERE kind = ? AND state = 'pending' AND next_attempt_at <= ? "
                "ORDER BY seq LIMIT ?",
                (kind, moment if math.isfinite(moment) else 1e300, limit),
            ).fetchall()
        return [Item(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def image_of(self, item_id: str) -> bytes:
        """The image file of a delivery or share."""
        return (self.files / f"{item_id}.img").read_bytes()

    def lead_state(self, client_id: str) -> tuple[str, str | None] | None:
        """(state, server id) of a lead recorded here, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT state, server_id FROM items WHERE id = ? AND kind = 'lead'", (client_id,)
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def counts(self) -> dict[str, dict[str, int]]:
        """{kind: {pending, failed, sent}}; sent events are counted by the counter."""
        table = {kind: {"pending": 0, "failed": 0, "sent": 0} for kind in KINDS}
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, state, count(*) FROM items GROUP BY kind, state"
            ).fetchall()
            sent_events = self._meta_int("sent_events")
        for kind, state, count in rows:
            table[kind][state] = count
        table["event"]["sent"] += sent_events
        return table

    def failures(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, attempts, last_error FROM items WHERE state = 'failed' "
                "ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [{"id": r[0], "kind": r[1], "attempts": r[2], "reason": r[3]} for r in rows]

    # ---- outcomes -------------------------------------------------------------------
    def mark_sent(self, kind: Kind, ids: list[str], server_ids: dict[str, str] | None = None):
        now = time.time()
        with self._write() as db:
            if kind == "event":
                db.executemany("DELETE FROM items WHERE id = ?", [(i,) for i in ids])
                self._bump(db, "sent_events", len(ids))
                return
            for item_id in ids:
                server_id = (server_ids or {}).get(item_id)
                # the cloud holds the person's data now; the device keeps only the ids
                db.execute(
                    "UPDATE items SET state = 'sent', sent_at = ?, server_id = ?, "
                    "body = '{}', last_error = NULL WHERE id = ?",
                    (now, server_id, item_id),
                )
        if kind in WITH_IMAGE:
            for item_id in ids:
                (self.files / f"{item_id}.img").unlink(missing_ok=True)

    def update_body(self, item_id: str, body: dict[str, Any]) -> None:
        """Records a step of a pending item (a share whose token the cloud now knows)."""
        with self._write() as db:
            db.execute(
                "UPDATE items SET body = ? WHERE id = ? AND state = 'pending'",
                (json.dumps(body, separators=(",", ":")), item_id),
            )

    def mark_failed(self, item_id: str, reason: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE items SET state = 'failed', attempts = attempts + 1, last_error = ? "
                "WHERE id = ?",
                (reason[:500], item_id),
            )

    def mark_retry(self, ids: list[str], error: str, delay_s: float) -> None:
        when = time.time() + delay_s
        with self._write() as db:
            db.executemany(
                "UPDATE items SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                "WHERE id = ? AND state = 'pending'",
                [(error[:500], when, i) for i in ids],
            )

    # ---- counters and status --------------------------------------------------------
    def _bump(self, db: sqlite3.Connection, key: str, by: int) -> None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
            (key, str(by)),
        )

    def _meta_int(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def dropped_events(self) -> int:
        with self._lock:
            return self._meta_int("dropped_events")

    def set_status(self, **values: Any) -> None:
        """Remembers the last sync's time and error for `doctor` and the window."""
        with self._write() as db:
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                "DO UPDATE SET value = excluded.value",
                [(k, json.dumps(v)) for k, v in values.items()],
            )

    def status(self) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM meta WHERE key IN ('last_sync_at', 'last_error', "
                "'last_attempt_at')"
            ).fetchall()
        return {key: json.loads(value) for key, value in rows}

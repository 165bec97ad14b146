"""The local library of results: SQLite (WAL) index plus image files in the data folder.

Every finished render is stored with its parameters and a thumbnail, survives
restarts, and can be reopened, deleted or revealed. Connections are opened per call,
so the library can be used from a worker thread and the GUI thread alike.

The stored PNG is the master: it carries the render's provenance record but no
invisible watermark, which export adds (once, after any resize or visible mark, as the
user chose); `record()` is what an export of the entry carries.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from photoflux_desktop.engine.output import OutputOptions, write_image
from photoflux_desktop.engine.paths import data_dir
from photoflux_desktop.engine.provenance import build_record, read_record, result_record
from photoflux_desktop.engine.request import RenderParameters, RenderResult

THUMB_SIDE = 256
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    source_name TEXT NOT NULL,
    style TEXT NOT NULL,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    seed INTEGER,
    params TEXT NOT NULL,
    image_path TEXT NOT NULL,
    thumb_path TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS results_created ON results (created DESC);
CREATE TABLE IF NOT EXISTS prompts (
    text TEXT PRIMARY KEY,
    last_used REAL NOT NULL,
    uses INTEGER NOT NULL DEFAULT 1
);
"""


@dataclass(frozen=True)
class LibraryEntry:
    id: str
    created: float
    source_name: str
    style: str
    backend: str
    model: str
    seed: int | None
    params: RenderParameters  # rows written before this type are read into it too
    image_path: Path
    thumb_path: Path
    width: int
    height: int


class Library:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or (data_dir() / "library")
        self.images = self.root / "results"
        self.thumbs = self.root / "thumbs"
        for folder in (self.images, self.thumbs):
            folder.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "library.sqlite3"
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def add(self, result: RenderResult, source_name: str) -> LibraryEntry:
        """Store a completed result: image (with provenance), thumbnail, index row."""
        if result.image is None:
            raise ValueError("only completed results with an image can be stored")
        entry_id = uuid.uuid4().hex
        params = result.parameters
        image_path = self.images / f"{entry_id}.png"
        master = OutputOptions(invisible_watermark=False)  # marked on export, never twice
        write_image(result.image, image_path, result_record(result), master)
        thumb = result.image.copy()
        thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        thumb_path = self.thumbs / f"{entry_id}.jpg"
        thumb.save(thumb_path, quality=85)
        entry = LibraryEntry(
            entry_id,
            time.time(),
            source_name,
            params.style,
            result.backend,
            result.model,
            result.seed,
            params,
            image_path,
            thumb_path,
            *result.image.size,
        )
        with self._connect() as db:
            db.execute(
                "INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    entry.id,
                    entry.created,
                    entry.source_name,
                    entry.style,
                    entry.backend,
                    entry.model,
                    entry.seed,
                    json.dumps(params.to_dict(), default=str),
                    str(image_path),
                    str(thumb_path),
                    entry.width,
                    entry.height,
                ),
            )
        return entry

    def entries(self, limit: int = 500) -> list[LibraryEntry]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM results ORDER BY created DESC LIMIT ?", (limit,)
            ).fetchall()
        return [self._entry(row) for row in rows]

    def get(self, entry_id: str) -> LibraryEntry | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM results WHERE id = ?", (entry_id,)).fetchone()
        return self._entry(row) if row else None

    def record(self, entry: LibraryEntry) -> dict[str, Any]:
        """The provenance record of this entry's render, as stored with its image."""
        try:
            stored = read_record(entry.image_path, "PNG")
        except OSError:  # missing or damaged file: rebuild from the index row
            stored = None
        if stored is not None:
            return stored
        return build_record(
            style=entry.style,
            backend=entry.backend,
            model=entry.model,
            seed=entry.seed,
            parameters=entry.params.to_dict(),
            ai_generated=entry.backend == "diffusion",
        )

    def delete(self, entry_id: str) -> bool:
        entry = self.get(entry_id)
        if entry is None:
            return False
        with self._connect() as db:
            db.execute("DELETE FROM results WHERE id = ?", (entry_id,))
        for path in (entry.image_path, entry.thumb_path):
            path.unlink(missing_ok=True)
        return True

    def remember_prompt(self, text: str) -> None:
        text = " ".join(text.split())
        if not text:
            return
        with self._connect() as db:
            db.execute(
                "INSERT INTO prompts (text, last_used) VALUES (?, ?) "
                "ON CONFLICT(text) DO UPDATE SET last_used = excluded.last_used, uses = uses + 1",
                (text[:500], time.time()),
            )

    def prompts(self, limit: int = 100) -> list[str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT text FROM prompts ORDER BY last_used DESC LIMIT ?", (limit,)
            ).fetchall()
        return [row["text"] for row in rows]

    @staticmethod
    def _entry(row: sqlite3.Row) -> LibraryEntry:
        return LibraryEntry(
            id=row["id"],
            created=row["created"],
            source_name=row["source_name"],
            style=row["style"],
            backend=row["backend"],
            model=row["model"],
            seed=row["seed"],
            params=_stored_params(row),
            image_path=Path(row["image_path"]),
            thumb_path=Path(row["thumb_path"]),
            width=row["width"],
            height=row["height"],
        )


def _stored_params(row: sqlite3.Row) -> RenderParameters:
    """A row's parameters; older rows kept another dict shape and lack some columns'
    copies, so the row's own columns fill what the JSON does not say."""
    try:
        data: Any = json.loads(row["params"])
    except (TypeError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    for column in ("style", "backend", "model", "seed"):
        if data.get(column) in (None, ""):
            data[column] = row[column]
    return RenderParameters.from_dict(data)

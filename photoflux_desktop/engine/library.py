"""The local library of results: SQLite (WAL) index plus image files in the data folder.

Every finished render is stored with its parameters, a thumbnail and a reference to
its source photo (a downscaled copy kept once per distinct photo, keyed by a hash of
its pixels, with its original name), survives restarts, and can be reopened, marked
as a favourite, deleted or revealed. Deleting is two-step so the UI can offer undo:
`trash` hides entries at once, `restore` brings them back, `purge` removes the files.
Connections are opened per call, so the library can be used from a worker thread and
the GUI thread alike.

The stored PNG is the master: it carries the render's provenance record but no
invisible watermark, which export adds (once, after any resize or visible mark, as the
user chose); `record()` is what an export of the entry carries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from photoflux_desktop.engine.output import OutputOptions, write_image
from photoflux_desktop.engine.paths import data_dir
from photoflux_desktop.engine.provenance import build_record, read_record, result_record
from photoflux_desktop.engine.request import RenderParameters, RenderResult

THUMB_SIDE = 256
SOURCE_SIDE = 1536  # the stored copy of a source photo: enough for the compare view
SCHEMA_VERSION = 2
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
CREATE TABLE IF NOT EXISTS sources (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL
);
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
    source_key: str = ""  # "" for results stored before sources were kept
    favourite: bool = False

    @property
    def group_key(self) -> str:
        """What groups results made from the same photo (older rows: its name)."""
        return self.source_key or f"name:{self.source_name}"


# columns added after the first schema; ADD COLUMN keeps older libraries readable
_ADDED_COLUMNS = {
    "source_key": "TEXT NOT NULL DEFAULT ''",
    "favourite": "INTEGER NOT NULL DEFAULT 0",
    "trashed": "REAL",  # set while a delete can still be undone
}


def stored_source(image: Image.Image) -> Image.Image:
    """The copy of a source photo the library keeps: RGB, long side at most SOURCE_SIDE."""
    copy = image.convert("RGB")
    if max(copy.size) > SOURCE_SIDE:
        copy.thumbnail((SOURCE_SIDE, SOURCE_SIDE), Image.Resampling.LANCZOS)
    return copy


def source_key(image: Image.Image) -> str:
    """A hash of a photo's pixels: the same photo opened twice shares one kept copy."""
    digest = hashlib.sha256(f"{image.mode}{image.size}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()[:24]


class Library:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or (data_dir() / "library")
        self.images = self.root / "results"
        self.thumbs = self.root / "thumbs"
        self.sources = self.root / "sources"
        for folder in (self.images, self.thumbs, self.sources):
            folder.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "library.sqlite3"
        # copies handed out by source_image(), by object: a render of a restored photo
        # joins its group although the copy is smaller than the photo it was made from
        self._handed_out: OrderedDict[int, tuple[Image.Image, str]] = OrderedDict()
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            _migrate(db)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def add(
        self, result: RenderResult, source_name: str, source: Image.Image | None = None
    ) -> LibraryEntry:
        """Store a completed result: image (with provenance), thumbnail, index row, and
        (when given) the photo it was made from, once per distinct photo."""
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
        _open_to_umask(image_path, thumb_path)
        key = self._keep_source(source, source_name) if source is not None else ""
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
            source_key=key,
        )
        with self._connect() as db:
            db.execute(
                "INSERT INTO results (id, created, source_name, style, backend, model, seed,"
                " params, image_path, thumb_path, width, height, source_key)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                    key,
                ),
            )
        return entry

    def key_of(self, image: Image.Image) -> str:
        """The source key of `image`: its group's key when it came from `source_image`."""
        with self._lock:
            known = self._handed_out.get(id(image))
        if known is not None and known[0] is image:
            return known[1]
        return source_key(image)

    def _keep_source(self, source: Image.Image, name: str) -> str:
        key = self.key_of(source)
        path = self.sources / f"{key}.jpg"
        if not path.is_file():
            tmp = path.with_suffix(".part")
            copy = stored_source(source)
            copy.save(tmp, "JPEG", quality=92)
            tmp.replace(path)  # a half-written copy never appears under its real name
            copy.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
            copy.save(self.source_thumb(key), quality=85)
            _open_to_umask(path)
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO sources VALUES (?,?,?,?,?)",
                (key, name, str(path), *source.size),
            )
        return key

    def source_thumb(self, key: str) -> Path:
        """Where the thumbnail of a kept source photo is (it may not exist)."""
        return self.thumbs / f"source-{key}.jpg"

    def source_image(self, entry: LibraryEntry) -> Image.Image | None:
        """The photo this entry was made from, or None (older entry, or file gone)."""
        if not entry.source_key:
            return None
        with self._connect() as db:
            row = db.execute(
                "SELECT path FROM sources WHERE key = ?", (entry.source_key,)
            ).fetchone()
        if row is None:
            return None
        try:
            with Image.open(row["path"]) as image:
                copy = image.convert("RGB")
        except OSError:
            return None
        with self._lock:  # a few recent ones: each holds its image, so ids stay unique
            self._handed_out[id(copy)] = (copy, entry.source_key)
            while len(self._handed_out) > 8:
                self._handed_out.popitem(last=False)
        return copy

    def entries(self, limit: int = 500) -> list[LibraryEntry]:
        """Newest first; entries waiting in the trash (undo window) are left out."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM results WHERE trashed IS NULL ORDER BY created DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [self._entry(row) for row in rows]

    def set_favourite(self, entry_id: str, favourite: bool) -> None:
        with self._connect() as db:
            db.execute("UPDATE results SET favourite = ? WHERE id = ?", (int(favourite), entry_id))

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
        """Remove an entry and its files now (no undo)."""
        if self.get(entry_id) is None:
            return False
        self.trash([entry_id])
        self.purge([entry_id])
        return True

    def trash(self, entry_ids: Iterable[str]) -> None:
        """Hide entries from `entries()`; their files stay until `purge`."""
        with self._connect() as db:
            db.executemany(
                "UPDATE results SET trashed = ? WHERE id = ?",
                [(time.time(), entry_id) for entry_id in entry_ids],
            )

    def restore(self, entry_ids: Iterable[str]) -> None:
        """Undo `trash`: the entries come back exactly as they were."""
        with self._connect() as db:
            db.executemany(
                "UPDATE results SET trashed = NULL WHERE id = ?", [(i,) for i in entry_ids]
            )

    def purge(self, entry_ids: Iterable[str] | None = None) -> int:
        """Delete trashed entries (these, or all of them) with their files, and any
        source copy no entry refers to any more. Returns how many entries went."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM results WHERE trashed IS NOT NULL").fetchall()
            wanted = None if entry_ids is None else set(entry_ids)
            rows = [row for row in rows if wanted is None or row["id"] in wanted]
            db.executemany("DELETE FROM results WHERE id = ?", [(row["id"],) for row in rows])
            orphans = db.execute(
                "SELECT key, path FROM sources WHERE key NOT IN (SELECT source_key FROM results)"
            ).fetchall()
            db.executemany("DELETE FROM sources WHERE key = ?", [(o["key"],) for o in orphans])
        for path in [p for row in rows for p in (row["image_path"], row["thumb_path"])] + [
            p for o in orphans for p in (o["path"], self.source_thumb(o["key"]))
        ]:
            Path(path).unlink(missing_ok=True)
        return len(rows)

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
            source_key=row["source_key"] or "",
            favourite=bool(row["favourite"]),
        )


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a library written by an older version up to this schema, in place."""
    present = {row["name"] for row in db.execute("PRAGMA table_info(results)")}
    for column, kind in _ADDED_COLUMNS.items():
        if column not in present:
            db.execute(f"ALTER TABLE results ADD COLUMN {column} {kind}")
    db.execute("CREATE INDEX IF NOT EXISTS results_source ON results (source_key)")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (setting it,
    even briefly, would race with files other threads create)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _open_to_umask(*paths: Path) -> None:
    """Atomic writes go through a 0600 temporary file; a result gets the permissions
    any new file of the user's gets (0644 under the usual umask)."""
    mask = current_umask()
    for path in paths:
        with contextlib.suppress(OSError):
            path.chmod(0o666 & ~mask)


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

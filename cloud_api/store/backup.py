"""Logical backups of the service's database to and from one `.tar.gz` archive.

Works on any pymongo `Database`: a real MongoDB (a portable complement to `mongodump`)
or the embedded mongomock store (its snapshot file, README "Backups"). The archive holds
`manifest.json` and one extended-JSON-lines file per collection, so types (dates,
binary) survive exactly. It never holds keys: the field-encryption keys are backed up
separately (`photoflux-cloud export-keys`), and `restore` refuses an archive whose leads
the configured keys cannot decrypt, before it writes anything.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import json_util
from pymongo.database import Database

from cloud_api.core.fieldcrypt import FieldCipher, FieldDecryptError, normalise_email

FORMAT = "photoflux-backup/1"
SEALED_LEAD_FIELDS = ("email", "name")


class BackupError(Exception):
    """The archive cannot be written or used; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    collections: dict[str, int]  # name -> documents
    key_ids: list[str]  # field-key ids the leads in it were encrypted with


def _collections(db: Database) -> list[str]:
    return sorted(n for n in db.list_collection_names() if not n.startswith("system."))


def _lead_key_ids(docs: Iterable[dict[str, Any]]) -> set[str]:
    return {
        doc[f]["kid"] for doc in docs for f in SEALED_LEAD_FIELDS if isinstance(doc.get(f), dict)
    }


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def dump(db: Database, out: Path) -> Summary:
    """Writes every collection of `db` to `out` (atomically: a half-written archive
    never replaces a good one)."""
    counts: dict[str, int] = {}
    kids: set[str] = set()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".backup.", suffix=".part", dir=out.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as archive:
            for name in _collections(db):
                docs = list(db[name].find({}))
                counts[name] = len(docs)
                if name == "leads":
                    kids |= _lead_key_ids(docs)
                lines = "".join(
                    json_util.dumps(doc, json_options=json_util.CANONICAL_JSON_OPTIONS) + "\n"
                    for doc in docs
                )
                _add(archive, f"collections/{name}.jsonl", lines.encode("utf-8"))
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(),
                "database": db.name,
                "collections": counts,
                "field_key_ids": sorted(kids),
            }
            _add(archive, "manifest.json", json.dumps(manifest, indent=2).encode("utf-8"))
        os.chmod(tmp, 0o600)  # personal data, if encrypted: owner only
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Summary(counts, sorted(kids))


def read(path: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The manifest and every collection's documents."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            manifest = json.loads(_member(archive, "manifest.json"))
            if manifest.get("format") != FORMAT:
                raise BackupError(f"{path} is not a PhotoFlux backup ({FORMAT})")
            docs = {
                name: [
                    json_util.loads(line)
                    for line in _member(archive, f"collections/{name}.jsonl").splitlines()
                    if line.strip()
                ]
                for name in manifest["collections"]
            }
    except (OSError, tarfile.TarError, json.JSONDecodeError, KeyError) as exc:
        raise BackupError(f"{path} cannot be read as a backup archive ({exc})") from exc
    return manifest, docs


def _member(archive: tarfile.TarFile, name: str) -> str:
    handle = archive.extractfile(name)
    if handle is None:
        raise KeyError(name)
    return handle.read().decode("utf-8")


def check_keys(docs: dict[str, list[dict[str, Any]]], cipher: FieldCipher) -> int:
    """Decrypts every sealed lead field with the configured keys; returns how many.
    Raises BackupError naming the key ids when the keys do not fit the archive."""
    checked = 0
    failures: set[str] = set()
    hash_differs = False
    for doc in docs.get("leads", []):
        for field in SEALED_LEAD_FIELDS:
            sealed = doc.get(field)
            if not isinstance(sealed, dict):
                continue
            try:
                plain = cipher.decrypt(sealed, f"{doc['studio_id']}/leads/{field}")
            except FieldDecryptError:
                failures.add(str(sealed.get("kid")))
                continue
            checked += 1
            stored_hash = doc.get("email_hash")
            if (
                field == "email"
                and stored_hash
                and stored_hash != cipher.lookup_hash(normalise_email(plain))
            ):
                hash_differs = True
    if failures:
        raise BackupError(
            "the leads in this backup cannot be decrypted with PHOTOFLUX_FIELD_KEYS (key "
            f"id(s) {', '.join(sorted(failures))} missing or different): configure the "
            "field keys exported with `photoflux-cloud export-keys` when this backup was "
            "made (and the same PHOTOFLUX_HASH_KEY), then restore again"
        )
    if hash_differs:
        raise BackupError(
            "PHOTOFLUX_HASH_KEY differs from the one this backup's leads were indexed with: "
            "configure the hash key exported with the field keys, then restore again"
        )
    return checked


def load(db: Database, docs: dict[str, list[dict[str, Any]]], replace: bool) -> dict[str, int]:
    """Writes the documents into `db`. Without `replace`, refuses a database that
    already holds any of the archive's collections."""
    occupied = [name for name in docs if db[name].estimated_document_count() > 0]
    if occupied and not replace:
        raise BackupError(
            f"the database already holds data ({', '.join(occupied)}): restore into an "
            "empty database, or pass --drop to replace it"
        )
    counts = {}
    for name, items in docs.items():
        if replace:
            db[name].drop()
        if items:
            db[name].insert_many(items)
        counts[name] = len(items)
    return counts

"""The embedded store's snapshot (`PHOTOFLUX_EMBEDDED_SNAPSHOT`): a backup archive the
server loads when it starts and rewrites when it stops cleanly. Without the setting the
embedded store stays in memory only (announced at start-up as non-durable)."""

from __future__ import annotations

from pathlib import Path

import structlog
from pymongo.database import Database

from cloud_api.core.config import Settings
from cloud_api.core.fieldcrypt import FieldCipher
from cloud_api.store import backup

log = structlog.get_logger("cloud_api.snapshot")


def _path(settings: Settings) -> Path | None:
    embedded = settings.mongodb_uri is None
    return Path(settings.embedded_snapshot) if embedded and settings.embedded_snapshot else None


def load_at_start(db: Database, settings: Settings, cipher: FieldCipher) -> None:
    """Refuses to start (BackupError) when the configured keys cannot read the leads."""
    path = _path(settings)
    if path is None or not path.exists():
        return
    _manifest, docs = backup.read(path)
    backup.check_keys(docs, cipher)
    counts = backup.load(db, docs, replace=True)
    log.info("snapshot_loaded", path=str(path), documents=sum(counts.values()))


def save_at_stop(db: Database, settings: Settings) -> None:
    path = _path(settings)
    if path is None:
        return
    summary = backup.dump(db, path)
    log.info("snapshot_saved", path=str(path), documents=sum(summary.collections.values()))

"""`photoflux-cloud backup | restore | export-keys` (README "Backups")."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import mongomock
from pydantic import ValidationError

from cloud_api.core.config import ConfigError, Settings
from cloud_api.core.fieldcrypt import FieldCipher
from cloud_api.core.storage import Storage
from cloud_api.store import backup

EXIT_BAD_INPUT = 2


def run_backup_command(args: argparse.Namespace) -> int:
    from cloud_api.cli import _config_message

    try:
        settings = Settings()
    except (ConfigError, ValidationError) as exc:
        return _fail(_config_message(exc))
    try:
        if args.command == "export-keys":
            return _export_keys(settings, Path(args.out))
        if settings.embedded_storage and not settings.embedded_snapshot:
            return _fail(
                "set PHOTOFLUX_MONGODB_URI, or PHOTOFLUX_EMBEDDED_SNAPSHOT for the embedded "
                "store: without either, the data lives only inside a running server"
            )
        if args.command == "backup":
            return _backup(settings, Path(args.archive))
        return _restore(settings, Path(args.archive), args.drop)
    except backup.BackupError as exc:
        return _fail(str(exc))


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return EXIT_BAD_INPUT


def _cipher(settings: Settings) -> FieldCipher:
    return FieldCipher(
        settings.field_key_ring, settings.active_field_key_id, settings.hash_key_bytes
    )


def _backup(settings: Settings, out: Path) -> int:
    if settings.embedded_storage:
        snapshot = Path(str(settings.embedded_snapshot))
        if not snapshot.exists():
            return _fail(f"no snapshot at {snapshot} yet (it is written when the server stops)")
        # read it fully (a damaged snapshot fails here, not at restore time), then rewrite
        _manifest, docs = backup.read(snapshot)
        db = mongomock.MongoClient()[settings.mongodb_db]
        backup.load(db, docs, replace=True)
        summary = backup.dump(db, out)
    else:
        storage = _storage(settings)
        try:
            summary = backup.dump(storage.db, out)
        finally:
            storage.close()
    total = sum(summary.collections.values())
    sys.stdout.write(
        f"{total} documents in {len(summary.collections)} collections written to {out}; "
        f"its leads need field key id(s): {', '.join(summary.key_ids) or 'none'} "
        "(keep those keys, exported with `photoflux-cloud export-keys`)\n"
    )
    return 0


def _restore(settings: Settings, archive: Path, drop: bool) -> int:
    _manifest, docs = backup.read(archive)
    checked = backup.check_keys(docs, _cipher(settings))  # before anything is written
    if settings.embedded_storage:
        # the server reads the snapshot when it starts: stop it first, start it after
        snapshot = Path(str(settings.embedded_snapshot))
        if snapshot.exists() and not drop:
            return _fail(f"{snapshot} exists: pass --drop to replace it")
        db = mongomock.MongoClient()[settings.mongodb_db]
        counts = backup.load(db, docs, replace=True)
        backup.dump(db, snapshot)
    else:
        storage = _storage(settings)
        try:
            counts = backup.load(storage.db, docs, replace=drop)
        finally:
            storage.close()
    sys.stdout.write(
        f"{sum(counts.values())} documents restored; {checked} encrypted lead fields "
        "decrypt with the configured keys\n"
    )
    return 0


def _storage(settings: Settings) -> Storage:
    uri = settings.mongodb_uri
    return Storage(None if uri is None else uri.get_secret_value(), settings.mongodb_db)


def _export_keys(settings: Settings, out: Path) -> int:
    text = (
        "# PhotoFlux field-encryption keys: keep apart from the data backups (a password\n"
        "# manager or secret store). Every backup's leads need the key ids it names.\n"
        f"PHOTOFLUX_FIELD_KEYS={','.join(settings.field_keys)}\n"
        f"PHOTOFLUX_HASH_KEY={settings.hash_key.get_secret_value()}\n"
    )
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _fail(f"{out} exists: choose a new file")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    sys.stdout.write(f"keys written to {out} (mode 600)\n")
    return 0


def rotate_snapshot(settings: Settings) -> int:
    """`rotate-keys` for the embedded store: re-encrypts the snapshot file (the server
    must be stopped: it rewrites the snapshot when it stops)."""
    from cloud_api.store import leads

    snapshot = Path(str(settings.embedded_snapshot))
    if not snapshot.exists():
        return _fail(f"no snapshot at {snapshot} yet (it is written when the server stops)")
    try:
        _manifest, docs = backup.read(snapshot)
        cipher = _cipher(settings)
        backup.check_keys(docs, cipher)
    except backup.BackupError as exc:
        return _fail(str(exc))
    db = mongomock.MongoClient()[settings.mongodb_db]
    backup.load(db, docs, replace=True)
    checked, rewritten = leads.reencrypt(db, cipher)
    backup.dump(db, snapshot)
    sys.stdout.write(
        f"{rewritten} of {checked} leads re-encrypted with key {settings.active_field_key_id!r}\n"
    )
    return 0

"""deploy/backup/mongo-backup.sh with a stand-in `mongodump` (no MongoDB here): a dump
lands under its final name only when mongodump succeeds, old dumps expire after the
retention, a failed dump deletes nothing, and --check tells a fresh dump from a stale one.
The password reaches mongodump in a config file, never on its command line."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "backup" / "mongo-backup.sh"
FAKE_MONGODUMP = """#!/usr/bin/env bash
echo "$@" >> "$CALLS"
for arg in "$@"; do
  case "$arg" in --archive=*) archive="${arg#--archive=}" ;; esac
  if [ "$prev" = "--config" ]; then cat "$arg" >> "$CALLS"; fi
  prev="$arg"
done
[ "${FAIL:-0}" = "1" ] && exit 1
printf 'dump' > "$archive"
"""


def _run(tmp_path: Path, *args: str, fail: bool = False) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "mongodump"
    fake.write_text(FAKE_MONGODUMP)
    fake.chmod(0o755)
    password = tmp_path / "root_password"
    password.write_text("s3cret-root-password")
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "BACKUP_DIR": str(tmp_path / "backups"),
        "BACKUP_RETENTION_DAYS": "7",
        "BACKUP_INTERVAL_SECONDS": "3600",
        "MONGO_ROOT_PASSWORD_FILE": str(password),
        "CALLS": str(tmp_path / "calls"),
        "FAIL": "1" if fail else "0",
    }
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60
    )


def _dumps(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "backups").iterdir())


def test_dump_rotates_old_archives_and_keeps_the_password_off_the_command_line(tmp_path: Path):
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "photoflux-20200101T000000Z.archive.gz"
    recent = backups / "photoflux-20990101T000000Z.archive.gz"
    for path, age_days in ((old, 30), (recent, 2)):
        path.write_text("old")
        stamp = time.time() - age_days * 86400
        os.utime(path, (stamp, stamp))
    assert _run(tmp_path, "--check").returncode != 0  # nothing younger than two hours

    result = _run(tmp_path, "--once")
    assert result.returncode == 0, result.stderr
    names = _dumps(tmp_path)
    assert old.name not in names and recent.name in names  # 30 days > 7 days retention
    new = [n for n in names if n not in (recent.name,)]
    assert len(new) == 1 and new[0].endswith(".archive.gz")
    assert (backups / new[0]).stat().st_mode & 0o077 == 0
    calls = (tmp_path / "calls").read_text().splitlines()
    assert "--gzip" in calls[0] and "--db photoflux" in calls[0]
    assert "s3cret" not in calls[0]  # the command line
    assert calls[1] == 'password: "s3cret-root-password"'  # the config file
    assert _run(tmp_path, "--check").returncode == 0


def test_a_failed_dump_keeps_every_old_backup(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "photoflux-20200101T000000Z.archive.gz"
    old.write_text("old")
    stamp = time.time() - 30 * 86400
    os.utime(old, (stamp, stamp))
    result = _run(tmp_path, "--once", fail=True)
    assert result.returncode != 0
    assert _dumps(tmp_path) == [old.name]  # no partial file, nothing expired

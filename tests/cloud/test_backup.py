"""Backup and restore of the embedded store, driven as an operator would: a server with a
snapshot file records leads over HTTP and stops; `photoflux-cloud backup` / `restore` run
as processes; a fresh server started on the restored data shows the leads decrypted.
Wrong keys are refused before anything is written, and the message says which."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cloud_api.cli import main
from tests.cloud.live import Api, LiveServer, bearer, cloud_settings, key, lead

EMAILS = ("ana@example.org", "ben@example.org", "chloe@example.org")
FIELD_KEYS = f"k1:{key('field-key-one')}"


def _process(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real console entry point, as a separate process."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from cloud_api.cli import main; sys.exit(main())",
            *args,
        ],
        env={k: v for k, v in os.environ.items() if not k.startswith("PHOTOFLUX_")} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """The same entry point in this process (each process start costs ~2 s here): the
    environment is replaced just as for a process, and no .env file is in reach."""

    def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        for name in [n for n in os.environ if n.startswith("PHOTOFLUX_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


def _env(snapshot: Path, field_keys: str = FIELD_KEYS, hash_seed: str = "hash-key-for-tests"):
    return {
        "PHOTOFLUX_ENV": "test",
        "PHOTOFLUX_SECRET_KEY": key("jwt-signing-key-for-tests"),
        "PHOTOFLUX_FIELD_KEYS": field_keys,
        "PHOTOFLUX_HASH_KEY": key(hash_seed),
        "PHOTOFLUX_EMBEDDED_SNAPSHOT": str(snapshot),
    }


def _listed_emails(server: LiveServer) -> set[str]:
    api = Api(server)
    items = api.http.get("/api/leads?limit=50", headers=api.admin()).json()["items"]
    return {item["email"] for item in items}


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot written by a server that recorded three leads, then stopped."""
    snapshot = tmp_path_factory.mktemp("store") / "snapshot.tar.gz"
    with LiveServer(cloud_settings(embedded_snapshot=str(snapshot), mongodb_uri=None)) as server:
        api = Api(server)
        token = api.device(api.studio())
        for email in EMAILS:
            response = api.http.post("/api/leads", json=lead(email), headers=bearer(token))
            assert response.status_code in (200, 201), response.text
        assert _listed_emails(server) == set(EMAILS)
    assert snapshot.exists()
    return snapshot


def test_backup_then_restore_round_trips_the_store(populated: Path, tmp_path: Path, cli) -> None:
    archive = tmp_path / "backup.tar.gz"
    made = _process("backup", str(archive), env=_env(populated))
    assert made.returncode == 0, made.stderr
    assert "field key id(s): k1" in made.stdout
    assert archive.stat().st_mode & 0o077 == 0  # personal data: owner only

    keys_file = tmp_path / "keys.env"
    exported = cli("export-keys", str(keys_file), env=_env(populated))
    assert exported.returncode == 0, exported.stderr
    keys = dict(line.split("=", 1) for line in keys_file.read_text().splitlines() if "=" in line)
    assert keys["PHOTOFLUX_FIELD_KEYS"] == FIELD_KEYS

    restored = tmp_path / "restored.tar.gz"
    env = _env(restored, field_keys=keys["PHOTOFLUX_FIELD_KEYS"])
    env["PHOTOFLUX_HASH_KEY"] = keys["PHOTOFLUX_HASH_KEY"]
    done = cli("restore", str(archive), env=env)
    assert done.returncode == 0, done.stderr
    assert "6 encrypted lead fields decrypt" in done.stdout  # e-mail + name, three leads

    with LiveServer(cloud_settings(embedded_snapshot=str(restored), mongodb_uri=None)) as server:
        assert _listed_emails(server) == set(EMAILS)


def test_restore_with_other_keys_is_refused_and_says_why(populated: Path, tmp_path: Path, cli):
    archive = tmp_path / "backup.tar.gz"
    assert cli("backup", str(archive), env=_env(populated)).returncode == 0
    target = tmp_path / "restored.tar.gz"

    wrong = cli("restore", str(archive), env=_env(target, field_keys=f"k2:{key('other')}"))
    assert wrong.returncode == 2
    assert "cannot be decrypted with PHOTOFLUX_FIELD_KEYS" in wrong.stderr
    assert "k1" in wrong.stderr and "Traceback" not in wrong.stderr
    assert not target.exists()  # refused before anything was written

    same_id = cli("restore", str(archive), env=_env(target, field_keys=f"k1:{key('other')}"))
    assert same_id.returncode == 2 and "k1" in same_id.stderr

    other_hash = cli("restore", str(archive), env=_env(target, hash_seed="another-hash-key"))
    assert other_hash.returncode == 2 and "PHOTOFLUX_HASH_KEY differs" in other_hash.stderr
    assert not target.exists()


def test_backup_needs_a_store_it_can_read(tmp_path: Path, cli) -> None:
    env = _env(tmp_path / "x") | {"PHOTOFLUX_EMBEDDED_SNAPSHOT": ""}
    result = cli("backup", str(tmp_path / "b.tar.gz"), env=env)
    assert result.returncode == 2
    assert "PHOTOFLUX_EMBEDDED_SNAPSHOT" in result.stderr


@pytest.mark.skipif(
    not os.environ.get("PHOTOFLUX_TEST_MONGODB_URI"), reason="set PHOTOFLUX_TEST_MONGODB_URI"
)
def test_backup_and_restore_against_a_real_server(populated: Path, tmp_path: Path, cli) -> None:
    """The same archive into a real MongoDB and back out (only where one is configured)."""
    import uuid

    archive = tmp_path / "backup.tar.gz"
    assert cli("backup", str(archive), env=_env(populated)).returncode == 0
    env = _env(tmp_path / "unused") | {
        "PHOTOFLUX_MONGODB_URI": os.environ["PHOTOFLUX_TEST_MONGODB_URI"],
        "PHOTOFLUX_MONGODB_DB": f"pf_backup_{uuid.uuid4().hex[:8]}",
    }
    loaded = cli("restore", str(archive), env=env)
    assert loaded.returncode == 0, loaded.stderr
    again = cli("restore", str(archive), env=env)
    assert again.returncode == 2 and "--drop" in again.stderr  # never over data by accident
    out = tmp_path / "from-server.tar.gz"
    made = cli("backup", str(out), env=env)
    assert made.returncode == 0 and "field key id(s): k1" in made.stdout


def test_the_mongodb_path_round_trips_through_pymongo_calls(populated: Path, tmp_path: Path, cli):
    """The PHOTOFLUX_MONGODB_URI path here, with pymongo's client swapped for mongomock's
    (mongomock.patch: same calls, one shared in-memory server per address)."""
    import mongomock

    archive = tmp_path / "backup.tar.gz"
    assert cli("backup", str(archive), env=_env(populated)).returncode == 0
    env = _env(tmp_path / "unused") | {"PHOTOFLUX_MONGODB_URI": "mongodb://db.invalid:27017"}
    with mongomock.patch(servers=(("db.invalid", 27017),)):
        loaded = cli("restore", str(archive), env=env)
        assert loaded.returncode == 0, loaded.stderr
        refused = cli("restore", str(archive), env=env)
        assert refused.returncode == 2 and "--drop" in refused.stderr
        assert cli("restore", "--drop", str(archive), env=env).returncode == 0
        again = tmp_path / "again.tar.gz"
        made = cli("backup", str(again), env=env)
        assert made.returncode == 0, made.stderr
    assert "field key id(s): k1" in made.stdout


def test_rotate_keys_re_encrypts_the_snapshot(populated: Path, tmp_path: Path, cli) -> None:
    """README "Rotating the field-encryption key" on the embedded store: new key first,
    rotate-keys, then the old key can go and the leads still decrypt."""
    import shutil

    snapshot = tmp_path / "snapshot.tar.gz"
    shutil.copy(populated, snapshot)
    new_key = f"k2:{key('field-key-two')}"
    rotated = cli("rotate-keys", env=_env(snapshot, field_keys=f"{new_key},{FIELD_KEYS}"))
    assert rotated.returncode == 0, rotated.stderr
    assert "3 of 3 leads re-encrypted with key 'k2'" in rotated.stdout
    archive = tmp_path / "after.tar.gz"
    made = cli("backup", str(archive), env=_env(snapshot, field_keys=new_key))
    assert made.returncode == 0 and "field key id(s): k2\n" not in made.stderr
    assert "field key id(s): k2 " in made.stdout  # k1 no longer needed
    target = tmp_path / "restored.tar.gz"
    assert cli("restore", str(archive), env=_env(target, field_keys=new_key)).returncode == 0
    old_only = cli("restore", str(archive), env=_env(tmp_path / "x.tar.gz"))
    assert old_only.returncode == 2 and "k2" in old_only.stderr

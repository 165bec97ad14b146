"""Configuration: secrets outside development, generated dev secrets, the CLI."""

from __future__ import annotations

import pytest

from cloud_api.cli import main
from cloud_api.core.config import Settings
from tests.cloud.live import cloud_settings, key


def settings(**values) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize("env", ["production", "staging", "test"])
def test_refuses_missing_secrets_outside_development(env: str):
    with pytest.raises(ValueError, match="PHOTOFLUX_SECRET_KEY"):
        settings(env=env)


def test_refuses_known_default_and_short_secrets():
    for weak in ("changeme", "secret", "short-but-not-32-bytes"):
        with pytest.raises(ValueError, match="PHOTOFLUX_SECRET_KEY"):
            cloud_settings(secret_key=weak)


def test_development_generates_throw_away_secrets():
    dev = settings(env="development")
    assert set(dev.generated_secrets) == {"secret_key", "field_keys", "hash_key"}
    assert len(dev.secret_key.get_secret_value()) >= 32
    assert settings(env="development").secret_key != dev.secret_key


def test_development_with_a_real_database_needs_real_keys():
    with pytest.raises(ValueError, match="unreadable after a restart"):
        settings(env="development", mongodb_uri="mongodb://db.example.com")


def test_first_admin_needs_a_real_password():
    with pytest.raises(ValueError, match="FIRST_ADMIN_PASSWORD"):
        cloud_settings(first_admin_password="short")
    with pytest.raises(ValueError, match="FIRST_ADMIN_PASSWORD"):
        cloud_settings(first_admin_password=None)


def test_environment_and_lists(monkeypatch):
    monkeypatch.setenv("PHOTOFLUX_ENV", "development")
    monkeypatch.setenv("PHOTOFLUX_CORS_ORIGINS", "https://a.example.com, https://b.example.com")
    monkeypatch.setenv("PHOTOFLUX_FIELD_KEYS", f"new:{key('n')},old:{key('o')}")
    monkeypatch.setenv("PHOTOFLUX_HASH_KEY", key("h"))
    loaded = Settings(_env_file=None)
    assert loaded.cors_origins == ["https://a.example.com", "https://b.example.com"]
    assert loaded.active_field_key_id == "new"
    assert set(loaded.field_key_ring) == {"new", "old"}


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(
        f"PHOTOFLUX_ENV=production\nPHOTOFLUX_SECRET_KEY={key('s')}\n"
        f"PHOTOFLUX_FIELD_KEYS=k:{key('f')}\nPHOTOFLUX_HASH_KEY={key('h')}\n"
    )
    monkeypatch.chdir(tmp_path)
    assert Settings().env == "production"


def test_serve_refuses_to_start_with_a_clear_message(monkeypatch, capsys):
    monkeypatch.setenv("PHOTOFLUX_ENV", "production")
    monkeypatch.delenv("PHOTOFLUX_SECRET_KEY", raising=False)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "PHOTOFLUX_SECRET_KEY" in err
    assert "keygen" in err
    assert "Traceback" not in err


def test_several_workers_need_shared_storage(monkeypatch, capsys):
    monkeypatch.setenv("PHOTOFLUX_ENV", "development")
    assert main(["serve", "--workers", "2"]) == 2
    assert "PHOTOFLUX_REDIS_URL" in capsys.readouterr().err


def test_keygen_output_is_accepted_by_settings(monkeypatch, capsys):
    assert main(["keygen"]) == 0
    for line in capsys.readouterr().out.splitlines():
        name, _, value = line.partition("=")
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PHOTOFLUX_ENV", "production")
    assert Settings(_env_file=None).env == "production"


def test_a_worker_without_redis_or_token_says_what_to_set(capsys, monkeypatch):
    monkeypatch.delenv("PHOTOFLUX_REDIS_URL", raising=False)
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert "PHOTOFLUX_REDIS_URL" in err and "PHOTOFLUX_WORKER_TOKEN" in err


def test_serve_runs_the_real_entry_point_with_json_logs(tmp_path):
    import json
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    from tests.cloud.live import free_port

    port = free_port()
    env = os.environ | {"PHOTOFLUX_ENV": "development", "PHOTOFLUX_PORT": str(port)}
    exe = Path(sys.executable).with_name("photoflux-cloud")
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen([str(exe), "serve"], env=env, cwd=tmp_path, stderr=sink)
    try:
        deadline, ready = time.monotonic() + 30, None
        while ready is None and time.monotonic() < deadline:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
            except httpx.TransportError:
                time.sleep(0.1)
        assert ready is not None and ready.json()["durable"] is False
    finally:
        process.terminate()
        process.wait(timeout=10)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    events = {r["event"] for r in records}  # every line is JSON, uvicorn's own included
    assert "storage_not_durable" in events
    assert "development_secrets" in events
    assert any("Uvicorn running" in e for e in events)


def test_rotate_keys_needs_a_real_database(monkeypatch, capsys):
    monkeypatch.setenv("PHOTOFLUX_ENV", "development")
    monkeypatch.delenv("PHOTOFLUX_MONGODB_URI", raising=False)
    assert main(["rotate-keys"]) == 2
    assert "PHOTOFLUX_MONGODB_URI" in capsys.readouterr().err


def test_rotate_keys_rewrites_leads_on_the_configured_database(monkeypatch, capsys):
    import mongomock

    from cloud_api.core import storage
    from cloud_api.core.fieldcrypt import FieldCipher
    from cloud_api.store import leads
    from tests.cloud.test_storage import sample

    shared = mongomock.MongoClient()
    # pymongo cannot reach a server here: the same code runs on the in-memory client
    monkeypatch.setattr(storage.pymongo, "MongoClient", lambda *a, **k: shared)
    old_key, new_key = key("old-field-key"), key("new-field-key")
    cipher = FieldCipher({"old": base64_key(old_key)}, "old", base64_key(key("h")))
    leads.record_lead(shared.photoflux, cipher, "s1", None, sample("r@example.org"))
    monkeypatch.setenv("PHOTOFLUX_ENV", "production")
    monkeypatch.setenv("PHOTOFLUX_SECRET_KEY", key("jwt"))
    monkeypatch.setenv("PHOTOFLUX_HASH_KEY", key("h"))
    monkeypatch.setenv("PHOTOFLUX_FIELD_KEYS", f"new:{new_key},old:{old_key}")
    monkeypatch.setenv("PHOTOFLUX_MONGODB_URI", "mongodb://db.example.com")
    assert main(["rotate-keys"]) == 0
    assert "1 of 1 leads re-encrypted with key 'new'" in capsys.readouterr().out
    assert shared.photoflux.leads.find_one()["email"]["kid"] == "new"


def base64_key(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text)

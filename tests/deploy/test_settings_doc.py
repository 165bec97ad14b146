"""SETTINGS.md lists every setting (it is generated from the settings classes and must be
current), and deploy/.env.example names only real settings, holds no real secret, and
covers every variable compose interpolates and every secret the service needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cloud_api.core.config import Settings
from cloud_api.worker.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_ONLY = {
    "PHOTOFLUX_DOMAIN",
    "PHOTOFLUX_ACME_EMAIL",
    "PHOTOFLUX_API_IMAGE",
    "PHOTOFLUX_WORKER_IMAGE",
}


def _example() -> dict[str, str]:
    lines = (ROOT / "deploy" / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_settings_doc_is_current() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("settings_doc", ROOT / "scripts/settings_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "SETTINGS.md").read_text() == module.render(), (
        "run `python scripts/settings_doc.py`"
    )


@pytest.mark.parametrize("settings", [Settings, WorkerSettings], ids=["cloud", "worker"])
def test_every_setting_is_documented(settings) -> None:
    text = (ROOT / "SETTINGS.md").read_text()
    for name in settings.model_fields:
        if name != "generated_secrets":
            assert f"`PHOTOFLUX_{name.upper()}`" in text, name


def test_env_example_names_only_real_settings() -> None:
    known = {f"PHOTOFLUX_{n.upper()}" for n in Settings.model_fields | WorkerSettings.model_fields}
    assert set(_example()) - known - COMPOSE_ONLY == set()


def test_env_example_covers_compose_and_every_required_secret() -> None:
    example = _example()
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    interpolated = set(re.findall(r"\$\{(\w+)", compose))
    assert interpolated <= set(example)
    for secret in ("SECRET_KEY", "FIELD_KEYS", "HASH_KEY", "MONGODB_URI", "REDIS_URL",
                   "WORKER_TOKEN", "METRICS_TOKEN"):  # fmt: skip
        assert (
            example[f"PHOTOFLUX_{secret}"].startswith("<") or "<" in example[f"PHOTOFLUX_{secret}"]
        )


def test_env_example_placeholders_cannot_start_a_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone who forgets to fill it in gets a refusal, not a service on known keys."""
    for name, value in _example().items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="PHOTOFLUX_"):
        Settings(_env_file=None)

"""`photoflux connect` / `disconnect`: the token goes to the OS keyring and nowhere
else; with no keyring backend nothing is stored and the user is told what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photoflux_desktop.cli import main
from photoflux_desktop.engine.settings import settings_path
from photoflux_desktop.sync.link import KEYRING_SERVICE, KEYRING_USER, current_link
from tests.cloud.live import LiveServer
from tests.sync.conftest import MemoryKeyring, one_json, photoflux


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


def test_connect_keeps_the_token_in_the_keyring_never_in_settings(
    folders: dict[str, str],
    memory_keyring: MemoryKeyring,
    server: LiveServer,
    device_token: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["connect", server.url, "--device-token", device_token, "--json"]) == 0
    answer = _json(capsys)
    assert answer["checked"] is True and answer["keyring"].endswith("MemoryKeyring")
    assert memory_keyring.store[(KEYRING_SERVICE, KEYRING_USER)] == device_token
    saved = settings_path().read_text()
    assert json.loads(saved)["cloud_url"] == server.url
    assert device_token not in saved
    link = current_link()
    assert link is not None and link.token == device_token and link.source == "keyring"

    assert main(["disconnect", "--json"]) == 0
    assert _json(capsys) == {"ok": True, "url_removed": True, "token_removed": True}
    assert memory_keyring.store == {}
    assert current_link() is None


def test_the_environment_overrides_the_stored_link(
    folders: dict[str, str], memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory_keyring.set_password(KEYRING_SERVICE, KEYRING_USER, "stored-token")
    monkeypatch.setenv("PHOTOFLUX_CLOUD_URL", "https://studio.example")
    link = current_link()
    assert link is not None and (link.url, link.token, link.source) == (
        "https://studio.example",
        "stored-token",
        "mixed",
    )
    monkeypatch.setenv("PHOTOFLUX_DEVICE_TOKEN", "env-token")
    assert current_link().token == "env-token"  # type: ignore[union-attr]


def test_a_refused_token_is_not_stored(
    folders: dict[str, str],
    memory_keyring: MemoryKeyring,
    server: LiveServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["connect", server.url, "--device-token", "pfd_not-a-real-token", "--json"]) == 5
    assert "refused this device token" in _json(capsys)["error"]["message"]
    assert memory_keyring.store == {}
    assert not settings_path().exists()


def test_plain_http_is_refused_except_for_localhost(
    folders: dict[str, str], memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["connect", "http://studio.example", "--device-token", "t", "--json"]) == 2
    assert "https" in _json(capsys)["error"]["message"]


@pytest.mark.parametrize(
    "url",
    [
        "https://kiosk:s3cret-pass@studio.example",
        "https://studio.example/?token=s3cret-pass",
        "https://studio.example/#s3cret-pass",
    ],
)
def test_a_cloud_address_carrying_a_secret_is_refused_and_not_saved(
    url: str, folders: dict[str, str], memory_keyring: MemoryKeyring
) -> None:
    """The address goes to the settings file in clear text; only the keyring holds secrets."""
    result = photoflux("connect", url, "--device-token", "t", "--json", env=folders)
    assert result.returncode == 2 and "password" in one_json(result)["error"]["message"]
    assert not settings_path().exists()


def test_without_a_keyring_backend_nothing_is_stored(folders: dict[str, str]) -> None:
    # a fresh process with no keyring backend (as on CI and these machines)
    no_keyring = folders | {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = photoflux(
        "connect",
        "http://127.0.0.1:9",
        "--device-token",
        "secret-token-123",
        "--json",
        env=no_keyring,
    )
    assert result.returncode == 2
    error = one_json(result)["error"]
    assert "No usable keyring backend" in error["message"]
    assert "PHOTOFLUX_CLOUD_URL" in error["hint"] and "PHOTOFLUX_DEVICE_TOKEN" in error["hint"]
    config = Path(folders["PHOTOFLUX_CONFIG_DIR"])
    assert not any("secret-token-123" in p.read_text() for p in config.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("url", "token"),
    [
        (None, "pfd_abc\ndef"),  # a paste that took a line break along
        (None, "pfd_t\u00f6ken"),
        ("https://[::1", "pfd_token"),
        ("https://studio.example:99999", "pfd_token"),
    ],
)
def test_a_malformed_token_or_address_is_bad_input_not_a_network_or_internal_error(
    url: str | None, token: str, folders: dict[str, str], server: LiveServer
) -> None:
    env = folders | {"PHOTOFLUX_CLOUD_URL": url or server.url, "PHOTOFLUX_DEVICE_TOKEN": token}
    result = photoflux("sync", "--once", "--json", env=env)
    assert result.returncode == 2, result.stdout
    assert one_json(result)["error"]["kind"] == "bad_input"
    connect = photoflux("connect", url or server.url, "--device-token", token, env=folders)
    assert connect.returncode == 2 and "Traceback" not in connect.stderr

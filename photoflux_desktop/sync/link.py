"""The link to a studio's cloud: its URL (settings file) and this device's token (OS
keyring, never the settings file). `PHOTOFLUX_CLOUD_URL` / `PHOTOFLUX_DEVICE_TOKEN`
override both, for headless kiosks and machines without a keyring backend."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from photoflux_desktop.engine.errors import bad_input, cloud_error
from photoflux_desktop.engine.settings import load_settings, save_settings

KEYRING_SERVICE = "PhotoFlux cloud"
KEYRING_USER = "device-token"
MAX_TOKEN_LENGTH = 1024
TOKEN_PATTERN = re.compile(rf"^[\x21-\x7e]{{1,{MAX_TOKEN_LENGTH}}}$")
ENV_URL = "PHOTOFLUX_CLOUD_URL"
ENV_TOKEN = "PHOTOFLUX_DEVICE_TOKEN"
NO_KEYRING_HINT = (
    f"Set {ENV_URL} and {ENV_TOKEN} in the environment instead (headless kiosks), "
    "or install a keyring backend (Secret Service, macOS Keychain, Windows Credential Locker)."
)


@dataclass(frozen=True)
class CloudLink:
    url: str
    token: str
    source: Literal["environment", "keyring", "mixed"]


def keyring_backend() -> str | None:
    """The usable keyring backend's name, or None when there is none (CI, bare servers)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return type(backend).__module__ + "." + type(backend).__name__


def require_keyring() -> str:
    backend = keyring_backend()
    if backend is None:
        raise bad_input(
            "No usable keyring backend on this machine, so the device token cannot be "
            "stored safely; nothing was saved.",
            NO_KEYRING_HINT,
        )
    return backend


def _stored_token() -> str | None:
    if keyring_backend() is None:
        return None
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except KeyringError:
        return None


def check_token(token: str) -> str:
    """The token as sent in the Authorization header: printable ASCII, one word. A
    newline or a non-ASCII character (a bad paste) would otherwise fail every request
    as if the network were down, or as an internal error."""
    token = token.strip()
    if not token:
        raise bad_input("The device token is empty.", "Copy it from the studio dashboard.")
    if not TOKEN_PATTERN.match(token):
        raise bad_input(
            "The device token is not valid: it is one word of printable ASCII characters "
            f"(at most {MAX_TOKEN_LENGTH}).",
            "Copy it again from the studio dashboard, without spaces or line breaks.",
        )
    return token


def check_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise bad_input(
            f"'{url}' is not a valid address.", "Give the studio's URL, e.g. https://studio.example"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_input(
            f"'{url}' is not a cloud address.", "Give the studio's URL, e.g. https://studio.example"
        )
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        # the address is saved in the settings file: no secret may ride in it
        raise bad_input(
            "The cloud address may not carry a user name, password, query or fragment.",
            "Give only the studio's address, e.g. https://studio.example; the device "
            "token goes in --device-token.",
        )
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise bad_input(
            "The cloud address must use https (a device token must not travel in clear text).",
            "Use the https:// address; plain http is only allowed for localhost.",
        )
    return url.strip().rstrip("/")


def current_link() -> CloudLink | None:
    env_url, env_token = os.environ.get(ENV_URL), os.environ.get(ENV_TOKEN)
    url = env_url or load_settings()[0].cloud_url
    token = env_token or _stored_token()
    if not url or not token:
        return None
    if env_url and env_token:
        source: Literal["environment", "keyring", "mixed"] = "environment"
    elif env_url or env_token:
        source = "mixed"
    else:
        source = "keyring"
    return CloudLink(check_url(url), check_token(token), source)


def connect(url: str, token: str) -> str:
    """Stores the link; answers the keyring backend's name. Refuses (bad input) when no
    keyring backend is usable: the token is never written anywhere else."""
    url = check_url(url)
    token = check_token(token)
    backend = require_keyring()
    import keyring

    keyring.set_password(KEYRING_SERVICE, KEYRING_USER, token)
    settings, _ = load_settings()
    settings.cloud_url = url
    save_settings(settings)
    return backend


def disconnect() -> dict[str, bool]:
    """Removes the stored URL and token; answers what was removed."""
    removed_token = False
    if keyring_backend() is not None:
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
            removed_token = True
        except PasswordDeleteError:
            pass
    settings, _ = load_settings()
    removed_url = settings.cloud_url is not None
    if removed_url:
        settings.cloud_url = None
        save_settings(settings)
    return {"url_removed": removed_url, "token_removed": removed_token}


def verify_token(url: str, token: str) -> str | None:
    """Asks the cloud who this token is (one request). None when it is this studio's device
    token; the reason when the cloud cannot be asked now (store it unchecked). Raises
    PhotoFluxError when the cloud refuses it or it is not a device token."""
    # httpx and stamina load only when something talks to the cloud
    from photoflux_desktop.sync.client import CloudClient, CloudUnreachable, Refused, TokenRefused

    try:
        with CloudClient(check_url(url), check_token(token)) as client:
            me = client.get("/api/auth/me").json()
    except TokenRefused as exc:
        raise cloud_error(
            f"The studio refused this device token ({exc}).",
            "Copy a current token from the studio dashboard (it may have been revoked).",
        ) from None
    except (CloudUnreachable, Refused) as exc:
        return str(exc)
    if me.get("kind") != "device":
        raise bad_input("That token is not a device token.", "Create one for this device.")
    return None

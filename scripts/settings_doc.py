# ruff: noqa: E501  (the tables below are data: one setting a line reads best)
"""Writes SETTINGS.md: every setting of the cloud service, the render worker and the
desktop app, from the settings classes themselves (names, defaults, and the comment each
field carries in its source), plus the environment variables read outside them.
tests/deploy/test_settings_doc.py fails when SETTINGS.md is out of date:
    python scripts/settings_doc.py            (rewrites SETTINGS.md)
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "SETTINGS.md"
SECRETS = {"secret_key", "field_keys", "hash_key", "mongodb_uri", "first_admin_password",
           "smtp_password", "worker_token", "metrics_token", "sentry_dsn", "redis_url"}  # fmt: skip

# for fields whose source carries no comment of their own
NOTES = {
    "env": "`development` (generated throw-away secrets), `test`, `staging`, `production` (refuses default secrets)",
    "host": "address to bind (the images set 0.0.0.0)",
    "port": "port to bind",
    "jwt_algorithm": "HS256, HS384 or HS512",
    "jwt_issuer": "`iss` of access tokens",
    "jwt_audience": "`aud` of access tokens",
    "access_token_minutes": "access token lifetime",
    "refresh_token_days": "refresh token lifetime",
    "hash_key": "HMAC key for e-mail lookups (`photoflux-cloud keygen`); back it up with the field keys",
    "mongodb_uri": "MongoDB connection string (credentials included); unset: the embedded in-memory store",
    "mongodb_db": "database name",
    "first_admin_email": "the first admin account, created at start-up when missing",
    "first_admin_password": "its password (at least 12 characters)",
    "cors_origins": "comma-separated origins allowed by CORS",
    "login_backoff_max_seconds": "longest login backoff",
    "max_body_bytes": "largest JSON request body",
    "clamd_timeout_seconds": "per-scan timeout for ClamAV",
    "smtp_port": "SMTP port", "smtp_security": "`starttls`, `tls` or `none`",
    "smtp_username": "SMTP user", "smtp_password": "SMTP password", "mail_from": "From: of delivery e-mails",
    "delivery_attempts": "tries per delivery before it fails",
    "delivery_max_pixels": "largest image a delivery may carry, in pixels",
    "delivery_device_hourly": "deliveries per device per hour", "delivery_device_daily": "... per day",
    "delivery_studio_hourly": "deliveries per studio per hour", "delivery_studio_daily": "... per day",
    "share_max_bytes": "largest shared image", "rate_limit_share_page": "result-page views per client address",
    "webhook_attempts": "tries per webhook call", "webhook_timeout_seconds": "per webhook call",
    "webhook_allow_loopback": "allow loopback webhook targets (tests, local development only)",
    "keep_alive_seconds": "HTTP keep-alive", "upload_max_pixels": "largest uploaded photo, in pixels",
    "upload_ttl_hours": "how long an uploaded photo is kept",
    "metrics_token": "bearer token Prometheus sends to /metrics; unset: private addresses only",
    "sentry_dsn": "Sentry DSN for error reports (scrubbed of personal data)",
    "log_level": "DEBUG, INFO, WARNING or ERROR (JSON lines on stderr)",
    "redis_url": "Redis (password included): rate limits shared by replicas and the render queue; unset: in-process",
    "worker_token": "bearer token render workers present to /api/worker/* (same value on API and workers)",
    "worker_id": "name the worker reports under",
    "queue_maintenance_chance": "Dramatiq's Redis maintenance, per million broker calls (same on API and workers)",
    "models_dir": "model weights folder (PHOTOFLUX_MODELS_DIR overrides it)",
    "device": "`auto`, `cpu`, `cuda` or `mps`", "memory": "VRAM strategy: `auto`, `full`, `lowmem`, `offload`, `sequential`",
    "quantize": "weight quantization: `none`, `int8`, `fp8`, `int4`", "theme": "`system`, `dark` or `light`",
    "analytics_opt_out": "older files' opt-out (True still means no)",
    "cloud_url": "the studio cloud this install is linked to (its token is in the keyring)",
    "consent_marketing_text": "the studio's own marketing-consent wording",
    "marketing_text_version": "version id of the marketing-consent text",
    "privacy_url": "privacy notice shown with the consent", "last_open_dir": "the last folder a photo was opened from",
    "export_format": "`png`, `jpg` or `webp`", "watermark_on_export": "visible + invisible watermark on exports",
    "export_size": "one-click Save size", "kiosk_campaign": "campaign recorded with kiosk leads",
    "kiosk_idle_timeout_s": "kiosk returns to the start screen after this", "kiosk_countdown_s": "camera countdown",
}  # fmt: skip

# read with os.environ outside the settings classes
OTHER_ENV = [
    ("PHOTOFLUX_CLOUD_URL", "desktop", "the studio's cloud URL; overrides the stored link (headless machines without a keyring)"),
    ("PHOTOFLUX_DEVICE_TOKEN", "desktop", "the device token for that cloud; overrides the keyring"),
    ("PHOTOFLUX_DATA_DIR", "desktop, worker", "data folder (default: the platform's user data folder)"),
    ("PHOTOFLUX_CONFIG_DIR", "desktop", "where settings.json lives (default: the platform's config folder)"),
    ("PHOTOFLUX_CACHE_DIR", "desktop", "cache folder (default: the platform's cache folder)"),
    ("PHOTOFLUX_MODELS_DIR", "desktop, worker", "model weights (default: DATA_DIR/models; the desktop's settings.json `models_dir` wins when set)"),
    ("PHOTOFLUX_PREVIEW_DECODER", "desktop, worker", "`tiny` (TAESD), `projection` or `auto` (tiny on GPU only)"),
    ("HF_HOME", "desktop, worker", "Hugging Face cache used by `photoflux models download`"),
    ("HF_ENDPOINT", "desktop", "a Hugging Face mirror"),
    ("HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE", "desktop, worker", "never reach the Hub (the worker image sets HF_HUB_OFFLINE=1)"),
    ("HF_HUB_DOWNLOAD_TIMEOUT", "desktop", "seconds per download request"),
    ("QT_QPA_PLATFORM", "desktop", "`offscreen` for headless runs and tests"),
]  # fmt: skip


def _comments(cls: type) -> dict[str, str]:
    """The comment on a field's line, or the comment block just above it."""
    lines = inspect.getsource(cls).splitlines()
    found: dict[str, str] = {}
    above: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped.lstrip("# ").strip())
            continue
        match = re.match(r"\s+(\w+)\s*:\s*[^=]+?(=.*)?$", line)
        if match and not stripped.startswith(("def ", "@", "return")):
            name = match.group(1)
            inline = line.split("  # ", 1)[1].strip() if "  # " in line else ""
            found[name] = " ".join(filter(None, [" ".join(above), inline]))
        above = [] if stripped else above
    return found


def _default(name: str, field) -> str:
    if name in SECRETS:
        return "(secret: none)"
    if field.default_factory is not None:
        value = field.default_factory() if name != "worker_id" else "<host>-<pid>"
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if isinstance(value, SecretStr):
        return "(secret)"
    return f"`{value!r}`" if value not in (None, [], "") else "unset"


def _table(cls: type[BaseModel], prefix: str, skip: set[str] = frozenset()) -> list[str]:
    notes = _comments(cls)
    rows = ["| setting | default | what it does |", "| --- | --- | --- |"]
    for name, field in cls.model_fields.items():
        if name in skip or field.exclude:
            continue
        note = (notes.get(name) or NOTES.get(name, "")).replace("|", "\\|")
        secret = " **Secret.**" if name in SECRETS else ""
        rows.append(
            f"| `{prefix}{name.upper() if prefix else name}` | {_default(name, field)} | {note}{secret} |"
        )
    return rows


def render() -> str:
    from cloud_api.core.config import Settings
    from cloud_api.worker.settings import WorkerSettings
    from photoflux_desktop.engine.settings import Settings as DesktopSettings

    parts = [
        "# Settings",
        "",
        "Every setting of PhotoFlux in one place. Generated by `python scripts/settings_doc.py`",
        "from the settings classes; a test fails when this file is out of date.",
        "",
        "Secrets (marked **Secret.**) are given at run time only: an environment variable, a",
        "`.env` file that is never committed (`.gitignore`, `.dockerignore`), a compose secret",
        "or a Kubernetes Secret. No image contains one. `deploy/.env.example` is the template.",
        "",
        "## Cloud service (`photoflux-cloud serve`, and `backup` / `restore` / `rotate-keys`)",
        "",
        "Environment variables, or a `.env` file in the working folder "
        "(`cloud_api/core/config.py`). Outside `PHOTOFLUX_ENV=development` a missing or",
        "default secret stops start-up.",
        "",
        *_table(Settings, "PHOTOFLUX_"),
        "",
        "## Render worker (`photoflux-cloud worker`)",
        "",
        "A worker reads only these (`cloud_api/worker/settings.py`): no database, no keys.",
        "",
        *_table(WorkerSettings, "PHOTOFLUX_"),
        "",
        "## Desktop app (`settings.json` in the config folder)",
        "",
        "Edited through the app's preferences; `photoflux doctor` prints the folder. Secrets",
        "(the device token) live in the OS keyring, never in this file "
        "(`photoflux_desktop/engine/settings.py`).",
        "",
        *_table(DesktopSettings, "", skip={"schema_version"}),
        "",
        "## Other environment variables",
        "",
        "| variable | used by | what it does |",
        "| --- | --- | --- |",
        *[f"| `{name}` | {who} | {what} |" for name, who, what in OTHER_ENV],
        "",
    ]
    return "\n".join(parts)


def main() -> int:
    OUT.write_text(render())
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

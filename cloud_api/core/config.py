"""Service configuration from `PHOTOFLUX_*` environment variables and an optional `.env` file.

Outside development the service refuses to start with a missing or default secret, so a
deployment can never run on keys that someone could read in this repository.
"""

from __future__ import annotations

import base64
import secrets
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cloud_api.core.malware import parse_clamd_url

MIN_SECRET_BYTES = 32
MIN_PASSWORD_LENGTH = 12
# Values anyone can read here: refused outside development even if set explicitly.
KNOWN_DEFAULTS = frozenset({"", "changeme", "change-me", "secret", "development", "dev"})


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which variable to set."""


def _generated_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(MIN_SECRET_BYTES)).decode()


def decode_key(value: str, name: str) -> bytes:
    """A 32-byte key written as URL-safe base64 (what `photoflux-cloud keygen` prints)."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{name} must be URL-safe base64 (run `photoflux-cloud keygen`)") from exc
    if len(raw) != MIN_SECRET_BYTES:
        raise ConfigError(f"{name} must decode to 32 bytes (run `photoflux-cloud keygen`)")
    return raw


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PHOTOFLUX_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "test", "staging", "production"] = "production"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)

    # Signing key for access tokens; HS256 unless a deployment picks HS384/HS512.
    secret_key: SecretStr = SecretStr("")
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "photoflux-cloud"
    jwt_audience: str = "photoflux-api"
    access_token_minutes: int = Field(60, ge=1, le=24 * 60)
    refresh_token_days: int = Field(30, ge=1, le=365)

    # Field encryption: "kid:base64key" pairs; the first is used to encrypt, all decrypt,
    # so a key can be rotated in without losing what the old one wrote.
    field_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    hash_key: SecretStr = SecretStr("")

    mongodb_uri: SecretStr | None = None
    mongodb_db: str = "photoflux"
    # the embedded store only: a backup archive loaded at start-up and rewritten at a
    # clean shutdown, so a one-machine trial survives restarts (README "Backups")
    embedded_snapshot: str | None = None
    redis_url: str | None = None  # rate-limit storage shared by several workers

    first_admin_email: str | None = None
    first_admin_password: SecretStr | None = None

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit_anonymous: str = "20/minute"  # per client address: login, refresh
    rate_limit_token: str = "1200/minute"  # per token: everything authenticated
    # failed logins per account from all addresses together; past it, every address that
    # has already failed on that account waits out its backoff (a fresh address still may try)
    rate_limit_account: str = "10/minute"
    login_free_failures: int = Field(5, ge=0, le=100)  # per account and address, then backoff
    login_backoff_seconds: float = Field(2.0, gt=0)  # first wait; doubles per further failure
    login_backoff_max_seconds: float = Field(900.0, gt=0)
    event_property_bytes: int = Field(256 * 1024, ge=1024)  # property text per event batch
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    forwarded_allow_ips: str = "127.0.0.1"  # proxies whose X-Forwarded-* we believe
    hsts: bool = False  # send HSTS on plain-HTTP responses too (TLS ended elsewhere)
    # ClamAV's daemon scans every upload when set: tcp://host:port, unix:///path or a
    # socket path (cloud_api/core/malware.py); unreachable = 503, never a silent pass
    clamd_url: str | None = None
    clamd_timeout_seconds: float = Field(30.0, gt=0, le=600)
    # e-mail delivery of results (POST /api/deliveries); unset host = deliveries wait
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "PhotoFlux <no-reply@localhost>"
    delivery_max_bytes: int = Field(8 * 1024 * 1024, ge=1024)  # the decoded image
    delivery_retry_seconds: float = Field(30.0, gt=0)  # first retry; doubles each time
    delivery_attempts: int = Field(5, ge=1, le=20)
    delivery_max_pixels: int = Field(60_000_000, ge=10_000, le=150_000_000)
    # a device token may mail only leads it recorded itself within this window ...
    delivery_lead_hours: float = Field(24.0, gt=0)
    # ... at most this many times per lead in a day, and within these caps
    delivery_per_lead: int = Field(3, ge=1)
    delivery_device_hourly: int = Field(30, ge=1)
    delivery_device_daily: int = Field(200, ge=1)
    delivery_studio_hourly: int = Field(200, ge=1)
    delivery_studio_daily: int = Field(1000, ge=1)
    # QR shares (POST /api/shares, GET /r/{token}): how long a shared image stays, its
    # size limits, and page views per client address (a venue's guests may share one)
    share_ttl_hours: float = Field(72.0, gt=0, le=24 * 90)
    share_max_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    # new shares a studio may register in 24 hours: bounds what a leaked device token
    # can store (each share holds an image of up to share_max_bytes)
    share_studio_daily: int = Field(5000, ge=1)
    rate_limit_share_page: str = "300/minute"
    # lead webhooks: a studio's CRM hears about new leads; attempts back off from the
    # first retry's wait, doubling. Private, loopback and link-local targets are refused
    # (SSRF) unless webhook_allow_loopback, which lets loopback through (tests, local dev)
    webhook_retry_seconds: float = Field(30.0, gt=0)
    webhook_attempts: int = Field(6, ge=1, le=20)
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)
    webhook_allow_loopback: bool = False
    # the HTTP server itself (uvicorn): request head size, slow clients, load
    max_header_bytes: int = Field(16 * 1024, ge=1024, le=1024 * 1024)
    header_timeout_seconds: float = Field(10.0, gt=0)  # to send the whole request head
    body_timeout_seconds: float = Field(30.0, gt=0)  # longest pause while sending a body
    body_deadline_seconds: float = Field(120.0, gt=0)  # to send the whole body, however steady
    keep_alive_seconds: float = Field(5.0, gt=0)
    max_concurrency: int = Field(1000, ge=1)  # open connections + tasks; 503 beyond

    # cloud renders (POST /api/upload, /api/generate, /api/results; README "Cloud renders")
    upload_max_bytes: int = Field(20 * 1024 * 1024, ge=1024)  # one uploaded photo
    upload_max_pixels: int = Field(40_000_000, ge=10_000, le=150_000_000)
    upload_ttl_hours: float = Field(24.0, gt=0, le=24 * 30)
    render_ttl_hours: float = Field(24.0, gt=0, le=24 * 30)  # finished jobs and their images
    render_concurrent: int = Field(4, ge=1)  # queued + running jobs per studio
    render_daily: int = Field(500, ge=1)  # jobs per studio per UTC day
    render_url_seconds: int = Field(900, ge=10, le=7 * 24 * 3600)  # signed image URL lifetime
    render_attempts: int = Field(3, ge=1, le=20)  # tries per job before it is dead-lettered
    objects_dir: str | None = None  # local-disk object store; unset: a temporary folder
    # the bearer token render workers present to /api/worker/*; unset with Redis: no
    # remote worker can report (the embedded worker gets a generated one)
    worker_token: SecretStr | None = None
    # Dramatiq's Redis broker: a worker silent this long is dead and its job is redelivered;
    # API and workers must agree, since any broker call may run that maintenance
    worker_heartbeat_ms: int = Field(60_000, ge=500)
    queue_maintenance_chance: int = Field(10_000, ge=1, le=1_000_000)  # per million calls
    metrics_token: SecretStr | None = None
    sentry_dsn: SecretStr | None = None
    log_level: str = "INFO"

    @field_validator("clamd_url")
    @classmethod
    def _clamd_address(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_clamd_url(value)  # a typo stops start-up, not the first upload
            return value.strip()
        return None

    @field_validator("field_keys", "cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _secrets_fit_environment(self) -> Settings:
        if self.env == "development":
            self._fill_development_secrets()
        missing = [name for name in self._secret_names() if self._is_default(name)]
        if missing:
            names = ", ".join(f"PHOTOFLUX_{n.upper()}" for n in missing)
            raise ConfigError(
                f"{names} must be set to a strong secret when PHOTOFLUX_ENV={self.env} "
                "(generate one with `photoflux-cloud keygen`; PHOTOFLUX_ENV=development "
                "generates throw-away secrets for a local trial)"
            )
        # decode both now, so a malformed key stops start-up instead of the first request
        self.field_key_ring  # noqa: B018
        self.hash_key_bytes  # noqa: B018
        self._check_first_admin()
        return self

    def _check_first_admin(self) -> None:
        if not self.first_admin_email:
            return
        password = self.first_admin_password
        if password is None or len(password.get_secret_value()) < MIN_PASSWORD_LENGTH:
            raise ConfigError(
                "PHOTOFLUX_FIRST_ADMIN_PASSWORD must be set, at least "
                f"{MIN_PASSWORD_LENGTH} characters, when PHOTOFLUX_FIRST_ADMIN_EMAIL is"
            )

    def _fill_development_secrets(self) -> None:
        # Generated keys die with the process; with a real database that would leave
        # encrypted leads nobody can read, so a real database needs real keys.
        if self.mongodb_uri is not None and (not self.field_keys or self._is_default("hash_key")):
            raise ConfigError(
                "PHOTOFLUX_FIELD_KEYS and PHOTOFLUX_HASH_KEY must be set when "
                "PHOTOFLUX_MONGODB_URI is: data encrypted with generated keys would be "
                "unreadable after a restart (run `photoflux-cloud keygen`)"
            )
        self.generated_secrets = []
        if self._is_default("secret_key"):
            self.secret_key = SecretStr(_generated_key())
            self.generated_secrets.append("secret_key")
        if not self.field_keys:
            self.field_keys = [f"dev:{_generated_key()}"]
            self.generated_secrets.append("field_keys")
        if self._is_default("hash_key"):
            self.hash_key = SecretStr(_generated_key())
            self.generated_secrets.append("hash_key")

    @staticmethod
    def _secret_names() -> tuple[str, ...]:
        return ("secret_key", "field_keys", "hash_key")

    def _is_default(self, name: str) -> bool:
        value = getattr(self, name)
        if isinstance(value, list):
            return not value
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        return text.strip().lower() in KNOWN_DEFAULTS or len(text) < MIN_SECRET_BYTES

    @cached_property
    def field_key_ring(self) -> dict[str, bytes]:
        ring: dict[str, bytes] = {}
        for entry in self.field_keys:
            kid, sep, encoded = entry.partition(":")
            if not sep or not kid:
                raise ConfigError("PHOTOFLUX_FIELD_KEYS entries look like `kid:base64key`")
            ring[kid] = decode_key(encoded, f"PHOTOFLUX_FIELD_KEYS[{kid}]")
        return ring

    @property
    def hash_key_bytes(self) -> bytes:
        return decode_key(self.hash_key.get_secret_value(), "PHOTOFLUX_HASH_KEY")

    @property
    def active_field_key_id(self) -> str:
        return self.field_keys[0].partition(":")[0]

    @property
    def embedded_storage(self) -> bool:
        return self.mongodb_uri is None

    generated_secrets: list[str] = Field(default_factory=list, exclude=True)

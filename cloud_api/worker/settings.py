"""What a render worker is configured with, and nothing more.

A worker never sees the database, the signing keys or the field-encryption keys: it
reaches Redis (the queue) and the API (with `PHOTOFLUX_WORKER_TOKEN`), and renders
with the models in `PHOTOFLUX_MODELS_DIR` (read by the engine itself)."""

from __future__ import annotations

import os
import socket

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PHOTOFLUX_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    redis_url: str | None = None
    worker_api_url: str = "http://127.0.0.1:8000"  # the API the worker reports to
    worker_token: SecretStr | None = None
    worker_id: str = Field(default_factory=_default_id)
    # same value as the API's: a worker silent this long is presumed dead
    worker_heartbeat_ms: int = Field(60_000, ge=500)
    queue_maintenance_chance: int = Field(10_000, ge=1, le=1_000_000)
    render_time_limit_seconds: float = Field(600.0, gt=0)  # one attempt, then failed
    render_retry_min_ms: int = Field(2_000, ge=0)  # backoff before a transient retry ...
    render_retry_max_ms: int = Field(120_000, ge=0)  # ... doubling up to this
    render_preview_interval_seconds: float = Field(0.5, ge=0)  # previews sent at most this often
    log_level: str = "INFO"

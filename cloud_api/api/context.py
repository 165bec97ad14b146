"""Everything a request handler needs, built once per app and kept on `app.state`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from cloud_api.core.config import Settings
from cloud_api.core.fieldcrypt import FieldCipher
from cloud_api.core.observability import BusinessMetrics
from cloud_api.core.ratelimit import RateLimiter
from cloud_api.core.storage import Storage

DEVICE_TOUCH_INTERVAL_S = 60.0


@dataclass
class AppContext:
    settings: Settings
    storage: Storage
    cipher: FieldCipher
    limiter: RateLimiter
    registry: CollectorRegistry
    metrics: BusinessMetrics
    _device_touched: dict[str, float] = field(default_factory=dict)

    def device_needs_touch(self, device_id: str) -> bool:
        """`last_seen_at` is written at most once a minute per device, not per request."""
        now = time.monotonic()
        if now - self._device_touched.get(device_id, 0.0) < DEVICE_TOUCH_INTERVAL_S:
            return False
        self._device_touched[device_id] = now
        return True


def build_context(settings: Settings) -> AppContext:
    registry = CollectorRegistry()
    return AppContext(
        settings=settings,
        storage=Storage(
            None if settings.mongodb_uri is None else settings.mongodb_uri.get_secret_value(),
            settings.mongodb_db,
        ),
        cipher=FieldCipher(
            settings.field_key_ring,
            settings.active_field_key_id,
            settings.hash_key.get_secret_value().encode(),
        ),
        limiter=RateLimiter(
            settings.redis_url, settings.rate_limit_anonymous, settings.rate_limit_token
        ),
        registry=registry,
        metrics=BusinessMetrics(registry),
    )

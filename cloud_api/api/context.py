"""Everything a request handler needs, built once per app and kept on `app.state`."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Protocol

import anyio
from prometheus_client import CollectorRegistry

from cloud_api.api.principal import Principal
from cloud_api.core.config import Settings
from cloud_api.core.fieldcrypt import FieldCipher
from cloud_api.core.login_guard import BackoffPolicy, LoginGuard
from cloud_api.core.objects import LocalDiskStore, ObjectStore
from cloud_api.core.observability import BusinessMetrics
from cloud_api.core.ratelimit import RateLimiter
from cloud_api.core.render_queue import RenderQueue, make_broker
from cloud_api.core.storage import Storage

DEVICE_TOUCH_INTERVAL_S = 60.0
IMAGE_DECODES = 2  # delivery images decoded at once (see AppContext.image_work)
DEVICE_CACHE_SIZE = 10_000


class Wakeable(Protocol):
    def wake(self) -> None: ...


class DeviceCache:
    """Device principals by token hash, for the embedded store only.

    mongomock has no indexes, so each lookup scans every device; the embedded store is
    also one process by construction (`serve` refuses several workers without MongoDB),
    so dropping an entry on revoke keeps revocation immediate. With a real server the
    lookup uses the unique token-hash index and nothing is cached, so a revoke on one
    worker holds on every other at once too."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._by_hash: dict[str, Principal] = {}

    def get(self, token_hash: str) -> Principal | None:
        return self._by_hash.get(token_hash) if self.enabled else None

    def put(self, token_hash: str, principal: Principal) -> None:
        if not self.enabled:
            return
        if len(self._by_hash) >= DEVICE_CACHE_SIZE:
            self._by_hash.clear()
        self._by_hash[token_hash] = principal

    def forget_device(self, device_id: str) -> None:
        for token_hash in [h for h, p in self._by_hash.items() if p.id == device_id]:
            del self._by_hash[token_hash]


@dataclass
class AppContext:
    settings: Settings
    storage: Storage
    cipher: FieldCipher
    limiter: RateLimiter
    registry: CollectorRegistry
    metrics: BusinessMetrics
    devices: DeviceCache
    login_guard: LoginGuard
    objects: ObjectStore
    queue: RenderQueue
    worker_token: str  # what render workers present (generated for the embedded one)
    # CPU-bound request checks (big JSON bodies, the event PII screen) run in threads, but
    # one at a time: every such thread competes with the event loop for the interpreter
    # lock, and with several the loop waits for it long enough to delay every request
    cpu_work: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(1))
    # decoding a delivery's image can hold several hundred MB (60 MP, decoded and copied):
    # a few at a time, so concurrent uploads cannot add up to gigabytes
    image_work: anyio.CapacityLimiter = field(
        default_factory=lambda: anyio.CapacityLimiter(IMAGE_DECODES)
    )
    sender: Wakeable | None = None  # the delivery sender, set once the app has started
    webhooks: Wakeable | None = None  # the lead webhook sender, likewise
    _device_touched: dict[str, float] = field(default_factory=dict)
    workers_seen: dict[str, float] = field(default_factory=dict)  # worker id -> monotonic

    def live_workers(self, window_s: float = 60.0) -> int:
        now = time.monotonic()
        for worker, seen in list(self.workers_seen.items()):
            if now - seen > window_s:
                del self.workers_seen[worker]
        return len(self.workers_seen)

    def device_needs_touch(self, device_id: str) -> bool:
        """`last_seen_at` is written at most once a minute per device, not per request."""
        now = time.monotonic()
        if now - self._device_touched.get(device_id, 0.0) < DEVICE_TOUCH_INTERVAL_S:
            return False
        self._device_touched[device_id] = now
        return True


def build_context(settings: Settings) -> AppContext:
    registry = CollectorRegistry()
    storage = Storage(
        None if settings.mongodb_uri is None else settings.mongodb_uri.get_secret_value(),
        settings.mongodb_db,
    )
    limiter = RateLimiter(
        settings.redis_url,
        settings.rate_limit_anonymous,
        settings.rate_limit_token,
        settings.rate_limit_account,
        settings.rate_limit_share_page,
    )
    embedded_queue = not settings.redis_url
    token = settings.worker_token.get_secret_value() if settings.worker_token else ""
    if embedded_queue and not token:
        token = secrets.token_urlsafe(32)  # only the in-process worker knows it
    return AppContext(
        settings=settings,
        objects=LocalDiskStore(settings.objects_dir),
        queue=RenderQueue(
            make_broker(
                settings.redis_url,
                settings.worker_heartbeat_ms,
                settings.queue_maintenance_chance,
            ),
            embedded=embedded_queue,
        ),
        worker_token=token,
        storage=storage,
        cipher=FieldCipher(
            settings.field_key_ring,
            settings.active_field_key_id,
            settings.hash_key_bytes,
        ),
        limiter=limiter,
        registry=registry,
        metrics=BusinessMetrics(registry),
        devices=DeviceCache(enabled=storage.embedded),
        login_guard=LoginGuard(
            settings.redis_url,
            limiter.strategy,
            limiter.per_account,
            BackoffPolicy(
                settings.login_free_failures,
                settings.login_backoff_seconds,
                settings.login_backoff_max_seconds,
            ),
        ),
    )

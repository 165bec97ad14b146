"""Rate limits per client address (anonymous routes) and per token (everything else),
with the `limits` library: in memory for one worker, Redis when several share limits."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class RateLimiter:
    def __init__(
        self,
        redis_url: str | None,
        anonymous: str,
        per_token: str,
        per_account: str,
        share_page: str = "300/minute",
    ) -> None:
        if redis_url:  # shared by every worker; redis-py's asyncio client
            storage = storage_from_string(f"async+{redis_url}", implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        self._limiter = MovingWindowRateLimiter(storage)
        self.redis_url = redis_url
        self.anonymous: RateLimitItem = parse(anonymous)
        self.per_token: RateLimitItem = parse(per_token)
        self.per_account: RateLimitItem = parse(per_account)
        self.share_page: RateLimitItem = parse(share_page)  # the public QR result page

    @property
    def strategy(self) -> MovingWindowRateLimiter:
        return self._limiter

    async def check(self, item: RateLimitItem, scope: str, key: str) -> None:
        if await self._limiter.hit(item, scope, key):
            return
        stats = await self._limiter.get_window_stats(item, scope, key)
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

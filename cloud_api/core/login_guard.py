"""Failed-login backoff per account and client address.

Only failures cost anything, and they cost the address that made them: after
`free_failures` wrong passwords for one account from one address, that address waits
`base` seconds before its next try for that account, twice as long after each further
failure (up to `cap`). A correct password clears the address's record. When an account
collects more failures than `per_account` allows from all addresses together (a guesser
spread over many addresses), the free failures end for it: every further failure makes
its address wait at once. An address that has not failed, such as the owner's, still
gets in, and a correct password never counts.

Records live in memory for one worker, in Redis when several workers share limits."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem
from limits.aio.strategies import MovingWindowRateLimiter

from cloud_api.core.ratelimit import RateLimited

RECORD_TTL_S = 24 * 3600  # a record without failures for a day is forgotten


@dataclass(frozen=True)
class BackoffPolicy:
    free_failures: int
    base_seconds: float
    cap_seconds: float

    def wait_after(self, failures: int, under_attack: bool) -> float:
        free = 0 if under_attack else self.free_failures
        if failures <= free:
            return 0.0
        return min(self.cap_seconds, self.base_seconds * 2 ** (failures - free - 1))


class _MemoryRecords:
    def __init__(self) -> None:
        self._records: dict[str, tuple[int, float, float]] = {}

    async def get(self, key: str) -> tuple[int, float]:
        failures, until, seen = self._records.get(key, (0, 0.0, 0.0))
        if time.time() - seen > RECORD_TTL_S:
            return 0, 0.0
        return failures, until

    async def put(self, key: str, failures: int, until: float) -> None:
        if len(self._records) > 100_000:  # bounded: drop the oldest half
            for old in sorted(self._records, key=lambda k: self._records[k][2])[:50_000]:
                del self._records[old]
        self._records[key] = (failures, until, time.time())

    async def clear(self, key: str) -> None:
        self._records.pop(key, None)


class _RedisRecords:
    def __init__(self, url: str) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.from_url(url)

    async def get(self, key: str) -> tuple[int, float]:
        raw = await self._redis.get(f"pf:login:{key}")
        if raw is None:
            return 0, 0.0
        failures, until = raw.decode().split(":")
        return int(failures), float(until)

    async def put(self, key: str, failures: int, until: float) -> None:
        await self._redis.set(f"pf:login:{key}", f"{failures}:{until}", ex=RECORD_TTL_S)

    async def clear(self, key: str) -> None:
        await self._redis.delete(f"pf:login:{key}")


class LoginGuard:
    def __init__(
        self,
        redis_url: str | None,
        limiter: MovingWindowRateLimiter,
        per_account: RateLimitItem,
        policy: BackoffPolicy,
    ) -> None:
        self._records = _RedisRecords(redis_url) if redis_url else _MemoryRecords()
        self._limiter = limiter
        self._per_account = per_account
        self.policy = policy

    @staticmethod
    def _key(account: str, address: str) -> str:
        return f"{account}:{address}"

    async def check(self, account: str, address: str) -> None:
        """Raises RateLimited while this address must wait before trying this account."""
        _, until = await self._records.get(self._key(account, address))
        wait = until - time.time()
        if wait > 0:
            raise RateLimited(max(1, math.ceil(wait)))

    async def failed(self, account: str, address: str) -> None:
        key = self._key(account, address)
        failures, _ = await self._records.get(key)
        failures += 1
        under_attack = not await self._limiter.hit(self._per_account, "login-fail", account)
        wait = self.policy.wait_after(failures, under_attack)
        await self._records.put(key, failures, time.time() + wait if wait else 0.0)

    async def succeeded(self, account: str, address: str) -> None:
        await self._records.clear(self._key(account, address))

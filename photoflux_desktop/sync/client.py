"""HTTP to the studio's cloud: httpx with timeouts, stamina retries, typed outcomes.

Retried (exponential backoff with jitter): network errors, 5xx, and 429, which waits
what `Retry-After` says (capped). A 429 asking for longer than that cap is a quota (a
daily limit on shares or e-mails), not a burst: `Deferred` at once, so the caller can
send everything else meanwhile. Not retried: 401/403 (the device token is revoked or
wrong: `TokenRefused`) and other 4xx (the server refuses this content for good:
`Refused`, carrying the server's reason)."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

MAX_RETRY_AFTER_S = 120.0


class CloudUnreachable(Exception):
    """Network down, timeouts, or 5xx/429 after every retry."""


class TokenRefused(Exception):
    """401/403: the device token is invalid or revoked."""


class Deferred(Exception):
    """429 with a Retry-After beyond MAX_RETRY_AFTER_S: a quota, try this later."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(f"429: {reason}")
        self.seconds = seconds
        self.reason = reason


class Refused(Exception):
    """Any other 4xx: the server will never accept this request as it is."""

    def __init__(self, status: int, reason: str, detail: Any) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason
        self.detail = detail


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def retry_after_s(response: httpx.Response, cap: float = MAX_RETRY_AFTER_S) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), cap)


def _should_retry(exc: Exception) -> bool | float:
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(exc, _RetryableStatus):
        if exc.response.status_code == 429:
            return retry_after_s(exc.response) or True
        return True
    return False


def _reason(response: httpx.Response) -> tuple[str, Any]:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, str):
        return detail, detail
    if isinstance(detail, list) and detail:
        first = detail[0] if isinstance(detail[0], dict) else {}
        where = ".".join(str(p) for p in first.get("loc", [])[1:])
        return f"{where}: {first.get('msg', 'invalid')}".strip(": "), detail
    return f"HTTP {response.status_code}", detail


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    timeout_s: float = 120.0
    wait_initial_s: float = 0.5
    wait_max_s: float = 30.0
    wait_jitter_s: float = 1.0


def _defer_if_quota(response: httpx.Response) -> None:
    if response.status_code != 429:
        return
    wait = retry_after_s(response, cap=float("inf"))
    if wait is not None and wait > MAX_RETRY_AFTER_S:
        raise Deferred(wait, _reason(response)[0])


class CloudClient:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "User-Agent": "photoflux-desktop"},
            timeout=timeout or httpx.Timeout(30.0, connect=5.0),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CloudClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def post(
        self, path: str, body: dict[str, Any] | None = None, *, files: dict[str, Any] | None = None
    ) -> httpx.Response:
        """POST (JSON `body`, or multipart `files`) with retries; answers a 2xx response or
        raises one of the errors above."""
        p = self.policy
        try:
            for attempt in stamina.retry_context(
                on=_should_retry,
                attempts=p.attempts,
                timeout=p.timeout_s,
                wait_initial=p.wait_initial_s,
                wait_max=p.wait_max_s,
                wait_jitter=p.wait_jitter_s,
            ):
                with attempt:
                    response = self._http.post(path, json=body, files=files)
                    _defer_if_quota(response)
                    if response.status_code == 429 or response.status_code >= 500:
                        raise _RetryableStatus(response)
        except httpx.TransportError as exc:
            raise CloudUnreachable(f"cannot reach the cloud ({type(exc).__name__}: {exc})") from exc
        except _RetryableStatus as exc:
            raise CloudUnreachable(
                f"the cloud answered {exc.response.status_code} after every retry"
            ) from exc
        return self._judge(response)

    def get(self, path: str) -> httpx.Response:
        try:
            response = self._http.get(path)
        except httpx.TransportError as exc:
            raise CloudUnreachable(f"cannot reach the cloud ({type(exc).__name__}: {exc})") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise CloudUnreachable(f"the cloud answered {response.status_code}")
        return self._judge(response)

    @staticmethod
    def _judge(response: httpx.Response) -> httpx.Response:
        if response.status_code in (401, 403):
            reason, _ = _reason(response)
            raise TokenRefused(reason)
        if response.status_code >= 400:
            reason, detail = _reason(response)
            raise Refused(response.status_code, reason, detail)
        return response

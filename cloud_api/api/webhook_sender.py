"""Sends lead webhooks: signed POSTs to the studio's endpoint, retried with backoff.

Each request carries `X-PhotoFlux-Timestamp` (Unix seconds) and
`X-PhotoFlux-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the
studio's secret>`, plus `X-PhotoFlux-Delivery` (the same on every retry, so a receiver can
de-duplicate) and `X-PhotoFlux-Event`. A 2xx answer is success; anything else, a
timeout or a refused connection is retried after `WEBHOOK_RETRY_SECONDS`, doubling, up
to `WEBHOOK_ATTEMPTS`. The target is checked against private addresses before every
attempt (core/urlguard.py), the request goes to the address that was checked, and
redirects are not followed."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, timedelta
from typing import Any

import anyio
import anyio.to_thread
import httpx
import structlog

from cloud_api.api.context import AppContext
from cloud_api.api.queue_sender import QueueSender
from cloud_api.core import urlguard
from cloud_api.core.fieldcrypt import FieldDecryptError
from cloud_api.store import leads, webhooks

log = structlog.get_logger("cloud_api.webhooks")
# errors no retry can mend: the delivery fails at once
PERMANENT = ("no webhook", "the lead was erased", "refused target", "the webhook secret")


def secret_context(studio_id: str) -> str:
    return f"{studio_id}/webhook/secret"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.replace(tzinfo=UTC).isoformat()


def payload(ctx: AppContext, delivery: dict, lead: dict, consents: list[dict]) -> dict:
    person = leads.reveal(ctx.cipher, lead)
    return {
        "event": delivery["event"],
        "delivery_id": delivery["_id"],
        "studio_id": delivery["studio_id"],
        "lead": {
            "id": person["id"],
            "email": person["email"],
            "name": person["name"],
            "source": person["source"],
            "campaign": person["campaign"],
            "created_at": _iso(person["created_at"]),
            "consents": [
                {k: _iso(v) if k.endswith("_at") else v for k, v in leads.consent_record(c).items()}
                for c in consents
            ],
        },
    }


class WebhookSender(QueueSender):
    task_name = "webhook-sender"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, webhooks.seconds_until_due)
        self._http = httpx.AsyncClient(
            timeout=ctx.settings.webhook_timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": "PhotoFlux-Webhook/1"},
            trust_env=False,  # no proxy from the environment between us and the check
            # requests go to an address with the name in Host/SNI: a pooled connection,
            # keyed by address only, could carry another studio's request to this one's
            # TLS name, so none is kept
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def stop(self) -> None:
        await super().stop()
        await self._http.aclose()

    async def send_next(self) -> bool:
        delivery = await self.ctx.storage.run(webhooks.claim_due)
        if delivery is None:
            return False
        try:
            status, error = await self._attempt(delivery)
        except Exception as exc:  # an attempt with its reason, never a dead loop
            log.error("webhook_error", delivery_id=delivery["_id"], exc_info=exc)
            status, error = None, f"unexpected {type(exc).__name__}"
        await self._settle(delivery, status, error)
        return True

    async def _target(self, delivery: dict) -> tuple[urlguard.Pinned, str, dict] | str:
        """(checked address to send to, secret, lead), or why there is none now."""
        run = self.ctx.storage.run
        endpoint = await run(webhooks.endpoint, delivery["studio_id"])
        lead = await run(leads.get, delivery["lead_id"], delivery["studio_id"])
        if endpoint is None:
            return "no webhook is set for this studio any more"
        if lead is None:
            return "the lead was erased"
        url = endpoint["url"]
        allow = self.ctx.settings.webhook_allow_loopback
        try:
            address = await anyio.to_thread.run_sync(
                lambda: urlguard.resolve_checked(url, allow_loopback=allow)
            )
            secret = self.ctx.cipher.decrypt(
                endpoint["secret"], secret_context(delivery["studio_id"])
            )
        except urlguard.UnsafeUrl as exc:
            # a name that does not resolve now may resolve later: that one is retried
            return str(exc) if exc.transient else f"refused target: {exc}"
        except FieldDecryptError:
            return "the webhook secret cannot be decrypted; set it again"
        return urlguard.pinned(url, address), secret, lead

    async def _attempt(self, delivery: dict) -> tuple[int | None, str | None]:
        """(HTTP status or None, error or None) of one attempt."""
        target = await self._target(delivery)
        if isinstance(target, str):
            return None, target
        pin, secret, lead = target
        consents = await self.ctx.storage.run(leads.consents, lead["_id"])
        body = json.dumps(payload(self.ctx, delivery, lead, consents)).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-PhotoFlux-Event": delivery["event"],
            "X-PhotoFlux-Delivery": delivery["_id"],
            "X-PhotoFlux-Timestamp": stamp,
            "X-PhotoFlux-Signature": signature(secret, stamp, body),
            "Host": pin.host,
        }
        deadline = self.ctx.settings.webhook_timeout_seconds
        try:
            # one deadline for the whole attempt: httpx's timeouts are per read, so an
            # endpoint dripping a byte at a time would hold the one sender (every
            # studio's webhooks) for ever; the body is never read (only the status counts)
            with anyio.fail_after(deadline):
                # to the address just checked, not to a fresh lookup of the name
                async with self._http.stream(
                    "POST",
                    pin.url,
                    content=body,
                    headers=headers,
                    extensions={"sni_hostname": pin.sni},
                ) as answer:
                    status = answer.status_code
        except TimeoutError:
            return None, f"TimeoutError: no answer within {deadline:g} s"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: could not reach the endpoint"
        if 200 <= status < 300:
            return status, None
        return status, f"the endpoint answered {status}"

    async def _settle(self, delivery: dict, status: int | None, error: str | None) -> None:
        settings = self.ctx.settings
        run = self.ctx.storage.run
        if error is None:
            await run(
                webhooks.record,
                delivery["_id"],
                status=webhooks.SENT,
                http_status=status,
                error=None,
            )
            log.info("webhook_sent", delivery_id=delivery["_id"], attempts=delivery["attempts"])
            return
        permanent = error.startswith(PERMANENT)
        if permanent or delivery["attempts"] >= settings.webhook_attempts:
            await run(
                webhooks.record,
                delivery["_id"],
                status=webhooks.FAILED,
                http_status=status,
                error=error,
            )
            log.warning("webhook_failed", delivery_id=delivery["_id"], error=error)
            return
        delay = timedelta(seconds=settings.webhook_retry_seconds * 2 ** (delivery["attempts"] - 1))
        await run(
            webhooks.record,
            delivery["_id"],
            status=webhooks.QUEUED,
            http_status=status,
            error=error,
            retry_in=delay,
        )
        log.warning(
            "webhook_retry", delivery_id=delivery["_id"], error=error, in_s=delay.total_seconds()
        )

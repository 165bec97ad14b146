"""The background task that sends queued deliveries, with retries and backoff."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from cloud_api.api.context import AppContext
from cloud_api.api.queue_sender import QueueSender
from cloud_api.core import mailer
from cloud_api.core.fieldcrypt import FieldDecryptError
from cloud_api.store import accounts, deliveries, leads

log = structlog.get_logger("cloud_api.deliveries")


class DeliverySender(QueueSender):
    task_name = "delivery-sender"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, deliveries.seconds_until_due)

    async def send_next(self) -> bool:
        """Sends one due delivery; False when none is due (or no SMTP server is set:
        then deliveries wait in the queue, and their images for a week)."""
        if not self.ctx.settings.smtp_host:
            return False
        delivery = await self.ctx.storage.run(deliveries.claim_due)
        if delivery is None:
            return False
        if delivery["attempts"] > self.ctx.settings.delivery_attempts:
            # claimed again after a lease ran out (a sender died mid-send): the cap holds
            reason = delivery.get("last_error") or "the sender stopped while sending"
            await self._fail(
                delivery, f"gave up after {delivery['attempts'] - 1} attempts: {reason}"
            )
            return True
        try:
            outgoing = await self._compose(delivery)
            await mailer.send(self.ctx.settings, outgoing)
        except (mailer.PermanentMailError, _Undeliverable) as exc:
            await self._fail(delivery, str(exc))
        except mailer.TemporaryMailError as exc:
            await self._retry_or_fail(delivery, str(exc))
        except Exception as exc:  # any other failure is an attempt too, with its reason
            log.error("delivery_error", delivery_id=delivery["_id"], exc_info=exc)
            await self._retry_or_fail(delivery, f"unexpected {type(exc).__name__}")
        else:
            await self.ctx.storage.run(deliveries.mark_sent, delivery["_id"])
            self.ctx.metrics.deliveries.labels(outcome="sent").inc()
            log.info("delivery_sent", delivery_id=delivery["_id"], attempts=delivery["attempts"])
        return True

    async def _compose(self, delivery: dict[str, Any]) -> mailer.Outgoing:
        run = self.ctx.storage.run
        lead = await run(leads.get, delivery["lead_id"], delivery["studio_id"])
        image = await run(deliveries.image_of, delivery["_id"])
        studio = await run(accounts.get_studio, delivery["studio_id"])
        if lead is None or image is None or studio is None:
            raise _Undeliverable("the lead, the image or the studio is gone")
        try:
            to = leads.reveal(self.ctx.cipher, lead)["email"]
        except FieldDecryptError as exc:
            raise _Undeliverable("the lead's address cannot be decrypted") from exc
        if "=?" in to:  # the email package would decode it into another address or a break
            raise _Undeliverable("the lead's address holds an RFC 2047 encoded word")
        return mailer.Outgoing(
            to=to,
            studio_name=studio["name"],
            style=delivery.get("style"),
            filename=delivery["filename"],
            image=image,
            image_subtype=delivery["image_subtype"],
        )

    async def _retry_or_fail(self, delivery: dict[str, Any], error: str) -> None:
        settings = self.ctx.settings
        if delivery["attempts"] >= settings.delivery_attempts:
            await self._fail(delivery, error)
            return
        delay = timedelta(seconds=settings.delivery_retry_seconds * 2 ** (delivery["attempts"] - 1))
        await self.ctx.storage.run(deliveries.mark_retry, delivery["_id"], error, delay)
        self.ctx.metrics.deliveries.labels(outcome="retry").inc()
        log.warning(
            "delivery_retry", delivery_id=delivery["_id"], error=error, in_s=delay.total_seconds()
        )

    async def _fail(self, delivery: dict[str, Any], error: str) -> None:
        await self.ctx.storage.run(deliveries.mark_failed, delivery["_id"], error)
        self.ctx.metrics.deliveries.labels(outcome="failed").inc()
        log.warning("delivery_failed", delivery_id=delivery["_id"], error=error)


class _Undeliverable(Exception):
    pass

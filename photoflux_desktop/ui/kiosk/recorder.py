"""What a kiosk session leaves for the studio: events, leads, e-mail deliveries and QR
shares, written to the outbox (fsync'd) before the guest is told "done"; the sync
thread sends them. Every item carries the operator's campaign (event) name.

Usage events follow the analytics opt-out; leads and deliveries a guest asked for do
not (they are the guest's request, with their consent, not analytics).
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.sync.events import event_body
from photoflux_desktop.sync.leads import record_lead
from photoflux_desktop.sync.outbox import Outbox

log = get_logger("photoflux.ui.kiosk")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class KioskRecorder:
    def __init__(self, outbox: Outbox, campaign: str | None, analytics: bool) -> None:
        self.outbox = outbox
        self.campaign = campaign
        self.analytics = analytics

    def event(self, name: str, session: str, **properties: Any) -> None:
        """Records a usage event; a refused one is logged, never shown to a guest."""
        if not self.analytics:
            return
        try:
            self.outbox.add_event(event_body(name, session, campaign=self.campaign, **properties))
        except Exception as exc:  # analytics must never break a guest's session
            log.warning("kiosk_event_not_recorded", event=name, error=str(exc))

    def lead(self, body: dict[str, Any]) -> str:
        """The lead (consent checked again by sync.leads); answers its client id."""
        if self.campaign and not body.get("campaign"):
            body = {**body, "campaign": self.campaign}
        return record_lead(self.outbox, body)

    def delivery(self, lead_id: str, image: Image.Image, style: str) -> str:
        return self.outbox.add_delivery(
            lead_id, png_bytes(image), filename="photoflux.png", style=style
        )

    def share(self, cloud_url: str, image: Image.Image) -> str:
        """Queues the image for the QR page; answers the URL the QR code carries."""
        from photoflux_desktop.sync.share import new_share_token, queue_share, share_url

        token = new_share_token()
        queue_share(self.outbox, token, png_bytes(image), campaign=self.campaign)
        return share_url(cloud_url, token)

"""Drains the outbox to the cloud: share tokens first (a QR code may already be on
screen, and its page says "on its way" once the cloud knows the token), then leads
(deliveries need their server ids), share images, deliveries, and events in batches of
500. Each acknowledged request is committed to
the outbox before the next one is sent, so a process killed at any moment loses
nothing, and what it resends the server recognises by id."""

from __future__ import annotations

import base64
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from photoflux_desktop.sync.client import (
    CloudClient,
    CloudUnreachable,
    Deferred,
    Refused,
    TokenRefused,
)
from photoflux_desktop.sync.leads import api_body
from photoflux_desktop.sync.outbox import KINDS, Item, Outbox

EVENT_BATCH = 500  # the API's limit per POST /api/events
SHARES_ROUTE = "/api/shares"
HEARTBEAT_ROUTE = "/api/auth/me"
_EVENT_INDEX = re.compile(r"^body\.events\.(\d+)\b")
# the service's own screens (personal data) name the event as "events[N]: why"
_EVENT_NAMED = re.compile(r"^events\[(\d+)\]")


@dataclass
class DrainReport:
    sent: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    failed_now: int = 0
    stopped: str | None = None  # "unreachable" or "token_refused"
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.stopped is None


def _retry_delay(attempts: int) -> float:
    """Schedule for items the background loop should not hammer: 30 s doubling to 1 h."""
    return min(30.0 * 2 ** min(attempts, 10), 3600.0)


class Drainer:
    def __init__(self, outbox: Outbox, client: CloudClient, *, honour_schedule: bool = False):
        self.outbox = outbox
        self.client = client
        self.now = None if honour_schedule else math.inf
        self.requests = 0

    def run(self) -> DrainReport:
        report = DrainReport()
        try:
            self._share_tokens(report)
            self._leads(report)
            self._share_images(report)
            self._deliveries(report)
            self._events(report)
            if self.requests == 0:
                # nothing was due: one cheap authenticated call, so "online" (and a
                # revoked token) is known from the cloud itself, never assumed
                self.client.get(HEARTBEAT_ROUTE)
        except (CloudUnreachable, Deferred) as exc:  # a quota on leads or events: stop
            report.stopped, report.error = "unreachable", str(exc)
        except TokenRefused as exc:
            report.stopped = "token_refused"
            report.error = f"the cloud refused this device's token ({exc})"
        stamp = time.time()
        self.outbox.set_status(last_attempt_at=stamp, last_error=report.error)
        if report.ok:
            self.outbox.set_status(last_sync_at=stamp)
        return report

    # ---- leads ----------------------------------------------------------------------
    def _leads(self, report: DrainReport) -> None:
        while items := self.outbox.due("lead", 100, self.now):
            for item in items:
                try:
                    answer = self._post([item], "/api/leads", api_body(item.id, item.body))
                except Refused as exc:
                    self._refused(item, exc.reason, exc.status, report)
                    continue
                self.outbox.mark_sent("lead", [item.id], {item.id: answer.json()["id"]})
                report.sent["lead"] += 1

    # ---- shares ---------------------------------------------------------------------
    def _share_tokens(self, report: DrainReport) -> None:
        """Registers every waiting token (a few hundred bytes each) before any image."""
        for item in self.outbox.due("share", 1000, self.now):
            if item.body.get("registered"):
                continue
            try:
                self._post([item], SHARES_ROUTE, self._share_body(item))
            except Refused as exc:
                self._refused(item, exc.reason, exc.status, report)
                continue
            except Deferred:
                return  # the studio's share quota: the rest wait too, leads go on
            self.outbox.update_body(item.id, item.body | {"registered": True})

    def _share_images(self, report: DrainReport) -> None:
        for item in self.outbox.due("share", 1000, self.now):
            if not item.body.get("registered"):
                continue  # refused above, or added meanwhile: its token goes first
            try:
                image = self.outbox.image_of(item.id)
            except OSError as exc:
                self.outbox.mark_failed(item.id, f"image file unreadable: {exc.strerror}")
                report.failed_now += 1
                continue
            body = self._share_body(item) | {"image": base64.b64encode(image).decode("ascii")}
            try:
                self._post([item], SHARES_ROUTE, body)
            except Refused as exc:
                self._refused(item, exc.reason, exc.status, report)
                continue
            except Deferred:
                return
            self.outbox.mark_sent("share", [item.id])
            report.sent["share"] += 1

    @staticmethod
    def _share_body(item: Item) -> dict[str, Any]:
        body = {"id": item.id, "token": item.body["token"]}
        if item.body.get("campaign"):
            body["campaign"] = item.body["campaign"]
        return body

    # ---- deliveries -----------------------------------------------------------------
    def _deliveries(self, report: DrainReport) -> None:
        for item in self.outbox.due("delivery", 1000, self.now):
            lead = self.outbox.lead_state(item.body["lead_client_id"])
            if lead is None or lead[0] == "failed":
                self.outbox.mark_failed(item.id, "its lead was refused or is unknown here")
                report.failed_now += 1
                continue
            if lead[0] != "sent":
                continue  # the lead goes first; try again next round
            self._delivery(item, lead[1] or "", report)

    def _delivery(self, item: Item, lead_server_id: str, report: DrainReport) -> None:
        try:
            image = self.outbox.image_of(item.id)
        except OSError as exc:
            self.outbox.mark_failed(item.id, f"image file unreadable: {exc.strerror}")
            report.failed_now += 1
            return
        body: dict[str, Any] = {
            "id": item.id,
            "lead_id": lead_server_id,
            "image": base64.b64encode(image).decode("ascii"),
            "filename": item.body["filename"],
        }
        if item.body.get("style"):
            body["style"] = item.body["style"]
        try:
            self._post([item], "/api/deliveries", body)
        except Refused as exc:
            self._refused(item, exc.reason, exc.status, report)
            return
        except Deferred:
            return  # an e-mail cap (per lead, device or studio): this one waits
        self.outbox.mark_sent("delivery", [item.id])
        report.sent["delivery"] += 1

    # ---- events ---------------------------------------------------------------------
    def _events(self, report: DrainReport) -> None:
        while batch := self.outbox.due("event", EVENT_BATCH, self.now):
            self._event_batch(batch, report)

    def _event_batch(self, batch: list[Item], report: DrainReport) -> None:
        events = [{"id": item.id, **item.body} for item in batch]
        try:
            self._post(batch, "/api/events", {"events": events})
        except Refused as exc:
            bad = self._bad_events(exc, len(batch))
            if not bad:  # the refusal names no event: it is about the whole batch
                for item in batch:
                    self._refused(item, exc.reason, exc.status, report)
                return
            for index, reason in sorted(bad.items()):
                self._refused(batch[index], reason, exc.status, report)
            return  # the rest go again in the next batch
        self.outbox.mark_sent("event", [item.id for item in batch])
        report.sent["event"] += len(batch)

    @staticmethod
    def _bad_events(exc: Refused, size: int) -> dict[int, str]:
        """{index in the batch: the server's reason} from a 422's error locations."""
        if exc.status != 422:
            return {}
        if isinstance(exc.detail, str):
            named = _EVENT_NAMED.match(exc.detail)
            return {int(named.group(1)): exc.detail} if named and int(named.group(1)) < size else {}
        if not isinstance(exc.detail, list):
            return {}
        found: dict[int, str] = {}
        for err in exc.detail:
            if not isinstance(err, dict):
                continue
            where = ".".join(str(p) for p in err.get("loc", []))
            match = _EVENT_INDEX.match(where)
            if match and int(match.group(1)) < size:
                found.setdefault(int(match.group(1)), f"{where}: {err.get('msg', 'invalid')}")
        return found

    def _post(self, items: list[Item], path: str, body: dict[str, Any]) -> httpx.Response:
        """Posts; when the cloud stays unreachable, schedules the items' next attempt
        (the background loop honours it; an explicit `photoflux sync` does not)."""
        self.requests += 1
        try:
            return self.client.post(path, body)
        except Deferred as exc:  # a quota: these wait, everything else goes on
            self.outbox.mark_retry([item.id for item in items], str(exc), exc.seconds)
            raise
        except CloudUnreachable as exc:
            delay = _retry_delay(max(item.attempts for item in items))
            self.outbox.mark_retry([item.id for item in items], str(exc), delay)
            raise

    def _refused(self, item: Item, reason: str, status: int, report: DrainReport) -> None:
        self.outbox.mark_failed(item.id, f"refused by the cloud ({status}): {reason}")
        report.failed_now += 1

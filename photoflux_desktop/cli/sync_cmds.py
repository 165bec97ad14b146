"""`photoflux connect`, `disconnect`, `lead add` and `sync`: the studio link, headless."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.errors import PhotoFluxError, bad_input, cloud_error
from photoflux_desktop.sync.consent import current_texts
from photoflux_desktop.sync.leads import lead_body, record_lead
from photoflux_desktop.sync.link import (
    ENV_TOKEN,
    ENV_URL,
    check_url,
    connect,
    current_link,
    require_keyring,
    verify_token,
)
from photoflux_desktop.sync.link import disconnect as forget_link
from photoflux_desktop.sync.outbox import Outbox
from photoflux_desktop.sync.status import outbox_summary

if TYPE_CHECKING:
    from photoflux_desktop.sync.client import CloudClient
    from photoflux_desktop.sync.drain import DrainReport

CONNECT_HINT = (
    f"Run `photoflux connect URL --device-token TOKEN`, or set {ENV_URL} and {ENV_TOKEN}."
)


def run_connect(args: argparse.Namespace, console: Console) -> int:
    url = check_url(args.url)
    require_keyring()  # say so before contacting anyone: the token could not be kept
    note = _check_token(url, args.device_token)
    backend = connect(url, args.device_token)
    if note is None:  # the studio's consent texts, cached for the lead form offline
        from photoflux_desktop.sync.client import CloudClient
        from photoflux_desktop.sync.consent import refresh_texts

        with CloudClient(url, args.device_token) as client:
            refresh_texts(client, url)
    console.result(
        {"url": url, "keyring": backend, "checked": note is None, "note": note},
        f"linked to {url} (token in {backend})" + (f"\nnote: {note}" if note else ""),
    )
    return 0


def _check_token(url: str, token: str) -> str | None:
    """Asks the cloud who this token is; a refusal stops `connect`, no answer is a note."""
    problem = verify_token(url, token)
    return (
        None
        if problem is None
        else f"the token could not be checked now ({problem}); it is stored anyway"
    )


def run_disconnect(args: argparse.Namespace, console: Console) -> int:
    removed = forget_link()
    console.result(removed, "disconnected: the cloud link and token were removed from this device")
    return 0


_CONSENT_FIELDS = (
    "consent_text_version",
    "consented_at",
    "marketing",
    "marketing_text_version",
    "marketing_consented_at",
    "campaign",
)


def _linked_url() -> str | None:
    """The linked cloud's address (its consent texts apply), or None; never an error."""
    try:
        link = current_link()
    except PhotoFluxError:
        return None
    return link.url if link else None


def run_lead(args: argparse.Namespace, console: Console) -> int:
    body = lead_body(
        args.email,
        consent=args.consent,
        name=args.name,
        marketing=args.marketing,
        texts=current_texts(_linked_url()),
        campaign=args.campaign,
    )
    with Outbox() as outbox:
        lead_id = record_lead(outbox, body)
    public = {k: body[k] for k in _CONSENT_FIELDS}
    console.result(
        {"id": lead_id, "email": body["email"], "state": "pending", **public},
        f"lead {lead_id} recorded for {body['email']}; `photoflux sync` sends it",
    )
    return 0


def run_sync(args: argparse.Namespace, console: Console) -> int:
    from photoflux_desktop.sync.client import CloudClient, RetryPolicy
    from photoflux_desktop.sync.drain import Drainer

    link = current_link()
    if link is None:
        raise bad_input("This install is not linked to a studio cloud.", CONNECT_HINT)
    # a person is waiting: a few quick retries, then "unreachable" (the loop tries again)
    policy = RetryPolicy(attempts=4, wait_initial_s=0.5, wait_max_s=5.0)
    with Outbox() as outbox, CloudClient(link.url, link.token, policy=policy) as client:
        if args.once:
            return _finish(console, outbox, Drainer(outbox, client).run(), link.url)
        return _loop(args, console, outbox, client, link.url)


def _loop(
    args: argparse.Namespace, console: Console, outbox: Outbox, client: CloudClient, url: str
) -> int:
    from photoflux_desktop.sync.drain import Drainer, DrainReport

    total = DrainReport()
    try:
        while True:
            report = Drainer(outbox, client, honour_schedule=True).run()
            for kind, count in report.sent.items():
                total.sent[kind] += count
            total.failed_now += report.failed_now
            if report.stopped == "token_refused":
                return _finish(console, outbox, report, url)
            if report.stopped:
                console.note(f"{report.error}; trying again in {args.interval:g} s")
            else:
                pending = sum(outbox_summary(outbox)["pending"].values())
                console.progress(f"{_stamp()} sent {sum(report.sent.values())}, {pending} pending")
            time.sleep(args.interval)
    except KeyboardInterrupt:  # Ctrl-C ends the loop; everything unsent stays queued
        return _finish(console, outbox, total, url)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S")


def _finish(console: Console, outbox: Outbox, report: DrainReport, url: str) -> int:
    summary: dict[str, Any] = {
        "url": url,
        "sent_now": report.sent,
        "failed_now": report.failed_now,
        **outbox_summary(outbox),
        "recent_failures": outbox.failures(10),  # refused for good, with the server's reason
    }
    if report.stopped == "token_refused":
        raise cloud_error(
            f"{report.error}; sending stopped, nothing was lost (the outbox keeps it all).",
            "Ask the studio for a new device token, then `photoflux connect` again.",
            **summary,
        )
    if report.stopped:
        raise cloud_error(
            f"The cloud is unreachable ({report.error}); everything unsent stays queued.",
            "Check the network and run `photoflux sync` again.",
            **summary,
        )
    pending = sum(summary["pending"].values())
    failed = sum(summary["failed"].values())
    human = (
        f"sent {sum(report.sent.values())} "
        f"({report.sent['lead']} leads, {report.sent['event']} events, "
        f"{report.sent['delivery']} deliveries, {report.sent['share']} shares); "
        f"{pending} pending, {failed} failed, "
        f"{summary['dropped_events']} events dropped"
    )
    for failure in summary["recent_failures"]:
        human += f"\n  failed {failure['kind']} {failure['id']}: {failure['reason']}"
    console.result(summary, human)
    return 0

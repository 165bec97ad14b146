"""Per-campaign funnel for the dashboard: sessions → renders → consents → deliveries,
and the share of consents that also opted in to marketing.

- sessions: distinct event sessions tagged with the campaign;
- renders: of those, sessions with a finished render;
- consents: lead consents recorded with the campaign (a returning guest counts again);
- deliveries: e-mails queued for those leads plus QR shares whose image arrived.
Events without a campaign and leads without one form the row `None` (no campaign)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.database import Database

MAX_CAMPAIGNS = 50
MAX_LEADS = 20_000  # leads looked at for deliveries (a dashboard view, not an export)


def _match(studio_id: str | None, field: str, since: datetime) -> dict[str, Any]:
    match: dict[str, Any] = {field: {"$gte": since}}
    if studio_id is not None:
        match["studio_id"] = studio_id
    return match


def _sessions(db: Database, match: dict[str, Any]) -> dict[str | None, int]:
    pipeline = [
        {"$match": match},
        {"$group": {"_id": "$campaign", "sessions": {"$addToSet": "$session"}}},
    ]
    return {row["_id"]: len(row["sessions"]) for row in db.events.aggregate(pipeline)}


def funnel(db: Database, studio_id: str | None, since: datetime) -> list[dict[str, Any]]:
    """One row per campaign seen since then, busiest first."""
    events = _match(studio_id, "ts", since)
    sessions = _sessions(db, events)
    renders = _sessions(db, events | {"name": "render_finished"})
    consents: dict[str | None, int] = {}
    opted_in: dict[str | None, int] = {}
    campaign_of: dict[str, str | None] = {}
    cursor = db.lead_consents.find(
        _match(studio_id, "received_at", since), {"campaign": 1, "marketing": 1, "lead_id": 1}
    ).limit(MAX_LEADS)
    for row in cursor:
        name = row.get("campaign")
        consents[name] = consents.get(name, 0) + 1
        opted_in[name] = opted_in.get(name, 0) + bool(row.get("marketing"))
        campaign_of.setdefault(row["lead_id"], name)
    delivered: dict[str | None, int] = {}
    mailed = db.deliveries.find(
        _match(studio_id, "created_at", since) | {"lead_id": {"$in": list(campaign_of)}},
        {"lead_id": 1, "status": 1},
    )
    for row in mailed:
        if row["status"] != "failed":
            name = campaign_of[row["lead_id"]]
            delivered[name] = delivered.get(name, 0) + 1
    shared = db.shares.find(
        _match(studio_id, "created_at", since) | {"image_at": {"$ne": None}}, {"campaign": 1}
    )
    for row in shared:
        name = row.get("campaign")
        delivered[name] = delivered.get(name, 0) + 1
    names = set(sessions) | set(consents) | set(delivered)
    rows = [
        {
            "campaign": name,
            "sessions": sessions.get(name, 0),
            "renders": renders.get(name, 0),
            "consents": consents.get(name, 0),
            "deliveries": delivered.get(name, 0),
            "opt_in_rate": (opted_in.get(name, 0) / consents[name]) if consents.get(name) else None,
        }
        for name in names
    ]
    rows.sort(key=lambda r: (-r["sessions"], -r["consents"], r["campaign"] or ""))
    return rows[:MAX_CAMPAIGNS]


def known(db: Database, studio_id: str | None, since: datetime) -> list[str]:
    """Campaign names seen since then (events or leads), for the filter."""
    names: set[str] = set()
    for collection, field in (("events", "ts"), ("lead_consents", "received_at")):
        pipeline = [
            {"$match": _match(studio_id, field, since) | {"campaign": {"$ne": None}}},
            {"$group": {"_id": "$campaign"}},
            {"$limit": MAX_CAMPAIGNS},
        ]
        names.update(row["_id"] for row in db[collection].aggregate(pipeline))
    return sorted(names)[:MAX_CAMPAIGNS]

"""Times as BSON stores them: naive UTC at millisecond precision (what both pymongo and
mongomock hand back), so a value read back compares equal to the one written."""

from __future__ import annotations

from datetime import UTC, datetime


def to_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def utcnow() -> datetime:
    return to_naive_utc(datetime.now(UTC))


def as_aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def try_naive_utc(moment: datetime) -> datetime | None:
    """As to_naive_utc, or None for a time that has no UTC form (year 1 at +05:00)."""
    try:
        return to_naive_utc(moment)
    except OverflowError:
        return None

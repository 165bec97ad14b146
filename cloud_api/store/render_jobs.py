"""Cloud render jobs, their uploads and the per-studio quotas, in MongoDB.

A job's life: queued -> running (step, latest preview) -> succeeded | failed | cancelled.
Only the API writes here; workers report over HTTP (api/routes/render_worker.py).

Fair scheduling: a queue message is not tied to a job when it is enqueued. A worker
that takes a message *claims* a job: the oldest queued job of the studio with the
fewest jobs running, so a studio with a long queue gets one worker at a time while
another studio's single job goes next. The message then stays bound to that job
(`message_id`): a redelivered or retried message resumes the same job, and each job
has a bounded number of attempts. Every job adds one message, a message binds at most
one job, so there is always a message for every unbound queued job.

Quotas are counters changed atomically (`find_one_and_update` with the limit in the
filter), so a burst of concurrent requests cannot overshoot them, with several API
processes too.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from cloud_api.store.clock import utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
ACTIVE = (QUEUED, RUNNING)
FINAL = (SUCCEEDED, FAILED, CANCELLED)


class QuotaExceeded(Exception):
    def __init__(self, which: str, limit: int, retry_after: int) -> None:
        super().__init__(which)
        self.which = which
        self.limit = limit
        self.retry_after = retry_after


# ---- uploads ---------------------------------------------------------------------------


def create_upload(
    db: Database, studio_id: str, width: int, height: int, ttl: timedelta
) -> dict[str, Any]:
    now = utcnow()
    upload_id = uuid.uuid4().hex
    doc = {
        "_id": upload_id,
        "studio_id": studio_id,
        "width": width,
        "height": height,
        "key": f"uploads/{studio_id}/{upload_id}.png",
        "created_at": now,
        "expires_at": now + ttl,
    }
    db.render_uploads.insert_one(doc)
    return doc


def find_upload(db: Database, studio_id: str, upload_id: str) -> dict[str, Any] | None:
    """The studio's upload if it has not expired (another studio's is None)."""
    doc = db.render_uploads.find_one({"_id": upload_id, "studio_id": studio_id})
    if doc is None or doc["expires_at"] <= utcnow():
        return None
    return doc


# ---- quotas ----------------------------------------------------------------------------


def _day(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")


def _seconds_to_midnight(now: datetime) -> int:
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


def _take(db: Database, key: str, limit: int) -> bool:
    try:
        got = db.render_quota.find_one_and_update(
            {"_id": key, "n": {"$lt": limit}}, {"$inc": {"n": 1}}, upsert=True
        )
    except DuplicateKeyError:  # the counter exists and is at its limit
        return False
    del got
    return True


def _give_back(db: Database, key: str) -> None:
    db.render_quota.update_one({"_id": key, "n": {"$gt": 0}}, {"$inc": {"n": -1}})


def reserve(db: Database, studio_id: str, concurrent: int, daily: int) -> None:
    """Takes one of today's jobs and one concurrent slot, or raises QuotaExceeded."""
    now = utcnow()
    day_key = f"day:{studio_id}:{_day(now)}"
    if not _take(db, day_key, daily):
        raise QuotaExceeded("daily", daily, _seconds_to_midnight(now))
    if not _take(db, f"active:{studio_id}", concurrent):
        _give_back(db, day_key)
        raise QuotaExceeded("concurrent", concurrent, 5)


def release_reservation(db: Database, studio_id: str) -> None:
    """Undoes `reserve` (the job was not created after all)."""
    _give_back(db, f"day:{studio_id}:{_day(utcnow())}")
    _give_back(db, f"active:{studio_id}")


# ---- jobs ------------------------------------------------------------------------------


def find_by_request_id(db: Database, studio_id: str, client_request_id: str) -> dict | None:
    return db.render_jobs.find_one({"studio_id": studio_id, "client_request_id": client_request_id})


def create_job(
    db: Database,
    studio_id: str,
    principal: str,
    client_request_id: str,
    *,
    upload: dict[str, Any],
    wire: dict[str, Any],
) -> tuple[dict[str, Any], bool]:
    """(job, created). A concurrent twin with the same client_request_id gives the
    existing job and created=False (the caller releases its reservation)."""
    doc = {
        "_id": uuid.uuid4().hex,
        "studio_id": studio_id,
        "principal": principal,
        "client_request_id": client_request_id,
        "upload_id": upload["_id"],
        "upload_key": upload["key"],
        "request": wire,
        "steps": wire.get("steps"),
        "status": QUEUED,
        "step": None,
        "stage": None,
        "attempts": 0,
        "error": None,
        "seed": None,
        "timings": None,
        "checks": [],
        "message_id": None,
        "cancel_requested": False,
        "preview_key": None,
        "image_key": None,
        "enqueued_at": None,
        "created_at": utcnow(),
        "started_at": None,
        "finished_at": None,
    }
    try:
        db.render_jobs.insert_one(doc)
    except DuplicateKeyError:
        twin = find_by_request_id(db, studio_id, client_request_id)
        if twin is None:
            raise
        return twin, False
    return doc, True


def mark_enqueued(db: Database, job_id: str) -> None:
    db.render_jobs.update_one({"_id": job_id}, {"$set": {"enqueued_at": utcnow()}})


def get_job(db: Database, studio_id: str, job_id: str) -> dict[str, Any] | None:
    """The studio's job, or None (another studio's job does not exist for it)."""
    return db.render_jobs.find_one({"_id": job_id, "studio_id": studio_id})


def get_any(db: Database, job_id: str) -> dict[str, Any] | None:
    return db.render_jobs.find_one({"_id": job_id})


def queue_position(db: Database, job: dict[str, Any]) -> int | None:
    """1 = next to start (approximately: the fair claim may let another studio first)."""
    if job["status"] != QUEUED:
        return None
    ahead = db.render_jobs.count_documents(
        {"status": QUEUED, "created_at": {"$lt": job["created_at"]}}
    )
    return ahead + 1


def queue_depth(db: Database) -> int:
    return db.render_jobs.count_documents({"status": QUEUED})


def _finish(
    db: Database, job_id: str, status: str, fields: dict[str, Any], ttl: timedelta, *, when: dict
) -> dict[str, Any] | None:
    """Moves an active job to a final status once; gives back its concurrent slot."""
    now = utcnow()
    done = db.render_jobs.find_one_and_update(
        {"_id": job_id, "status": {"$in": list(ACTIVE)}, **when},
        {"$set": {"status": status, "finished_at": now, "expires_at": now + ttl, **fields}},
        return_document=ReturnDocument.AFTER,
    )
    if done is not None:
        _give_back(db, f"active:{done['studio_id']}")
    return done


def cancel(db: Database, job: dict[str, Any], ttl: timedelta) -> dict[str, Any]:
    """A queued job is cancelled at once; a running one is flagged for its worker,
    which stops within one step and reports `cancelled`."""
    if job["status"] == QUEUED and job.get("message_id") is None:
        done = _finish(
            db, job["_id"], CANCELLED, {}, ttl, when={"status": QUEUED, "message_id": None}
        )
        if done is not None:
            return done
    if job["status"] in ACTIVE:
        db.render_jobs.update_one(
            {"_id": job["_id"], "status": {"$in": list(ACTIVE)}},
            {"$set": {"cancel_requested": True}},
        )
    return db.render_jobs.find_one({"_id": job["_id"]}) or job


def claim(
    db: Database, message_id: str, attempts_allowed: int, ttl: timedelta, worker_id: str = ""
) -> dict[str, Any] | None:
    """The job this queue message runs now (see the module's note), marked running and
    counted as one more attempt; None when there is nothing for it to do."""
    bound = db.render_jobs.find_one({"message_id": message_id, "status": {"$in": list(ACTIVE)}})
    if bound is not None:
        if bound["cancel_requested"]:  # cancelled while its worker died or it waited to retry
            _finish(db, bound["_id"], CANCELLED, {}, ttl, when={"message_id": message_id})
            return None
        if bound["attempts"] >= attempts_allowed:
            _finish(
                db,
                bound["_id"],
                FAILED,
                {"error": _gave_up(bound, attempts_allowed)},
                ttl,
                when={"message_id": message_id},
            )
            return None
        return _start(db, bound["_id"], {"message_id": message_id}, worker_id=worker_id)
    while True:
        candidate = _fair_next(db)
        if candidate is None:
            return None
        started = _start(
            db, candidate["_id"], {"status": QUEUED, "message_id": None}, message_id, worker_id
        )
        if started is not None:
            return started  # else another worker took it first: look again


def _gave_up(job: dict[str, Any], attempts: int) -> dict[str, str]:
    last = job.get("error") or {}
    reason = last.get("message") or "the worker running it stopped (crashed or was killed)"
    return {
        "kind": last.get("kind") or "worker_lost",
        "message": f"gave up after {attempts} attempts: {reason}",
    }


def _start(
    db: Database,
    job_id: str,
    match: dict[str, Any],
    message_id: str | None = None,
    worker_id: str = "",
) -> dict[str, Any] | None:
    now = utcnow()
    fields: dict[str, Any] = {
        "status": RUNNING,
        "step": 0,
        "stage": "loading",
        "worker_id": worker_id,
    }
    if message_id is not None:
        fields["message_id"] = message_id
    job = db.render_jobs.find_one_and_update(
        {"_id": job_id, "cancel_requested": False, **match},
        {"$set": fields, "$inc": {"attempts": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if job is not None and job.get("started_at") is None:
        db.render_jobs.update_one({"_id": job_id}, {"$set": {"started_at": now}})
        job["started_at"] = now
    return job


def _fair_next(db: Database) -> dict[str, Any] | None:
    """The oldest unbound queued job of the studio with the fewest jobs running."""
    waiting = db.render_jobs.aggregate(
        [
            {"$match": {"status": QUEUED, "message_id": None, "cancel_requested": False}},
            {"$sort": {"created_at": 1}},
            {
                "$group": {
                    "_id": "$studio_id",
                    "job": {"$first": "$_id"},
                    "at": {"$first": "$created_at"},
                }
            },
        ]
    )
    candidates = list(waiting)
    if not candidates:
        return None
    running: dict[str, int] = {
        row["_id"]: row["n"]
        for row in db.render_jobs.aggregate(
            [
                {
                    "$match": {
                        "status": RUNNING,
                        "studio_id": {"$in": [c["_id"] for c in candidates]},
                    }
                },
                {"$group": {"_id": "$studio_id", "n": {"$sum": 1}}},
            ]
        )
    }
    best = min(candidates, key=lambda c: (running.get(c["_id"], 0), c["at"]))
    return {"_id": best["job"], "studio_id": best["_id"]}


def record_progress(
    db: Database,
    job_id: str,
    message_id: str,
    *,
    step: int,
    steps: int,
    stage: str,
    preview_key: str | None,
) -> dict[str, Any] | None:
    """Writes a running job's progress; None if the message no longer owns it."""
    fields: dict[str, Any] = {"step": step, "steps": steps, "stage": stage}
    if preview_key is not None:
        fields["preview_key"] = preview_key
    return db.render_jobs.find_one_and_update(
        {"_id": job_id, "message_id": message_id, "status": RUNNING},
        {"$set": fields},
        return_document=ReturnDocument.AFTER,
    )


def succeed(
    db: Database,
    job_id: str,
    message_id: str,
    *,
    image_key: str,
    meta: dict[str, Any],
    ttl: timedelta,
) -> dict[str, Any] | None:
    fields = {
        "image_key": image_key,
        "seed": meta.get("seed"),
        "timings": meta.get("timings"),
        "checks": meta.get("checks") or [],
        "parameters": meta.get("parameters"),
        "stage": "done",
        "error": None,
    }
    if meta.get("steps") is not None:
        fields["step"] = fields["steps"] = meta["steps"]
    return _finish(db, job_id, SUCCEEDED, fields, ttl, when={"message_id": message_id})


def cancelled(db: Database, job_id: str, message_id: str, ttl: timedelta) -> dict | None:
    return _finish(db, job_id, CANCELLED, {}, ttl, when={"message_id": message_id})


def fail(
    db: Database,
    job_id: str,
    message_id: str,
    *,
    error: dict[str, str],
    retry: bool,
    attempts_allowed: int,
    ttl: timedelta,
) -> tuple[dict[str, Any] | None, bool, bool]:
    """(job, final, changed). A transient failure with attempts left goes back to `queued`, still
    bound to its message (whose retry resumes it); anything else is final (dead-letter)."""
    job = db.render_jobs.find_one({"_id": job_id, "message_id": message_id})
    if job is None or job["status"] not in ACTIVE:
        return job, True, False
    if retry and job["attempts"] < attempts_allowed and not job["cancel_requested"]:
        db.render_jobs.update_one(
            {"_id": job_id, "message_id": message_id, "status": RUNNING},
            {"$set": {"status": QUEUED, "error": error, "stage": None, "step": None}},
        )
        return db.render_jobs.find_one({"_id": job_id}), False, True
    if retry:
        error = {
            "kind": error["kind"],
            "message": f"gave up after {job['attempts']} attempts: {error['message']}",
        }
    done = _finish(db, job_id, FAILED, {"error": error}, ttl, when={"message_id": message_id})
    if done is None:
        return db.render_jobs.find_one({"_id": job_id}), True, False
    return done, True, True


def cancel_requested(db: Database, job_id: str) -> bool:
    job = db.render_jobs.find_one({"_id": job_id}, {"cancel_requested": 1})
    return bool(job and job.get("cancel_requested"))

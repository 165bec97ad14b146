"""Fair scheduling between studios, on the store the API uses (store/render_jobs.py)."""

from __future__ import annotations

from datetime import timedelta

import mongomock

from cloud_api.store import render_jobs
from cloud_api.store.indexes import ensure_indexes

TTL = timedelta(hours=1)


def _queue(db, studio: str, n: int) -> list[str]:
    upload = {"_id": f"up-{studio}", "key": f"uploads/{studio}.png"}
    return [
        render_jobs.create_job(
            db, studio, "device:x", f"{studio}-req-{i}", upload=upload, wire={"steps": 2}
        )[0]["_id"]
        for i in range(n)
    ]


def test_a_studio_with_a_long_queue_cannot_starve_another() -> None:
    db = mongomock.MongoClient().db
    ensure_indexes(db)
    busy = _queue(db, "busy", 5)  # queued first
    quiet = _queue(db, "quiet", 1)  # one job, queued after all of busy's
    first = render_jobs.claim(db, "m1", 3, TTL, "w1")
    assert first["_id"] == busy[0]  # nobody runs anything yet: the oldest job
    second = render_jobs.claim(db, "m2", 3, TTL, "w2")
    assert second["_id"] == quiet[0]  # busy already has a worker: quiet goes next
    third = render_jobs.claim(db, "m3", 3, TTL, "w3")
    assert third["_id"] == busy[1]


def test_a_redelivered_message_resumes_its_job_and_gives_up_after_the_limit() -> None:
    db = mongomock.MongoClient().db
    ensure_indexes(db)
    (job_id,) = _queue(db, "s", 1)
    assert render_jobs.claim(db, "m1", 2, TTL)["attempts"] == 1
    again = render_jobs.claim(db, "m1", 2, TTL)  # its worker died: same message again
    assert (again["_id"], again["attempts"]) == (job_id, 2)
    assert render_jobs.claim(db, "m2", 2, TTL) is None  # bound jobs are not shared
    assert render_jobs.claim(db, "m1", 2, TTL) is None  # third delivery: dead-lettered
    failed = db.render_jobs.find_one({"_id": job_id})
    assert failed["status"] == "failed" and "gave up after 2 attempts" in failed["error"]["message"]
    assert failed["expires_at"] is not None  # finished jobs expire (TTL index)


def test_a_job_cancelled_while_waiting_for_its_retry_ends_cancelled() -> None:
    db = mongomock.MongoClient().db
    ensure_indexes(db)
    (job_id,) = _queue(db, "s", 1)
    render_jobs.reserve(db, "s", 5, 5)
    render_jobs.claim(db, "m1", 3, TTL)
    _, final, _ = render_jobs.fail(
        db,
        job_id,
        "m1",
        error={"kind": "internal", "message": "boom"},
        retry=True,
        attempts_allowed=3,
        ttl=TTL,
    )
    assert not final  # back to the queue, bound to m1 for its retry
    render_jobs.cancel(db, db.render_jobs.find_one({"_id": job_id}), TTL)
    assert render_jobs.claim(db, "m1", 3, TTL) is None
    assert db.render_jobs.find_one({"_id": job_id})["status"] == "cancelled"
    assert db.render_quota.find_one({"_id": "active:s"})["n"] == 0  # its slot is free

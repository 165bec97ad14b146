"""Repository functions against pymongo. Runs on the embedded store, and also against a
real MongoDB server when PHOTOFLUX_TEST_MONGODB_URI is set."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import mongomock
import pytest

from cloud_api.core.fieldcrypt import FieldCipher
from cloud_api.core.storage import Storage
from cloud_api.store import events, leads, refresh_tokens
from cloud_api.store.clock import utcnow
from cloud_api.store.indexes import INDEXES, ensure_indexes, index_usage
from cloud_api.store.refresh_tokens import RefreshOutcome

BACKENDS = ["embedded"] + (["mongodb"] if os.environ.get("PHOTOFLUX_TEST_MONGODB_URI") else [])


@pytest.fixture(params=BACKENDS)
def db(request):
    uri = None if request.param == "embedded" else os.environ["PHOTOFLUX_TEST_MONGODB_URI"]
    storage = Storage(uri, f"pf_store_{uuid.uuid4().hex[:8]}")
    ensure_indexes(storage.db)
    yield storage.db
    if uri is not None:
        storage.client.drop_database(storage.db.name)
    storage.close()


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher({"a": b"A" * 32, "b": b"B" * 32}, "a", b"H" * 32)


def sample(email: str = "p@example.org", client_id: str | None = None) -> leads.LeadInput:
    return leads.LeadInput(
        client_id=client_id or str(uuid.uuid4()),
        email=email,
        name="P",
        source="kiosk",
        consent_text_version="1",
        consented_at=datetime.now(UTC),
    )


def test_indexes_exist_with_the_options_queries_rely_on(db):
    leads_ix = db.leads.index_information()
    assert leads_ix["studio_email_unique"]["unique"] is True
    assert leads_ix["studio_consenting_by_time"]["partialFilterExpression"] == {"consent": True}
    for collection in ("refresh_tokens", "lead_receipts", "uploads", "renders"):
        assert db[collection].index_information()["expires_ttl"]["expireAfterSeconds"] == 0
    assert [k for k, _ in db.events.index_information()["studio_time"]["key"]] == [
        "studio_id",
        "ts",
    ]
    ensure_indexes(db)  # idempotent at every start-up


def test_index_usage_lists_every_declared_index(db):
    rows = index_usage(db)
    names = {(r["collection"], r["name"]) for r in rows}
    for collection, models in INDEXES.items():
        for model in models:
            assert (collection, model.document["name"]) in names
    embedded = isinstance(db.client, mongomock.MongoClient)
    assert all((r["ops"] is None) == embedded for r in rows)


def test_unique_lead_per_studio_and_address(db, cipher):
    first = leads.record_lead(db, cipher, "s1", "d1", sample("Same@Example.org"))
    second = leads.record_lead(db, cipher, "s1", "d1", sample("same@example.org "))
    other_studio = leads.record_lead(db, cipher, "s2", "d9", sample("same@example.org"))
    assert (first.status, second.status) == ("created", "created")  # the same answer
    assert (first.new, second.new) == (True, False)
    assert second.lead_id == first.lead_id
    assert other_studio.status == "created"
    assert db.leads.count_documents({}) == 2


def test_receipts_make_writes_idempotent(db, cipher):
    lead = sample()
    assert leads.record_lead(db, cipher, "s1", None, lead).status == "created"
    assert leads.record_lead(db, cipher, "s1", None, lead).status == "replayed"
    with pytest.raises(leads.ClientIdReused):
        leads.record_lead(db, cipher, "s1", None, sample("x@example.org", lead.client_id))


def test_sealed_fields_are_bound_to_their_studio(db, cipher):
    from cloud_api.core.fieldcrypt import FieldDecryptError

    write = leads.record_lead(db, cipher, "s1", None, sample("bound@example.org"))
    doc = db.leads.find_one({"_id": write.lead_id})
    assert leads.reveal(cipher, doc)["email"] == "bound@example.org"
    with pytest.raises(FieldDecryptError):
        leads.reveal(cipher, doc | {"studio_id": "s2"})
    tampered = doc["email"] | {"ct": doc["email"]["ct"][:-4] + "AAAA"}
    with pytest.raises(FieldDecryptError):
        leads.reveal(cipher, doc | {"email": tampered})


def test_bulk_insert_counts_duplicates(db):
    now = datetime.now(UTC)
    batch = [
        {"id": str(i), "name": "app_started", "ts": now, "session": "s", "properties": {}}
        for i in range(5)
    ]
    assert events.insert_batch(db, "s1", "d1", batch) == (5, 0)
    assert events.insert_batch(db, "s1", "d1", [*batch[:3], batch[0] | {"id": "new"}]) == (1, 3)
    assert events.insert_batch(db, "s1", "d1", []) == (0, 0)


def test_dashboard_aggregations(db):
    now = datetime.now(UTC)

    def ev(name, session, **props):
        return {
            "id": uuid.uuid4().hex,
            "name": name,
            "ts": now,
            "session": session,
            "properties": props,
        }

    events.insert_batch(
        db,
        "s1",
        "d1",
        [
            ev("photo_loaded", "a"),
            ev("photo_loaded", "a"),
            ev("photo_loaded", "b"),
            ev("render_finished", "a", style="oil"),
            ev("render_finished", "b", style="oil"),
            ev("render_finished", "b", style="pop"),
            ev("result_emailed", "b"),
        ],
    )
    events.insert_batch(db, "s2", "d2", [ev("photo_loaded", "z")])
    since = utcnow() - timedelta(days=1)
    assert events.funnel(db, "s1", since) == {
        "photo_loaded": 2,
        "render_finished": 2,
        "result_exported": 0,
        "result_emailed": 1,
    }
    assert events.renders_per_style(db, "s1", since) == {"oil": 2, "pop": 1}
    assert sum(events.active_devices_per_day(db, None, since).values()) == 2


def test_refresh_tokens_are_single_use_and_reuse_revokes_the_family(db):
    family = refresh_tokens.store(db, "h1", "u1", timedelta(days=1))
    refresh_tokens.store(db, "h2", "u1", timedelta(days=1), family)
    outcome, record = refresh_tokens.spend(db, "h1")
    assert outcome is RefreshOutcome.OK and record["family"] == family
    assert refresh_tokens.spend(db, "h1")[0] is RefreshOutcome.REUSED
    assert refresh_tokens.spend(db, "h2")[0] is RefreshOutcome.REVOKED
    assert refresh_tokens.spend(db, "unknown")[0] is RefreshOutcome.UNKNOWN


def test_expired_refresh_token_is_unknown(db):
    refresh_tokens.store(db, "old", "u1", timedelta(seconds=-1))
    assert refresh_tokens.spend(db, "old")[0] is RefreshOutcome.UNKNOWN


def test_erase_leaves_only_an_audit_record(db, cipher):
    write = leads.record_lead(db, cipher, "s1", None, sample("gone@example.org"))
    doc = leads.get(db, write.lead_id, "s1")
    assert leads.get(db, write.lead_id, "other") is None
    leads.erase(db, doc, "admin:x")
    assert leads.get(db, write.lead_id, None) is None
    assert leads.receipts(db, write.lead_id) == []
    assert db.audit.count_documents({"subject": write.lead_id}) == 1


def test_reencrypt_moves_every_lead_to_the_active_key(db):
    old = FieldCipher({"a": b"A" * 32}, "a", b"H" * 32)
    for i in range(3):
        leads.record_lead(db, old, "s1", None, sample(f"p{i}@example.org"))
    rotated = FieldCipher({"b": b"B" * 32, "a": b"A" * 32}, "b", b"H" * 32)
    assert leads.reencrypt(db, rotated) == (3, 3)
    assert leads.reencrypt(db, rotated) == (3, 0)  # idempotent
    new_only = FieldCipher({"b": b"B" * 32}, "b", b"H" * 32)  # the old key can now go
    emails = sorted(leads.reveal(new_only, doc)["email"] for doc in db.leads.find())
    assert emails == ["p0@example.org", "p1@example.org", "p2@example.org"]


def test_paging_neither_skips_nor_repeats_leads_made_in_the_same_millisecond(db, cipher):
    made = {
        leads.record_lead(db, cipher, "s1", None, sample(f"t{i}@example.org")).lead_id
        for i in range(5)
    }
    db.leads.update_many({}, {"$set": {"created_at": utcnow()}})
    seen, cursor = [], None
    while True:
        docs = leads.page(db, "s1", 2, cursor)
        seen += [d["_id"] for d in docs]
        if len(docs) < 2:
            break
        cursor = leads.cursor_after(docs[-1])
    assert sorted(seen) == sorted(made)
    with pytest.raises(ValueError):
        leads.page(db, "s1", 2, "12-not-a-lead-id")

"""Event batches: schema, allow-list, no personal data, idempotency by event id."""

from __future__ import annotations

import uuid

import pytest

from tests.cloud.live import Api, bearer, event


def send(api: Api, token: str, events: list[dict]):
    return api.http.post("/api/events", json={"events": events}, headers=bearer(token))


def test_a_full_batch_is_stored_and_a_resend_only_counts_duplicates(
    api: Api, device_token: str, server, studio: str
):
    batch = [event(session=f"s{i % 7}") for i in range(500)]
    first = send(api, device_token, batch)
    assert first.status_code == 200
    assert first.json() == {"accepted": 500, "duplicates": 0, "clock_adjusted": 0}
    mixed = batch[:10] + [event() for _ in range(5)]
    again = send(api, device_token, mixed)
    assert again.json()["accepted"] == 5
    assert again.json()["duplicates"] == 10
    ids = [f"{studio}:{e['id']}" for e in batch]
    assert server.db.events.count_documents({"_id": {"$in": ids}}) == 500


def test_repeated_ids_inside_one_batch_count_as_duplicates(api: Api, device_token: str):
    one = event()
    response = send(api, device_token, [one, one, event()])
    assert (response.json()["accepted"], response.json()["duplicates"]) == (2, 1)


def test_batches_are_bounded(api: Api, device_token: str):
    assert send(api, device_token, [event() for _ in range(501)]).status_code == 422
    assert send(api, device_token, []).status_code == 422


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "credit_card_entered"},
        {"ts": "2026-01-01T00:00:00"},  # no time zone
        {"ts": 1795254656},  # a bare number is not a time
        {"ts": "yesterday"},
        {"session": "has spaces"},
        {"properties": {f"k{i}": i for i in range(21)}},
        {"properties": {"nested": {"a": 1}}},
        {"properties": {"list": [1, 2]}},
        {"properties": {"Upper": 1}},
        {"properties": {"big": 10**400}},
        {"properties": {"text": "x" * 201}},
        {"id": "not-a-uuid"},
        {"extra": 1},
    ],
)
def test_events_outside_the_schema_are_refused(api: Api, device_token: str, changes: dict):
    response = send(api, device_token, [event(**changes)])
    assert response.status_code == 422, response.text
    assert response.json()["kind"] == "validation"


@pytest.mark.parametrize(
    "properties",
    [
        {"email": "x"},
        {"name": "Jane"},
        {"note": "write to jane.doe@example.org"},
        {"contact": "+44 20 7946 0958"},
        {"where": "10.0.0.17"},
        {"where": "from 2001:db8:85a3::8a2e:370:7334"},
        {"where": "fe80::abcd:ef"},
        {"where": "[::ffff:10.0.0.17]:443"},
        {"note": "jane\uff20example.org"},  # a full-width at sign
        {"contact": "\uff0b\uff14\uff14 20 7946 0958"},  # full-width digits
    ],
)
def test_personal_data_in_properties_is_refused(api: Api, device_token: str, properties: dict):
    response = send(api, device_token, [event(properties=properties)])
    assert response.status_code == 422
    assert "personal data" in response.text


def test_ordinary_properties_pass(api: Api, device_token: str):
    props = {
        "style": "oil-paint",
        "steps": 4,
        "strength": 0.55,
        "gpu": True,
        "date": "2026-11-21",
        "size": "1024x1024",
        "model": None,
        "at": "06:38:32",
        "ratio": "16:9:1",
        "scope": "std::vector",
    }
    assert send(api, device_token, [event(properties=props)]).json()["accepted"] == 1


def test_one_studios_event_ids_do_not_block_another_studio(api: Api, device_token: str):
    other_token = api.device(api.studio(f"Second {uuid.uuid4().hex[:4]}"))
    shared = event()
    assert send(api, device_token, [shared]).json()["accepted"] == 1
    assert send(api, other_token, [shared]).json()["accepted"] == 1


def test_a_wrong_device_clock_does_not_lose_events(api: Api, device_token: str, server, studio):
    past, future, fine = (
        event(ts="1999-01-01T00:00:00Z"),
        event(ts="2999-01-01T00:00:00Z"),
        event(),
    )
    extreme = event(ts="0001-01-01T00:00:00+05:00")  # has no UTC form at all
    response = send(api, device_token, [past, future, fine, extreme])
    assert response.json() == {"accepted": 4, "duplicates": 0, "clock_adjusted": 3}
    stored = server.db.events.find_one({"_id": f"{studio}:{past['id']}"})
    assert stored["ts"].year >= 2026
    assert stored["client_ts"].startswith("1999-01-01")
    assert "client_ts" not in server.db.events.find_one({"_id": f"{studio}:{fine['id']}"})

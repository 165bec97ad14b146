"""The Qt-free studio API the desktop screens build on: share tokens and their queue,
separate consents with versions, campaigns, and the event allow-list shared with the
cloud."""

from __future__ import annotations

import base64
import sqlite3
import uuid

import pytest

from cloud_api.api.schemas import EVENT_NAMES as SERVER_EVENT_NAMES
from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.sync.client import CloudClient
from photoflux_desktop.sync.consent import (
    ConsentTexts,
    current_texts,
    refresh_texts,
    texts_from_studio,
)
from photoflux_desktop.sync.events import EVENT_NAMES, event_body
from photoflux_desktop.sync.leads import api_body, lead_body, record_lead
from photoflux_desktop.sync.outbox import Outbox, outbox_path
from photoflux_desktop.sync.share import new_share_token, queue_share, share_url
from tests.cloud.live import Api, LiveServer
from tests.sync.conftest import one_json, photoflux, tiny_jpeg


def test_share_tokens_are_random_url_safe_and_at_least_128_bits() -> None:
    tokens = {new_share_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
        assert share_url("https://studio.example/", token) == f"https://studio.example/r/{token}"


def test_a_queued_share_keeps_its_image_on_disk_until_sent(folders: dict[str, str]) -> None:
    token = new_share_token()
    with Outbox() as outbox:
        share_id = queue_share(outbox, token, tiny_jpeg(), campaign="  Summer Fair ")
        [item] = outbox.due("share", 10)
        assert item.body == {"token": token, "campaign": "Summer Fair", "registered": False}
        assert outbox.image_of(share_id) == tiny_jpeg()
        outbox.mark_sent("share", [share_id])
        assert not (outbox.files / f"{share_id}.img").exists()
        assert outbox.counts()["share"]["sent"] == 1
    with Outbox() as outbox, pytest.raises(PhotoFluxError):
        queue_share(outbox, "short", tiny_jpeg())


def test_an_outbox_made_before_shares_existed_takes_them(folders: dict[str, str]) -> None:
    path = outbox_path()
    path.parent.mkdir(parents=True)
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE items (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
        " kind TEXT NOT NULL CHECK (kind IN ('lead', 'event', 'delivery')), body TEXT NOT NULL,"
        " state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
        " next_attempt_at REAL NOT NULL DEFAULT 0, last_error TEXT, server_id TEXT,"
        " created_at REAL NOT NULL, sent_at REAL);"
        "INSERT INTO items (id, kind, body, created_at) "
        f"VALUES ('{uuid.uuid4()}', 'lead', '{{}}', 1);"
    )
    old.close()
    with Outbox() as outbox:
        queue_share(outbox, new_share_token(), tiny_jpeg())
        assert outbox.counts()["share"]["pending"] == 1
        assert outbox.counts()["lead"]["pending"] == 1  # kept


def test_consents_are_separate_versioned_and_marketing_is_never_assumed() -> None:
    texts = ConsentTexts(processing_version="p-3", marketing_version="m-7")
    plain = lead_body("Jane@Example.org", consent=True, texts=texts, campaign="Fair")
    assert plain["consent_text_version"] == "p-3" and plain["consented_at"]
    assert plain["marketing"] is False and plain["marketing_text_version"] is None
    assert plain["campaign"] == "Fair"
    sent = api_body("id-1", plain)
    assert sent["marketing"] is False and "marketing_consented_at" not in sent
    keen = lead_body("jane@example.org", consent=True, marketing=True, texts=texts)
    assert keen["marketing_text_version"] == "m-7" and keen["marketing_consented_at"]
    with pytest.raises(PhotoFluxError, match="Consent is required"):
        lead_body("jane@example.org", consent=False, marketing=True)
    with pytest.raises(PhotoFluxError):
        record_lead(None, plain | {"consent": False})  # type: ignore[arg-type]


def test_studio_texts_replace_only_what_the_studio_set(folders: dict[str, str]) -> None:
    local = current_texts()
    assert local.source == "default" and local.processing_text
    studio = texts_from_studio(
        {"processing_text": "Ours.", "processing_version": "s-1", "privacy_url": None}, local
    )
    assert (studio.processing_text, studio.processing_version) == ("Ours.", "s-1")
    assert studio.marketing_version == local.marketing_version and studio.source == "studio"


def test_events_are_named_from_the_shared_list_and_carry_no_addresses() -> None:
    assert set(EVENT_NAMES) <= set(SERVER_EVENT_NAMES)
    body = event_body("qr_shown", "kiosk-1", campaign="Fair", style="ink")
    assert body["campaign"] == "Fair" and body["properties"] == {"style": "ink"}
    with pytest.raises(PhotoFluxError, match="not a known event"):
        event_body("made_up", "s")
    with pytest.raises(PhotoFluxError, match="personal data"):
        event_body("export", "s", target="guest@example.org")
    with pytest.raises(PhotoFluxError, match="personal data"):
        event_body("export", "s", email="x")


def test_lead_add_records_campaign_and_both_consents(folders: dict[str, str]) -> None:
    result = photoflux(
        "lead", "add", "--email", "guest@example.org", "--consent", "--marketing",
        "--campaign", "Summer Fair", "--json", env=folders,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = one_json(result)
    assert record["campaign"] == "Summer Fair" and record["marketing"] is True
    assert record["marketing_text_version"] and record["marketing_consented_at"]
    refused = photoflux("lead", "add", "--email", "guest@example.org", "--marketing", env=folders)
    assert refused.returncode == 2 and "Consent is required" in refused.stderr


def test_the_studio_consent_texts_are_fetched_cached_and_used_offline(
    folders: dict[str, str], server: LiveServer, api: Api
) -> None:
    admin = api.admin()
    studio = api.http.post("/api/studios", json={"name": "Wording"}, headers=admin).json()["id"]
    token = api.http.post(
        f"/api/studios/{studio}/devices", json={"name": "kiosk"}, headers=admin
    ).json()["device_token"]
    texts = {"marketing_text": "Studio news by e-mail.", "marketing_version": "news-3"}
    api.http.put(f"/api/studios/{studio}/consent-texts", json=texts, headers=admin)
    with CloudClient(server.url, token) as client:
        fetched = refresh_texts(client, server.url)
    assert fetched is not None and fetched.source == "studio"
    # offline later: the cache answers for this cloud only
    used = current_texts(server.url)
    assert (used.marketing_text, used.marketing_version) == ("Studio news by e-mail.", "news-3")
    assert used.processing_version == "2026-01"  # not set by the studio: the device's own
    assert current_texts("https://another.example").source == "default"
    body = lead_body("guest@example.org", consent=True, marketing=True, texts=used)
    assert body["marketing_text_version"] == "news-3"


def test_lead_add_refuses_an_address_the_cloud_would_refuse(folders: dict[str, str]) -> None:
    """An encoded word (`=?...?=`) is valid to email_validator but refused by the cloud's
    lead schema: recorded here, it would fail on the server after the guest saw "done"."""
    from photoflux_desktop.ui.studio.consent_form import email_problem

    address = "a=?utf-8?q?x?=@example.org"
    result = photoflux("lead", "add", "--email", address, "--consent", "--json", env=folders)
    assert result.returncode == 2 and "=?" in one_json(result)["error"]["message"]
    assert Outbox(outbox_path()).counts()["lead"]["pending"] == 0
    assert email_problem(address) and email_problem("guest@example.org") is None

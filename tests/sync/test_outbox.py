"""The outbox on its own: durable settings, the event backlog policy, what is kept."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from photoflux_desktop.sync.events import event_body
from photoflux_desktop.sync.leads import lead_body
from photoflux_desktop.sync.outbox import Outbox, outbox_path
from tests.sync.conftest import tiny_jpeg


def test_outbox_lives_in_the_data_folder_in_wal_mode(folders: dict[str, str]) -> None:
    with Outbox() as outbox:
        lead_id = outbox.add_lead(lead_body("jane@example.org", consent=True))
        assert outbox._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert outbox_path().is_relative_to(Path(folders["PHOTOFLUX_DATA_DIR"]))
    # another connection (another process) sees the committed lead at once
    db = sqlite3.connect(outbox_path())
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT state FROM items WHERE id = ?", (lead_id,)).fetchone() == ("pending",)


def test_events_past_the_cap_drop_oldest_first_and_are_counted(folders: dict[str, str]) -> None:
    with Outbox(event_cap=100) as outbox:
        first = outbox.add_events(event_body("app_opened", "s1", n=i) for i in range(80))
        later = outbox.add_events(event_body("photo_loaded", "s1", n=i) for i in range(50))
        lead = outbox.add_lead(lead_body("jane@example.org", consent=True))
        assert outbox.counts()["event"]["pending"] == 100
        due = [item.id for item in outbox.due("event", 1000)]
        assert due == first[30:] + later  # the 30 oldest went
    with Outbox(event_cap=100) as outbox:  # the counter survives a restart
        assert outbox.dropped_events() == 30
        assert outbox.lead_state(lead) == ("pending", None)  # leads are never dropped


def test_failed_items_keep_their_reason_and_sent_leads_forget_the_person(
    folders: dict[str, str],
) -> None:
    with Outbox() as outbox:
        lead = outbox.add_lead(lead_body("jane@example.org", consent=True, name="Jane"))
        other = outbox.add_lead(lead_body("joe@example.org", consent=True))
        outbox.mark_sent("lead", [lead], {lead: "abc123"})
        outbox.mark_failed(other, "refused by the cloud (409): id reused")
        assert outbox.lead_state(lead) == ("sent", "abc123")
        assert outbox.failures() == [
            {
                "id": other,
                "kind": "lead",
                "attempts": 1,
                "reason": "refused by the cloud (409): id reused",
            }
        ]
        assert outbox.due("lead", 10) == []
    # once the cloud has the lead, the address is gone from the device's files
    leftovers = b"".join(p.read_bytes() for p in outbox_path().parent.glob("outbox.sqlite3*"))
    assert b"jane@example.org" not in leftovers
    assert b"joe@example.org" in leftovers  # the failed one is kept, with its data


def test_delivery_images_are_files_next_to_the_outbox_until_sent(folders: dict[str, str]) -> None:
    image = tiny_jpeg()
    with Outbox() as outbox:
        lead = outbox.add_lead(lead_body("jane@example.org", consent=True))
        delivery = outbox.add_delivery(lead, image, style="watercolor")
        stored = outbox.files / f"{delivery}.img"
        assert stored.read_bytes() == image
        assert [p.name for p in outbox.files.iterdir()] == [stored.name]  # no temp files
        outbox.mark_sent("delivery", [delivery])
        assert not stored.exists()
        assert outbox.counts()["delivery"]["sent"] == 1


def test_images_no_row_points_to_are_swept_once_old(folders: dict[str, str]) -> None:
    with Outbox() as outbox:
        lead = outbox.add_lead(lead_body("jane@example.org", consent=True))
        kept = outbox.files / f"{outbox.add_delivery(lead, tiny_jpeg())}.img"
        orphan, fresh, part = (outbox.files / n for n in ("x.img", "y.img", ".z.img.1.part"))
        for path in (orphan, fresh, part):
            path.write_bytes(b"left by a crash")
        for path in (orphan, part, kept):
            os.utime(path, (time.time() - 7200, time.time() - 7200))
    with Outbox() as outbox:
        assert sorted(p.name for p in outbox.files.iterdir()) == sorted([kept.name, fresh.name])


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_the_outbox_folder_is_private_to_the_user(folders: dict[str, str]) -> None:
    """It holds guests' e-mail addresses and photos until they are sent."""
    folder = outbox_path().parent
    folder.mkdir(parents=True)
    folder.chmod(0o755)  # as an older version or a default umask left it
    with Outbox():
        pass
    assert folder.stat().st_mode & 0o077 == 0

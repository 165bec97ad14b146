"""QR shares from the desktop outbox to the cloud's result page, through `photoflux
sync` as a user runs it: the token goes first, so even a share whose image the cloud
refuses leaves a page that says "on its way"; a good one ends as the photo."""

from __future__ import annotations

import httpx

from photoflux_desktop.sync.outbox import Outbox
from photoflux_desktop.sync.share import new_share_token, queue_share, share_url
from tests.cloud.live import LiveServer
from tests.sync.conftest import linked, one_json, photoflux, tiny_jpeg


def test_shares_drain_token_first_then_image(
    folders: dict[str, str], server: LiveServer, device_token: str
) -> None:
    good, broken = new_share_token(), new_share_token()
    with Outbox() as outbox:
        good_id = queue_share(outbox, good, tiny_jpeg(), campaign="Summer Fair")
        broken_id = queue_share(outbox, broken, b"\x89PNG but not really an image")
    # the QR code may be on screen now: before any sync, the page knows nothing
    assert httpx.get(share_url(server.url, good)).status_code == 404

    result = photoflux("sync", "--once", "--json", env=linked(server.url, device_token, folders))
    assert result.returncode == 0, result.stderr
    summary = one_json(result)
    assert summary["sent_now"]["share"] == 1 and summary["failed"]["share"] == 1
    [failure] = summary["recent_failures"]
    assert failure["id"] == broken_id and "JPEG, PNG or WebP" in failure["reason"]

    ready = httpx.get(share_url(server.url, good))
    assert ready.status_code == 200 and "photo is ready" in ready.text
    shown = httpx.get(share_url(server.url, good) + "/image")
    assert shown.headers["content-type"] == "image/jpeg"
    # its token was registered before its image was refused: the guest sees "on its way"
    waiting = httpx.get(share_url(server.url, broken))
    assert waiting.status_code == 200 and "on its way" in waiting.text
    with Outbox() as outbox:
        assert not (outbox.files / f"{good_id}.img").exists()  # sent: the file is gone
        assert (outbox.files / f"{broken_id}.img").exists()  # refused: kept, not dropped
    again = one_json(
        photoflux("sync", "--once", "--json", env=linked(server.url, device_token, folders))
    )
    assert again["sent_now"]["share"] == 0  # nothing is sent twice


def test_a_share_quota_defers_the_shares_and_everything_else_still_goes(
    folders: dict[str, str], make_server
) -> None:
    """A 429 asking for an hour is a quota, not a burst: the shares wait (pending, not
    failed) and the leads and events behind them are sent in the same pass."""
    from photoflux_desktop.sync.events import event_body
    from photoflux_desktop.sync.leads import lead_body
    from tests.cloud.live import Api

    live = make_server(share_studio_daily=1)
    cloud = Api(live)
    studio = cloud.studio("Quota")
    env = linked(live.url, cloud.device(studio), folders)
    with Outbox() as outbox:
        for _ in range(3):
            queue_share(outbox, new_share_token(), tiny_jpeg())
        outbox.add_lead(lead_body("quota@example.org", consent=True))
        outbox.add_events([event_body("qr_shown", "s-q")])

    result = photoflux("sync", "--once", "--json", env=env)
    assert result.returncode == 0, result.stderr
    summary = one_json(result)
    assert summary["sent_now"] == {"lead": 1, "event": 1, "delivery": 0, "share": 1}
    assert summary["pending"]["share"] == 2 and summary["failed"]["share"] == 0
    assert live.db.leads.count_documents({"studio_id": studio}) == 1

"""QR shares over real HTTP: a token registered first answers "on its way", its image
after; a wrong, malformed or expired token is the same 404 that reveals nothing."""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import uuid
from datetime import timedelta

from PIL import Image

from cloud_api.store.clock import utcnow
from tests.cloud.live import Api, LiveServer, bearer, lead


def png(size: tuple[int, int] = (96, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 140, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def share(token: str, image: bytes | None = None, **fields) -> dict:
    body = {"id": fields.pop("id", str(uuid.uuid4())), "token": token, **fields}
    if image is not None:
        body["image"] = base64.b64encode(image).decode()
    return body


def test_token_first_says_on_its_way_then_the_image_shows(
    server: LiveServer, api: Api, device_token: str
) -> None:
    token = secrets.token_urlsafe(24)
    first = share(token, campaign="Summer Fair")
    registered = api.http.post("/api/shares", json=first, headers=bearer(device_token))
    assert registered.status_code == 201 and registered.json()["status"] == "waiting"
    # the service keeps only the token's hash
    [stored] = list(server.db.shares.find({"_id": {"$regex": first["id"]}}))
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(stored)

    waiting = api.http.get(f"/r/{token}")
    assert waiting.status_code == 200 and "on its way" in waiting.text
    assert 'http-equiv="refresh"' in waiting.text
    assert waiting.headers["cache-control"] == "no-store"
    assert waiting.headers["referrer-policy"] == "no-referrer"
    assert api.http.get(f"/r/{token}/image").status_code == 404

    again = api.http.post(
        "/api/shares", json=first | {"image": share(token, png())["image"]},
        headers=bearer(device_token),
    )  # fmt: skip
    assert again.status_code == 200 and again.json()["status"] == "ready"
    ready = api.http.get(f"/r/{token}")
    assert ready.status_code == 200 and f'src="/r/{token}/image"' in ready.text
    assert "Download photo" in ready.text and "refresh" not in ready.text
    image = api.http.get(f"/r/{token}/image?download=1")
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("attachment")
    with Image.open(io.BytesIO(image.content)) as shown:
        assert shown.size == (96, 64)
    # a resend of the same share changes nothing; the id with another token is refused
    replay = api.http.post("/api/shares", json=first, headers=bearer(device_token))
    assert replay.status_code == 200 and replay.json()["status"] == "ready"
    clash = share(secrets.token_urlsafe(24), id=first["id"])
    assert api.http.post("/api/shares", json=clash, headers=bearer(device_token)).status_code == 409


def test_unknown_malformed_and_expired_tokens_look_the_same(
    server: LiveServer, api: Api, device_token: str
) -> None:
    token = secrets.token_urlsafe(24)
    body = share(token, png())
    assert api.http.post("/api/shares", json=body, headers=bearer(device_token)).status_code == 201
    assert api.http.get(f"/r/{token}").status_code == 200
    server.db.shares.update_one(
        {"_id": {"$regex": body["id"]}}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}}
    )
    expired = api.http.get(f"/r/{token}")
    unknown = api.http.get(f"/r/{secrets.token_urlsafe(24)}")
    malformed = api.http.get("/r/not-a-token")
    for answer in (expired, unknown, malformed, api.http.get(f"/r/{token}/image")):
        assert answer.status_code == 404
        assert answer.text == unknown.text  # byte for byte: nothing tells them apart
    assert "isn't available" in unknown.text and token not in unknown.text


def test_share_images_are_checked_like_deliveries(api: Api, device_token: str) -> None:
    token = secrets.token_urlsafe(24)
    fake = share(token, b"<html>not an image</html>" * 4)
    refused = api.http.post("/api/shares", json=fake, headers=bearer(device_token))
    assert refused.status_code == 422 and "JPEG, PNG or WebP" in refused.text
    weak = share("short-token")
    assert api.http.post("/api/shares", json=weak, headers=bearer(device_token)).status_code == 422
    assert api.http.post("/api/shares", json=share(secrets.token_urlsafe(24))).status_code == 401


def test_the_public_page_is_rate_limited(make_server) -> None:
    live = make_server(rate_limit_share_page="3/minute")
    with live.client() as http:
        answers = [http.get(f"/r/{secrets.token_urlsafe(24)}").status_code for _ in range(4)]
        assert answers == [404, 404, 404, 429]


def test_a_lead_without_processing_consent_is_refused(api: Api, device_token: str) -> None:
    for body in (
        lead(consent=False),
        {k: v for k, v in lead().items() if k != "consent"},
        lead(marketing=True),  # marketing without its version and time
        lead(
            marketing="yes",
            marketing_text_version="m1",
            marketing_consented_at=utcnow().isoformat() + "Z",
        ),
    ):
        answer = api.http.post("/api/leads", json=body, headers=bearer(device_token))
        assert answer.status_code == 422, body


def test_a_studio_registers_a_bounded_number_of_shares_a_day(make_server) -> None:
    """Each share can hold an image of megabytes: a leaked device token must not be able
    to fill the store. A share registered before the cap still gets its image."""
    live = make_server(share_studio_daily=2)
    api = Api(live)
    device = bearer(api.device(api.studio("Capped")))
    first = share(secrets.token_urlsafe(16))
    for body in (first, share(secrets.token_urlsafe(16))):
        assert api.http.post("/api/shares", json=body, headers=device).status_code == 201
    refused = api.http.post("/api/shares", json=share(secrets.token_urlsafe(16)), headers=device)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    with_image = first | {"image": base64.b64encode(png()).decode()}
    attached = api.http.post("/api/shares", json=with_image, headers=device)
    assert attached.status_code == 200 and attached.json()["status"] == "ready"
    other = bearer(api.device(api.studio("Elsewhere")))  # the cap is per studio
    answer = api.http.post("/api/shares", json=share(secrets.token_urlsafe(16)), headers=other)
    assert answer.status_code == 201


def test_share_tokens_stay_out_of_the_access_log(make_server, capfd) -> None:
    """The token opens a guest's photo and is stored only hashed: a log line must not
    hold it either (anyone who reads the logs could open every photo)."""
    import json
    import time

    live = make_server(log_level="INFO")
    token = secrets.token_urlsafe(16)
    with live.client() as http:
        http.get(f"/r/{token}/image", headers={"X-Request-ID": "share-log-check"})
    seen, lines, waited = "", [], 0.0
    while not lines and waited < 5:  # the line is written just after the response
        seen += capfd.readouterr().err
        lines = [
            json.loads(x) for x in seen.splitlines() if x.startswith("{") and "share-log-check" in x
        ]
        time.sleep(0.05)
        waited += 0.05
    assert lines and lines[-1]["path"] == "/r/[token]/image"
    assert token not in seen

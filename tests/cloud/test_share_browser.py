"""The guest's QR page and the studio dashboard in a real headless Chromium at a phone's
viewport: "on its way" before the upload, the photo after; screenshots go to
out/screenshots/ (share-waiting.png, share-ready.png, admin-phone-overview.png)."""

from __future__ import annotations

import base64
import secrets
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.cloud.browser import ARGS, CHROMIUM, require_chromium
from tests.cloud.live import ADMIN_EMAIL, ADMIN_PASSWORD, Api, LiveServer, bearer, event, lead
from tests.cloud.test_shares import png

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


def test_qr_page_and_dashboard_on_a_phone(server: LiveServer, api: Api, device_token: str):
    require_chromium()
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    share = {"id": str(uuid.uuid4()), "token": token, "campaign": "Summer Fair"}
    auth = bearer(device_token)
    assert api.http.post("/api/shares", json=share, headers=auth).status_code == 201
    api.http.post(
        "/api/leads", json=lead("phone@example.org", campaign="Summer Fair"), headers=auth
    )
    api.http.post(
        "/api/events",
        json={
            "events": [event("photo_loaded", campaign="Summer Fair"), event(campaign="Summer Fair")]
        },
        headers=auth,
    )
    host = urlsplit(server.url).netloc
    foreign, problems = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        page.on("request", lambda r: urlsplit(r.url).netloc != host and foreign.append(r.url))
        page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
        page.goto(f"{server.url}/r/{token}")
        assert page.locator("h1").inner_text() == "Your photo is on its way"
        page.screenshot(path=str(SHOTS / "share-waiting.png"))

        image = base64.b64encode(png((600, 800))).decode()
        assert api.http.post("/api/shares", json=share | {"image": image}, headers=auth).is_success
        # the page's own meta refresh brings the photo, no reload by the test
        page.wait_for_selector("img.photo", timeout=20_000)
        page.wait_for_function("document.querySelector('img.photo').naturalWidth > 0")
        width = page.evaluate("document.querySelector('img.photo').getBoundingClientRect().width")
        assert 300 <= width <= 390  # fills the phone's width, no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator("a.download").get_attribute("download") == "photoflux.png"
        page.screenshot(path=str(SHOTS / "share-ready.png"), full_page=True)

        page.goto(f"{server.url}/r/{secrets.token_urlsafe(24)}")
        assert "isn't available" in page.locator("h1").inner_text()

        admin = phone.new_page()
        admin.goto(f"{server.url}/admin/login")
        admin.fill("input[name=email]", ADMIN_EMAIL)
        admin.fill("input[name=password]", ADMIN_PASSWORD)
        admin.click("button[type=submit]")
        admin.wait_for_url(f"{server.url}/admin")
        assert admin.evaluate("document.documentElement.scrollWidth") <= 390
        assert "Summer Fair" in admin.locator("table.campaigns").inner_text()
        admin.screenshot(path=str(SHOTS / "admin-phone-overview.png"), full_page=True)
        browser.close()

    assert foreign == []
    # the unknown token's page is a 404 on purpose; anything else (CSP) is a problem
    assert [m for m in problems if "404 (Not Found)" not in m] == []
    with Image.open(SHOTS / "share-ready.png") as shot:
        assert shot.width == 780  # 390 css px at 2x
        assert len(shot.convert("L").getcolors(256)) > 20

"""The dashboard in a real headless Chromium: sign in, read the charts, issue a device."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.cloud.browser import ARGS, CHROMIUM, require_chromium
from tests.cloud.live import ADMIN_EMAIL, ADMIN_PASSWORD, Api, LiveServer, bearer, event, lead

pytestmark = pytest.mark.slow


def test_dashboard_in_chromium(server: LiveServer, tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    api = Api(server)
    studio = api.studio("Browser Studio")
    token = api.device(studio)
    api.http.post("/api/leads", json=lead("browser@example.org"), headers=bearer(token))
    api.http.post(
        "/api/events", json={"events": [event("photo_loaded"), event()]}, headers=bearer(token)
    )

    host = urlsplit(server.url).netloc
    foreign, problems = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: urlsplit(r.url).netloc != host and foreign.append(r.url))
        page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
        page.goto(f"{server.url}/admin")
        assert page.url.endswith("/admin/login")
        page.fill("input[name=email]", ADMIN_EMAIL)
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/admin")
        assert page.locator("svg.chart").count() == 4
        assert page.locator(".tile b").first.inner_text().isdigit()
        shot = tmp_path / "overview.png"
        page.screenshot(path=str(shot), full_page=True)

        page.goto(f"{server.url}/admin/devices?studio={studio}")
        page.fill("input[name=name]", "Window kiosk")
        page.click("text=Issue device token")
        issued = page.locator("code.token").inner_text()
        assert issued.startswith("pfd_")
        page.goto(f"{server.url}/admin/leads?studio={studio}")
        assert "browser@example.org" in page.content()
        browser.close()

    assert foreign == []  # every asset came from this server
    assert problems == []  # no CSP violations or script errors
    with Image.open(shot) as image:
        assert image.width == 1280
        assert len(image.convert("L").getcolors(256)) > 20  # a rendered page, not a blank
    with api.server.client() as http:
        assert http.get("/api/auth/me", headers=bearer(issued)).status_code == 200

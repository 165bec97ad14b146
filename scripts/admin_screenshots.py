"""Screenshots of the studio dashboard in headless Chromium, with a month of demo data.

    .venv/bin/python scripts/admin_screenshots.py [OUT_DIR]   (default: out/screenshots)

Needs Debian's chromium (apt-get install chromium). Demo data goes through the real API
where the API allows it; only back-dated rows are written straight to the embedded store.
"""

from __future__ import annotations

import random
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import sync_playwright

from cloud_api.app import create_app
from cloud_api.core.config import Settings
from cloud_api.store import events as event_store
from cloud_api.store import leads

EMAIL, PASSWORD = "owner@studio.example.com", "demo-password-123"
STYLES = ["watercolor", "oil-paint", "pop-art", "pencil", "anime", "cyberpunk"]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def serve(app) -> tuple[uvicorn.Server, str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def seed(app, url: str) -> str:
    rng = random.Random(7)
    http = httpx.Client(base_url=url)
    admin = {
        "Authorization": "Bearer "
        + http.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()[
            "access_token"
        ]
    }
    studio = http.post("/api/studios", json={"name": "Sunny Side Portraits"}, headers=admin).json()
    devices = []
    for name in ("Front desk kiosk", "Booth A", "Booth B"):
        issued = http.post(
            f"/api/studios/{studio['id']}/devices", json={"name": name}, headers=admin
        ).json()
        devices.append(issued)
    ctx = app.state.ctx
    now = datetime.now(UTC)
    for day in range(30):
        moment = now - timedelta(days=29 - day, hours=rng.randint(0, 8))
        events = []
        for _session in range(rng.randint(4, 14)):
            device = rng.choice(devices[: 1 + day % 3])
            sid = uuid.uuid4().hex[:12]
            steps = ["photo_loaded", "render_finished", "result_exported", "result_emailed"]
            reach = rng.choices([1, 2, 3, 4], weights=[2, 3, 3, 2])[0]
            for step in steps[:reach]:
                events.append(
                    {
                        "id": str(uuid.uuid4()),
                        "name": step,
                        "ts": moment,
                        "session": sid,
                        "properties": {"style": rng.choice(STYLES)},
                        "device": device["id"],
                    }
                )
        for device in devices:
            mine = [e for e in events if e["device"] == device["id"]]
            event_store.insert_batch(ctx.storage.db, studio["id"], device["id"], mine)
        for _ in range(rng.randint(0, 6)):
            person = f"guest{rng.randint(100, 999)}@example.org"
            leads.record_lead(
                ctx.storage.db,
                ctx.cipher,
                studio["id"],
                device["id"],
                leads.LeadInput(
                    str(uuid.uuid4()), person, "Guest " + person[5:8], "kiosk", "2026-01", moment
                ),
            )
            ctx.storage.db.leads.update_many(
                {"created_at": {"$gt": moment.replace(tzinfo=None)}},
                {"$set": {"created_at": moment.replace(tzinfo=None)}},
            )
    for status, count in (("sent", 41), ("failed", 2), ("queued", 1)):
        for _ in range(count):
            ctx.storage.db.deliveries.insert_one(
                {
                    "_id": f"{studio['id']}:{uuid.uuid4()}",
                    "studio_id": studio["id"],
                    "lead_id": "demo",
                    "status": status,
                    "attempts": 1,
                    "created_at": (now - timedelta(days=rng.randint(0, 29))).replace(tzinfo=None),
                }
            )
    return studio["id"]


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = create_app(
        Settings(
            _env_file=None,
            env="development",
            first_admin_email=EMAIL,
            first_admin_password=PASSWORD,
            log_level="WARNING",
        )
    )
    server, url = serve(app)
    studio = seed(app, url)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{url}/admin")
        page.screenshot(path=str(out / "admin-login.png"))
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/admin")
        page.goto(f"{url}/admin?studio={studio}")
        page.screenshot(path=str(out / "admin-overview.png"), full_page=True)
        page.goto(f"{url}/admin/leads?studio={studio}")
        page.screenshot(path=str(out / "admin-leads.png"))
        page.goto(f"{url}/admin/devices?studio={studio}")
        page.fill("input[name=name]", "New tablet")
        page.click("text=Issue device token")
        page.screenshot(path=str(out / "admin-devices.png"))
        page.goto(f"{url}/admin/indexes")
        page.screenshot(path=str(out / "admin-indexes.png"), full_page=True)
        page.emulate_media(color_scheme="dark")
        page.goto(f"{url}/admin?studio={studio}")
        page.screenshot(path=str(out / "admin-overview-dark.png"), full_page=True)
        browser.close()
    server.should_exit = True
    print(f"screenshots in {out}/admin-*.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())

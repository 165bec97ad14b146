"""The dashboard over real HTTP: login form, pages, CSV, device forms, CSRF."""

from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager

import pytest

from tests.cloud.live import ADMIN_EMAIL, ADMIN_PASSWORD, Api, LiveServer, bearer, event, lead


def browser(server: LiveServer):
    """A client that behaves like a browser on this site: same-origin form posts."""
    return server.client(headers={"Origin": server.url}, follow_redirects=False)


@contextmanager
def signed_in(server: LiveServer, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD):
    with browser(server) as http:
        response = http.post("/admin/login", data={"email": email, "password": password})
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/admin"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "path=/admin" in cookie
        yield http


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def test_pages_need_a_session(server: LiveServer):
    with browser(server) as http:
        for path in ("/admin", "/admin/leads", "/admin/leads.csv", "/admin/devices"):
            response = http.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/admin/login"


def test_wrong_password_shows_the_form_again(server: LiveServer):
    with browser(server) as http:
        response = http.post("/admin/login", data={"email": ADMIN_EMAIL, "password": "wrong"})
    assert response.status_code == 401
    assert "E-mail or password is wrong" in response.text
    assert "set-cookie" not in response.headers


def test_cross_site_login_post_is_refused(server: LiveServer):
    with server.client(headers={"Origin": "https://evil.example.net"}) as http:
        response = http.post(
            "/admin/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_overview_shows_charts_built_from_real_data(server: LiveServer):
    api = Api(server)
    token = api.device(api.studio("Chart Studio"))
    api.http.post("/api/leads", json=lead("chart@example.org"), headers=bearer(token))
    batch = [
        event("photo_loaded", session="a"),
        event("render_finished", session="a"),
        event("result_exported", session="a"),
        event("photo_loaded", session="b"),
    ]
    api.http.post("/api/events", json={"events": batch}, headers=bearer(token))
    with signed_in(server) as http:
        page = http.get("/admin")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 4
    assert "Photo loaded: 2" in html  # funnel: two sessions loaded a photo
    assert "Exported: 1" in html
    assert "watercolor: 1" in html
    assert "<script" not in html
    # every asset is local: no absolute URLs in src or href
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_lead_list_and_csv_are_decrypted_and_safe_for_spreadsheets(server: LiveServer):
    api = Api(server)
    token = api.device(api.studio("CSV Studio"))
    api.http.post(
        "/api/leads",
        json=lead("csv.person@example.org", name="=HYPERLINK(1)"),
        headers=bearer(token),
    )
    with signed_in(server) as http:
        page = http.get("/admin/leads")
        exported = http.get("/admin/leads.csv")
    assert "csv.person@example.org" in page.text
    assert "=HYPERLINK(1)" in page.text  # shown as text, escaped by the template
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    row = next(r for r in rows if r["email"] == "csv.person@example.org")
    assert row["name"] == "'=HYPERLINK(1)"


def test_template_output_is_escaped(server: LiveServer):
    api = Api(server)
    api.studio("<script>alert(1)</script>")
    with signed_in(server) as http:
        html = http.get("/admin").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_issue_and_revoke_a_device_from_the_dashboard(server: LiveServer):
    studio = Api(server).studio("Device Studio")
    with signed_in(server) as http:
        page = http.get(f"/admin/devices?studio={studio}")
        csrf = csrf_of(page.text)
        issued = http.post(
            "/admin/devices", data={"name": "Front desk", "studio": studio, "csrf": csrf}
        )
        assert issued.status_code == 200
        token = re.search(r'class="token">(pfd_[^<]+)<', issued.text).group(1)
        with server.client() as api_http:
            assert api_http.get("/api/auth/me", headers=bearer(token)).status_code == 200
        device_id = re.search(r"/admin/devices/([0-9a-f]+)/revoke", issued.text).group(1)
        revoked = http.post(
            f"/admin/devices/{device_id}/revoke", data={"studio": studio, "csrf": csrf}
        )
        assert revoked.status_code == 303
        with server.client() as api_http:
            assert api_http.get("/api/auth/me", headers=bearer(token)).status_code == 401
        assert "revoked" in http.get(f"/admin/devices?studio={studio}").text


@pytest.mark.parametrize("csrf", ["", "0" * 64])
def test_device_forms_need_the_csrf_token(server: LiveServer, csrf: str):
    studio = Api(server).studio("CSRF Studio")
    with signed_in(server) as http:
        response = http.post("/admin/devices", data={"name": "x", "studio": studio, "csrf": csrf})
    assert response.status_code in (303, 422)
    assert server.db.devices.count_documents({"studio_id": studio}) == 0


def test_studio_admin_dashboard_is_limited_to_their_studio(server: LiveServer):
    api = Api(server)
    mine, other = api.studio("Own Studio"), api.studio("Not Mine")
    api.studio_admin(mine, "dash@own.example.com")
    with signed_in(server, "dash@own.example.com", "studio-admin-password") as http:
        page = http.get(f"/admin/devices?studio={other}")
        csrf = csrf_of(page.text)
        http.post("/admin/devices", data={"name": "sneaky", "studio": other, "csrf": csrf})
        indexes = http.get("/admin/indexes")
    assert server.db.devices.count_documents({"studio_id": other}) == 0
    assert server.db.devices.count_documents({"studio_id": mine, "name": "sneaky"}) == 1
    assert indexes.status_code == 303  # operations view is for platform admins


def test_index_page_lists_every_index(server: LiveServer):
    with signed_in(server) as http:
        html = http.get("/admin/indexes").text
    for name in ("studio_email_unique", "studio_consenting_by_time", "expires_ttl", "studio_time"):
        assert name in html
    assert ("keeps no usage counts" in html) == server.app.state.ctx.storage.embedded


def test_logout_clears_the_cookie(server: LiveServer):
    with signed_in(server) as http:
        csrf = csrf_of(http.get("/admin").text)
        response = http.post("/admin/logout", data={"csrf": csrf})
    assert response.status_code == 303
    assert (
        'pf_admin=""' in response.headers["set-cookie"]
        or "max-age=0" in response.headers["set-cookie"].lower()
    )


def test_static_assets_are_served_locally(server: LiveServer):
    with server.client() as http:
        css = http.get("/admin/static/admin.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")

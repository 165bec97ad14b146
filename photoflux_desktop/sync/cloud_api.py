"""The studio's cloud render routes (CLOUD_RENDER_CONTRACT.md) over the sync client:
upload, generate, results, preview, the signed image, cancel. Typed outcomes come from
`sync.client` (CloudUnreachable, TokenRefused, Refused, Deferred)."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from photoflux_desktop.sync.client import CloudClient, CloudUnreachable, Refused

FINAL = ("succeeded", "failed", "cancelled")
MAX_IMAGE_BYTES = 64 * 1024 * 1024  # a rendered PNG; anything larger is not ours


def _decoded(data: bytes) -> Image.Image:
    """The bytes as an RGB image, every pixel read (a damaged download fails here)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.convert("RGB")


class CloudRenderApi:
    def __init__(self, client: CloudClient, url: str) -> None:
        self.client = client
        self.url = url.rstrip("/")

    def upload(self, png: bytes) -> str:
        response = self.client.post("/api/upload", files={"file": ("photo.png", png, "image/png")})
        return str(response.json()["upload_id"])

    def generate(self, client_request_id: str, upload_id: str, wire: dict[str, Any]) -> str:
        body = {"client_request_id": client_request_id, "upload_id": upload_id, "request": wire}
        return str(self.client.post("/api/generate", body).json()["job_id"])

    def result(self, job_id: str) -> dict[str, Any]:
        return self.client.get(f"/api/results/{job_id}").json()

    def preview(self, job_id: str) -> Image.Image | None:
        try:
            data = self.client.get(f"/api/results/{job_id}/preview").content
        except Refused:
            return None  # none yet (404)
        try:
            return _decoded(data)
        except OSError:
            return None  # a preview is only a glimpse: a bad one is skipped

    def image(self, image_url: str) -> Image.Image:
        """The final image through its signed URL. Sent without the device token: the
        URL carries its own signature, and the token must never go to another host."""
        if not image_url.startswith(("http://", "https://")):
            image_url = self.url + image_url
        try:
            with httpx.Client(timeout=httpx.Timeout(60.0, connect=5.0)) as plain:
                response = plain.get(image_url)
        except httpx.TransportError as exc:
            raise CloudUnreachable(f"cannot download the result ({exc})") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise CloudUnreachable(f"the cloud answered {response.status_code}")
        if response.status_code != 200 or len(response.content) > MAX_IMAGE_BYTES:
            raise Refused(response.status_code, "the result could not be downloaded", None)
        try:
            return _decoded(response.content)
        except OSError as exc:
            raise Refused(200, f"the result is not a readable image ({exc})", None) from exc

    def cancel(self, job_id: str) -> None:
        self.client.post(f"/api/results/{job_id}/cancel")

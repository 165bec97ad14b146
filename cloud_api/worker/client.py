"""The worker's side of `/api/worker/*` (api/routes/render_worker.py), over httpx."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx


class ApiUnreachable(Exception):
    """The API did not answer: the attempt is retried (the job is not lost)."""


@dataclass(frozen=True)
class Claimed:
    job_id: str
    request: dict[str, Any]
    attempts: int
    attempts_allowed: int


class WorkerClient:
    def __init__(self, base_url: str, token: str, worker_id: str, timeout: float = 30.0) -> None:
        self.worker_id = worker_id
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiUnreachable(f"{path}: {exc}") from exc
        if response.status_code >= 500 or response.status_code in (401, 429):
            raise ApiUnreachable(f"{path}: HTTP {response.status_code} {response.text[:200]}")
        return response

    def claim(self, message_id: str) -> Claimed | None:
        response = self._send(
            "POST",
            "/api/worker/claim",
            json={"message_id": message_id, "worker_id": self.worker_id},
        )
        if response.status_code == 204:
            return None
        response.raise_for_status()
        body = response.json()
        return Claimed(body["job_id"], body["request"], body["attempts"], body["attempts_allowed"])

    def photo(self, job_id: str) -> bytes | None:
        response = self._send("GET", "/api/worker/photo", params={"job_id": job_id})
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.content

    def progress(
        self,
        job_id: str,
        message_id: str,
        *,
        step: int,
        steps: int,
        stage: str,
        preview: bytes | None,
    ) -> bool:
        """Reports a step; True when the job was cancelled."""
        body = {
            "job_id": job_id,
            "message_id": message_id,
            "worker_id": self.worker_id,
            "step": step,
            "steps": steps,
            "stage": stage,
            "preview_jpeg": base64.b64encode(preview).decode() if preview else None,
        }
        response = self._send("POST", "/api/worker/progress", json=body)
        response.raise_for_status()
        return bool(response.json()["cancel"])

    def result(self, job_id: str, message_id: str, png: bytes | None, meta: dict[str, Any]) -> str:
        data = {
            "job_id": job_id,
            "message_id": message_id,
            "worker_id": self.worker_id,
            "meta": json.dumps(meta),
        }
        files = {"image": ("result.png", png, "image/png")} if png is not None else None
        response = self._send("POST", "/api/worker/result", data=data, files=files)
        response.raise_for_status()
        return response.json()["status"]

    def fail(self, job_id: str, message_id: str, kind: str, message: str, retry: bool) -> bool:
        """Reports a failed attempt; True when the job is now final (no retry)."""
        body = {
            "job_id": job_id,
            "message_id": message_id,
            "worker_id": self.worker_id,
            "kind": kind,
            "message": message[:2000],
            "retry": retry,
        }
        response = self._send("POST", "/api/worker/fail", json=body)
        if response.status_code == 404:
            return True
        response.raise_for_status()
        return bool(response.json()["final"])

    def close(self) -> None:
        self._http.close()

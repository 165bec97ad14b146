"""Request and response bodies of the cloud render API (CLOUD_RENDER_CONTRACT)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class UploadOut(BaseModel):
    upload_id: str
    width: int
    height: int
    expires_at: datetime


class GenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_request_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Idempotency key: the same id from the same studio answers the same job.",
    )
    upload_id: str | None = Field(None, max_length=64)
    request: dict[str, Any] = Field(
        description="engine.request_wire.request_to_wire's dict (the photo comes from the upload)."
    )


class GenerateOut(BaseModel):
    job_id: str
    status: JobStatus
    created_at: datetime


class JobError(BaseModel):
    kind: str
    message: str


class ResultOut(BaseModel):
    job_id: str
    status: JobStatus
    step: int | None
    steps: int | None
    stage: str | None
    queue_position: int | None
    preview_url: str | None
    image_url: str | None = Field(description="Signed and expiring; needs no bearer token.")
    error: JobError | None
    attempts: int
    seed: int | None
    timings: dict[str, float] | None
    checks: list[dict[str, Any]]
    parameters: dict[str, Any] | None = Field(
        None, description="what the render ran with (engine RenderParameters), once succeeded"
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class CancelOut(BaseModel):
    job_id: str
    status: JobStatus


# ---- what render workers send and receive (api/routes/render_worker.py) ----------------


class ClaimIn(BaseModel):
    model_config = ConfigDict(strict=True)  # a bool is no step count

    message_id: str = Field(min_length=1, max_length=64)
    worker_id: str = Field(min_length=1, max_length=128)


class ClaimOut(BaseModel):
    job_id: str
    request: dict[str, Any]
    attempts: int
    attempts_allowed: int


class WorkerReport(BaseModel):
    """What every report from a worker about its claimed job carries."""

    model_config = ConfigDict(strict=True)  # a bool is no step count

    job_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    worker_id: str = Field(max_length=128)


class ProgressIn(WorkerReport):
    step: int = Field(ge=0)
    steps: int = Field(ge=0)
    stage: str = Field(max_length=32)
    preview_jpeg: str | None = Field(None, description="base64 JPEG of the latest preview")


class ProgressOut(BaseModel):
    cancel: bool


class FailIn(WorkerReport):
    kind: str = Field(max_length=64)
    message: str = Field(max_length=2000)
    retry: bool = Field(description="transient: another attempt may succeed")


class FailOut(BaseModel):
    final: bool
    status: JobStatus


class FinishOut(BaseModel):
    status: JobStatus

"""Renders in the studio's cloud, behind the same `Renderer` interface as the local one:
a request goes in, progress events (with the worker's step previews) come out, a
`RenderResult` comes back, and a CancelToken cancels the cloud job.

Upload the photo, generate with a fresh client request id (the idempotency key), poll the
results (a preview at every new step), download the signed image. When the studio cannot
be reached, the job waits in `CloudRenderQueue` (on disk) and `submit_waiting` sends it
later, filing its result in the library like a local render's.
"""

from __future__ import annotations

import contextlib
import io
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError, bad_input, cloud_error
from photoflux_desktop.engine.request import (
    CancelToken,
    ProgressCallback,
    ProgressEvent,
    RenderParameters,
    RenderRequest,
    RenderResult,
    Stage,
    Status,
    ignore_progress,
)
from photoflux_desktop.sync.client import (
    CloudClient,
    CloudUnreachable,
    Deferred,
    Refused,
    RetryPolicy,
    TokenRefused,
)
from photoflux_desktop.sync.cloud_api import CloudRenderApi
from photoflux_desktop.sync.cloud_queue import CloudRenderQueue
from photoflux_desktop.sync.link import CloudLink

if TYPE_CHECKING:
    from photoflux_desktop.engine.library import Library, LibraryEntry

POLL_S = 0.25
# a render waits for these: short retries, then the job is queued rather than hanging
CLOUD_POLICY = RetryPolicy(attempts=3, timeout_s=20.0, wait_initial_s=0.2, wait_max_s=2.0)
QUEUED_MESSAGE = (
    "No connection to the studio: the render is queued and runs in the cloud as soon as "
    "the studio is reachable. It will appear in the gallery."
)


def cloud_wire(request: RenderRequest) -> tuple[dict[str, Any], bytes]:
    """The request as the cloud gets it: its hardware choices are the worker's to make."""
    wire, png = request.to_wire()
    wire.update(device="auto", memory="auto", quantize="none", compile=False, previews=True)
    return wire, png


def _parameters(state: dict[str, Any], wire: dict[str, Any]) -> RenderParameters:
    ran = state.get("parameters")
    if isinstance(ran, dict) and ran:
        return RenderParameters.from_dict(ran)
    # an older service that does not say what ran: diffusion is the safe claim (the
    # result is then marked AI-generated rather than not)
    return RenderParameters(
        style=str(wire.get("style_id", "")),
        backend="diffusion",
        model=str(wire.get("model") or "cloud"),
        seed=state.get("seed"),
        subject=str(wire.get("prompt") or ""),
        steps=wire.get("steps"),
        strength=wire.get("strength"),
        guidance=wire.get("guidance"),
    )


def _completed(
    state: dict[str, Any], image: Image.Image, wire: dict[str, Any], waited_s: float
) -> RenderResult:
    timings = {k: float(v) for k, v in (state.get("timings") or {}).items()}
    timings["cloud_total"] = waited_s
    return RenderResult(
        Status.COMPLETED,
        image,
        _parameters(state, wire),
        timings=timings,
        report={"cloud_job_id": state.get("job_id")},
        notes=("Rendered in the studio's cloud.",),
        checks=tuple(state.get("checks") or ()),
    )


def _cancelled(wire: dict[str, Any]) -> RenderResult:
    return RenderResult(Status.CANCELLED, None, _parameters({}, wire))


def _job_failed(state: dict[str, Any]) -> PhotoFluxError:
    error = state.get("error") or {}
    message = str(error.get("message") or "no reason given")
    if error.get("kind") == "bad_input":
        return bad_input(f"The cloud refused the render: {message}")
    return cloud_error(
        f"The cloud render failed: {message}",
        "Try again, or render on this computer.",
        job_id=state.get("job_id"),
    )


def _refused(exc: Exception) -> PhotoFluxError:
    if isinstance(exc, TokenRefused):
        return cloud_error(
            f"The studio refused this device ({exc}).",
            "Connect to the studio again with a current device token.",
        )
    if isinstance(exc, Deferred):
        return cloud_error(
            f"The studio's render quota is used up ({exc.reason}).",
            "Try again later, or render on this computer.",
        )
    reason = exc.reason if isinstance(exc, Refused) else str(exc)
    return cloud_error(f"The studio refused the render: {reason}", "Render on this computer.")


@dataclass
class _Watch:
    """What the user has been shown, so each change is reported once."""

    position: int | None = -1
    step: int | None = -1
    stage: str | None = None


def _report(
    api: CloudRenderApi, state: dict[str, Any], watch: _Watch, on_progress: ProgressCallback
) -> None:
    status = state["status"]
    if status == "queued":
        position = state.get("queue_position")
        if position != watch.position:
            watch.position = position
            where = f" (position {position + 1})" if isinstance(position, int) else ""
            on_progress(
                ProgressEvent(Stage.QUEUED, message=f"Waiting in the studio's cloud queue{where}…")
            )
        return
    step, steps, stage = state.get("step"), state.get("steps"), state.get("stage")
    if stage == Stage.DENOISING and steps and step != watch.step:
        watch.step = step
        preview = api.preview(state["job_id"]) if state.get("preview_url") else None
        on_progress(ProgressEvent(Stage.DENOISING, step or 0, steps, preview))
    elif stage != watch.stage and stage in {s.value for s in Stage}:
        on_progress(ProgressEvent(Stage(stage), message="Rendering in the studio's cloud…"))
    watch.stage = stage


def follow(
    api: CloudRenderApi,
    job_id: str,
    wire: dict[str, Any],
    on_progress: ProgressCallback = ignore_progress,
    *,
    cancel: CancelToken | None = None,
    poll_s: float = POLL_S,
) -> RenderResult:
    """Polls a cloud job to its end; a cancel here cancels the job in the cloud."""
    started = time.perf_counter()
    watch = _Watch()
    while True:
        if cancel is not None and cancel.cancelled:
            with contextlib.suppress(CloudUnreachable, Refused, TokenRefused, Deferred):
                api.cancel(job_id)  # best effort: the job ends within a step there
            return _cancelled(wire)
        state = api.result(job_id)
        status = state["status"]
        if status == "succeeded":
            image = api.image(state["image_url"])
            on_progress(ProgressEvent(Stage.DONE))
            return _completed(state, image, wire, time.perf_counter() - started)
        if status == "failed":
            raise _job_failed(state)
        if status == "cancelled":
            return _cancelled(wire)
        _report(api, state, watch, on_progress)
        time.sleep(poll_s)


class CloudRenderer:
    """Satisfies `Renderer` through the studio link of the moment."""

    def __init__(
        self,
        link: Callable[[], CloudLink | None],
        *,
        queue: Callable[[], CloudRenderQueue] | None = None,
        source_name: Callable[[], str] = lambda: "photo",
        poll_s: float = POLL_S,
        policy: RetryPolicy = CLOUD_POLICY,
    ) -> None:
        self._link = link
        self._queue = queue
        self._source_name = source_name
        self.poll_s = poll_s
        self.policy = policy

    def render(
        self,
        request: RenderRequest,
        on_progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        link = self._link()
        if link is None:
            raise cloud_error(
                "This computer is not connected to a studio, so it cannot render in the cloud.",
                "Connect to your studio, or turn off Render in the cloud.",
            )
        wire, png = cloud_wire(request)
        request_id = uuid.uuid4().hex
        on_progress(ProgressEvent(Stage.QUEUED, message="Sending the photo to the studio…"))
        upload_id = job_id = None
        with CloudClient(link.url, link.token, policy=self.policy) as client:
            api = CloudRenderApi(client, link.url)
            try:
                upload_id = api.upload(png)
                if cancel is not None and cancel.cancelled:
                    return _cancelled(wire)
                job_id = api.generate(request_id, upload_id, wire)
                return follow(api, job_id, wire, on_progress, cancel=cancel, poll_s=self.poll_s)
            except CloudUnreachable as exc:
                raise self._queued(request_id, (wire, png), upload_id, job_id, exc) from exc
            except (TokenRefused, Refused, Deferred) as exc:
                raise _refused(exc) from exc

    def _queued(
        self,
        request_id: str,
        sent: tuple[dict[str, Any], bytes],
        upload_id: str | None,
        job_id: str | None,
        exc: CloudUnreachable,
    ) -> PhotoFluxError:
        wire, png = sent
        if self._queue is None:
            return cloud_error(f"The studio cannot be reached ({exc}).", "Render on this computer.")
        self._queue().add(
            request_id, self._source_name(), wire, png, upload_id=upload_id, job_id=job_id
        )
        details = {"queued": request_id}
        return PhotoFluxError(Error(ErrorKind.CLOUD, QUEUED_MESSAGE, "", details))


@dataclass
class QueueReport:
    entries: list[LibraryEntry] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # reasons
    waiting: int = 0
    error: str | None = None  # why the pass stopped early (offline, token refused)


def submit_waiting(
    queue: CloudRenderQueue, link: CloudLink, library: Library, policy: RetryPolicy = CLOUD_POLICY
) -> QueueReport:
    """One pass over the queued cloud renders: submits what was not sent (same client
    request id, so a resend is the same job), files what has finished in the library.
    Never blocks on a running job: what is still running waits for the next pass."""
    report = QueueReport()
    with CloudClient(link.url, link.token, policy=policy) as client:
        api = CloudRenderApi(client, link.url)
        for item in queue.waiting():
            try:
                _advance(api, queue, library, item, report)
            except (CloudUnreachable, TokenRefused, Deferred) as exc:
                report.error = str(exc)
                break
            except Refused as exc:
                queue.finish(item.id, "failed", error=exc.reason)
                report.failed.append(exc.reason)
    report.waiting = queue.count_waiting()
    return report


def _advance(
    api: CloudRenderApi, queue: CloudRenderQueue, library: Library, item: Any, report: QueueReport
) -> None:
    item_id = item.id
    job_id = item.job_id
    if job_id is None:
        upload_id = item.upload_id or api.upload(item.photo)
        queue.set_upload(item_id, upload_id)
        try:
            job_id = api.generate(item_id, upload_id, item.wire)
        except Refused as exc:
            if exc.status != 404:
                raise
            queue.set_upload(item_id, None)  # the upload expired meanwhile: upload again
            return
        queue.set_job(item_id, job_id)
    state = api.result(job_id)
    if state["status"] == "succeeded":
        image = api.image(state["image_url"])
        result = _completed(state, image, item.wire, 0.0)
        with Image.open(io.BytesIO(item.photo)) as photo:
            entry = library.add(result, item.source_name, source=photo.convert("RGB"))
        queue.finish(item_id, "done", entry_id=entry.id)
        report.entries.append(entry)
    elif state["status"] == "failed":
        reason = str((state.get("error") or {}).get("message") or "failed")
        queue.finish(item_id, "failed", error=reason)
        report.failed.append(reason)
    elif state["status"] == "cancelled":
        queue.finish(item_id, "cancelled")

"""Structured JSON logs, Prometheus metrics (HTTP plus business counters) and Sentry."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

EMAIL_PATTERN = re.compile(r"[^@\s\"'<>]+@[^@\s\"'<>]+\.[A-Za-z]{2,}")
# a QR share's token opens a guest's photo: it is stored only hashed, and the paths
# that carry it (`/r/<token>`) are logged and reported without it
SHARE_TOKEN_IN_PATH = re.compile(r"(/r/)[^/?#\s\"']+")


def redact_path(text: str) -> str:
    """`text` (a path or URL) with any share token replaced by `[token]`."""
    return SHARE_TOKEN_IN_PATH.sub(r"\1[token]", text) if "/r/" in text else text


SENSITIVE_KEYS = {
    "authorization",
    "cookie",
    "set-cookie",
    "password",
    "email",
    "name",
    "refresh_token",
    "access_token",
    "device_token",
    "x-api-key",
}


class _CurrentStderr:
    """Writes to whatever sys.stderr is at write time (tests and supervisors swap it)."""

    def msg(self, message: str) -> None:
        stream = sys.stderr
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger(*_args: object) -> _CurrentStderr:
    return _CurrentStderr()


def configure_logging(level: str) -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False, max_frames=20)
            ),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,  # each app may set its own level (tests do)
    )


def server_log_config(level: str) -> dict[str, Any]:
    """uvicorn's own lines (start-up, shutdown, protocol errors) as JSON too, so a log
    collector sees one format."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer(),
                ],
                "foreign_pre_chain": [
                    structlog.stdlib.add_log_level,
                    structlog.stdlib.add_logger_name,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                ],
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            name: {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
            for name in ("uvicorn", "uvicorn.error")
        },
    }


class BusinessMetrics:
    """Counters a studio cares about, next to the HTTP metrics, in the app's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.leads = Counter(
            "photoflux_leads_total", "Leads received", ["status"], registry=registry
        )
        self.events = Counter(
            "photoflux_events_total", "Analytics events received", ["outcome"], registry=registry
        )
        self.logins = Counter(
            "photoflux_logins_total", "Login attempts", ["outcome"], registry=registry
        )
        self.refreshes = Counter(
            "photoflux_token_refreshes_total", "Refresh attempts", ["outcome"], registry=registry
        )
        self.rate_limited = Counter(
            "photoflux_rate_limited_total",
            "Requests refused by a rate limit",
            ["scope"],
            registry=registry,
        )
        self.devices = Counter(
            "photoflux_device_tokens_total", "Device token changes", ["action"], registry=registry
        )
        self.deliveries = Counter(
            "photoflux_deliveries_total",
            "E-mail deliveries by outcome",
            ["outcome"],
            registry=registry,
        )
        self.erasures = Counter(
            "photoflux_gdpr_requests_total",
            "GDPR export and erase requests",
            ["action"],
            registry=registry,
        )
        self.renders = RenderMetrics(registry)


# seconds: a GPU render takes a few, a CPU one up to minutes
RENDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300, 600)


RENDER_OUTCOMES = ("succeeded", "failed", "cancelled")


class RenderMetrics:
    """Cloud render queue health; `queue_depth_per_worker` is the autoscaling signal."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.jobs = Counter(
            "photoflux_render_jobs_total", "Render jobs finished", ["outcome"], registry=registry
        )
        self.failures = Counter(
            "photoflux_render_failures_total",
            "Render attempts that failed, by error kind and whether the job will be retried",
            ["kind", "final"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "photoflux_render_queue_depth", "Render jobs waiting for a worker", registry=registry
        )
        self.workers = Gauge(
            "photoflux_render_workers",
            "Render workers heard from in the last minute",
            registry=registry,
        )
        self.depth_per_worker = Gauge(
            "photoflux_render_queue_depth_per_worker",
            "Queued jobs per live worker (queued jobs when none): scale workers on this",
            registry=registry,
        )
        self.wait = Histogram(
            "photoflux_render_queue_wait_seconds",
            "From generate to a worker starting the job",
            buckets=RENDER_BUCKETS,
            registry=registry,
        )
        self.latency = Histogram(
            "photoflux_render_job_seconds",
            "From generate to the job's final status (end-to-end latency)",
            ["outcome"],
            buckets=RENDER_BUCKETS,
            registry=registry,
        )
        # every outcome's series exists from start-up at zero, so dashboards and alert
        # rules (rates, p95) have data before the first job of each kind has finished
        for outcome in RENDER_OUTCOMES:
            self.jobs.labels(outcome=outcome)
            self.latency.labels(outcome=outcome)

    def set_depth(self, depth: int, workers: int) -> None:
        self.queue_depth.set(depth)
        self.workers.set(workers)
        self.depth_per_worker.set(depth / workers if workers else depth)


def scrub(value: Any) -> Any:
    """Removes credentials and personal data from a Sentry event before it leaves."""
    if isinstance(value, dict):
        return {
            key: "[scrubbed]" if str(key).lower() in SENSITIVE_KEYS else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return redact_path(EMAIL_PATTERN.sub("[email]", value))
    return value


def _before_send(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
    return scrub(event)


def init_sentry(dsn: str, environment: str, **options: Any) -> None:
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        # no user data, cookies, bodies or frame locals; before_send scrubs the rest
        data_collection={
            "user_info": False,
            "http_bodies": [],
            "stack_frame_variables": False,
        },
        before_send=_before_send,
        traces_sample_rate=0.0,
        **options,
    )

"""`photoflux-cloud`: serve the API, run a render worker, print fresh keys."""

from __future__ import annotations

import argparse
import base64
import gc
import secrets
import sys
from collections.abc import Sequence

from pydantic import ValidationError

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photoflux-cloud",
        description="PhotoFlux Cloud: leads, analytics, e-mail deliveries and devices for studios. "
        "Configured "
        "with PHOTOFLUX_* environment variables or a .env file (see README).",
    )
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the API with uvicorn (default)")
    serve.add_argument("--host", help="address to bind (default PHOTOFLUX_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default PHOTOFLUX_PORT, 8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (several need PHOTOFLUX_REDIS_URL and MongoDB)",
    )
    commands.add_parser("keygen", help="print fresh secrets for a .env file")
    commands.add_parser(
        "rotate-keys",
        help="re-encrypt stored personal data with the first key of PHOTOFLUX_FIELD_KEYS "
        "(put the new key first, keep the old ones after it until this has run)",
    )
    backup = commands.add_parser(
        "backup",
        help="write the database (PHOTOFLUX_MONGODB_URI, or the embedded store's "
        "PHOTOFLUX_EMBEDDED_SNAPSHOT) to a .tar.gz archive; keys are not in it",
    )
    backup.add_argument("archive", help="the .tar.gz file to write")
    restore = commands.add_parser(
        "restore",
        help="load a backup archive into the configured store; refuses when "
        "PHOTOFLUX_FIELD_KEYS cannot decrypt its leads",
    )
    restore.add_argument("archive", help="a .tar.gz written by `photoflux-cloud backup`")
    restore.add_argument(
        "--drop", action="store_true", help="replace a database that already holds data"
    )
    export_keys = commands.add_parser(
        "export-keys",
        help="write PHOTOFLUX_FIELD_KEYS and PHOTOFLUX_HASH_KEY to a file (mode 600) to "
        "keep apart from the data backups",
    )
    export_keys.add_argument("out", help="the file to write (must not exist)")
    commands.add_parser(
        "worker",
        help="run a render worker: takes cloud render jobs from Redis (PHOTOFLUX_REDIS_URL) "
        "and reports to the API (PHOTOFLUX_WORKER_API_URL, PHOTOFLUX_WORKER_TOKEN); one job "
        "at a time, models kept loaded",
    )
    return parser


def _keygen() -> int:
    def key() -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

    sys.stdout.write(
        f"PHOTOFLUX_SECRET_KEY={key()}\n"
        f"PHOTOFLUX_FIELD_KEYS=k{secrets.token_hex(3)}:{key()}\n"
        f"PHOTOFLUX_HASH_KEY={key()}\n"
        f"PHOTOFLUX_WORKER_TOKEN={key()}\n"
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    from cloud_api.core.config import ConfigError, Settings

    try:
        settings = Settings()
    except (ConfigError, ValidationError) as exc:
        sys.stderr.write(f"error: {_config_message(exc)}\n")
        return EXIT_BAD_INPUT
    import uvicorn

    from cloud_api.app import create_app
    from cloud_api.core.observability import server_log_config
    from cloud_api.core.server import uvicorn_options

    workers = max(1, args.workers)
    if workers > 1 and (settings.embedded_storage or not settings.redis_url):
        sys.stderr.write(
            "error: several workers need PHOTOFLUX_MONGODB_URI and PHOTOFLUX_REDIS_URL "
            "(each worker would otherwise keep its own data and limits)\n"
        )
        return EXIT_BAD_INPUT
    # Fewer, larger young-generation collections: the embedded store keeps every document
    # as live Python objects, and the default threshold (700) collected so often that
    # p99 at 5,000 events/s was 82 ms; with 50,000 it is 12 ms (bench/cloud_load.py).
    gc.set_threshold(50_000, 20, 100)
    app = None if workers > 1 else create_app(settings)
    port = settings.port if args.port is None else args.port
    if app is not None and app.state.ctx.queue.embedded:
        _start_embedded_worker(app, args.host or settings.host, port)
    uvicorn.run(
        "cloud_api.app:create_app" if app is None else app,
        factory=workers > 1,
        host=args.host or settings.host,
        port=port,
        workers=workers,
        **uvicorn_options(settings),
        access_log=False,  # RequestContext writes one structured line per request
        log_level=settings.log_level.lower(),
        log_config=server_log_config(settings.log_level),
    )
    return 0


def _start_embedded_worker(app: object, host: str, port: int) -> None:
    """No Redis: one render worker thread in this process, on the in-process queue."""
    from cloud_api.worker.main import start_embedded_worker

    ctx = app.state.ctx  # type: ignore[attr-defined]
    loopback = "127.0.0.1" if host in ("0.0.0.0", "", "localhost") else host
    if ":" in loopback:
        loopback = "[::1]" if loopback == "::" else f"[{loopback}]"
    start_embedded_worker(ctx.queue.broker, f"http://{loopback}:{port}", ctx.worker_token)


def _worker() -> int:
    from cloud_api.worker.settings import WorkerSettings

    try:
        settings = WorkerSettings()
    except ValidationError as exc:
        sys.stderr.write(f"error: {_config_message(exc)}\n")
        return EXIT_BAD_INPUT
    if not settings.redis_url or settings.worker_token is None:
        sys.stderr.write(
            "error: a render worker needs PHOTOFLUX_REDIS_URL (the queue) and "
            "PHOTOFLUX_WORKER_TOKEN (as set on the API); without Redis, `photoflux-cloud "
            "serve` runs its own worker thread\n"
        )
        return EXIT_BAD_INPUT
    from cloud_api.core.observability import configure_logging
    from cloud_api.worker.main import run_worker_process

    configure_logging(settings.log_level)
    return run_worker_process(settings)


def _rotate_keys() -> int:
    from cloud_api.api.context import build_context
    from cloud_api.core.config import ConfigError, Settings
    from cloud_api.store import leads

    try:
        settings = Settings()
    except (ConfigError, ValidationError) as exc:
        sys.stderr.write(f"error: {_config_message(exc)}\n")
        return EXIT_BAD_INPUT
    if settings.embedded_storage and settings.embedded_snapshot:
        from cloud_api.backup_cmd import rotate_snapshot

        return rotate_snapshot(settings)
    if settings.embedded_storage:
        sys.stderr.write(
            "error: set PHOTOFLUX_MONGODB_URI (or PHOTOFLUX_EMBEDDED_SNAPSHOT): the embedded "
            "store lives only inside a running server, so there is nothing here to re-encrypt\n"
        )
        return EXIT_BAD_INPUT
    ctx = build_context(settings)
    try:
        checked, rewritten = leads.reencrypt(ctx.storage.db, ctx.cipher)
    finally:
        ctx.storage.close()
    sys.stdout.write(
        f"{rewritten} of {checked} leads re-encrypted with key {settings.active_field_key_id!r}\n"
    )
    return 0


def _config_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if cause is not None:
            return str(cause)
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"PHOTOFLUX_{where.upper()}: {first.get('msg')}"
    return str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "keygen":
        return _keygen()
    if args.command == "rotate-keys":
        return _rotate_keys()
    if args.command in ("backup", "restore", "export-keys"):
        from cloud_api.backup_cmd import run_backup_command

        return run_backup_command(args)
    if args.command == "worker":
        return _worker()
    if args.command is None:
        args = _parser().parse_args(["serve"])
    return _serve(args)

"""`photoflux doctor`: what this machine has, what PhotoFlux would do, what is missing."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys
from datetime import UTC, datetime
from typing import Any

from photoflux_desktop import __version__
from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine import paths
from photoflux_desktop.engine.catalog import download_hint
from photoflux_desktop.engine.devices import choose_plan, detect_device, torch_available
from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.model_store import first_installed, installed_models
from photoflux_desktop.engine.openvino.choice import (
    decide_backend,
    physical_cores,
    requested_backend,
)
from photoflux_desktop.engine.presets import PresetError, bundled_presets
from photoflux_desktop.engine.qt_libs import check_qt_libs
from photoflux_desktop.engine.settings import load_settings
from photoflux_desktop.sync.status import sync_status

_PACKAGES = (
    "torch",
    "diffusers",
    "transformers",
    "accelerate",
    "optimum-quanto",
    "openvino",
    "nncf",
    "huggingface-hub",
    "pillow",
    "opencv-python-headless",
    "PyWavelets",
    "PySide6-Essentials",
)


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def _device_section(missing: list[str]) -> dict[str, Any]:
    if not torch_available():
        missing.append("torch is not installed: diffusion styles are off (instant styles work).")
        return {"device": None, "memory_plan": None, "backend": None}
    try:
        device = detect_device("auto")
    except PhotoFluxError as exc:
        missing.append(exc.error.message)
        return {"device": None, "memory_plan": None, "backend": None}
    located = first_installed()
    spec = located.spec if located else None
    plan = choose_plan(device, spec, weights_gb=3.0)
    backend = _backend_section(device.kind, located.family if located else "sd")
    if device.kind == "cpu" and backend["backend"] == "torch":
        missing.append("No GPU found: diffusion renders run on the CPU and take minutes.")
    return {
        "device": device.to_dict(),
        "backend": backend,
        "memory_plan": {"for_model": spec.id if spec else "sd-turbo (estimate)", **plan.to_dict()},
    }


def _backend_section(device_kind: str, family: str) -> dict[str, Any]:
    """Which backend a default render of the installed model takes, and why (the
    'backend' setting included; a forced backend that cannot work is reported, not raised)."""
    requested = requested_backend("auto", load_settings()[0].backend)
    try:
        decision = decide_backend(requested, device_kind, family)
    except PhotoFluxError as exc:
        return {"backend": "none", "reason": exc.error.message, "threads": None}
    threads = load_settings()[0].openvino_threads or physical_cores()
    return {**decision.to_dict(), "threads": threads if decision.backend == "openvino" else None}


def run_doctor(args: argparse.Namespace, console: Console) -> int:
    missing: list[str] = []
    try:
        preset_count: int | str = len(bundled_presets())
    except PresetError as exc:
        preset_count = f"broken: {exc}"
        missing.append(f"Style presets are broken: {exc}")
    models = {model_id: str(found.path) for model_id, found in installed_models().items()}
    if not models:
        missing.append("No diffusion model installed. " + download_hint())
    qt_libs = check_qt_libs()
    if qt_libs.missing:
        missing.append(
            f"The desktop app's Qt needs {', '.join(qt_libs.missing)}: "
            f"run `{qt_libs.install_command}`."
        )
    report = {
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": _versions(),
        **_device_section(missing),
        "paths": {
            "data": str(paths.data_dir()),
            "config": str(paths.config_dir()),
            "cache": str(paths.cache_dir()),
            "models": str(paths.models_dir()),
        },
        "presets": preset_count,
        "models_installed": models,
        "sync": sync_status(),
        "qt_libs": qt_libs.to_dict(),
        "missing": missing,
    }
    console.result(report, _human(report))
    return 0


def _human(report: dict[str, Any]) -> str:
    lines = [f"PhotoFlux {report['version']} on Python {report['python']} ({report['platform']})"]
    device = report.get("device")
    if device:
        memory = f", {device['free_gb']}/{device['total_gb']} GB free" if device["total_gb"] else ""
        lines.append(
            f"device: {device['name']} ({device['kind']}{memory}), torch {device['torch']}"
        )
    backend = report.get("backend")
    if backend:
        threads = f", {backend['threads']} threads" if backend["threads"] else ""
        lines.append(f"backend: {backend['backend']}{threads} ({backend['reason']})")
    plan = report.get("memory_plan")
    if plan:
        lines.append(f"memory plan: {plan['plan']} (then {', '.join(plan['fallbacks']) or 'none'})")
        lines.append(f"  why: {plan['reason']}")
    for name, version in report["packages"].items():
        lines.append(f"  {name:<24} {version or 'not installed'}")
    for key, value in report["paths"].items():
        lines.append(f"{key + ' folder:':<15} {value}")
    lines.append(f"style presets: {report['presets']}")
    lines.append(f"models installed: {', '.join(report['models_installed']) or 'none'}")
    lines.extend(_sync_lines(report["sync"]))
    lines.append(_qt_line(report["qt_libs"]))
    lines.extend(f"missing: {item}" for item in report["missing"])
    return "\n".join(lines)


def _sync_lines(sync: dict[str, Any]) -> list[str]:
    if sync["linked"]:
        lines = [f"studio cloud: {sync['url']} (credentials from {sync['credentials']})"]
    else:
        lines = [f"studio cloud: not linked ({sync['link_problem'] or 'photoflux connect'})"]
    lines.append(f"  keyring: {sync['keyring'] or 'no usable backend (use the environment)'}")
    pending, failed = sync["pending"], sync["failed"]
    lines.append(
        f"  outbox: {pending['lead']} leads, {pending['event']} events, "
        f"{pending['delivery']} deliveries, {pending['share']} QR shares pending; "
        f"{sum(failed.values())} failed; "
        f"{sync['dropped_events']} events dropped"
    )
    last = sync["last_sync_at"]
    when = datetime.fromtimestamp(last, UTC).isoformat(timespec="seconds") if last else "never"
    lines.append(f"  last sync: {when}; last error: {sync['last_error'] or 'none'}")
    return lines


def _qt_line(qt: dict[str, Any]) -> str:
    if not qt["checked"]:
        return f"desktop (Qt X11) libraries: not checked ({qt['reason']})"
    if not qt["missing"]:
        return "desktop (Qt X11) libraries: all present"
    return f"desktop (Qt X11) libraries: MISSING {', '.join(qt['missing'])}"

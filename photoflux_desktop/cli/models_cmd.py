"""`photoflux models` and `photoflux models download ID`."""

from __future__ import annotations

import argparse

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.catalog import commercial_models, likeness_addons
from photoflux_desktop.engine.downloads import download_model
from photoflux_desktop.engine.model_store import disk_usage, find_addon, installed_models
from photoflux_desktop.engine.paths import models_dir
from photoflux_desktop.engine.settings import load_settings


def run_models(args: argparse.Namespace, console: Console) -> int:
    if getattr(args, "models_command", None) == "download":
        return _download(args, console)
    installed = installed_models()
    # the studio setting "commercial-use models only" hides the other entries
    commercial_only = load_settings()[0].commercial_models_only
    items = []
    for spec in commercial_models(commercial_only):
        located = installed.get(spec.id)
        items.append(
            {
                "id": spec.id,
                "name": spec.name,
                "family": spec.family,
                "hub_id": spec.hub_id,
                "revision": spec.revision,
                "licence": spec.licence,
                "disk_gb": spec.disk_gb,
                "native_px": spec.native_px,
                "defaults": {
                    "steps": spec.steps,
                    "guidance": spec.guidance,
                    "strength": spec.strength,
                },
                "vram_gb": spec.vram_gb,
                "installed": located is not None,
                "path": str(located.path) if located else None,
                "source": located.source if located else None,
                "bytes_on_disk": disk_usage(located.path) if located else 0,
                "notes": spec.notes,
                "commercial_use": spec.commercial_use,
            }
        )
    addons = _addon_items(commercial_only)
    lines = [f"models folder: {models_dir()}"]
    for item in items:
        state = f"installed ({item['source']})" if item["installed"] else "not installed"
        lines.append(f"{item['id']:<13} {item['name']:<18} {item['disk_gb']:>5g} GB  {state}")
    if not installed:
        lines.append(
            "No diffusion model yet: `photoflux models download sd-turbo` is a good start."
        )
    lines.append("likeness add-ons (--likeness):")
    for addon in addons:
        state = "installed" if addon["installed"] else "not installed"
        terms = "" if addon["commercial_use"] else "  NON-COMMERCIAL, opt-in"
        lines.append(f"  {addon['id']:<26} {addon['disk_gb']:>5g} GB  {state}{terms}")
    console.result(
        {"models_dir": str(models_dir()), "models": items, "likeness_addons": addons},
        "\n".join(lines),
    )
    return 0


def _addon_items(commercial_only: bool) -> list[dict]:
    items = []
    for addon in likeness_addons(commercial_only):
        path = find_addon(addon.id)
        items.append(
            {
                "id": addon.id,
                "name": addon.name,
                "kind": addon.kind,
                "families": list(addon.families),
                "hub_id": addon.hub_id,
                "licence": addon.licence,
                "commercial_use": addon.commercial_use,
                "opt_in": addon.opt_in,
                "disk_gb": addon.disk_gb,
                "installed": path is not None,
                "path": str(path) if path else None,
                "notes": addon.notes,
            }
        )
    return items


def _download(args: argparse.Namespace, console: Console) -> int:
    tqdm_class = None
    if console.json_mode:
        from tqdm import tqdm

        class _Silent(tqdm):  # keep stdout to one JSON object
            def __init__(self, *a, **kw):
                kw["disable"] = True
                super().__init__(*a, **kw)

        tqdm_class = _Silent
    result = download_model(args.model_id, tqdm_class=tqdm_class)
    console.result(
        {"download": result.to_dict()},
        f"{args.model_id} is ready in {result.path} ({result.bytes_on_disk / 1024**3:.1f} GB).",
    )
    return 0

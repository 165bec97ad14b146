"""`photoflux models` and `photoflux models download ID`."""

from __future__ import annotations

import argparse

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.catalog import CATALOG
from photoflux_desktop.engine.downloads import download_model
from photoflux_desktop.engine.model_store import disk_usage, installed_models
from photoflux_desktop.engine.paths import models_dir


def run_models(args: argparse.Namespace, console: Console) -> int:
    if getattr(args, "models_command", None) == "download":
        return _download(args, console)
    installed = installed_models()
    items = []
    for spec in CATALOG.values():
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
            }
        )
    lines = [f"models folder: {models_dir()}"]
    for item in items:
        state = f"installed ({item['source']})" if item["installed"] else "not installed"
        lines.append(f"{item['id']:<13} {item['name']:<18} {item['disk_gb']:>5g} GB  {state}")
    if not installed:
        lines.append(
            "No diffusion model yet: `photoflux models download sd-turbo` is a good start."
        )
    console.result({"models_dir": str(models_dir()), "models": items}, "\n".join(lines))
    return 0


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

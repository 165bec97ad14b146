"""`photoflux styles` and `photoflux verify`."""

from __future__ import annotations

import argparse

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.presets import bundled_presets
from photoflux_desktop.engine.verify import verify_image


def run_styles(args: argparse.Namespace, console: Console) -> int:
    presets = bundled_presets()
    items = [
        {
            "id": preset.id,
            "name": preset.name,
            "description": preset.description,
            "kind": preset.kind,
            "category": preset.category,
            "instant": preset.instant.style if preset.instant else None,
            "tags": list(preset.tags),
            "defaults": {family: d.model_dump() for family, d in preset.defaults.items()},
        }
        for preset in presets.values()
    ]
    width = max(len(item["id"]) for item in items)
    lines = [f"{item['id']:<{width}}  {item['name']}: {item['description']}" for item in items]
    console.result({"styles": items}, "\n".join(lines))
    return 0


def run_verify(args: argparse.Namespace, console: Console) -> int:
    report = verify_image(args.image)
    lines = [f"{args.image}: {report.verdict}"]
    if report.watermark.bit_accuracy is not None:
        lines.append(f"  watermark bits matching: {report.watermark.bit_accuracy:.0%}")
    if report.metadata:
        meta = {key: _shown(report.metadata.get(key)) for key in _SHOWN_KEYS}
        lines.append(
            f"  metadata: {meta['app']} {meta['version']}, style {meta['style']}, "
            f"model {meta['model']}, seed {meta['seed']}, created {meta['created']}"
        )
    console.result(report.to_dict(), "\n".join(lines))
    return 0


_SHOWN_KEYS = ("app", "version", "style", "model", "seed", "created")


def _shown(value: object, limit: int = 120) -> str:
    """A metadata value as safe terminal text: anyone can write these fields into a
    file, so control characters (escape sequences that retitle or clear a terminal)
    are replaced and long values cut."""
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""`photoflux check DIR`: quality, safety and style-consistency report for a folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.folder_check import check_folder


def run_check(args: argparse.Namespace, console: Console) -> int:
    report = check_folder(Path(args.folder))
    console.result(report, human_report(report))
    return 0


def human_report(report: dict[str, Any]) -> str:
    lines = []
    for image in report["images"]:
        name = Path(image["path"]).name
        if not image["ok"]:
            lines.append(f"{name}: unreadable: {image['error']['message']}")
            continue
        style = image["style"] or "no PhotoFlux metadata"
        if image["flagged"]:
            reasons = [c["reason"] for c in image["checks"] if not c["passed"]]
            lines.append(f"{name} ({style}): FLAGGED: " + " ".join(reasons))
        else:
            lines.append(f"{name} ({style}): ok")
    lines.append("")
    lines.append("Per style:")
    for style, entry in report["styles"].items():
        consistency = entry["consistency"]
        if isinstance(consistency, dict):
            shown = (
                f"distance mean {consistency['mean_distance']:.2f}, max "
                f"{consistency['max_distance']:.2f}, {consistency['flagged']} off-style"
            )
        else:
            shown = "consistency not measured"
        likeness = entry["recorded_likeness"]
        if isinstance(likeness, dict):
            shown += f"; likeness at render time mean {likeness['mean']:.2f}, min "
            shown += f"{likeness['min']:.2f}"
        lines.append(
            f"  {style}: {entry['images']} image(s), {entry['flagged_images']} flagged; {shown}"
        )
    total = report["summary"]
    lines.append(
        f"{total['images']} image(s): {total['flagged']} flagged, {total['unreadable']} unreadable"
    )
    return "\n".join(lines)

"""`photoflux audit DIR --labels labels.csv`: a bias audit of the styles on a labelled set."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.audit import NOT_MEASURED, AuditPlan, run_audit
from photoflux_desktop.engine.request import CancelToken


def run_audit_cmd(args: argparse.Namespace, console: Console) -> int:
    styles = tuple(s.strip() for s in (args.styles or "").split(",") if s.strip())
    plan = AuditPlan(
        folder=Path(args.folder),
        labels=Path(args.labels),
        styles=styles,
        model=args.model,
        seed=args.seed,
        max_side=args.max_side,
        out=Path(args.out) if args.out else None,
    )
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        report = run_audit(
            plan,
            on_progress=lambda done, total, what: console.progress(f"{done}/{total} {what}"),
            cancel=cancel,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    console.result(report, human_report(report))
    return 0


def _likeness(entry: dict[str, Any]) -> str:
    value = entry["likeness"]
    return f"{value['mean']:.2f} / {value['min']:.2f}" if isinstance(value, dict) else "-"


def _done(entry: dict[str, Any]) -> str:
    """Renders made, and of how many tried when some failed (listed at the end)."""
    made = entry["renders"] - entry["failed_renders"]
    return str(made) if made == entry["renders"] else f"{made}/{entry['renders']}"


def _rate(value: float | str) -> str:
    return "-" if value == NOT_MEASURED else f"{value:.0%}"


def _failed(entry: dict[str, Any]) -> str:
    return ", ".join(f"{name} {n}" for name, n in entry["failed_checks"].items()) or "none"


def human_report(report: dict[str, Any]) -> str:
    lines = [
        f"Audit of {report['photos']} photo(s) in {len(report['styles'])} style(s) "
        f"(models: {', '.join(report['models']) or 'none'}; seed {report['seed']}).",
        "likeness = mean / min identity score; '-' = not measured (check not installed)",
    ]
    header = f"  {'group':<18} {'style':<16} {'renders':>7} {'likeness':>11} "
    header += f"{'no face':>8} {'face lost':>9} {'NSFW':>5}  failed checks"
    for column, values in report["groups"].items():
        lines += ["", f"By {column}:", header]
        for value, entry in values.items():
            for style, cell in entry["by_style"].items():
                lines.append(
                    f"  {value[:18]:<18} {style[:16]:<16} {_done(cell):>7} "
                    f"{_likeness(cell):>11} {_rate(cell['no_face_in_photo_rate']):>8} "
                    f"{_rate(cell['face_lost_rate']):>9} {_rate(cell['nsfw_flag_rate']):>5}  "
                    f"{_failed(cell)}"
                )
    if report["gaps"]:
        lines += ["", "Largest likeness gaps between groups:"]
        for gap in report["gaps"][:5]:
            lines.append(
                f"  {gap['style']} by {gap['column']}: {gap['best_group']} vs "
                f"{gap['worst_group']}, {gap['gap']:.2f}"
            )
    for error in report["errors"]:
        lines.append(
            f"could not render {error['file']} ({error['style']}): {error['error']['message']}"
        )
    return "\n".join(lines)

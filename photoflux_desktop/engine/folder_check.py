"""`photoflux check DIR`: the lone-image checks on every image of a folder.

Each image is checked on its own (engine/checks/lone.py); the style and renderer come
from the PhotoFlux metadata the file carries, and the checks recorded in that metadata at
render time (likeness, NSFW, blur, ...) are reported beside the ones run now. A file that
cannot be read is one entry with its error, never the end of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.checks.lone import lone_checks
from photoflux_desktop.engine.checks.style import NAME as STYLE_CHECK
from photoflux_desktop.engine.errors import PhotoFluxError, bad_input
from photoflux_desktop.engine.intake import load_photo
from photoflux_desktop.engine.provenance import read_record

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"})
CHECK_SIDE = 1024  # every check reduces further; no need to decode more than this
NO_STYLE = "(no PhotoFlux metadata)"


@dataclass
class ImageReport:
    path: Path
    style: str | None = None
    backend: str | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    recorded_checks: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    @property
    def flagged(self) -> list[str]:
        return [c["name"] for c in self.checks if not c["passed"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "ok": self.error is None,
            "style": self.style,
            "backend": self.backend,
            "flagged": self.flagged,
            "checks": self.checks,
            "recorded_checks": self.recorded_checks,
            "error": self.error,
        }


def image_files(folder: Path) -> list[Path]:
    """The image files directly in `folder` (by name), sorted; refuses a non-folder."""
    if not folder.is_dir():
        raise bad_input(f"{folder} is not a folder.", "Pass a folder that holds images.")
    files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )
    if not files:
        raise bad_input(
            f"{folder} holds no images (.png, .jpg, .webp or .tif).",
            "Pass the folder your renders were written to.",
        )
    return files


def check_image(path: Path) -> ImageReport:
    report = ImageReport(path)
    try:
        photo = load_photo(path, max_side=CHECK_SIDE)
    except PhotoFluxError as exc:
        report.error = exc.error.to_dict()
        return report
    except Exception as exc:  # a decoder bug on one odd file must not end the whole run
        report.error = {
            "kind": "internal",
            "message": f"{path.name} could not be read ({type(exc).__name__}: {exc}).",
            "hint": "",
        }
        return report
    try:
        record = read_record(path, photo.format) or {}
    except (OSError, ValueError):  # the pixels decoded; unreadable metadata is only absent
        record = {}
    report.style = _text(record.get("style"))
    report.backend = _text(record.get("backend"))
    parameters = record.get("parameters")
    strength = parameters.get("strength") if isinstance(parameters, dict) else None
    strength = float(strength) if isinstance(strength, int | float) else None
    checks = lone_checks(photo.image, report.style, report.backend or "instant", strength)
    report.checks = [check.to_dict() for check in checks]
    recorded = record.get("checks")
    if isinstance(recorded, list):
        report.recorded_checks = [c for c in recorded if isinstance(c, dict) and "name" in c]
    return report


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def per_style(reports: list[ImageReport]) -> dict[str, dict[str, Any]]:
    """Per style: how many images, how consistent (distance mean/max, flagged), how
    many images any check flagged."""
    summary: dict[str, dict[str, Any]] = {}
    for report in reports:
        if report.error is not None:
            continue
        entry = summary.setdefault(
            report.style or NO_STYLE,
            {"images": 0, "flagged_images": 0, "_distances": [], "_likeness": []},
        )
        entry["images"] += 1
        entry["flagged_images"] += bool(report.flagged)
        style = next((c for c in report.checks if c["name"] == STYLE_CHECK), None)
        if style is not None and not style["skipped"]:
            entry["_distances"].append((style["value"], style["passed"]))
        entry["_likeness"] += _recorded_likeness(report)
    for entry in summary.values():
        scores = entry.pop("_likeness")
        # measured at render time against the photo (the file alone cannot say)
        entry["recorded_likeness"] = (
            {
                "measured": len(scores),
                "mean": round(sum(scores) / len(scores), 4),
                "min": round(min(scores), 4),
            }
            if scores
            else "not measured"
        )
        distances = entry.pop("_distances")
        entry["consistency"] = (
            {
                "measured": len(distances),
                "mean_distance": round(sum(d for d, _ in distances) / len(distances), 4),
                "max_distance": round(max(d for d, _ in distances), 4),
                "flagged": sum(not passed for _, passed in distances),
            }
            if distances
            else "not measured"
        )
    return summary


def _recorded_likeness(report: ImageReport) -> list[float]:
    return [
        float(c["value"])
        for c in report.recorded_checks
        if c.get("name") == "likeness"
        and not c.get("skipped")
        and isinstance(c.get("value"), int | float)
    ]


def check_folder(folder: Path) -> dict[str, Any]:
    """The whole report for `folder`: per image, per style and totals."""
    reports = [check_image(path) for path in image_files(folder)]
    return {
        "folder": str(folder),
        "images": [r.to_dict() for r in reports],
        "styles": per_style(reports),
        "summary": {
            "images": len(reports),
            "unreadable": sum(r.error is not None for r in reports),
            "flagged": sum(bool(r.flagged) for r in reports),
        },
    }

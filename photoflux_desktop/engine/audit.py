"""Bias audit: does a style serve some groups of faces worse than others?

Every photo of a labelled folder (audit_labels.py) is rendered in every chosen style
through the same renderer a user's render goes through, so the checks are the ones a
render carries. Per group (each value of each label column) and style the report gives
likeness scores, how often no face was found, how often NSFW screening flagged, and which
checks failed. A check that is not installed is "not measured", never zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.audit_labels import LabelledPhoto, read_labels
from photoflux_desktop.engine.checks.nsfw import is_flagged
from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError, cancelled
from photoflux_desktop.engine.intake import load_photo
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.output import write_image
from photoflux_desktop.engine.presets import bundled_presets, get_preset
from photoflux_desktop.engine.provenance import result_record
from photoflux_desktop.engine.request import CancelToken, RenderRequest, Status

NOT_MEASURED = "not measured"
NSFW_CHECKS = ("nsfw_input", "nsfw_output")
# errors that would repeat for every render: stop the audit instead of failing each one
_FATAL = (ErrorKind.MODEL_MISSING, ErrorKind.CANCELLED)


@dataclass(frozen=True)
class AuditPlan:
    folder: Path
    labels: Path
    styles: tuple[str, ...] = ()  # empty: every bundled style
    model: str | None = None
    seed: int = 0
    max_side: int = 768
    out: Path | None = None  # also write every render here, as <style>/<photo>.png


@dataclass
class RenderRecord:
    file: str
    style: str
    groups: dict[str, str]
    checks: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None
    error: dict[str, Any] | None = None

    def check(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.checks if c.get("name") == name), None)


Progress = Callable[[int, int, str], None]


def run_audit(
    plan: AuditPlan,
    renderer: LocalRenderer | None = None,
    on_progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    columns, photos = read_labels(plan.labels, plan.folder)
    styles = list(plan.styles) or list(bundled_presets())
    for style in styles:
        get_preset(style)  # an unknown id is refused before any render
    renderer = renderer or LocalRenderer()
    records: list[RenderRecord] = []
    total, done = len(photos) * len(styles), 0
    for photo in photos:
        for record in _render_photo(plan, renderer, photo, styles, cancel):
            records.append(record)
            done += 1
            if on_progress is not None:
                on_progress(done, total, f"{record.file} in {record.style}")
    return report(plan, columns, styles, photos, records)


def _render_photo(
    plan: AuditPlan,
    renderer: LocalRenderer,
    photo: LabelledPhoto,
    styles: list[str],
    cancel: CancelToken | None,
) -> Iterable[RenderRecord]:
    name = photo.path.relative_to(plan.folder.resolve()).as_posix()
    try:
        image = load_photo(photo.path, max_side=plan.max_side).image
    except PhotoFluxError as exc:
        for style in styles:
            yield RenderRecord(name, style, photo.groups, error=exc.error.to_dict())
        return
    for style in styles:
        record = RenderRecord(name, style, photo.groups)
        try:
            request = RenderRequest(
                image=image,
                style_id=style,
                model=plan.model,
                seed=plan.seed,
                max_side=plan.max_side,
            )
            result = renderer.render(request, cancel=cancel)
            if result.status is not Status.COMPLETED:
                raise cancelled("Audit cancelled.")
            record.checks, record.model = list(result.checks), result.model
            if plan.out is not None:
                target = plan.out / style / f"{photo.path.stem}.png"
                write_image(result.image, target, result_record(result))
        except PhotoFluxError as exc:
            if exc.error.kind in _FATAL:
                raise
            record.error = exc.error.to_dict()
        yield record


def metrics(records: list[RenderRecord]) -> dict[str, Any]:
    """What the checks say about a set of renders; "not measured" where no render
    carried the check."""
    done = [r for r in records if r.error is None]
    scores = [
        float(c["value"])
        for r in done
        if (c := r.check("likeness")) and not c.get("skipped") and c.get("value") is not None
    ]
    faces = [c for r in done if (c := r.check("face_kept")) and not c.get("skipped")]
    with_face = [c for c in faces if not _no_face_in_photo(c)]
    nsfw = [r for r in done if any(r.check(name) for name in NSFW_CHECKS)]
    failed: dict[str, int] = {}
    for record in done:
        for check in record.checks:
            if not check.get("passed", True):
                failed[check["name"]] = failed.get(check["name"], 0) + 1
    return {
        "renders": len(records),
        "failed_renders": len(records) - len(done),
        "likeness": {
            "measured": len(scores),
            "mean": round(sum(scores) / len(scores), 4),
            "min": round(min(scores), 4),
        }
        if scores
        else NOT_MEASURED,
        "no_face_in_photo_rate": _rate(len(faces) - len(with_face), len(faces)),
        "face_lost_rate": _rate(sum(not c["passed"] for c in with_face), len(with_face)),
        "nsfw_flag_rate": _rate(sum(_nsfw_flagged(r) for r in nsfw), len(nsfw)),
        "failed_checks": dict(sorted(failed.items())),
    }


def _no_face_in_photo(face_kept: dict[str, Any]) -> bool:
    # face_kept passes with value 0 when the photo itself has no face (checks/quality.py)
    return bool(face_kept["passed"]) and face_kept.get("value") == 0


def _nsfw_flagged(record: RenderRecord) -> bool:
    # a screen that could not run failed too, but flagged nothing (value None)
    return any((c := record.check(name)) and is_flagged(c) for name in NSFW_CHECKS)


def _rate(count: int, out_of: int) -> float | str:
    return round(count / out_of, 4) if out_of else NOT_MEASURED


def report(
    plan: AuditPlan,
    columns: list[str],
    styles: list[str],
    photos: list[LabelledPhoto],
    records: list[RenderRecord],
) -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {}
    for column in columns:
        values = sorted({r.groups[column] for r in records})
        groups[column] = {
            value: _with_styles([r for r in records if r.groups[column] == value], styles)
            for value in values
        }
    return {
        "folder": str(plan.folder),
        "labels": str(plan.labels),
        "photos": len(photos),
        "styles": styles,
        "models": sorted({r.model for r in records if r.model}),
        "seed": plan.seed,
        "overall": _with_styles(records, styles),
        "groups": groups,
        "gaps": likeness_gaps(groups, styles),
        "errors": [
            {"file": r.file, "style": r.style, "error": r.error} for r in records if r.error
        ],
        "renders": [
            {"file": r.file, "style": r.style, "groups": r.groups, "checks": r.checks}
            for r in records
            if r.error is None
        ],
    }


def _with_styles(records: list[RenderRecord], styles: list[str]) -> dict[str, Any]:
    return {
        **metrics(records),
        "by_style": {s: metrics([r for r in records if r.style == s]) for s in styles},
    }


def likeness_gaps(groups: dict[str, dict[str, Any]], styles: list[str]) -> list[dict]:
    """Per label column and style, the best- and worst-served group by mean likeness:
    the first line to read in an audit."""
    gaps = []
    for column, values in groups.items():
        for style in styles:
            means = {
                value: entry["by_style"][style]["likeness"]["mean"]
                for value, entry in values.items()
                if isinstance(entry["by_style"][style]["likeness"], dict)
            }
            if len(means) < 2:
                continue
            best, worst = max(means, key=means.__getitem__), min(means, key=means.__getitem__)
            gaps.append(
                {
                    "column": column,
                    "style": style,
                    "best_group": best,
                    "worst_group": worst,
                    "gap": round(means[best] - means[worst], 4),
                }
            )
    return sorted(gaps, key=lambda gap: -gap["gap"])

"""What a style's own reference renders look like to the quality checks.

Some looks are meant to break the generic limits: a pencil sketch is mostly white paper
(half its pixels "blown"), a noir look is dark, claymation or stained glass draw faces that
a photo-trained face detector no longer finds, and a watercolour redraws a face so far that
dlib's identity score falls below its same-person line. Judged by the generic limits, every
such render would be flagged and, in studio mode, held back from delivery. The signature
builder (scripts/make_style_signatures.py) records, per style and renderer, how far its
reference renders go; the quality checks widen their limits to that, never narrow them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from photoflux_desktop.engine.checks.style import load_signatures, signature_for

FACE_KEPT_TRUSTED = 0.75  # below this share of reference renders, a lost face says nothing


@dataclass(frozen=True)
class StyleExpectations:
    clipped_max: float | None = None  # largest share of pure black/white pixels seen
    mean_range: tuple[float, float] | None = None  # grey-level means seen (0-255)
    face_kept_rate: float | None = None  # share of renders of a face where one was found
    likeness_min: float | None = None  # lowest identity score of its renders of a face

    @property
    def faces_unreliable(self) -> bool:
        return self.face_kept_rate is not None and self.face_kept_rate < FACE_KEPT_TRUSTED

    def to_dict(self) -> dict[str, Any]:
        return {
            "clipped_max": self.clipped_max,
            "mean_range": list(self.mean_range) if self.mean_range else None,
            "face_kept_rate": self.face_kept_rate,
            "likeness_min": self.likeness_min,
        }


def expectations_for(
    style_id: str | None, backend: str, signatures: dict[str, Any] | None = None
) -> StyleExpectations | None:
    """The expectations recorded for `style_id` as drawn by `backend`, if any."""
    if not style_id:
        return None
    data = signatures if signatures is not None else load_signatures()
    signature = signature_for(style_id, backend, data)
    expect = (signature or {}).get("expect")
    if not expect:
        return None
    mean_range = expect.get("mean_range")
    return StyleExpectations(
        clipped_max=expect.get("clipped_max"),
        mean_range=tuple(mean_range) if mean_range else None,
        face_kept_rate=expect.get("face_kept_rate"),
        likeness_min=expect.get("likeness_min"),
    )

"""`photoflux verify`: did PhotoFlux make this image? Watermark plus metadata."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.intake import load_photo
from photoflux_desktop.engine.provenance import read_record
from photoflux_desktop.engine.watermark import WatermarkCheck, detect_invisible


@dataclass(frozen=True)
class VerifyReport:
    path: Path
    watermark: WatermarkCheck
    metadata: dict[str, Any] | None

    @property
    def made_by_photoflux(self) -> bool:
        return self.watermark.detected or self.metadata is not None

    @property
    def verdict(self) -> str:
        if self.watermark.detected and self.metadata:
            return "made by PhotoFlux: invisible watermark and metadata found"
        if self.watermark.detected:
            return "made by PhotoFlux: invisible watermark found (metadata was removed)"
        if self.metadata:
            why = self.watermark.reason or "watermark not found, possibly edited"
            return f"PhotoFlux metadata found, no invisible watermark ({why})"
        return "no sign of PhotoFlux: no watermark, no metadata"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "made_by_photoflux": self.made_by_photoflux,
            "verdict": self.verdict,
            "watermark": self.watermark.to_dict(),
            "metadata": self.metadata,
        }


def verify_image(path: str | Path) -> VerifyReport:
    photo = load_photo(path, max_side=None)  # refuses non-images with a clear message
    return VerifyReport(
        Path(path), detect_invisible(photo.image), read_record(Path(path), photo.format)
    )

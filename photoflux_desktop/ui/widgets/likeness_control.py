"""The side panel's one Likeness control: mode, weight, minimum score, last score.

Mode and strength become the request's `likeness` / `likeness_strength` (the engine picks
the add-on per model family and names the download when one is missing); "Retry below"
is the request's `min_likeness` (the render is tried again with stronger likeness
control, at most 3 times). After each render the control shows the likeness score the
engine measured (dlib's face model, a different one from the conditioning) and a
warning when the person was lost.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

MODES = (
    ("Off", "none", "No likeness control: the style alone decides"),
    ("Structure: edges", "canny", "Keeps the photo's outlines (ControlNet, canny edges)"),
    ("Structure: depth", "depth", "Keeps the photo's depth (ControlNet + depth map)"),
    ("Face", "face", "Keeps the face (IP-Adapter plus-face)"),
    ("Both", "both", "Keeps the outlines and the face (ControlNet edges + IP-Adapter plus-face)"),
)
STRENGTH_STEPS = 20  # slider positions 1..20 are scales 0.1..2.0; 0 is the model's default
STRENGTH_TICK = 0.1


class LikenessControl(QWidget):
    changed = Signal()

    def __init__(self, combo: QComboBox, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = combo  # the panel's compact combo, so it sizes like its neighbours
        for label, value, tip in MODES:
            combo.addItem(label, value)
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        combo.setToolTip(
            "Keep the person recognisable (SD and SDXL models; needs the matching likeness "
            "add-on from Models…)"
        )
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, STRENGTH_STEPS)
        self.strength.setAccessibleName("Likeness strength")
        self.strength.setToolTip(
            "How strongly the likeness control binds; far left: the model's own default"
        )
        self.strength_label = QLabel()
        self.strength_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("Auto "))
        self.min_score = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2)
        self.min_score.setSpecialValueText("Off")
        self.min_score.setAccessibleName("Retry below likeness")
        self.min_score.setToolTip(
            "When the person's likeness score is lower than this (0.5: the face model's "
            "same-person line), render again with stronger likeness control, up to 3 tries; "
            "the best is kept"
        )
        self.score = QLabel()
        self.score.setObjectName("likenessScore")
        self.score.setWordWrap(True)
        self.score.hide()
        self._layout()
        combo.currentIndexChanged.connect(self._sync)
        self.strength.valueChanged.connect(self._sync)
        self.min_score.valueChanged.connect(self.changed)
        self._sync()

    def _layout(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.mode)
        strength = QHBoxLayout()
        strength.addWidget(QLabel("Weight"))  # "Strength" above is img2img's
        strength.addWidget(self.strength, 1)
        strength.addWidget(self.strength_label)
        column.addLayout(strength)
        retry = QHBoxLayout()
        retry.addWidget(QLabel("Retry below"))
        retry.addWidget(self.min_score, 1)
        column.addLayout(retry)
        column.addWidget(self.score)

    def _sync(self) -> None:
        on = self.mode_value() != "none"
        self.strength.setEnabled(on)
        value = self.strength_value()
        self.strength_label.setText("Auto" if value is None else f"{value:.1f}")
        self.changed.emit()

    def mode_value(self) -> str:
        return str(self.mode.currentData())

    def strength_value(self) -> float | None:
        """The conditioning scale, or None for the model family's default."""
        position = self.strength.value()
        return round(position * STRENGTH_TICK, 2) if position else None

    def min_likeness(self) -> float | None:
        value = round(self.min_score.value(), 2)
        return value or None

    def show_result(self, result: Any) -> None:
        """The likeness score of a finished render, a warning when it was lost."""
        summary = result.likeness_summary() if result is not None else None
        text, lost = _score_text(summary)
        self.score.setVisible(bool(text))
        self.score.setText(text)
        self.score.setProperty("warning", lost)
        self.score.setStyleSheet("color: #e5533d; font-weight: bold;" if lost else "")


def _score_text(summary: dict[str, Any] | None) -> tuple[str, bool]:
    """What the score line says, and whether it is a warning."""
    if not summary or summary.get("face_in_photo") is None:
        return "", False  # not measured (no face model, or an older result)
    tries = summary.get("attempts") or []
    after = f" after {len(tries)} tries" if len(tries) > 1 else ""
    if summary["face_in_photo"] is False:
        return "Likeness: no face in the photo", False
    if not summary["face_in_result"]:
        return f"⚠ Likeness lost: no face in the result{after}", True
    score = summary["score"]
    if not summary["passed"]:
        return f"⚠ Likeness lost: {score:.2f}{after} (may not look like them)", True
    if tries and not any(item.get("reached") for item in tries):
        return f"Likeness {score:.2f}{after}, below the retry line: still them", False
    return f"Likeness {score:.2f}{after}: still them", False

"""The training loss as a small line chart, painted (no plotting dependency)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

MARGIN = 8


class LossChart(QWidget):
    """Loss per step; a smoothed line over the raw points, scaled to what is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.losses: list[float] = []
        self.setMinimumHeight(120)
        self.setAccessibleName("Training loss chart")

    def add(self, loss: float) -> None:
        self.losses.append(loss)
        self.update()

    def clear(self) -> None:
        self.losses = []
        self.update()

    def smoothed(self, weight: float = 0.8) -> list[float]:
        """An exponential moving average: single steps' loss is noisy by nature."""
        out: list[float] = []
        for value in self.losses:
            out.append(value if not out else weight * out[-1] + (1 - weight) * value)
        return out

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = self.palette().text().color()
        painter.setPen(QPen(colour, 1))
        box = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        painter.drawRect(box)
        if len(self.losses) < 2:
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "The loss appears here")
            return
        low, high = min(self.losses), max(self.losses)
        span = (high - low) or 1.0
        last = len(self.losses) - 1

        def line(values: list[float]) -> QPolygonF:
            return QPolygonF(
                [
                    QPointF(
                        box.left() + box.width() * i / last,
                        box.bottom() - box.height() * (v - low) / span,
                    )
                    for i, v in enumerate(values)
                ]
            )

        faint = QPen(colour, 1)
        faint.setStyle(Qt.PenStyle.DotLine)
        painter.setPen(faint)
        painter.drawPolyline(line(self.losses))
        painter.setPen(QPen(self.palette().highlight().color(), 2))
        painter.drawPolyline(line(self.smoothed()))
        painter.setPen(QPen(colour, 1))
        painter.drawText(box.adjusted(4, 2, -4, -2), Qt.AlignmentFlag.AlignTop, f"{high:.3f}")
        painter.drawText(box.adjusted(4, 2, -4, -2), Qt.AlignmentFlag.AlignBottom, f"{low:.3f}")

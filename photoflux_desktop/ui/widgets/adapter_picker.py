"""The adapter picker: trained subjects (engine/training/adapters.py) to render with.

Each adapter is a checkable row with its sample picture, name, instance token and class
word; several may be ticked at once, each with its own strength (the slider edits the
current row's). An adapter trained for another model family than the chosen model's is
shown disabled with the reason, because the engine would refuse it at render time.
The picker also feeds the prompt's autocompletion with each adapter's token.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.request import LoraSpec
from photoflux_desktop.engine.training.adapters import (
    FAMILY_NAMES,
    AdapterInfo,
    list_adapters,
    sample_thumbnail,
)
from photoflux_desktop.ui.images import pil_to_qimage

NAME_ROLE = Qt.ItemDataRole.UserRole
WEIGHT_ROLE = Qt.ItemDataRole.UserRole + 1
DEFAULT_WEIGHT = 1.0


def _icon(info: AdapterInfo) -> QIcon:
    if info.sample:
        pixmap = QPixmap(info.sample)
        if not pixmap.isNull():
            return QIcon(pixmap)
    try:
        thumb = sample_thumbnail(Path(info.path))
    except Exception:  # an unreadable header: the row still lists the adapter
        thumb = None
    return QIcon(QPixmap.fromImage(pil_to_qimage(thumb))) if thumb is not None else QIcon()


class AdapterPicker(QWidget):
    changed = Signal()  # the ticked adapters or a strength changed
    adaptersChanged = Signal()  # the library was read again (tokens may differ)

    def __init__(self, folder: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = folder  # None: the user's adapter library
        self.infos: dict[str, AdapterInfo] = {}
        self.family = "sd"
        # the chosen model's family, asked afresh when the library is read or an adapter
        # chosen ("Automatic" can change family without the panel saying so)
        self.family_of: Callable[[], str] | None = None
        self._base_words: list[str] = []
        self._completion_sink = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setIconSize(QPixmap(40, 40).size())
        self.list.setMaximumHeight(130)
        # a disabled row's reason wraps under its name rather than scrolling sideways
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        # the dark theme leaves an unticked row's box invisible: draw it in both themes
        self.list.setStyleSheet(
            "QListWidget::indicator { width: 14px; height: 14px; border-radius: 3px;"
            " border: 1px solid palette(mid); }"
            # a ring, not a fill: a ticked row is often the selected (accent) row too
            " QListWidget::indicator:checked { background: palette(base);"
            " border: 4px solid palette(highlight); width: 8px; height: 8px; }"
            " QListWidget::indicator:disabled { border-style: dotted; }"
        )
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.list.setToolTip("Tick a trained subject to render it; several may be ticked")
        self.empty = QLabel("No trained subjects yet")
        self.empty.setObjectName("hint")
        self.list.itemChanged.connect(lambda _item: self.changed.emit())
        self.list.currentItemChanged.connect(self._show_weight)
        layout.addWidget(self.empty)
        layout.addWidget(self.list)
        layout.addLayout(self._strength_row())
        self._update_empty()

    def _strength_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 200)  # percent; LoRA weights run 0..2
        self.strength.setValue(int(DEFAULT_WEIGHT * 100))
        self.strength.setToolTip("How strongly the selected subject applies")
        self.strength_label = QLabel("1.00")
        self.strength.valueChanged.connect(self._weight_moved)
        row.addWidget(QLabel("Strength"))
        row.addWidget(self.strength, 1)
        row.addWidget(self.strength_label)
        return row

    # -- the library -----------------------------------------------------------------
    def refresh_adapters(self) -> None:
        """Read the adapter library again (after training one); ticks and strengths stay."""
        kept = {name: self.weight(name) for name in self.chosen_names()}
        self.list.blockSignals(True)
        self.list.clear()
        self.infos = {info.name: info for info in list_adapters(self.folder)}
        for info in self.infos.values():
            item = QListWidgetItem(_icon(info), info.name)
            item.setData(NAME_ROLE, info.name)
            item.setData(WEIGHT_ROLE, kept.get(info.name, DEFAULT_WEIGHT))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = info.name in kept
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.set_family(self._current_family())
        self._update_empty()
        self._push_completions()
        self.adaptersChanged.emit()
        self.changed.emit()

    def _update_empty(self) -> None:
        self.empty.setVisible(self.list.count() == 0)
        self.list.setVisible(self.list.count() > 0)
        self.strength.setEnabled(self.list.count() > 0)

    def _item(self, name: str) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            if self.list.item(row).data(NAME_ROLE) == name:
                return self.list.item(row)
        return None

    # -- the model family --------------------------------------------------------------
    def set_family(self, family: str) -> None:
        """Adapters for another family than `family` ('instant' or a diffusion family)
        are disabled and unticked, with the reason on the row."""
        self.family = family
        self.list.blockSignals(True)
        for row in range(self.list.count()):
            item = self.list.item(row)
            info = self.infos[item.data(NAME_ROLE)]
            reason = self.unusable_reason(info)
            flags = item.flags()
            if reason:
                item.setFlags(flags & ~Qt.ItemFlag.ItemIsEnabled)
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setText(f"{info.name} — {self._short_reason(info)}")
                item.setToolTip(f"{info.name} cannot be used: {reason}")
            else:
                item.setFlags(flags | Qt.ItemFlag.ItemIsEnabled)
                item.setText(f"{info.name} — {info.trigger}")
                item.setToolTip(
                    f"{info.name}: say “{info.trigger}” in the prompt "
                    f"(added for you when ticked). Trained on {self._family_name(info.family)}"
                    f"{f' ({info.base_model})' if info.base_model else ''}, {info.steps} steps."
                )
        self.list.blockSignals(False)
        self.changed.emit()

    def _current_family(self) -> str:
        return self.family_of() if self.family_of is not None else self.family

    def unusable_reason(self, info: AdapterInfo) -> str:
        if self.family == "instant":
            return "instant looks use no trained subjects; choose a diffusion model"
        if info.family != self.family:
            return (
                f"made for {self._family_name(info.family)} models; the chosen model is "
                f"{self._family_name(self.family)}"
            )
        return ""

    def _short_reason(self, info: AdapterInfo) -> str:
        if self.family == "instant":
            return "needs a diffusion model"
        return f"for {self._family_name(info.family)} models only"

    @staticmethod
    def _family_name(family: str) -> str:
        return FAMILY_NAMES.get(family, family)

    # -- choosing ------------------------------------------------------------------------
    def choose_adapter(self, name: str, weight: float | None = None) -> bool:
        """Tick `name` (reading the library again if it is new) and make it the current
        row; False when there is no such adapter or it cannot run on the chosen model."""
        if name not in self.infos:
            self.refresh_adapters()
        elif self._current_family() != self.family:
            self.set_family(self._current_family())
        item = self._item(name)
        if item is None or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return False
        if weight is not None:
            item.setData(WEIGHT_ROLE, weight)
        item.setCheckState(Qt.CheckState.Checked)
        self.list.setCurrentItem(item)
        return True

    def chosen_names(self) -> list[str]:
        return [
            self.list.item(row).data(NAME_ROLE)
            for row in range(self.list.count())
            if self.list.item(row).checkState() == Qt.CheckState.Checked
        ]

    def chosen(self) -> list[AdapterInfo]:
        return [self.infos[name] for name in self.chosen_names()]

    def weight(self, name: str) -> float:
        item = self._item(name)
        return float(item.data(WEIGHT_ROLE)) if item is not None else DEFAULT_WEIGHT

    def lora_specs(self) -> tuple[LoraSpec, ...]:
        return tuple(LoraSpec(info.path, self.weight(info.name)) for info in self.chosen())

    def _show_weight(self, item: QListWidgetItem | None) -> None:
        weight = float(item.data(WEIGHT_ROLE)) if item is not None else DEFAULT_WEIGHT
        self.strength.blockSignals(True)
        self.strength.setValue(round(weight * 100))
        self.strength.blockSignals(False)
        self.strength_label.setText(f"{weight:.2f}")

    def _weight_moved(self, value: int) -> None:
        self.strength_label.setText(f"{value / 100:.2f}")
        item = self.list.currentItem()
        if item is not None:
            item.setData(WEIGHT_ROLE, value / 100)
            self.changed.emit()

    # -- autocompletion ------------------------------------------------------------------
    def completion_words(self) -> list[str]:
        """Each adapter's instance token and its "token class" phrase."""
        words: list[str] = []
        for info in self.infos.values():
            if info.token:
                words += [info.token, info.trigger.strip()]
        return list(dict.fromkeys(words))

    def feed_completions(self, sink: object, base_words: list[str]) -> None:
        """`sink.set_completions(words)` gets `base_words` plus the adapter tokens, now
        and whenever the library is read again."""
        self._completion_sink, self._base_words = sink, list(base_words)
        self._push_completions()

    def _push_completions(self) -> None:
        if self._completion_sink is not None:
            words = self.completion_words()
            self._completion_sink.set_completions(
                words + [w for w in self._base_words if w not in words]
            )

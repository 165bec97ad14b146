"""Prompt and parameters: model, strength, steps, guidance, seed, size, likeness, LoRA.

Defaults follow the chosen style and model family (the preset's per-family values, or
the instant amount for instant styles); Reset returns to them. Steps, guidance, seed,
LoRA and the memory plan sit in a collapsible "Advanced" section, closed until the
user opens it (remembered in QSettings).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from photoflux_desktop.engine.catalog import AUTO_PREFERENCE, CATALOG
from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.model_store import family_of, installed_models
from photoflux_desktop.engine.presets import Preset
from photoflux_desktop.engine.request import RenderParameters
from photoflux_desktop.ui.widgets.likeness_control import LikenessControl

AUTO, INSTANT = "auto", "instant"


class _CompactCombo(QComboBox):
    """Narrow when closed; its list opens wide enough for every entry, whole; the
    tooltip spells out the current choice when the closed box cuts it."""

    def __init__(self) -> None:
        super().__init__()
        self._about = ""
        self.currentTextChanged.connect(self._refresh_tip)

    def setToolTip(self, text: str) -> None:  # Qt's own name: keeps the base tip
        self._about = text
        self._refresh_tip()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:  # items may change with signals blocked
            self._refresh_tip()
        return super().event(event)

    def _refresh_tip(self) -> None:
        super().setToolTip("\n".join(part for part in (self.currentText(), self._about) if part))

    def showPopup(self) -> None:
        view = self.view()
        view.setTextElideMode(Qt.TextElideMode.ElideNone)
        view.setMinimumWidth(view.sizeHintForColumn(0) + 2 * view.frameWidth() + 24)
        super().showPopup()


def _compact_combo(min_chars: int) -> QComboBox:
    """A combo box that does not demand the width of its longest entry."""
    combo = _CompactCombo()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(min_chars)
    return combo


SIZES = (512, 768, 1024, 1536, 2048)
MEMORY_PLANS = (
    ("auto", "Automatic"),
    ("full", "Fastest (all in graphics memory)"),
    ("lowmem", "Lower memory"),
    ("offload", "Offload (NVIDIA, less memory)"),
    ("sequential", "Smallest (NVIDIA, slowest)"),
)
ADVANCED_KEY = "panel/advancedOpen"


@dataclass(frozen=True)
class Parameters:
    prompt: str
    model: str
    strength: float
    steps: int
    guidance: float
    seed: int
    seed_locked: bool
    max_side: int
    likeness: str
    lora_path: str | None
    lora_weight: float
    likeness_strength: float | None = None  # None: the model family's default
    min_likeness: float | None = None  # None: no likeness retries


class ParameterPanel(QWidget):
    changed = Signal()
    manageModelsRequested = Signal()
    memoryChanged = Signal(str)  # a Settings.memory value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preset: Preset | None = None
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # in a narrow side panel (800 px window) a field goes under its label, not off the edge
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Prompt", self._prompt_field())
        form.addRow("Model", self._model_row())
        self.strength = QDoubleSpinBox(minimum=0.05, maximum=1.0, singleStep=0.05, decimals=2)
        self.strength.setToolTip("How far the result may move away from the photo")
        form.addRow("Strength", self.strength)
        self.size = _compact_combo(6)
        for side in SIZES:
            self.size.addItem(f"{side} px (long side)", side)
        self.size.setCurrentIndex(SIZES.index(1024))
        form.addRow("Size", self.size)
        form.addRow("Likeness", self._likeness_control())
        self.reset_button = QPushButton("Reset to style defaults")
        self.reset_button.clicked.connect(self.reset)
        form.addRow(self.reset_button)
        form.addRow(self._advanced_toggle())
        form.addRow(self._advanced_section())
        self.model.currentIndexChanged.connect(self._model_changed)
        self._auto_family = INSTANT  # what "Automatic" renders with; set by refresh_models
        self._fill_models(installed=None)  # disk is probed later, by refresh_models()
        self.randomise_seed()

    def _advanced_toggle(self) -> QToolButton:
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setObjectName("sectionToggle")
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setToolTip("Steps, guidance, seed, LoRA and memory plan")
        self.advanced_toggle.toggled.connect(self.set_advanced_open)
        return self.advanced_toggle

    def _advanced_section(self) -> QWidget:
        self.advanced = QWidget()
        form = QFormLayout(self.advanced)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.steps = QSpinBox(minimum=1, maximum=50)
        self.guidance = QDoubleSpinBox(minimum=0.0, maximum=20.0, singleStep=0.5, decimals=1)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Seed", self._seed_row())
        form.addRow("LoRA", self._lora_row())
        self.memory = _compact_combo(8)
        for value, label in MEMORY_PLANS:
            self.memory.addItem(label, value)
        self.memory.setToolTip("Where the model's weights live while it renders")
        self.memory.currentIndexChanged.connect(
            lambda _i: self.memoryChanged.emit(self.memory.currentData())
        )
        form.addRow("Memory", self.memory)
        opened = QSettings().value(ADVANCED_KEY, False, type=bool)
        self.advanced.setVisible(opened)
        self.advanced_toggle.setChecked(opened)
        self._show_arrow(opened)
        return self.advanced

    def set_advanced_open(self, opened: bool) -> None:
        self.advanced.setVisible(opened)
        if self.advanced_toggle.isChecked() != opened:
            self.advanced_toggle.setChecked(opened)
        self._show_arrow(opened)
        QSettings().setValue(ADVANCED_KEY, opened)

    def _show_arrow(self, opened: bool) -> None:
        arrow = Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow
        self.advanced_toggle.setArrowType(arrow)

    def set_memory(self, plan: str) -> None:
        self.memory.blockSignals(True)
        self.memory.setCurrentIndex(max(0, self.memory.findData(plan)))
        self.memory.blockSignals(False)

    def _prompt_field(self) -> QLineEdit:
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("Subject (optional), e.g. a sailor")
        self.prompt.setClearButtonEnabled(True)
        self.completions = QStringListModel()
        completer = QCompleter(self.completions, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.prompt.setCompleter(completer)
        return self.prompt

    def _model_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.model = _compact_combo(8)
        self.model.setToolTip("Which engine renders: a diffusion model, or the instant style")
        manage = QToolButton()
        manage.setText("Models…")
        manage.clicked.connect(self.manageModelsRequested)
        row.addWidget(self.model, 1)
        row.addWidget(manage)
        return row

    def _seed_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.seed.setMinimumWidth(70)
        self.seed_lock = QCheckBox("Lock")
        self.seed_lock.setToolTip("Keep this seed for the next renders")
        dice = QToolButton()
        dice.setText("New")
        dice.setToolTip("New random seed")
        dice.clicked.connect(self.randomise_seed)
        row.addWidget(self.seed, 1)
        row.addWidget(self.seed_lock)
        row.addWidget(dice)
        return row

    def _likeness_control(self) -> LikenessControl:
        self.likeness_control = LikenessControl(_compact_combo(6))
        self.likeness = self.likeness_control.mode  # the mode combo, as before
        self.likeness_control.changed.connect(self.changed)
        return self.likeness_control

    def _lora_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.lora = QLineEdit()
        self.lora.setMinimumWidth(50)
        self.lora.setPlaceholderText("No LoRA")
        self.lora.setReadOnly(True)
        browse = QToolButton()
        browse.setText("…")
        browse.clicked.connect(self._choose_lora)
        clear = QToolButton()
        clear.setText("✕")
        clear.clicked.connect(self.lora.clear)
        self.lora_weight = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.1, value=1.0)
        for widget, stretch in ((self.lora, 1), (browse, 0), (clear, 0), (self.lora_weight, 0)):
            row.addWidget(widget, stretch)
        return row

    # -- models ------------------------------------------------------------------
    def refresh_models(self, models_dir: Path | None = None) -> None:
        """Probe what is installed (models folder, HF cache): call off the start-up path."""
        installed = installed_models(models_dir)
        first = next((installed[m] for m in AUTO_PREFERENCE if m in installed), None)
        self._auto_family = first.family if first else INSTANT
        self._fill_models(installed)
        self._sync_prompt()

    def _fill_models(self, installed: dict | None) -> None:
        current = self.model.currentData()
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItem("Automatic (best installed)", AUTO)
        self.model.addItem("Instant style (no model)", INSTANT)
        for spec in CATALOG.values():
            state = "" if installed is None or spec.id in installed else " — not installed"
            self.model.addItem(f"{spec.name}{state}", spec.id)
        if current and self.model.findData(current) < 0:
            self.model.addItem(f"Folder: {current}", current)  # keep a folder the user chose
        self.model.setCurrentIndex(max(0, self.model.findData(current)) if current else 0)
        self.model.blockSignals(False)

    def has_diffusion_model(self) -> bool:
        """Whether "Automatic" found an installed diffusion model (refresh_models)."""
        return self._auto_family != INSTANT

    def set_model(self, model: str) -> None:
        index = self.model.findData(model)
        if index < 0:  # a folder chosen by path
            self.model.addItem(f"Folder: {model}", model)
            index = self.model.count() - 1
        self.model.setCurrentIndex(index)

    def family(self) -> str:
        """'instant' or the diffusion family the current choice renders with."""
        choice = self.model.currentData()
        if choice == INSTANT:
            return INSTANT
        if choice == AUTO:
            return self._auto_family
        if choice in CATALOG:
            return CATALOG[choice].family
        try:
            return family_of(Path(choice))
        except PhotoFluxError:
            return "sd"

    def _model_changed(self) -> None:
        self.reset()
        self.changed.emit()

    # -- values ------------------------------------------------------------------
    def set_preset(self, preset: Preset) -> None:
        self.preset = preset
        self.reset()

    def reset(self) -> None:
        if self.preset is None:
            return
        family = self.family()
        diffusion = family != INSTANT
        for widget in (self.steps, self.guidance):
            widget.setEnabled(diffusion)
        self._sync_prompt()
        if diffusion:
            defaults = self.preset.defaults[family]
            self.strength.setValue(defaults.strength)
            self.steps.setValue(defaults.steps)
            self.guidance.setValue(defaults.guidance)
        else:
            self.strength.setValue(self.preset.instant.amount if self.preset.instant else 1.0)
        self.changed.emit()

    def _sync_prompt(self) -> None:
        # an instant look takes no prompt: say so rather than ignore what is typed
        diffusion = self.family() != INSTANT
        self.prompt.setEnabled(diffusion)
        self.prompt.setPlaceholderText(
            "Subject (optional), e.g. a sailor" if diffusion else "Instant looks take no prompt"
        )

    def randomise_seed(self) -> None:
        self.seed.setValue(random.randrange(2**31))

    def set_completions(self, words: list[str]) -> None:
        self.completions.setStringList(words)

    def values(self) -> Parameters:
        lora = self.lora.text().strip() or None
        return Parameters(
            prompt=self.prompt.text().strip() if self.prompt.isEnabled() else "",
            model=self.model.currentData(),
            strength=round(self.strength.value(), 3),
            steps=self.steps.value(),
            guidance=self.guidance.value(),
            seed=self.seed.value(),
            seed_locked=self.seed_lock.isChecked(),
            max_side=self.size.currentData(),
            likeness=self.likeness.currentData(),
            lora_path=lora,
            lora_weight=self.lora_weight.value(),
            likeness_strength=self.likeness_control.strength_value(),
            min_likeness=self.likeness_control.min_likeness(),
        )

    def apply(self, params: RenderParameters) -> None:
        """Reopen a past result's settings (the same record for every backend)."""
        if params.model:
            instant = params.backend == INSTANT or params.model.startswith("instant:")
            self.set_model(INSTANT if instant else params.model)
        self.prompt.setText(params.subject)
        if params.strength is not None:
            self.strength.setValue(params.strength)
        if params.steps:
            self.steps.setValue(params.steps)
        if params.guidance is not None:
            self.guidance.setValue(params.guidance)
        if params.seed is not None:
            self.seed.setValue(params.seed % 2**31)
            self.seed_lock.setChecked(True)
        if params.loras:
            self.lora.setText(params.loras[0].path)
            self.lora_weight.setValue(params.loras[0].weight)

    def _choose_lora(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a LoRA", "", "LoRA (*.safetensors)")
        if path:
            self.lora.setText(path)

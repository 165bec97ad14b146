"""Prompt and parameters: model, strength, steps, guidance, seed, size, likeness, LoRA.

Defaults follow the chosen style and model family (the preset's per-family values, or
the instant amount for instant styles); Reset returns to them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QStringListModel, Qt, Signal
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

AUTO, INSTANT = "auto", "instant"


def _compact_combo(min_chars: int) -> QComboBox:
    """A combo box that does not demand the width of its longest entry."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(min_chars)
    return combo


SIZES = (512, 768, 1024, 1536, 2048)


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


class ParameterPanel(QWidget):
    changed = Signal()
    manageModelsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preset: Preset | None = None
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Prompt", self._prompt_field())
        form.addRow("Model", self._model_row())
        self.strength = QDoubleSpinBox(minimum=0.05, maximum=1.0, singleStep=0.05, decimals=2)
        self.strength.setToolTip("How far the result may move away from the photo")
        self.steps = QSpinBox(minimum=1, maximum=50)
        self.guidance = QDoubleSpinBox(minimum=0.0, maximum=20.0, singleStep=0.5, decimals=1)
        form.addRow("Strength", self.strength)
        form.addRow("Steps", self.steps)
        form.addRow("Guidance", self.guidance)
        form.addRow("Seed", self._seed_row())
        self.size = _compact_combo(6)
        for side in SIZES:
            self.size.addItem(f"{side} px (long side)", side)
        self.size.setCurrentIndex(SIZES.index(1024))
        form.addRow("Size", self.size)
        form.addRow("Likeness", self._likeness_combo())
        form.addRow("LoRA", self._lora_row())
        self.reset_button = QPushButton("Reset to style defaults")
        self.reset_button.clicked.connect(self.reset)
        form.addRow(self.reset_button)
        self.model.currentIndexChanged.connect(self._model_changed)
        self._auto_family = INSTANT  # what "Automatic" renders with; set by refresh_models
        self._fill_models(installed=None)  # disk is probed later, by refresh_models()
        self.randomise_seed()

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

    def _likeness_combo(self) -> QComboBox:
        self.likeness = _compact_combo(6)
        self.likeness.addItem("Off", "none")
        # the engine names the add-on to download when one is missing (error banner)
        for label, value, tip in (
            ("Structure: edges", "canny", "Keeps the photo's outlines (ControlNet, canny edges)"),
            ("Structure: depth", "depth", "Keeps the photo's depth (ControlNet + depth map)"),
            ("Face", "face", "Keeps the face (IP-Adapter plus-face)"),
        ):
            self.likeness.addItem(label, value)
            self.likeness.setItemData(self.likeness.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.likeness.setToolTip(
            "Keep the person recognisable (SD and SDXL models; needs the matching likeness "
            "add-on from Models…)"
        )
        return self.likeness

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
        if diffusion:
            defaults = self.preset.defaults[family]
            self.strength.setValue(defaults.strength)
            self.steps.setValue(defaults.steps)
            self.guidance.setValue(defaults.guidance)
        else:
            self.strength.setValue(self.preset.instant.amount if self.preset.instant else 1.0)
        self.changed.emit()

    def randomise_seed(self) -> None:
        self.seed.setValue(random.randrange(2**31))

    def set_completions(self, words: list[str]) -> None:
        self.completions.setStringList(words)

    def values(self) -> Parameters:
        lora = self.lora.text().strip() or None
        return Parameters(
            prompt=self.prompt.text().strip(),
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

""" "Teach a subject": photos with their checks, the preset, training with loss and
samples, then the adapter ready to use. The engine does the work (engine/training);
this dialog only gathers choices and shows progress.

Pages: 0 photos and subject, 1 preset, 2 training, 3 done. Photo checks and the device
probe run on the shared pool; training on its own thread (training_controller.py).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.lazy import training
from photoflux_desktop.engine.model_store import installed_models
from photoflux_desktop.engine.paths import data_dir
from photoflux_desktop.engine.training import adapters
from photoflux_desktop.ui.background import start_job
from photoflux_desktop.ui.training_controller import TrainingRunner
from photoflux_desktop.ui.widgets.error_banner import ErrorBanner
from photoflux_desktop.ui.widgets.loss_chart import LossChart

if TYPE_CHECKING:
    from photoflux_desktop.engine.training.facade import (
        DatasetOptions,
        PreparedDataset,
        TrainingEvent,
        TrainingOutcome,
        TrainingPreset,
    )

# the engine's defaults (engine/training/dataset.py), here without loading it at start-up
DEFAULT_TOKEN, MIN_PHOTOS, IDEAL_PHOTOS = "ohwx", 3, (4, 30)
CLASS_WORDS = ("person", "dog", "cat", "product", "object")
PHOTO_FILTER = "Photos (*.jpg *.jpeg *.png *.webp *.tif *.tiff)"
THUMB = 56


def runs_dir() -> Path:
    """Where each subject's training run (checkpoints, samples, dataset) lives."""
    return data_dir() / "training"


class TeachSubjectDialog(QDialog):
    adapter_saved = Signal(str)  # the adapter's name, once it is in the library

    def __init__(self, parent: QWidget | None = None, models_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Teach a subject")
        self.resize(640, 560)
        self.models_dir = models_dir
        self.staging = Path(tempfile.mkdtemp(prefix="photoflux-teach-"))
        self.dataset: PreparedDataset | None = None
        self.presets: list[TrainingPreset] = []
        self.outcome: TrainingOutcome | None = None
        self.jobs: list[Any] = []  # photo checks and the device probe (tests wait on them)
        self.runner = TrainingRunner(self)
        self.runner.event.connect(self._on_event)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.error = ErrorBanner(self)
        self.pages = QStackedWidget(self)
        for build in (self._photos_page, self._preset_page, self._training_page, self._done_page):
            self.pages.addWidget(build())
        self.back = QPushButton("Back")
        self.next = QPushButton("Next")
        self.back.clicked.connect(self.go_back)
        self.next.clicked.connect(self.go_next)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.back)
        buttons.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.addWidget(self.error)
        layout.addWidget(self.pages, 1)
        layout.addLayout(buttons)
        self._show_page(0)

    # ---- page 0: the subject and its photos ------------------------------------------
    def _photos_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout()
        self.name = QLineEdit(placeholderText="e.g. anna")
        self.name.textChanged.connect(self._update_next)
        self.token = QLineEdit(DEFAULT_TOKEN)
        self.token.setToolTip("A rare word the model learns to mean your subject.")
        self.class_word = QComboBox()
        self.class_word.addItems(CLASS_WORDS)
        self.class_word.setEditable(True)
        self.model = QComboBox()
        for model_id, located in installed_models(self.models_dir).items():
            self.model.addItem(f"{located.label} ({located.family.upper()})", model_id)
        form.addRow("Name", self.name)
        form.addRow("Token", self.token)
        form.addRow("The subject is a", self.class_word)
        form.addRow("Base model", self.model)
        self.photo_list = QListWidget()
        self.photo_list.setIconSize(QSize(THUMB, THUMB))
        self.photo_list.setWordWrap(True)
        add = QPushButton("Add photos…")
        add.clicked.connect(self.choose_photos)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        self.count_note = QLabel(
            f"Add {IDEAL_PHOTOS[0]}-{IDEAL_PHOTOS[1]} sharp, varied photos of the subject alone."
        )
        self.count_note.setWordWrap(True)
        if self.model.count() == 0:  # nothing to train on: say so before photos are picked
            self.count_note.setText(
                "No diffusion model is installed: download one in Render ▸ Models… first."
            )
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.photo_list, 1)
        layout.addWidget(self.count_note)
        return page

    def choose_photos(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Photos of the subject", "", PHOTO_FILTER)
        self.add_photos([Path(f) for f in files])

    def add_photos(self, files: list[Path]) -> None:
        for index, path in enumerate(files):
            target = self.staging / f"{len(list(self.staging.iterdir())) + index:03d}-{path.name}"
            shutil.copyfile(path, target)  # the user's originals are never touched
        self.check_photos()

    def remove_selected(self) -> None:
        for item in self.photo_list.selectedItems():
            Path(item.data(Qt.ItemDataRole.UserRole)).unlink(missing_ok=True)
        self.check_photos()

    def options(self) -> DatasetOptions:
        preset = self.chosen_preset()
        resolution = preset.resolution if preset else 512
        return training().DatasetOptions(
            token=self.token.text().strip() or DEFAULT_TOKEN,
            class_word=self.class_word.currentText().strip() or "person",
            resolution=resolution,
        )

    def check_photos(self) -> None:
        self.count_note.setText("Checking the photos…")
        self.next.setEnabled(False)
        options = self.options()
        self.jobs.append(
            start_job(
                lambda: training().prepare_dataset(self.staging, options),
                returned=self._show_checks,
                errored=self._on_failed,
            )
        )

    def _show_checks(self, dataset: PreparedDataset) -> None:
        self.dataset = dataset
        self.photo_list.clear()
        for report in dataset.reports:
            path = Path(report.path)
            advice = " ".join(issue.advice for issue in report.issues)
            mark = "✓" if report.used and not report.issues else ("⚠" if report.used else "✗")
            shown = path.name.split("-", 1)[-1]
            item = QListWidgetItem(f"{mark} {shown}" + (f"\n{advice}" if advice else ""))
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setIcon(
                QIcon(QPixmap(str(path)).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio))
            )
            self.photo_list.addItem(item)
        usable = len(dataset.items)
        notes = " ".join(dataset.notes)
        if usable < MIN_PHOTOS:
            text = f"{usable} usable photo(s): add at least {MIN_PHOTOS - usable} more to continue."
        else:
            text = f"{usable} usable photos. {notes}".strip()
        self.count_note.setText(text)
        self._update_next()

    # ---- page 1: the preset ------------------------------------------------------------
    def _preset_page(self) -> QWidget:
        page = QWidget()
        self.preset_box = QComboBox()
        self.preset_box.currentIndexChanged.connect(self._describe_preset)
        self.steps = QSpinBox(minimum=1, maximum=20000, singleStep=50)
        self.steps.valueChanged.connect(self._describe_preset)
        self.preset_text = QLabel("Finding the device…")
        self.preset_text.setWordWrap(True)
        form = QFormLayout(page)
        form.addRow("Preset", self.preset_box)
        form.addRow("Steps", self.steps)
        form.addRow(self.preset_text)
        return page

    def _load_presets(self) -> None:
        family = installed_models(self.models_dir)[self.model.currentData()].family
        self.preset_text.setText("Finding the device…")
        self.jobs.append(
            start_job(
                lambda: training().device_presets(family),
                returned=self._show_presets,
                errored=self._on_failed,
            )
        )

    def _show_presets(self, presets: list[TrainingPreset]) -> None:
        self.presets = presets
        self.preset_box.clear()
        for preset in presets:
            self.preset_box.addItem(preset.summary(), preset.name)
        # presets_for lists smallest first; the device's own tier, last, is the recommended one
        self.preset_box.setCurrentIndex(len(presets) - 1)
        self._describe_preset()
        self._update_next()

    def chosen_preset(self) -> TrainingPreset | None:
        if not self.presets or self.preset_box.currentIndex() < 0:
            return None
        preset = self.presets[self.preset_box.currentIndex()]
        steps = self.steps.value()
        return training().with_overrides(preset, steps=steps) if steps else preset

    def _describe_preset(self) -> None:
        if not self.presets or self.preset_box.currentIndex() < 0:
            return
        base = self.presets[self.preset_box.currentIndex()]
        if self.sender() is self.preset_box:
            self.steps.setValue(base.steps)
        preset = self.chosen_preset()
        seconds = (preset.seconds_per_step or 0) * preset.steps
        expected = f"about {_duration(seconds)}" if seconds else "unknown on this device"
        self.preset_text.setText(
            f"Rank {preset.rank}, {preset.resolution} px, batch {preset.batch}, "
            f"{preset.steps} steps. Expected time: {expected}."
        )

    # ---- page 2: training --------------------------------------------------------------
    def _training_page(self) -> QWidget:
        page = QWidget()
        self.status = QLabel("Ready.")
        self.status.setWordWrap(True)
        self.chart = LossChart()
        self.samples = QListWidget()
        self.samples.setViewMode(QListWidget.ViewMode.IconMode)
        self.samples.setIconSize(QSize(96, 96))
        self.samples.setMaximumHeight(130)
        self.cancel_button = QPushButton("Cancel training")
        self.cancel_button.clicked.connect(self.cancel_training)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(
            lambda: self.start_training(resume=self.has_checkpoint())
        )
        row = QHBoxLayout()
        row.addWidget(self.cancel_button)
        row.addWidget(self.resume_button)
        row.addStretch(1)
        layout = QVBoxLayout(page)
        layout.addWidget(self.status)
        layout.addWidget(self.chart, 1)
        layout.addWidget(QLabel("Samples"))
        layout.addWidget(self.samples)
        layout.addLayout(row)
        return page

    def run_folder(self) -> Path:
        return runs_dir() / adapters.check_name(self.name.text().strip())

    def has_checkpoint(self) -> bool:
        return training().resumable(self.run_folder())

    def start_training(self, resume: bool = False) -> None:
        preset, dataset = self.chosen_preset(), self.dataset
        if preset is None or dataset is None:
            return
        out_dir = self.run_folder()
        training().write_dataset(dataset, out_dir / "dataset")
        job = training().TrainingJob(
            model=self.model.currentData(),
            dataset=dataset,
            out_dir=out_dir,
            name=adapters.check_name(self.name.text().strip()),
            preset=preset,
            checkpoint_every=max(1, min(100, preset.steps // 4)),
            sample_every=max(1, preset.steps // 2),
            resume=resume,
            models_dir=self.models_dir,
        )
        self.chart.clear()
        self.samples.clear()
        self.error.hide()
        self.status.setText("Loading the model…")
        self.cancel_button.setEnabled(True)
        self.resume_button.setVisible(False)
        self.runner.start(job)

    def cancel_training(self) -> None:
        self.status.setText("Stopping after this step; a checkpoint is kept…")
        self.cancel_button.setEnabled(False)
        self.runner.cancel()

    def _on_event(self, event: TrainingEvent) -> None:
        if event.loss is not None:
            self.chart.add(event.loss)
        if event.sample is not None:
            icon = QIcon(QPixmap(str(event.sample)))
            self.samples.addItem(QListWidgetItem(icon, f"step {event.step}"))
        parts = [event.message or event.stage.capitalize()]
        if event.total:
            parts.append(f"step {event.step} of {event.total}")
        if event.loss is not None:
            parts.append(f"loss {event.loss:.4f}")
        if event.steps_per_s:
            parts.append(f"{event.steps_per_s:.2f} steps/s")
        if event.eta_s is not None:
            parts.append(f"{_duration(event.eta_s)} left")
        self.status.setText(" · ".join(parts))

    def _on_finished(self, outcome: TrainingOutcome) -> None:
        self.outcome = outcome
        if outcome.status == "cancelled":
            kept = outcome.checkpoint is not None
            self.status.setText(
                f"Stopped at step {outcome.step} of {outcome.total}. The checkpoint is kept: "
                "Resume continues from it."
                if kept
                else "Stopped before the first checkpoint; Start again begins anew."
            )
            self.resume_button.setText("Resume" if kept else "Start again")
            self.resume_button.setVisible(True)
            self.cancel_button.setEnabled(False)
            return
        self._show_done(outcome)
        if outcome.adapter is not None:
            self.adapter_saved.emit(outcome.adapter.name)

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, PhotoFluxError):
            error = exc.error
        else:
            error = Error(
                ErrorKind.INTERNAL,
                f"Training stopped: {type(exc).__name__}: {exc}",
                "Try again; if it happens again, choose a smaller preset.",
            )
        self.error.show_error(error)
        self.cancel_button.setEnabled(False)
        self.resume_button.setVisible(self.has_checkpoint() if self.name.text().strip() else False)
        self._update_next()

    # ---- page 3: done --------------------------------------------------------------------
    def _done_page(self) -> QWidget:
        page = QWidget()
        self.done_text = QLabel()
        self.done_text.setWordWrap(True)
        self.done_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.done_sample = QLabel()
        self.use_button = QPushButton("Use it")
        self.use_button.clicked.connect(self.use_adapter)
        layout = QVBoxLayout(page)
        layout.addWidget(self.done_text)
        layout.addWidget(self.done_sample, 1, Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.use_button, 0, Qt.AlignmentFlag.AlignLeft)
        return page

    def _show_done(self, outcome: TrainingOutcome) -> None:
        info = outcome.adapter
        where = info.path if info else str(outcome.adapter_file)
        trigger = info.trigger if info else ""
        self.done_text.setText(
            f"'{self.name.text().strip()}' is ready: {outcome.step} steps. Put “{trigger}” in "
            f"a prompt, or use Generate with it. Saved in {where}"
        )
        if outcome.samples:
            self.done_sample.setPixmap(QPixmap(str(outcome.samples[-1])).scaledToHeight(256))
        self._show_page(3)

    def use_adapter(self) -> None:
        """Tick the new subject in the window's picker and switch to Generate mode."""
        window, name = self.parent(), self.outcome.adapter.name if self.outcome else ""
        picker, generate = getattr(window, "adapters", None), getattr(window, "generate", None)
        if picker is not None and name:
            picker.choose_adapter(name)  # disabled, with its reason, on another family
        if generate is not None:
            generate.set_active(True)
        self.accept()

    # ---- navigation -----------------------------------------------------------------------
    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.back.setVisible(index in (1,))
        self.next.setVisible(index in (0, 1))
        self.next.setText("Start training" if index == 1 else "Next")
        if index == 2:
            self.resume_button.setVisible(False)
        self._update_next()

    def _update_next(self) -> None:
        page = self.pages.currentIndex()
        if page == 0:
            ready = self.dataset is not None and len(self.dataset.items) >= MIN_PHOTOS
            has_name = bool(self.name.text().strip()) and self.model.count() > 0
            self.next.setEnabled(ready and has_name)
            why = "" if has_name else "Give the subject a name and install a model first."
            self.next.setToolTip(why)
        elif page == 1:
            self.next.setEnabled(self.chosen_preset() is not None)

    def go_next(self) -> None:
        page = self.pages.currentIndex()
        try:
            if page == 0:
                adapters.check_name(self.name.text().strip())
                self._show_page(1)
                self._load_presets()
            elif page == 1:
                self._show_page(2)
                self.start_training(resume=self.has_checkpoint() and self._ask_resume())
        except PhotoFluxError as exc:
            self.error.show_error(exc.error)

    def go_back(self) -> None:
        self._show_page(max(0, self.pages.currentIndex() - 1))

    def _ask_resume(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Resume training?",
            "An earlier run of this subject stopped with a checkpoint. Continue from it?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runner.running:
            answer = QMessageBox.question(
                self, "Stop training?", "Training is running. Stop it (a checkpoint is kept)?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.runner.cancel()
            self.runner.wait(60)
        shutil.rmtree(self.staging, ignore_errors=True)
        super().closeEvent(event)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def open_teach_subject(window: Any) -> TeachSubjectDialog:
    """The dialog, wired to the window (its adapter list and prompt completions)."""
    dialog = TeachSubjectDialog(window, getattr(window, "_models_dir", lambda: None)())
    picker = getattr(window, "adapters", None)
    if picker is not None:  # the new subject joins the picker and the prompt completions
        dialog.adapter_saved.connect(lambda _name: picker.refresh_adapters())
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    window._teach_dialog = dialog  # tests and the close handler reach it
    return dialog

"""First-run cards: model setup (welcome) and the analytics question.

The welcome card says what works without a download (instant looks), recommends the
model that fits this machine (engine/devices.py `recommend_model`, from the device
probe, which imports torch and so runs off the GUI thread) with its size and an
estimated time per image here, and downloads it in place through the shared
DownloadController: progress from real bytes, speed, time left, pause and resume.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.catalog import CATALOG
from photoflux_desktop.engine.downloads import DownloadResult
from photoflux_desktop.engine.errors import Error
from photoflux_desktop.engine.machine import Recommendation, probe_machine, recommend_model
from photoflux_desktop.ui.background import start_job
from photoflux_desktop.ui.download_controller import DownloadController, DownloadStatus
from photoflux_desktop.ui.widgets.fit import fit_to_text

NARROW_PX = 520  # below this card width the reason line folds into a tooltip


def _seconds(value: float) -> str:
    if value < 1:
        return "under a second"
    if value < 90:
        return f"about {round(value)} s"
    return f"about {round(value / 60)} min"


def _label(text: str = "", muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if muted:
        label.setObjectName("muted")
    return label


def _wrapping_policy() -> QSizePolicy:
    """Height follows the width (wrapped labels), and never less than that."""
    policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    policy.setHeightForWidth(True)
    return policy


def machine_recommendation() -> Recommendation:
    """The probe and the choice, together: what the background job computes."""
    return recommend_model(probe_machine())


class WelcomeCard(QFrame):
    dismissed = Signal()
    manageModelsRequested = Signal()
    installed = Signal(str)  # model id

    def __init__(self, downloads: DownloadController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeCard")
        # never squeezed below its wrapped text: the photo area gives way instead
        self.setSizePolicy(_wrapping_policy())
        self.downloads = downloads
        self.models_dir: Path | None = None
        self.recommendation: Recommendation | None = None
        self._probing = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(4)
        title = QLabel("Welcome to PhotoFlux")
        title.setObjectName("sectionTitle")
        self.instant_line = _label(
            "Instant looks work now: open a photo and click a style marked Instant."
        )
        self.offer = _label("Checking this computer for the best AI model…")
        self.reason = _label(muted=True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(8)
        self.bar.hide()
        self.status = _label(muted=True)
        self.status.hide()
        layout.addWidget(title)
        layout.addWidget(self.instant_line)
        layout.addWidget(self.offer)
        layout.addWidget(self.reason)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(self._buttons())
        d = downloads
        d.started.connect(self._started)
        d.progressed.connect(self._progressed)
        d.finished.connect(self._finished)
        d.paused.connect(self._paused)
        d.failed.connect(self._failed)

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.download_button.setObjectName("primary")
        self.download_button.setEnabled(False)
        self.download_button.clicked.connect(self.start_download)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Stop for now; Resume continues where it stopped")
        self.pause_button.clicked.connect(self.downloads.pause)
        self.pause_button.hide()
        self.others_button = QPushButton("Other models…")
        self.others_button.clicked.connect(self.manageModelsRequested)
        self.close_button = QPushButton("Not now")
        self.close_button.setToolTip("Hide this card; Help ▸ Set up AI models brings it back")
        self.close_button.clicked.connect(self._dismiss)
        for button in (self.download_button, self.pause_button, self.others_button):
            row.addWidget(button)
        fit_to_text(self.download_button, self.pause_button, self.others_button, self.close_button)
        row.addStretch(1)
        row.addWidget(self.close_button)
        return row

    # -- recommendation ------------------------------------------------------------
    def probe(self) -> None:
        """Find the model for this machine, once, in the background."""
        if self.recommendation is not None or self._probing:
            return
        self._probing = True
        start_job(machine_recommendation, returned=self.set_recommendation, errored=self._no_probe)

    @Slot(object)
    def set_recommendation(self, recommendation: Recommendation) -> None:
        self._probing = False
        self.recommendation = recommendation
        self.offer.setText(
            f"AI styles need a model: {recommendation.name}, {recommendation.download_gb:g} GB, "
            f"{_seconds(recommendation.seconds_per_image)} per image here (estimated)."
        )
        self.reason.setText(recommendation.reason)
        self.offer.setToolTip(recommendation.reason)  # where the reason line has no room
        self._fit_reason()
        if not self.downloads.busy:
            self.download_button.setText("Download")
            self.download_button.setToolTip(f"Download {recommendation.name} now")
            self.download_button.setEnabled(True)

    @Slot(object)
    def _no_probe(self, exc: BaseException) -> None:
        self._probing = False
        # the probe only chooses; the smallest model works everywhere
        spec = CATALOG["sd-turbo"]
        self.set_recommendation(
            Recommendation(
                spec.id,
                spec.name,
                spec.disk_gb,
                spec.seconds_per_image["cpu"],
                "This computer's graphics card could not be checked; SD-Turbo runs anywhere.",
            )
        )

    # -- download ------------------------------------------------------------------
    def start_download(self) -> None:
        if self.recommendation is not None:
            self.downloads.start(self.recommendation.model_id, self.models_dir)

    @Slot(str)
    def _started(self, model_id: str) -> None:
        self.bar.show()
        self.status.show()
        self.status.setText(f"Downloading {CATALOG[model_id].name}…")
        self.download_button.hide()
        self.pause_button.show()

    @Slot(object)
    def _progressed(self, status: DownloadStatus) -> None:
        self.bar.setValue(int(status.fraction * 1000))
        self.status.setText(f"Downloading {CATALOG[status.model_id].name}: {status.text()}")

    @Slot(str)
    def _paused(self, model_id: str) -> None:
        self.pause_button.hide()
        self.download_button.setText("Resume")
        self.download_button.show()
        self.download_button.setEnabled(True)
        done = self.downloads.status().text().split(" · ")[0]
        self.status.setText(f"Paused at {done}. Resume continues where it stopped.")

    @Slot(object)
    def _failed(self, error: Error) -> None:
        self.pause_button.hide()
        self.download_button.setText("Try again")
        self.download_button.show()
        self.download_button.setEnabled(True)
        self.status.show()
        # the error itself is shown in the window's error banner (ui/first_run.py)
        self.status.setText("The download stopped; the part already fetched is kept.")

    @Slot(object)
    def _finished(self, result: DownloadResult) -> None:
        name = CATALOG[result.model_id].name
        self.bar.setValue(1000)
        self.pause_button.hide()
        self.download_button.hide()
        self.offer.setText(f"{name} is installed. AI styles are ready: pick a style and Render.")
        self.reason.clear()
        self.status.hide()
        self.bar.hide()
        self.close_button.setText("Done")
        self.installed.emit(result.model_id)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_reason()

    def _fit_reason(self) -> None:
        """The why is a nicety: in a narrow window it moves to the offer's tooltip, so the
        card stays short enough to leave the photo room at 800×600."""
        self.reason.setVisible(bool(self.reason.text()) and self.width() >= NARROW_PX)

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()


class ConsentCard(QFrame):
    """Asks once whether anonymous usage counts may be sent; nothing is sent before a yes."""

    answered = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("consentCard")
        self.setSizePolicy(_wrapping_policy())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        text = _label(
            "Help improve PhotoFlux? Share anonymous usage counts (which styles are used, "
            "how long renders take); never your photos, prompts or name. "
            "Settings can change this later."
        )
        self.allow_button = QPushButton("Share counts")
        self.decline_button = QPushButton("No thanks")
        self.allow_button.clicked.connect(lambda: self._answer(True))
        self.decline_button.clicked.connect(lambda: self._answer(False))
        row = QHBoxLayout()
        row.addWidget(self.allow_button)
        row.addWidget(self.decline_button)
        row.addStretch(1)
        layout.addWidget(text)
        layout.addLayout(row)

    def _answer(self, allowed: bool) -> None:
        self.hide()
        self.answered.emit(allowed)

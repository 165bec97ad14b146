"""The model manager: catalog, what is installed, download with progress, delete.

Downloads go through the window's DownloadController (ui/download_controller.py), the
same one the welcome card uses: bytes counted as they are written, pause keeps the
partial, Download again resumes it. Deleting a model first drops its loaded pipelines
from the renderer, so its memory goes with its files.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.catalog import CATALOG
from photoflux_desktop.engine.downloads import DownloadResult
from photoflux_desktop.engine.errors import Error, ErrorKind
from photoflux_desktop.engine.model_store import disk_usage, installed_models, model_folder
from photoflux_desktop.ui.download_controller import DownloadController, DownloadStatus
from photoflux_desktop.ui.widgets.error_banner import ErrorBanner

GB = 1024**3


class ModelForgetter(Protocol):
    """What the dialog needs from a renderer: drop a model's loaded pipelines."""

    def forget_model(self, folder: Path) -> int: ...


class ModelManager(QDialog):
    modelsChanged = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        models_dir: Path | None = None,
        renderer: ModelForgetter | None = None,
        downloads: DownloadController | None = None,
    ) -> None:
        super().__init__(parent)
        self.models_dir = models_dir  # None: the environment's or the default folder
        self.renderer = renderer
        self.downloads = downloads or DownloadController(self)
        self.setWindowTitle("Models")
        self.resize(760, 360)
        layout = QVBoxLayout(self)
        self.banner = ErrorBanner()
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Model", "Download", "On disk", "Where", "Licence"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.progress = QProgressBar()
        self.progress.hide()
        self.status = QLabel()
        self.status.setObjectName("muted")
        buttons = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.download_button.setObjectName("primary")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Stop for now; Download continues where it stopped")
        self.pause_button.hide()
        self.delete_button = QPushButton("Delete")
        close = QPushButton("Close")
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.download_button.clicked.connect(self.download_selected)
        self.pause_button.clicked.connect(self.downloads.pause)
        self.delete_button.clicked.connect(self.delete_selected)
        close.clicked.connect(self.accept)
        d = self.downloads
        d.started.connect(self._started)
        d.progressed.connect(self._update_progress)
        d.finished.connect(self._finished)
        d.paused.connect(self._paused)
        d.failed.connect(self._failed)
        self.refresh()
        if d.busy:
            self._started(d.model_id or "")

    def refresh(self) -> None:
        installed = installed_models(self.models_dir)
        self.table.setRowCount(len(CATALOG))
        total = 0
        for row, spec in enumerate(CATALOG.values()):
            located = installed.get(spec.id)
            used = disk_usage(located.path) if located else 0
            total += used
            cells = [
                f"{spec.name}  ({spec.id})",
                f"{spec.disk_gb:g} GB",
                f"{used / GB:.1f} GB" if located else "not installed",
                located.source if located else "",
                spec.licence,
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(spec.notes or text)
                self.table.setItem(row, column, item)
        if self.table.currentRow() < 0:
            self.table.selectRow(0)
        self.status.setText(f"Models use {total / GB:.1f} GB on disk")

    def selected_id(self) -> str:
        return list(CATALOG)[max(0, self.table.currentRow())]

    def download_selected(self) -> None:
        self.banner.hide()
        self.downloads.start(self.selected_id(), self.models_dir)

    @Slot(str)
    def _started(self, model_id: str) -> None:
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.show()
        self.pause_button.show()
        self.download_button.setEnabled(False)
        self.status.setText(f"Downloading {CATALOG[model_id].name}…")

    @Slot(object)
    def _update_progress(self, status: DownloadStatus) -> None:
        self.progress.setValue(int(status.fraction * 1000))
        self.status.setText(f"Downloading {CATALOG[status.model_id].name}: {status.text()}")

    def _stop(self) -> None:
        self.progress.hide()
        self.pause_button.hide()
        self.download_button.setEnabled(True)

    @Slot(object)
    def _finished(self, download: DownloadResult) -> None:
        self._stop()
        self.refresh()
        self.status.setText(f"{CATALOG[download.model_id].name} is installed")
        self.modelsChanged.emit()

    @Slot(str)
    def _paused(self, model_id: str) -> None:
        self._stop()
        done = self.downloads.status()
        self.status.setText(
            f"{CATALOG[model_id].name} paused at {done.text().split(' · ')[0]}; "
            "press Download to continue where it stopped"
        )

    @Slot(object)
    def _failed(self, error: Error) -> None:
        self._stop()
        self.banner.show_error(error)

    def delete_selected(self) -> None:
        model_id = self.selected_id()
        located = installed_models(self.models_dir).get(model_id)
        if located is None:
            self.status.setText(f"{model_id} is not installed")
            return
        if located.source != "models-folder":
            self.banner.show_error(
                Error(
                    ErrorKind.BAD_INPUT,
                    f"{model_id} lives in the shared Hugging Face cache, which other apps may use.",
                    "PhotoFlux only deletes its own copies; remove it with the tool that "
                    "downloaded it.",
                )
            )
            return
        answer = QMessageBox.question(
            self, "Delete model", f"Delete {model_id} from {located.path}?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.remove(model_id)

    def remove(self, model_id: str) -> None:
        folder = model_folder(model_id, self.models_dir)
        if self.renderer is not None:
            # before the files go: a loaded pipeline may still map them (Windows refuses)
            self.renderer.forget_model(folder)
        shutil.rmtree(folder, ignore_errors=True)
        self.refresh()
        self.modelsChanged.emit()

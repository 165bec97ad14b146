"""The model manager: catalog, what is installed, download with progress, delete.

Download progress is read from the bytes arriving in the model's folder (partial
files included), which works the same whether huggingface_hub resumes or starts.
The download runs as a superqt worker (ui/background.py). Deleting a model first
drops its loaded pipelines from the renderer, so its memory goes with its files.
"""

from __future__ import annotations

import shutil
import time
from functools import partial
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QTimer, Signal, Slot
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
from photoflux_desktop.engine.downloads import DownloadResult, download_model
from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.model_store import disk_usage, installed_models, model_folder
from photoflux_desktop.ui.background import BackgroundJob, start_job
from photoflux_desktop.ui.widgets.error_banner import ErrorBanner

GB = 1024**3


class ModelForgetter(Protocol):
    """What the dialog needs from a renderer: drop a model's loaded pipelines."""

    def forget_model(self, folder: Path) -> int: ...


def _download_error(exc: BaseException) -> Error:
    if isinstance(exc, PhotoFluxError):
        return exc.error
    # keep the dialog alive whatever the network does
    return Error(
        ErrorKind.CLOUD,
        f"Download failed: {exc}",
        "Try again; files already downloaded are kept.",
    )


class ModelManager(QDialog):
    modelsChanged = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        models_dir: Path | None = None,
        renderer: ModelForgetter | None = None,
    ) -> None:
        super().__init__(parent)
        self.models_dir = models_dir  # None: the environment's or the default folder
        self.renderer = renderer
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
        self.delete_button = QPushButton("Delete")
        close = QPushButton("Close")
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.download_button.clicked.connect(self.download_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        close.clicked.connect(self.accept)
        self._job: BackgroundJob | None = None
        self._downloading: str | None = None
        self._poll = QTimer(self, interval=500)
        self._poll.timeout.connect(self._update_progress)
        self._last = (0.0, 0)
        self.refresh()

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
        if self._job is not None:
            return
        model_id = self.selected_id()
        self.banner.hide()
        self._downloading = model_id
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.show()
        self.download_button.setEnabled(False)
        self._last = (time.monotonic(), self._bytes(model_id))
        self._poll.start()
        self._job = start_job(
            partial(download_model, model_id, root=self.models_dir),
            returned=self._finished,
            errored=self._failed,
        )

    def _bytes(self, model_id: str) -> int:
        folder = model_folder(model_id, self.models_dir)
        return disk_usage(folder) if folder.exists() else 0

    def _update_progress(self) -> None:
        model_id = self._downloading
        if model_id is None:
            return
        now, got = time.monotonic(), self._bytes(model_id)
        then, before = self._last
        speed = (got - before) / max(1e-3, now - then)
        self._last = (now, got)
        expected = CATALOG[model_id].disk_gb * GB
        self.progress.setValue(min(1000, int(got / expected * 1000)))
        self.status.setText(
            f"Downloading {model_id}: {got / GB:.2f} of ~{expected / GB:.1f} GB"
            f" · {speed / 2**20:.1f} MB/s"
        )

    def _stop(self) -> None:
        self._poll.stop()
        self.progress.hide()
        self.download_button.setEnabled(True)
        self._job, self._downloading = None, None

    @Slot(object)
    def _finished(self, download: DownloadResult) -> None:
        self._stop()
        self.refresh()
        self.status.setText(f"{download.model_id} is installed")
        self.modelsChanged.emit()

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        self._stop()
        self.banner.show_error(_download_error(exc))

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
                    f"{model_id} lives in the Hugging Face cache.",
                    "Remove it with `hf cache delete`; PhotoFlux only deletes its own copies.",
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

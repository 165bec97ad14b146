"""The model manager: catalog, what is installed, download with progress, delete.

Download progress is read from the bytes arriving in the model's folder (partial
files included), which works the same whether huggingface_hub resumes or starts.
"""

from __future__ import annotations

import shutil
import time

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot
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
from photoflux_desktop.engine.downloads import download_model
from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.model_store import disk_usage, installed_models, model_folder
from photoflux_desktop.ui.widgets.error_banner import ErrorBanner

GB = 1024**3


class _DownloadWorker(QObject):
    done = Signal(str)
    failed = Signal(object)

    def __init__(self, model_id: str) -> None:
        super().__init__()
        self.model_id = model_id

    @Slot()
    def run(self) -> None:
        try:
            download_model(self.model_id)
            self.done.emit(self.model_id)
        except PhotoFluxError as exc:
            self.failed.emit(exc.error)
        except Exception as exc:  # keep the dialog alive whatever the network does
            self.failed.emit(
                Error(
                    ErrorKind.CLOUD,
                    f"Download failed: {exc}",
                    "Try again; files already downloaded are kept.",
                )
            )


class ModelManager(QDialog):
    modelsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        self._thread: QThread | None = None
        self._worker: _DownloadWorker | None = None
        self._poll = QTimer(self, interval=500)
        self._poll.timeout.connect(self._update_progress)
        self._last = (0.0, 0)
        self.refresh()

    def refresh(self) -> None:
        installed = installed_models()
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
        if self._thread is not None:
            return
        model_id = self.selected_id()
        self.banner.hide()
        thread, worker = QThread(), _DownloadWorker(model_id)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(self._finished)
        worker.failed.connect(self._failed)
        self._thread, self._worker = thread, worker
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.show()
        self.download_button.setEnabled(False)
        self._last = (time.monotonic(), self._bytes(model_id))
        self._poll.start()
        thread.start()

    def _bytes(self, model_id: str) -> int:
        folder = model_folder(model_id)
        return disk_usage(folder) if folder.exists() else 0

    def _update_progress(self) -> None:
        if self._worker is None:
            return
        model_id = self._worker.model_id
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
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        self._thread, self._worker = None, None

    @Slot(str)
    def _finished(self, model_id: str) -> None:
        self._stop()
        self.refresh()
        self.status.setText(f"{model_id} is installed")
        self.modelsChanged.emit()

    @Slot(object)
    def _failed(self, error: Error) -> None:
        self._stop()
        self.banner.show_error(error)

    def delete_selected(self) -> None:
        model_id = self.selected_id()
        located = installed_models().get(model_id)
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
        shutil.rmtree(model_folder(model_id), ignore_errors=True)
        self.refresh()
        self.modelsChanged.emit()

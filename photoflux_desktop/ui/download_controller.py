"""One model download at a time, off the GUI thread, with progress, speed, pause and resume.

The engine counts the bytes as they are written (engine/downloads.py DownloadProgress);
a timer here reads them twice a second and turns them into a fraction, a speed and the
time left. Pausing cancels the transfer and keeps the partial file, so "Resume" is the
same download started again: it continues where the bytes stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from photoflux_desktop.engine.downloads import DownloadProgress, DownloadResult, download_model
from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.ui.background import BackgroundJob, start_job

MB = 2**20


@dataclass(frozen=True)
class DownloadStatus:
    model_id: str
    done_bytes: int
    total_bytes: int  # 0 until the file list has been fetched
    bytes_per_second: float

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 0.0

    def text(self) -> str:
        if not self.total_bytes:
            return "Starting the download…"
        line = f"{_size(self.done_bytes)} of {_size(self.total_bytes)}"
        if self.bytes_per_second > 0:
            left = (self.total_bytes - self.done_bytes) / self.bytes_per_second
            line += f" · {self.bytes_per_second / MB:.1f} MB/s · {_duration(left)} left"
        return line


def _size(n: float) -> str:
    return f"{n / 2**30:.2f} GB" if n >= 2**30 else f"{n / MB:.1f} MB"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def download_error(exc: BaseException) -> Error:
    if isinstance(exc, PhotoFluxError):
        return exc.error
    # keep the window alive whatever the network does
    return Error(
        ErrorKind.CLOUD, f"Download failed: {exc}", "Try again; files already downloaded are kept."
    )


class DownloadController(QObject):
    started = Signal(str)  # model id
    progressed = Signal(object)  # DownloadStatus
    finished = Signal(object)  # DownloadResult
    paused = Signal(str)  # model id; its partial files are kept
    failed = Signal(object)  # Error

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model_id: str | None = None
        self.models_dir: Path | None = None
        self._progress: DownloadProgress | None = None
        self._job: BackgroundJob | None = None
        self._poll = QTimer(self, interval=500)
        self._poll.timeout.connect(self._report)
        self._last = (0.0, 0)
        self._speed = 0.0

    @property
    def busy(self) -> bool:
        return self._job is not None

    def start(self, model_id: str, models_dir: Path | None = None) -> bool:
        """Start (or resume) a download; False while another one runs."""
        if self._job is not None:
            return False
        self.model_id, self.models_dir = model_id, models_dir
        self._progress = DownloadProgress()
        self._last, self._speed = (time.monotonic(), 0), 0.0
        self._poll.start()
        self._job = start_job(
            partial(download_model, model_id, root=models_dir, progress=self._progress),
            returned=self._returned,
            errored=self._errored,
        )
        self.started.emit(model_id)
        return True

    def pause(self) -> None:
        if self._progress is not None:
            self._progress.cancel()

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self._job.wait(timeout_ms) if self._job is not None else True

    def status(self) -> DownloadStatus:
        progress = self._progress
        done, total = (progress.done_bytes, progress.total_bytes) if progress else (0, 0)
        return DownloadStatus(self.model_id or "", done, total, self._speed)

    def _report(self) -> None:
        status = self.status()
        now = time.monotonic()
        then, before = self._last
        if status.total_bytes:
            if before:  # the first reading after planning includes what was already here
                current = (status.done_bytes - before) / max(1e-3, now - then)
                # smoothed, so the estimate of the time left does not jump every tick
                self._speed = current if not self._speed else 0.6 * self._speed + 0.4 * current
            self._last = (now, status.done_bytes)
        self.progressed.emit(self.status())

    def _end(self) -> None:
        self._poll.stop()
        self._job = None

    def _returned(self, result: DownloadResult) -> None:
        self._report()
        self._end()
        self.finished.emit(result)

    def _errored(self, exc: BaseException) -> None:
        self._end()
        error = download_error(exc)
        if error.kind is ErrorKind.CANCELLED:
            self._report()
            self.paused.emit(self.model_id or "")
        else:
            self.failed.emit(error)

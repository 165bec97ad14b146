"""Studio mode in the main window: the one object main_window creates. It owns the
outbox link (StudioSync), the event recorder, the delivery controller and the status
bar indicator, and gives the Studio menu its actions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError, bad_input
from photoflux_desktop.sync.consent import ConsentTexts, current_texts
from photoflux_desktop.ui.background import start_job
from photoflux_desktop.ui.images import pil_to_qimage
from photoflux_desktop.ui.studio.analytics import AnalyticsRecorder
from photoflux_desktop.ui.studio.connect_dialog import ConnectDialog
from photoflux_desktop.ui.studio.delivery import (
    DeliveryController,
    EmailDialog,
    QrDialog,
    encode_result,
    no_result,
)
from photoflux_desktop.ui.studio.delivery_hold import DeliveryHold
from photoflux_desktop.ui.studio.studio_sync import StudioSync
from photoflux_desktop.ui.studio.sync_indicator import SyncIndicator


class StudioMode(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.sync = StudioSync(lambda: window.settings, parent=self)
        self.recorder = AnalyticsRecorder(lambda: self.sync.outbox, lambda: window.settings, self)
        self.delivery = DeliveryController(self.sync, self.recorder, self.consent_texts, window)
        self.indicator = SyncIndicator()
        window.statusBar().addPermanentWidget(self.indicator)
        self.sync.changed.connect(self.indicator.show_state)
        self.indicator.clicked.connect(self.connect_dialog)
        self.delivery.queued.connect(window.progress.set_status)
        self.recorder.watch_window(window)
        window.firstShown.connect(self._first_shown)
        self.last_dialog: QDialog | None = None  # tests look at what opened
        self.share_job = None  # the QR's picture being encoded and queued
        self.hold = DeliveryHold(window)  # failed checks wait for the operator

    def consent_texts(self) -> ConsentTexts:
        """The connected studio's texts (cached), else the settings' or the defaults."""
        link = self.sync.link()
        return current_texts(link.url if link else None)

    def _first_shown(self) -> None:
        """After the window is up: the app-opened event and the background sync."""
        self._safely(self.recorder.app_opened)
        self.sync.start()

    def shutdown(self) -> None:
        if self.share_job is not None:
            # a QR code is already out there: its picture must reach the outbox first
            self.share_job.wait(30000)
        self.sync.shutdown()

    # -- the Studio menu ----------------------------------------------------------
    def connect_dialog(self) -> None:
        dialog = ConnectDialog(self.sync, self.window)
        self.last_dialog = dialog
        dialog.exec()

    def send_email(self) -> EmailDialog | None:
        """The consent form opens at once; the picture is encoded (watermark, metadata:
        seconds for a large result) in the background while the guest types."""
        if not self.hold.allows("e-mail", self.send_email):
            return None
        encoded = self._encode_in_background("JPEG")
        if encoded is None:
            return None
        dialog = self.delivery.email_dialog(
            encoded, filename=f"{self._stem()}.jpg", style=self._style(), parent=self.window
        )
        self.last_dialog = dialog
        dialog.open()  # window-modal, not blocking: tests and the event loop go on
        return dialog

    def show_qr(self) -> QrDialog | None:
        """The QR code shows at once; the picture is encoded and queued behind it."""
        if self.window.result_image is None:
            self.window.show_error(no_result())
            return None
        if not self.hold.allows("QR code", self.show_qr):
            return None
        made = self._safely(self.delivery.new_share)
        if made is None:
            return None
        token, url = made
        dialog = QrDialog(url, self.window)
        self.last_dialog = dialog
        dialog.open()
        image, record, watermark = self._result_parts()

        def work() -> None:
            self.delivery.queue_share(token, encode_result(image, record, "PNG", watermark))

        def failed(exc: BaseException) -> None:
            dialog.reject()  # the code would point to a picture that never comes
            self._show_failure(exc)

        self.share_job = start_job(work, returned=lambda _: self.sync.wake(), errored=failed)
        return dialog

    def print_result(self, printer: Any = None) -> bool:
        image = self.window.result_image
        if image is None:
            self.window.show_error(no_result())
            return False
        if not self.hold.allows("print", lambda: self.print_result(printer)):
            return False
        return bool(self._safely(lambda: self.delivery.print_image(pil_to_qimage(image), printer)))

    # -- helpers ------------------------------------------------------------------
    def _result_parts(self) -> tuple[Any, dict, bool]:
        w = self.window
        return w.result_image, w._current_record(), w.settings.watermark_on_export

    def _encode_in_background(self, fmt: str) -> Callable[[], bytes] | None:
        """Starts encoding the result; answers a function that waits for the bytes."""
        if self.window.result_image is None:
            self.window.show_error(no_result())
            return None
        image, record, watermark = self._result_parts()
        done: dict[str, Any] = {}

        def work() -> None:
            try:
                done["data"] = encode_result(image, record, fmt, watermark)
            except BaseException as exc:
                done["error"] = exc
                raise

        job = start_job(work, returned=lambda _: None, errored=lambda _exc: None)

        def wait() -> bytes:
            job.wait(120000)
            if "data" not in done:
                error = done.get("error")
                if isinstance(error, PhotoFluxError):
                    raise error
                raise bad_input(f"The picture could not be prepared: {error or 'timed out'}.")
            return done["data"]

        return wait

    def _style(self) -> str | None:
        w = self.window
        if w.current_entry is not None:
            return w.current_entry.style
        return w.result.parameters.style if w.result is not None else None

    def _stem(self) -> str:
        return f"{Path(self.window.source_name).stem}-styled"

    def _safely(self, work: Any) -> Any:
        """Runs `work`; an expected failure goes to the error banner. None on failure."""
        try:
            return work()
        except (PhotoFluxError, OSError, sqlite3.Error) as exc:
            self._show_failure(exc)
        return None

    def _show_failure(self, exc: BaseException) -> None:
        if isinstance(exc, PhotoFluxError):
            self.window.show_error(exc.error)
        elif isinstance(exc, OSError | sqlite3.Error):
            reason = getattr(exc, "strerror", None) or exc
            self.window.show_error(
                Error(ErrorKind.BAD_INPUT, f"Could not write to the outbox: {reason}")
            )
        else:
            self.window.show_error(Error(ErrorKind.INTERNAL, f"Delivery failed: {exc}"))

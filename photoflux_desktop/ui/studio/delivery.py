"""Getting a result to the guest: by e-mail (consent form → lead + delivery in the
outbox), by QR code (a share token made here, the code shown at once, the image queued
for upload), or on paper (Qt's print dialog).

Everything the guest is told is "done" is on disk first: the lead row is committed with
synchronous=FULL and the image file is fsync'd next to the outbox before its row."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PIL import Image
from PySide6.QtCore import QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError, bad_input
from photoflux_desktop.engine.output import OutputOptions, encode_checked, prepare_image
from photoflux_desktop.sync.consent import ConsentTexts
from photoflux_desktop.sync.leads import record_lead
from photoflux_desktop.ui.studio.analytics import (
    EMAIL_REQUESTED,
    LEAD_SUBMITTED,
    PRINTED,
    QR_SHOWN,
    AnalyticsRecorder,
)
from photoflux_desktop.ui.studio.consent_form import ConsentForm
from photoflux_desktop.ui.studio.qr_view import QrView
from photoflux_desktop.ui.studio.studio_sync import StudioSync

if TYPE_CHECKING:  # QtPrintSupport loads when printing, not at start-up
    from PySide6.QtPrintSupport import QPrinter


def encode_result(image: Image.Image, record: dict[str, Any], fmt: str, watermark: bool) -> bytes:
    """The result as a file's bytes, with the same provenance and mark as an export."""
    prepared, check = prepare_image(image, OutputOptions(invisible_watermark=watermark))
    data, _ = encode_checked(prepared, fmt, record, 92, check)
    return data


class EmailDialog(QDialog):
    """The consent form, then a confirmation once the request is safely queued."""

    def __init__(
        self,
        texts: ConsentTexts,
        queue: Callable[[dict[str, Any]], str],
        parent: QWidget | None = None,
        *,
        campaign: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Send to my e-mail")
        self._queue = queue
        self.form = ConsentForm(texts, campaign=campaign)
        self.done_label = QLabel()
        self.done_label.setWordWrap(True)
        self.done_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.form)
        self.pages.addWidget(self.done_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(self.buttons)
        self.form.submitted.connect(self._submitted)
        # the inline message under the address comes and goes: let the dialog grow with it
        self.form.email.textChanged.connect(lambda _text: QTimer.singleShot(0, self._fit))
        self.delivery_id: str | None = None

    def _fit(self) -> None:
        if self.height() < self.sizeHint().height():
            self.resize(self.width(), self.sizeHint().height())

    def _submitted(self, body: dict[str, Any]) -> None:
        try:
            self.delivery_id = self._queue(body)
        except PhotoFluxError as exc:
            self.form.form_message.setText(exc.error.message)
            self.form.form_message.show()
            return
        except (OSError, sqlite3.Error) as exc:  # nothing was promised: the guest may retry
            reason = getattr(exc, "strerror", None) or exc
            self.form.form_message.setText(f"Could not save the request: {reason}")
            self.form.form_message.show()
            return
        self.done_label.setText(
            f"Done: your picture will be sent to {body['email']}.\n"
            "If this computer is offline, it goes as soon as it is back online."
        )
        self.form.clear()  # the address is in the outbox now, not in a widget
        self.pages.setCurrentWidget(self.done_label)
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.accept)


class QrDialog(QDialog):
    def __init__(self, url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Scan to get the picture")
        self.view = QrView()
        self.view.set_url(url)
        note = QLabel("Scan with a phone camera: the picture appears there once it is uploaded.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)


def paint_image(image: QImage, printer: QPrinter) -> None:
    """The image as large as the page allows, centred, aspect kept."""
    painter = QPainter(printer)
    try:
        area = painter.viewport()
        size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x = area.x() + (area.width() - size.width()) // 2
        y = area.y() + (area.height() - size.height()) // 2
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(QRect(x, y, size.width(), size.height()), image)
    finally:
        painter.end()


class DeliveryController(QObject):
    """Queues e-mails and shares; prints. The window (or the kiosk) gives the image."""

    queued = Signal(str)  # a status line for the window
    failed = Signal(object)  # Error

    def __init__(
        self,
        studio: StudioSync,
        recorder: AnalyticsRecorder,
        texts: Callable[[], ConsentTexts],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.studio = studio
        self.recorder = recorder
        self.texts = texts
        self.campaign: str | None = None
        self.source = "desktop"

    # -- e-mail -------------------------------------------------------------------
    def queue_email(
        self, body: dict[str, Any], image: bytes, *, filename: str, style: str | None
    ) -> str:
        """Records the lead and its delivery; answers the delivery's id once both are on
        disk. The lead is recorded whatever the analytics setting says."""
        outbox = self.studio.outbox
        lead_id = record_lead(outbox, body)
        delivery_id = outbox.add_delivery(lead_id, image, filename=filename, style=style)
        self.recorder.record(LEAD_SUBMITTED, marketing=bool(body.get("marketing")))
        self.recorder.record(EMAIL_REQUESTED, style=style)
        self.studio.wake()
        self.queued.emit("E-mail queued: it goes out as soon as the studio is reachable")
        return delivery_id

    def email_dialog(
        self,
        image: Callable[[], bytes],
        *,
        filename: str,
        style: str | None,
        parent: QWidget | None = None,
    ) -> EmailDialog:
        """`image()` gives the file's bytes when the guest presses Send (it may still be
        encoding in the background while they type)."""
        return EmailDialog(
            self.texts(),
            lambda body: self.queue_email(body, image(), filename=filename, style=style),
            parent,
            campaign=self.campaign,
        )

    # -- QR -----------------------------------------------------------------------
    def new_share(self) -> tuple[str, str]:
        """(token, URL for the QR code), made here at once; nothing is written yet.
        Needs a studio link: the page is on the studio's cloud."""
        from photoflux_desktop.sync.share import new_share_token, share_url

        link = self.studio.link()
        if link is None:
            raise bad_input(
                "A QR code needs a studio to host the picture.",
                "Connect to a studio first (Studio menu → Connect to studio…).",
            )
        token = new_share_token()
        return token, share_url(link.url, token)

    def queue_share(self, token: str, image_png: bytes) -> str:
        """Queues the share's token and image (fsync'd); any thread may call it."""
        from photoflux_desktop.sync.share import queue_share

        item_id = queue_share(self.studio.outbox, token, image_png, campaign=self.campaign)
        self.recorder.record(QR_SHOWN)
        return item_id

    def share(self, image_png: bytes, show: Callable[[str], None] | None = None) -> str:
        """`new_share`, `show(url)`, then `queue_share`, on this thread. Answers the URL."""
        token, url = self.new_share()
        if show is not None:
            show(url)
        self.queue_share(token, image_png)
        self.studio.wake()
        return url

    # -- print --------------------------------------------------------------------
    def print_image(self, image: QImage, printer: QPrinter | None = None) -> bool:
        """Prints through Qt's print dialog, or straight to `printer` when given."""
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            owner = self.parent() if isinstance(self.parent(), QWidget) else None
            if QPrintDialog(printer, owner).exec() != QDialog.DialogCode.Accepted:
                return False
        paint_image(image, printer)
        self.recorder.record(PRINTED)
        return True


def no_result() -> Error:
    return Error(
        ErrorKind.BAD_INPUT,
        "There is no result to deliver yet.",
        "Render first, or pick one from the gallery.",
    )

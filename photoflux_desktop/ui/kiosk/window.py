"""Kiosk (event) mode: one full-screen window that walks a guest from the attract screen
to a styled photo they take home, then forgets them.

Pages: attract → camera (countdown) → style tiles → render + reveal → e-mail / QR.
Every input event restarts the idle timer; when it fires, or the guest presses
Done, the session ends and `end_session` drops every reference to the guest's photo,
result and typed text, from the pages and from this window. Leaving kiosk mode and its
setup go through the operator PIN (pin_dialog.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.errors import Error, PhotoFluxError
from photoflux_desktop.engine.kiosk_pin import PinGuard
from photoflux_desktop.engine.library import Library
from photoflux_desktop.engine.presets import bundled_presets
from photoflux_desktop.engine.request import ProgressEvent, Renderer, RenderRequest, RenderResult
from photoflux_desktop.engine.settings import Settings, save_settings
from photoflux_desktop.sync.consent import current_texts
from photoflux_desktop.sync.outbox import Outbox
from photoflux_desktop.ui.images import pil_to_qimage
from photoflux_desktop.ui.kiosk.attract_page import AttractPage, sample_images
from photoflux_desktop.ui.kiosk.capture_page import CapturePage
from photoflux_desktop.ui.kiosk.config import KioskConfig, chosen_styles
from photoflux_desktop.ui.kiosk.deliver_page import DeliverPage
from photoflux_desktop.ui.kiosk.delivery_gate import released
from photoflux_desktop.ui.kiosk.pin_dialog import PinDialog
from photoflux_desktop.ui.kiosk.recorder import KioskRecorder
from photoflux_desktop.ui.kiosk.result_page import ResultPage
from photoflux_desktop.ui.kiosk.style_page import StylePage
from photoflux_desktop.ui.kiosk.theme import KIOSK_STYLE
from photoflux_desktop.ui.render_controller import RenderController

ACTIVITY_EVENTS = frozenset(
    {
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.KeyPress,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.Wheel,
    }
)


@dataclass
class Guest:
    """Everything the kiosk holds about the person in front of it; dropped as a whole."""

    id: str
    started: float
    photo: Image.Image | None = None
    result: Image.Image | None = None
    style: str | None = None
    checks: tuple[dict, ...] = ()  # the result's checks: a failed one waits for the operator
    approved: bool = False  # the operator's PIN released this result despite them


class KioskWindow(QWidget):
    sessionStarted = Signal(str)  # session id
    sessionEnded = Signal(str)  # reason: idle, done, camera_back, operator
    revealed = Signal()
    exited = Signal()
    settingsChanged = Signal(object)  # Settings

    def __init__(
        self,
        config: KioskConfig,
        settings: Settings,
        renderer: Renderer,
        *,
        outbox: Outbox,
        library: Library | None = None,
        wake_sync: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("kiosk")
        self.setWindowTitle("PhotoFlux kiosk")
        self.setStyleSheet(KIOSK_STYLE)
        self.config = config
        self.settings = settings
        self.guard = PinGuard(settings.kiosk_pin_hash)
        self.recorder = KioskRecorder(outbox, config.campaign, config.analytics)
        self._wake_sync = wake_sync or (lambda: None)  # send a lead or share now, not later
        # guests' results never go to the library: the next guest must not see them
        self.controller = RenderController(renderer, library=None)
        self.guest: Guest | None = None
        self.pin_dialog: PinDialog | None = None
        self.operator_box: QMessageBox | None = None
        self.setup_dialog: QDialog | None = None
        self._render_session: str | None = None
        self._may_close = False
        self._build(library)
        self._connect()
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.setInterval(config.idle_timeout_ms)
        self.idle_timer.timeout.connect(self._on_idle)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.request_exit)
        self.attract.begin()

    # -- layout ------------------------------------------------------------------
    def _build(self, library: Library | None) -> None:
        self.attract = AttractPage(
            sample_images(library, self.config.styles), self.config.attract_interval_ms
        )
        self.capture = CapturePage(self.config.countdown_s, self.config.countdown_tick_ms)
        self.styles = StylePage(self.config.styles)
        self.result_page = ResultPage(self.config.reveal_ms)
        self.deliver = DeliverPage(
            current_texts(self.config.cloud_url),
            self.config.campaign,
            qr_possible=bool(self.config.cloud_url),
        )
        self.pages = QStackedWidget()
        for page in (self.attract, self.capture, self.styles, self.result_page, self.deliver):
            self.pages.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(self.pages)

    def _connect(self) -> None:
        self.attract.started.connect(self.start_session)
        self.attract.operatorRequested.connect(self.open_operator_menu)
        self.capture.captured.connect(self._on_photo)
        self.capture.failed.connect(self._show_capture_error)
        self.capture.back.connect(lambda: self.end_session("camera_back"))
        self._connect_styles()
        r = self.result_page
        r.cancelRequested.connect(self.controller.cancel)
        r.takeHome.connect(lambda: self.pages.setCurrentWidget(self.deliver))
        r.printRequested.connect(self.print_result)
        r.startOver.connect(lambda: self.end_session("done"))
        r.otherStyle.connect(lambda: self.pages.setCurrentWidget(self.styles))
        r.revealed.connect(self.revealed.emit)
        self._connect_deliver()
        c = self.controller
        c.progress.connect(self._on_progress)
        c.finished.connect(self._on_finished)
        c.failed.connect(self._on_failed)
        c.cancelled.connect(self._on_cancelled)

    def _connect_styles(self) -> None:
        self.styles.chosen.connect(self.render_style)
        self.styles.retake.connect(self._retake)

    def _connect_deliver(self) -> None:
        self.deliver.form.submitted.connect(self._on_lead)
        self.deliver.qrRequested.connect(self.show_qr)
        self.deliver.done.connect(lambda: self.end_session("done"))
        self.deliver.back.connect(lambda: self.pages.setCurrentWidget(self.result_page))

    # -- a guest's session -------------------------------------------------------
    def start_session(self) -> None:
        if self.guest is not None:
            return
        self.guest = Guest(uuid.uuid4().hex, time.monotonic())
        self.attract.end()
        self.recorder.event("kiosk_session_started", self.guest.id)
        self.pages.setCurrentWidget(self.capture)
        self.capture.message.setText("")
        self.capture.open_camera(self.config.camera)
        self.sessionStarted.emit(self.guest.id)
        self._activity()

    def end_session(self, reason: str) -> None:
        """Back to the attract screen; the guest's photo, result and form are dropped."""
        guest, self.guest = self.guest, None
        if guest is not None:
            seconds = round(time.monotonic() - guest.started, 1)
            self.recorder.event("kiosk_session_ended", guest.id, reason=reason, duration_s=seconds)
        if self.controller.busy:
            self.controller.cancel()  # its late outcome is ignored: no guest to show it to
        self._render_session = None
        self.capture.stop()
        self.styles.set_photo(None)
        self.result_page.clear()
        self.deliver.clear()
        self._close_operator_dialogs()
        self.pages.setCurrentWidget(self.attract)
        self.attract.begin()
        self.idle_timer.stop()
        if guest is not None:
            self.sessionEnded.emit(reason)

    def _on_photo(self, image: Image.Image) -> None:
        if self.guest is None:
            return
        photo = image.convert("RGB")
        if max(photo.size) > self.config.max_side:
            photo.thumbnail((self.config.max_side,) * 2, Image.Resampling.LANCZOS)
        self.guest.photo = photo
        self.recorder.event("photo_loaded", self.guest.id, source="kiosk")
        self.styles.set_photo(pil_to_qimage(photo))
        self.pages.setCurrentWidget(self.styles)

    def _show_capture_error(self, error: Error) -> None:
        self.capture.message.setText(f"{error.message} {error.hint_for_gui()}".strip())

    def _retake(self) -> None:
        if self.guest is None:
            return
        self.guest.photo = None
        self.styles.set_photo(None)
        self.pages.setCurrentWidget(self.capture)
        self.capture.open_camera(self.config.camera)

    # -- rendering ---------------------------------------------------------------
    def render_style(self, style_id: str) -> None:
        guest = self.guest
        if guest is None or guest.photo is None or self.controller.busy:
            return
        try:
            request = RenderRequest(
                image=guest.photo,
                style_id=style_id,
                model=self.config.model,
                max_side=self.config.max_side,
                device=self.config.device,
                memory=self.config.memory,
                quantize=self.config.quantize,
                previews=True,
            )
        except PhotoFluxError as exc:
            self.pages.setCurrentWidget(self.result_page)
            self.result_page.show_failure(exc.error.message)
            return
        guest.style, guest.result = style_id, None
        self._render_session = guest.id
        self.result_page.begin(pil_to_qimage(guest.photo), bundled_presets()[style_id].name)
        self.pages.setCurrentWidget(self.result_page)
        self.recorder.event("style_selected", guest.id, style=style_id)
        self.recorder.event("render_started", guest.id, style=style_id)
        self.controller.start(request, "kiosk")

    def _current(self) -> Guest | None:
        """The guest a render outcome belongs to, or None when they have gone."""
        guest = self.guest
        return guest if guest is not None and guest.id == self._render_session else None

    def _on_progress(self, event: ProgressEvent) -> None:
        if self._current() is None:
            return
        preview = pil_to_qimage(event.preview) if event.preview is not None else None
        self.result_page.show_progress(event, preview)
        self._activity()  # a slow render is not an idle guest

    def _on_finished(self, result: RenderResult, _entry: Any) -> None:
        guest = self._current()
        if guest is None or result.image is None:
            return
        guest.result, guest.checks, guest.approved = result.image, result.checks, False
        self.recorder.event(
            "render_finished",
            guest.id,
            style=guest.style,
            model=result.model,
            seconds=round(result.timings.get("total", 0.0), 2),
        )
        self.result_page.reveal(pil_to_qimage(result.image))
        self._activity()

    def _on_failed(self, error: Error) -> None:
        guest = self._current()
        if guest is None:
            return
        self.recorder.event("render_failed", guest.id, style=guest.style, kind=error.kind.value)
        self.result_page.show_failure(f"{error.message} Please try another style.")

    def _on_cancelled(self) -> None:
        guest = self._current()
        if guest is not None:
            self.recorder.event("render_cancelled", guest.id, style=guest.style)
            self.pages.setCurrentWidget(self.styles)

    # -- taking it home ----------------------------------------------------------
    def _on_lead(self, body: dict) -> None:
        guest = self.guest
        if guest is None or guest.result is None:
            return
        if not released(self, guest, lambda: self._on_lead(body), self._form_note):
            return
        try:
            lead_id = self.recorder.lead(body)
            self.recorder.delivery(lead_id, guest.result, guest.style or "")
        except (PhotoFluxError, OSError) as exc:
            message = exc.error.message if isinstance(exc, PhotoFluxError) else str(exc)
            self.deliver.form.form_message.setText(f"Could not save your request: {message}")
            self.deliver.form.form_message.show()
            return
        marketing = bool(body.get("marketing"))
        self.recorder.event("lead_submitted", guest.id, marketing=marketing)
        self.recorder.event("email_requested", guest.id, style=guest.style)
        self._wake_sync()
        self.deliver.show_sent("Done! Your picture is on its way to your inbox.")

    def _form_note(self, text: str) -> None:
        self.deliver.form.form_message.setText(text)
        self.deliver.form.form_message.show()

    def show_qr(self) -> None:
        guest = self.guest
        if guest is None or guest.result is None or not self.config.cloud_url:
            return
        if not released(self, guest, self.show_qr, self.deliver.qr_note.setText):
            return
        try:
            url = self.recorder.share(self.config.cloud_url, guest.result)
        except (PhotoFluxError, OSError) as exc:
            message = exc.error.message if isinstance(exc, PhotoFluxError) else str(exc)
            self.deliver.qr_note.setText(f"The QR code could not be made: {message}")
            return
        self.deliver.show_qr(url)
        self.recorder.event("qr_shown", guest.id, style=guest.style)
        self._wake_sync()

    def print_result(self) -> None:
        guest = self.guest
        if guest is None or guest.result is None:
            return
        if not released(self, guest, self.print_result, self.result_page.status.setText):
            return
        from photoflux_desktop.ui.kiosk.printing import print_image

        if print_image(pil_to_qimage(guest.result), self):
            self.recorder.event("print", guest.id, style=guest.style)

    # -- idle --------------------------------------------------------------------
    def set_idle_timeout(self, ms: int) -> None:
        self.config = replace(self.config, idle_timeout_ms=ms)
        self.idle_timer.setInterval(ms)

    def _on_idle(self) -> None:
        if self.controller.busy and self._current() is not None:
            self.idle_timer.start()  # a model may load for a minute: wait for the result
            return
        self.end_session("idle")

    def _activity(self) -> None:
        """Restarts the idle countdown while a guest or an operator dialog is on screen:
        an operator who walks away from an unlocked menu is timed out like a guest."""
        if self.guest is not None or self._operator_open():
            self.idle_timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY_EVENTS and self.idle_timer.isActive():
            self.idle_timer.start()
        return False

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        QApplication.instance().installEventFilter(self)

    def hideEvent(self, event: Any) -> None:
        QApplication.instance().removeEventFilter(self)
        super().hideEvent(event)

    # -- the operator ------------------------------------------------------------
    def _ask_pin(self, purpose: str, then: Any) -> None:
        self._close_operator_dialogs()
        self.pin_dialog = PinDialog(self.guard, purpose, self)
        self.pin_dialog.unlocked.connect(then)
        self.pin_dialog.finished.connect(lambda _code: self._dialog_closed("pin_dialog"))
        self.pin_dialog.open()
        self._activity()

    def _operator_open(self) -> bool:
        return any(d is not None for d in (self.pin_dialog, self.operator_box, self.setup_dialog))

    def _dialog_closed(self, attribute: str) -> None:
        setattr(self, attribute, None)
        if self.guest is None and not self._operator_open():
            self.idle_timer.stop()

    def request_exit(self) -> None:
        """Esc or closing the window: leaving kiosk mode needs the operator PIN."""
        self._ask_pin("leave kiosk mode", self.leave)

    def open_operator_menu(self) -> None:
        self._ask_pin("open the kiosk settings", self._show_operator_menu)

    def _show_operator_menu(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Operator")
        box.setText("Kiosk operator")
        setup = box.addButton("Kiosk setup…", QMessageBox.ButtonRole.ActionRole)
        leave = box.addButton("Leave kiosk mode", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        # after the box has closed: the setup dialog runs its own event loop
        box.buttonClicked.connect(
            lambda button: QTimer.singleShot(
                0, self.open_setup if button is setup else self.leave if button is leave else id
            )
        )
        box.finished.connect(lambda _code: self._dialog_closed("operator_box"))
        self.operator_box = box
        box.open()
        self._activity()

    def open_setup(self) -> None:
        from photoflux_desktop.ui.kiosk.setup_dialog import KioskSetupDialog

        dialog = KioskSetupDialog(self.settings, self)
        self.setup_dialog = dialog  # closed by the idle timeout like the other dialogs
        self._activity()
        accepted = dialog.exec()
        self._dialog_closed("setup_dialog")
        if not accepted:
            return
        settings = dialog.result_settings()
        try:
            save_settings(settings)
        except OSError as exc:
            QMessageBox.warning(self, "Kiosk setup", f"Settings could not be saved: {exc}")
        self.apply_settings(settings)

    def apply_settings(self, settings: Settings) -> None:
        """Takes the operator's new choices without leaving kiosk mode."""
        self.end_session("operator")
        self.settings = settings
        self.guard.stored = settings.kiosk_pin_hash
        self.config = replace(
            self.config,
            styles=chosen_styles(settings.kiosk_styles),
            camera=settings.kiosk_camera,
            campaign=settings.kiosk_campaign or None,
            countdown_s=settings.kiosk_countdown_s,
        )
        self.recorder.campaign = self.config.campaign
        self.deliver.form.campaign = self.config.campaign
        self.set_idle_timeout(settings.kiosk_idle_timeout_s * 1000)
        self.capture.countdown_s = self.config.countdown_s
        old = self.styles
        self.styles = StylePage(self.config.styles)
        self.pages.insertWidget(self.pages.indexOf(old), self.styles)
        self.pages.removeWidget(old)
        old.deleteLater()
        self._connect_styles()
        self.settingsChanged.emit(settings)

    def _close_operator_dialogs(self) -> None:
        for dialog in (self.pin_dialog, self.operator_box, self.setup_dialog):
            if dialog is not None:
                dialog.close()
        self.pin_dialog, self.operator_box, self.setup_dialog = None, None, None

    def leave(self) -> None:
        """Ends kiosk mode (after the PIN): the guest is dropped, the camera closed."""
        self.end_session("operator")
        self.capture.shutdown()
        if self.controller.busy:
            self.controller.wait(30000)
        self._may_close = True
        self.close()
        self.exited.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_close:
            event.ignore()
            self.request_exit()
            return
        super().closeEvent(event)

"""Studio deliveries wait for the operator when a check failed.

Before any e-mail, QR share or print, every check of the result on screen is consulted.
A failed safety or quality check holds the delivery in a dialog that says why, with
Approve and Discard. Approve is refused for an image flagged as sensitive while the
studio forbids handing those out (Settings.studio_forbid_flagged). Discard drops only
the delivery: the result stays in the library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from photoflux_desktop.ui.check_warning import failed_checks, flagged, label

FORBIDDEN = (
    "This image was flagged as sensitive content. The studio settings forbid e-mailing, "
    "sharing or printing it."
)


class HoldDialog(QDialog):
    """ "Waiting for the operator": the failed checks, Approve and Discard."""

    approved = Signal()

    def __init__(
        self, what: str, failed: list[dict[str, Any]], forbidden: bool, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Waiting for the operator")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>The {what} is on hold until the operator checks this image.</b>")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        for check in failed:
            line = QLabel(f"• {label(check)}: {check.get('reason', '')}")
            line.setWordWrap(True)
            layout.addWidget(line)
        self.forbidden_note = QLabel(FORBIDDEN)
        self.forbidden_note.setWordWrap(True)
        self.forbidden_note.setVisible(forbidden)
        layout.addWidget(self.forbidden_note)
        buttons = QDialogButtonBox()
        self.approve_button = QPushButton("Approve")
        self.approve_button.setEnabled(not forbidden)
        self.discard_button = QPushButton("Discard")
        buttons.addButton(self.approve_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.RejectRole)
        layout.addWidget(buttons)
        self.forbidden = forbidden
        self.approve_button.clicked.connect(self._approve)
        self.discard_button.clicked.connect(self.reject)

    def _approve(self) -> None:
        if self.forbidden:  # the button is disabled; this guards any other path too
            return
        self.accept()
        self.approved.emit()


class DeliveryHold:
    """Asks the checks of the image on screen (a fresh render or a library result, as
    its record stores them) whether a delivery may go now."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self._approved: set[object] = set()  # images the operator passed
        self.last_dialog: HoldDialog | None = None

    def allows(self, what: str, deliver: Callable[[], Any]) -> bool:
        """True when `what` may go ahead now; otherwise it waits for the operator, and
        `deliver` runs again if they approve."""
        w = self.window
        key = w.current_entry.id if w.current_entry is not None else id(w.result)
        if key in self._approved:
            return True
        checks = w._current_record().get("checks") or []
        failed = failed_checks(checks)
        if not failed:
            return True
        forbidden = flagged(checks) and w.settings.studio_forbid_flagged
        dialog = HoldDialog(what, failed, forbidden, w)
        dialog.approved.connect(lambda: self._approve(key, deliver))
        self.last_dialog = dialog
        w.progress.set_status(f"The {what} is waiting for the operator")
        dialog.open()
        return False

    def _approve(self, key: object, deliver: Callable[[], Any]) -> None:
        self._approved.add(key)
        deliver()

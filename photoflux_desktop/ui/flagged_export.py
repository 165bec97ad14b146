"""Desktop export of an image the NSFW screen flagged: ask first, or refuse
(Settings.flagged_export). The file is the blurred, labelled image either way."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox

from photoflux_desktop.engine.errors import Error, ErrorKind
from photoflux_desktop.ui.check_warning import flagged

QUESTION = (
    "This image was flagged as sensitive content and is blurred. Save the blurred image anyway?"
)
REFUSED = Error(
    ErrorKind.BAD_INPUT,
    "This image was flagged as sensitive content, so it cannot be exported.",
    "The settings refuse exporting flagged images.",
)


def export_allowed(window: Any, record: dict[str, Any]) -> bool:
    """True when `record`'s image may be written: not flagged, or the user agreed."""
    if not flagged(record.get("checks") or []):
        return True
    if window.settings.flagged_export == "refuse" or (
        window.settings.studio_forbid_flagged and window.studio.sync.link() is not None
    ):
        window.show_error(REFUSED)
        return False
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Sensitive content",
        QUESTION,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        window,
    )
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes

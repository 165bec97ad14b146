"""The status bar's word on studio sync: online/offline, what waits, when the last sync
happened, and the last error (in the tooltip, and in the text when it matters)."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QWidget

from photoflux_desktop.ui.studio.studio_sync import ago

_LOOK = {
    "not_connected": ("#8b8d96", "Not connected to a studio"),
    "connecting": ("#c9a227", "Connecting…"),
    "online": ("#2e9b57", "Online"),
    "offline": ("#c0392b", "Offline"),
    "revoked": ("#c0392b", "Device token revoked: sending stopped"),
}


class SyncIndicator(QLabel):
    clicked = Signal()  # opens the connect dialog

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncIndicator")
        self.state: dict[str, Any] = {}
        self.show_state({"state": "not_connected", "pending": 0})

    def show_state(self, state: dict[str, Any]) -> None:
        self.state = state
        color, words = _LOOK[state["state"]]
        parts = [words]
        if state.get("pending"):
            parts.append(f"{state['pending']} pending")
        if state.get("failed"):
            parts.append(f"{state['failed']} refused")
        if state["state"] in ("online", "offline"):
            parts.append(f"last sync {ago(state.get('last_sync_at'))}")
        text = " · ".join(parts)
        self.setText(f'<span style="color:{color}">●</span> {html.escape(text)}')
        self.setToolTip(self._details(state))

    @staticmethod
    def _details(state: dict[str, Any]) -> str:
        lines = []
        if state.get("url"):
            session = " (token kept for this session only)" if state.get("session_only") else ""
            lines.append(f"Studio: {state['url']}{session}")
        if state["state"] == "revoked":
            lines.append("The studio refused this device's token. Nothing is lost: the")
            lines.append("waiting items stay here. Connect again with a new token.")
        if state.get("link_problem"):
            lines.append(state["link_problem"])
        if state.get("last_error"):
            lines.append(f"Last error: {state['last_error']}")
        lines.append("Click to connect or disconnect.")
        return "\n".join(lines)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit()
        super().mouseReleaseEvent(event)

"""'Connect to studio…': the studio's address and this device's token. The token goes to
the OS keyring (through sync.link), never to the settings file; with no keyring backend
the dialog says so and the token lives in memory for this session only."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError, bad_input
from photoflux_desktop.sync.link import check_url, keyring_backend
from photoflux_desktop.ui.background import BackgroundJob, start_job
from photoflux_desktop.ui.studio.studio_sync import StudioSync

NO_KEYRING = (
    "This computer has no keyring to store the token safely, so it will be kept only "
    "until PhotoFlux quits; you will be asked for it again next time."
)


class ConnectDialog(QDialog):
    def __init__(self, studio: StudioSync, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to studio")
        self.studio = studio
        link = studio.link()
        self.url = QLineEdit(link.url if link else "")
        self.url.setPlaceholderText("https://studio.example")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("device token from the studio dashboard")
        self.keyring_note = QLabel(
            NO_KEYRING if keyring_backend() is None else "The token is stored in the OS keyring."
        )
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setObjectName("muted")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.hide()
        state = studio.snapshot()
        self.current = QLabel(_current_text(state))
        self.current.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = QPushButton("Connect")
        self.connect_button.setDefault(True)
        self.disconnect_button = QPushButton("Disconnect")
        self.disconnect_button.setEnabled(state["linked"])
        buttons.addButton(self.connect_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.disconnect_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.rejected.connect(self.reject)
        self.connect_button.clicked.connect(self.do_connect)
        self.disconnect_button.clicked.connect(self.do_disconnect)
        form = QFormLayout()
        form.addRow("Studio address", self.url)
        form.addRow("Device token", self.token)
        layout = QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addLayout(form)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.outcome: str | None = None  # "keyring", "session" or "disconnected"
        self.note: str | None = None  # why the token could not be checked, if it could not
        self.job: BackgroundJob | None = None

    def do_connect(self) -> None:
        """Checks the token with the studio in the background, then stores it."""
        url, token = self.url.text(), self.token.text()
        try:
            check_url(url)
            if not token.strip():
                raise bad_input("The device token is empty.", "Copy it from the studio dashboard.")
        except PhotoFluxError as exc:
            self._say(exc.error)
            return
        self._busy(True)
        self.message.setStyleSheet("")
        self.message.setText("Checking the token with the studio…")
        self.message.show()
        self.job = start_job(
            lambda: self.studio.check_token(url, token),
            returned=lambda note: self._checked(url, token, note),
            errored=self._refused,
        )

    def _checked(self, url: str, token: str, note: str | None) -> None:
        self._busy(False)
        try:
            self.outcome = self.studio.connect_to(url, token)
        except PhotoFluxError as exc:
            self._say(exc.error)
            return
        self.note = note
        self.token.clear()  # not kept in a widget longer than needed
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self._busy(False)
        if isinstance(exc, PhotoFluxError):
            self._say(exc.error)
        else:
            self._say(Error(ErrorKind.INTERNAL, f"The token could not be checked: {exc}"))

    def _say(self, error: Error) -> None:
        hint = f" {error.hint_for_gui()}" if error.hint_for_gui() else ""  # no CLI words
        self.message.setStyleSheet("color: #c0392b;")
        self.message.setText(error.message + hint)
        self.message.show()

    def _busy(self, busy: bool) -> None:
        for widget in (self.connect_button, self.url, self.token):
            widget.setEnabled(not busy)

    def do_disconnect(self) -> None:
        self.studio.disconnect()
        self.outcome = "disconnected"
        self.accept()


def _current_text(state: dict) -> str:
    if not state["linked"]:
        return "This computer is not connected to a studio."
    if state["revoked"]:
        return f"Connected to {state['url']}, but the studio refused this device's token."
    return f"Connected to {state['url']}."

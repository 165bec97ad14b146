"""When the first-run cards show, and what their answers change in the settings.

The welcome card shows while no diffusion model is installed, until it is dismissed
(remembered in the settings; Help ▸ Set up AI models brings it back). The analytics
question shows once the welcome card is out of the way, until it is answered; nothing
is sent before a yes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QVBoxLayout, QWidget

from photoflux_desktop.engine.errors import Error
from photoflux_desktop.engine.settings import Settings
from photoflux_desktop.ui.download_controller import DownloadController
from photoflux_desktop.ui.widgets.welcome_card import ConsentCard, WelcomeCard


class FirstRunHost(Protocol):
    """What the cards use of the main window (its existing methods, no new ones)."""

    settings: Settings

    def _save_settings(self) -> None: ...
    def _models_dir(self) -> Path | None: ...
    def _refresh_models(self) -> None: ...
    def open_model_manager(self) -> None: ...
    def show_error(self, error: Error) -> None: ...


class FirstRunPanel(QWidget):
    def __init__(self, host: FirstRunHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.downloads = DownloadController(self)
        self.welcome = WelcomeCard(self.downloads)
        self.consent = ConsentCard()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(6)
        layout.addWidget(self.welcome)
        layout.addWidget(self.consent)
        self.welcome.hide()
        self.consent.hide()
        self.welcome.dismissed.connect(self._welcome_dismissed)
        self.welcome.manageModelsRequested.connect(host.open_model_manager)
        self.welcome.installed.connect(lambda _model: host._refresh_models())
        self.consent.answered.connect(self._consent_answered)
        self.downloads.failed.connect(host.show_error)  # the one place errors are shown

    def update_cards(self, has_diffusion_model: bool) -> None:
        """Called once the installed models are known (after the window is up)."""
        settings = self.host.settings
        wanted = not has_diffusion_model and not settings.welcome_dismissed
        if wanted or self.downloads.busy:
            self.show_welcome(remember=False)
        self._offer_consent()

    def show_welcome(self, remember: bool = True) -> None:
        """Shows the card (the Help menu's action); `remember` forgets an earlier dismissal."""
        if remember and self.host.settings.welcome_dismissed:
            self.host.settings.welcome_dismissed = False
            self.host._save_settings()
        self.welcome.models_dir = self.host._models_dir()
        self.welcome.close_button.setText("Not now")
        self.consent.hide()  # asked again once the card is closed
        self.welcome.show()
        self.welcome.probe()

    def _offer_consent(self) -> None:
        """One question at a time: the analytics question waits while the welcome card
        is up (nothing is sent before an answer, so waiting costs nothing)."""
        unasked = not self.host.settings.analytics_asked
        self.consent.setVisible(unasked and self.welcome.isHidden())

    def _welcome_dismissed(self) -> None:
        self.host.settings.welcome_dismissed = True
        self.host._save_settings()
        self._offer_consent()

    def _consent_answered(self, allowed: bool) -> None:
        self.host.settings = self.host.settings.with_analytics(allowed)
        self.host._save_settings()

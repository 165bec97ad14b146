"""Starting kiosk mode: from `photoflux gui --kiosk`, or from the main window's menu.

Kiosk mode never starts without an operator PIN: the first time, the setup dialog
asks for one (and the campaign, styles and camera) before the kiosk opens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from photoflux_desktop.engine.library import Library
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.request import Renderer
from photoflux_desktop.engine.settings import Settings, load_settings, save_settings
from photoflux_desktop.ui.kiosk.config import config_from_settings
from photoflux_desktop.ui.kiosk.window import KioskWindow
from photoflux_desktop.ui.studio.studio_sync import StudioSync


def ensure_pin(settings: Settings, parent: QWidget | None = None) -> Settings | None:
    """The settings with a PIN set (asking the operator when there is none); None when
    the operator cancelled."""
    if settings.kiosk_pin_hash:
        return settings
    from photoflux_desktop.ui.kiosk.setup_dialog import KioskSetupDialog

    dialog = KioskSetupDialog(settings, parent)
    if not dialog.exec():
        return None
    updated = dialog.result_settings()
    try:
        save_settings(updated)
    except OSError as exc:
        QMessageBox.warning(parent, "Kiosk setup", f"Settings could not be saved: {exc}")
    return updated


def _models_dir(settings: Settings) -> Path | None:
    return Path(settings.models_dir).expanduser() if settings.models_dir else None


def open_kiosk(
    settings: Settings,
    sync: StudioSync,
    *,
    renderer: Renderer | None = None,
    library: Library | None = None,
    full_screen: bool = True,
) -> KioskWindow:
    """The kiosk, writing to `sync`'s outbox and waking its sender after each lead or
    share; QR codes are offered only while this install is linked to a studio."""
    link = sync.link()
    kiosk = KioskWindow(
        config_from_settings(settings, link.url if link is not None else None),
        settings,
        renderer or LocalRenderer(_models_dir(settings)),
        outbox=sync.outbox,
        library=library or Library(),
        wake_sync=sync.wake,
    )
    if full_screen:
        kiosk.showFullScreen()
    else:
        kiosk.show()
    return kiosk


def open_kiosk_from(window: Any) -> KioskWindow | None:
    """The main window's "Kiosk mode…" action: hides the window while the kiosk runs."""
    settings = ensure_pin(window.settings, window)
    if settings is None:
        return None
    window.settings = settings
    kiosk = open_kiosk(
        settings, window.studio.sync, renderer=window.renderer, library=window.library
    )
    window.kiosk = kiosk  # kept alive by the window
    kiosk.settingsChanged.connect(lambda s: setattr(window, "settings", s))
    kiosk.exited.connect(window.show)
    window.hide()
    return kiosk


def run_kiosk() -> int:
    """`photoflux gui --kiosk`: the kiosk alone, with the outbox synced in the background
    when this install is linked to a studio. 2 when no PIN was set."""
    from photoflux_desktop.ui.app import create_app
    from photoflux_desktop.ui.theme import apply_theme

    app = create_app()
    settings, _note = load_settings()
    apply_theme(QApplication.instance(), settings.theme)
    settings = ensure_pin(settings)
    if settings is None:
        return 2
    holder = {"settings": settings}
    sync = StudioSync(lambda: holder["settings"])
    sync.start()
    kiosk = open_kiosk(settings, sync)
    kiosk.settingsChanged.connect(lambda s: holder.update(settings=s))
    try:
        return app.exec()
    finally:
        sync.shutdown()

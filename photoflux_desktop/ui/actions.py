"""Menus, toolbar actions and keyboard shortcuts for the main window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

Shortcut = QKeySequence.StandardKey | str


def _action(
    window: QMainWindow,
    text: str,
    slot: Callable[[], Any],
    shortcut: Shortcut | None = None,
    tip: str = "",
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setToolTip(tip or text)
    # `triggered` passes `checked` (False); a slot with an optional first parameter
    # (export_result's target) would take it as an argument
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    return action


def build_menus(window: Any) -> dict[str, QAction]:
    """Creates every action once; the window keeps them by name for tests and state."""
    a = {
        "open": _action(window, "&Open photo…", window.choose_photo, QKeySequence.StandardKey.Open),
        "paste": _action(
            window, "&Paste photo", window.paste_photo, QKeySequence.StandardKey.Paste
        ),
        "save": _action(window, "&Save", window.quick_export, QKeySequence.StandardKey.Save),
        "export": _action(window, "&Export…", window.export_result, "Ctrl+E"),
        "undo": _action(window, "&Undo delete", window.undo_delete, QKeySequence.StandardKey.Undo),
        "all_styles": _action(window, "&All styles on this photo", window.batches.all_styles),
        "folder": _action(window, "Style a &folder…", window.batches.style_folder),
        "copy": _action(window, "&Copy result", window.copy_result, "Ctrl+Shift+C"),
        "quit": _action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit),
        "render": _action(window, "&Render", window.render, "Ctrl+R"),
        "render2": _action(window, "Render (Ctrl+Enter)", window.render, "Ctrl+Return"),
        "cancel": _action(window, "&Cancel render", window.cancel_render, "Esc"),
        "models": _action(window, "&Models…", window.open_model_manager, "Ctrl+M"),
        "settings": _action(window, "&Settings…", window.open_settings, "Ctrl+,"),
        "split": _action(window, "&Split view", lambda: window.set_compare_mode("split"), "1"),
        "side": _action(window, "Side &by side", lambda: window.set_compare_mode("side"), "2"),
        "after": _action(window, "&Result only", lambda: window.set_compare_mode("after"), "3"),
        "fit": _action(window, "&Fit to window", window.compare.reset_view, "Ctrl+0"),
        "zoom_in": _action(window, "Zoom &in", lambda: window.compare.zoom_by(1.25), "Ctrl+="),
        "zoom_out": _action(window, "Zoom &out", lambda: window.compare.zoom_by(0.8), "Ctrl+-"),
        "theme": _action(window, "Toggle &dark/light", window.toggle_theme, "Ctrl+Shift+T"),
        "send_email": _action(window, "Send to my &e-mail…", window.studio.send_email),
        "show_qr": _action(window, "Show &QR code", window.studio.show_qr),
        "print": _action(window, "&Print…", window.studio.print_result, "Ctrl+P"),
        "connect": _action(window, "&Connect to studio…", window.studio.connect_dialog),
        "kiosk": _action(window, "&Kiosk mode…", lambda: _open_kiosk(window)),
        "actual_size": _action(
            window, "&Actual pixels (100%)", window.compare.zoom_actual_size, "Ctrl+1"
        ),
        "welcome": _action(window, "Set up &AI models…", window.first_run.show_welcome),
        "teach": _action(
            window, "&Teach a subject…", lambda: _open_teach_subject(window), "Ctrl+Shift+L"
        ),
    }
    a["cloud_render"] = window.cloud.action  # checkable: made with its check box
    a["generate_mode"] = window.generate.action  # checkable: Photo | Generate (Ctrl+G)
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for key in ("open", "paste", "save", "export", "copy", "undo", "quit"):
        file_menu.addAction(a[key])
    render_menu = bar.addMenu("&Render")
    render_menu.addAction(a["generate_mode"])
    for key in ("render", "cloud_render", "cancel", "all_styles", "folder", "models"):
        render_menu.addAction(a[key])
    view = bar.addMenu("&View")
    for key in ("split", "side", "after", "fit", "actual_size", "zoom_in", "zoom_out", "theme"):
        view.addAction(a[key])
    studio = bar.addMenu("&Studio")
    for key in ("send_email", "show_qr", "print", "connect", "kiosk"):
        studio.addAction(a[key])
    tools = bar.addMenu("&Tools")
    for key in ("teach", "settings"):
        tools.addAction(a[key])
    bar.addMenu("&Help").addAction(a["welcome"])
    return a


def _open_kiosk(window: Any) -> None:
    # imported on use: the kiosk's pages are not part of the window's start-up
    from photoflux_desktop.ui.kiosk.launch import open_kiosk_from

    open_kiosk_from(window)


def _open_teach_subject(window: Any) -> None:
    # imported on use: the training dialog is not part of the window's start-up
    from photoflux_desktop.ui.dialogs.teach_subject import open_teach_subject

    open_teach_subject(window)

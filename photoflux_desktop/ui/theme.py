"""Dark and light themes (Fusion + palette), following the system unless chosen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor(124, 92, 255)

_COLOURS = {
    "dark": {
        "window": "#1e1f24",
        "base": "#16171b",
        "alt": "#23252b",
        "text": "#e8e8ec",
        "muted": "#9a9ca6",
        "button": "#2a2c33",
        "border": "#32343c",
    },
    "light": {
        "window": "#f4f4f7",
        "base": "#ffffff",
        "alt": "#ececf1",
        "text": "#1d1d22",
        "muted": "#6b6d76",
        "button": "#e6e6ec",
        "border": "#d4d4dc",
    },
}


def resolve_theme(choice: str) -> str:
    if choice in ("dark", "light"):
        return choice
    scheme = QGuiApplication.styleHints().colorScheme()
    return "light" if scheme == Qt.ColorScheme.Light else "dark"


def colours(theme: str) -> dict[str, str]:
    return _COLOURS[theme]


def apply_theme(app: QApplication, choice: str) -> str:
    theme = resolve_theme(choice)
    c = _COLOURS[theme]
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: c["window"],
        QPalette.ColorRole.WindowText: c["text"],
        QPalette.ColorRole.Base: c["base"],
        QPalette.ColorRole.AlternateBase: c["alt"],
        QPalette.ColorRole.Text: c["text"],
        QPalette.ColorRole.Button: c["button"],
        QPalette.ColorRole.ButtonText: c["text"],
        QPalette.ColorRole.ToolTipBase: c["alt"],
        QPalette.ColorRole.ToolTipText: c["text"],
        QPalette.ColorRole.PlaceholderText: c["muted"],
    }
    for role, value in roles.items():
        palette.setColor(role, QColor(value))
    palette.setColor(QPalette.ColorRole.Highlight, ACCENT)
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(c["muted"]))
    palette.setColor(
        QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(c["muted"])
    )
    app.setPalette(palette)
    app.setStyleSheet(
        f"""
        QToolTip {{ border: 1px solid {c["border"]}; padding: 4px; }}
        QPushButton#primary {{ background: {ACCENT.name()}; color: white; border: none;
                               border-radius: 6px; padding: 7px 16px; font-weight: 600; }}
        QPushButton#primary:disabled {{ background: {c["border"]}; color: {c["muted"]}; }}
        QListWidget {{ border: 1px solid {c["border"]}; border-radius: 6px; }}
        QLabel#muted {{ color: {c["muted"]}; }}
        QLabel#sectionTitle {{ font-weight: 600; }}
        QPushButton:checked {{ background-color: {ACCENT.name()}; color: white; }}
        QFrame#welcomeCard, QFrame#consentCard {{ background: {c["alt"]};
            border: 1px solid {c["border"]}; border-radius: 8px; }}
        QFrame#welcomeCard {{ border-left: 4px solid {ACCENT.name()}; }}
        QFrame#welcomeCard QLabel, QFrame#consentCard QLabel {{ background: transparent; }}
        QToolButton#sectionToggle {{ border: none; font-weight: 600; padding: 2px 0; }}
        QFrame#welcomeCard QProgressBar {{ border: none; border-radius: 4px;
                                           background: {c["border"]}; }}
        QFrame#welcomeCard QProgressBar::chunk {{ border-radius: 4px;
                                                  background: {ACCENT.name()}; }}
        """
    )
    app.setProperty("photofluxTheme", theme)
    return theme

"""Kiosk look: big type and touch-sized targets on top of the app's theme palette.

Every rule is scoped under `#kiosk` so the main window keeps its own look when both
exist; the palette (dark/light) still comes from ui/theme.py.
"""

from __future__ import annotations

KIOSK_STYLE = """
#kiosk QLabel, #kiosk QCheckBox, #kiosk QLineEdit { font-size: 22px; }
#kiosk QLineEdit { padding: 10px; }
#kiosk QLabel#kioskTitle { font-size: 40px; font-weight: 700; padding: 8px; }
#kiosk QLabel#kioskMessage { font-size: 24px; }
#kiosk QPushButton { font-size: 22px; min-height: 56px; padding: 8px 18px;
                     border-radius: 10px; border: 2px solid palette(mid);
                     background: palette(button); }
#kiosk QPushButton:pressed { border-color: #7c5cff; }
#kiosk QPushButton:disabled { color: palette(mid); }
#kiosk QPushButton#kioskPrimary, #kiosk QPushButton#primary {
    background: #7c5cff; color: white; border: none; font-size: 28px; font-weight: 700;
    min-height: 80px; padding: 10px 32px; border-radius: 14px; }
#kiosk QPushButton#kioskPrimary:disabled, #kiosk QPushButton#primary:disabled {
    background: #5a5a66; color: #b8b8c2; }
#kiosk QPushButton#kioskOperator { min-height: 0; padding: 0; font-size: 18px;
                                   background: transparent; border: none; }
#kiosk QToolButton#kioskTile { font-size: 24px; font-weight: 600; padding: 12px;
                               border-radius: 16px; border: 2px solid palette(mid); }
#kiosk QToolButton#kioskTile:pressed { border-color: #7c5cff; }
#kiosk QCheckBox::indicator { border: 2px solid palette(mid); border-radius: 6px;
                              background: palette(base); }
#kiosk QCheckBox::indicator:checked { background: #7c5cff; border-color: #7c5cff; }
#kiosk QProgressBar { min-height: 18px; border-radius: 9px; }
"""

"""Kiosk look: big type and touch-sized targets on top of the app's theme palette."""

from __future__ import annotations

KIOSK_STYLE = """
QWidget#kiosk { font-size: 22px; }
QLabel#kioskTitle { font-size: 40px; font-weight: 700; padding: 8px; }
QLabel#kioskMessage { font-size: 24px; }
QPushButton { min-height: 56px; padding: 8px 28px; border-radius: 10px; }
QPushButton#kioskPrimary { background: #7c5cff; color: white; border: none;
                           font-size: 28px; font-weight: 700; min-height: 80px;
                           padding: 10px 48px; border-radius: 14px; }
QPushButton#kioskPrimary:disabled { background: #5a5a66; color: #b8b8c2; }
QPushButton#kioskOperator { min-height: 0; padding: 0; font-size: 18px;
                            background: transparent; border: none; }
QToolButton#kioskTile { font-size: 24px; font-weight: 600; padding: 12px;
                        border-radius: 16px; border: 2px solid #3a3c46; }
QToolButton#kioskTile:pressed { border-color: #7c5cff; }
QProgressBar { min-height: 18px; border-radius: 9px; }
"""

"""The take-home page on a 1024x768 kiosk screen shows the consent text whole: a guest
must be able to read what they agree to (found clipped in review)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.ui.test_kiosk import kiosk, outbox  # noqa: F401 (fixtures)


def _whole(label: QLabel) -> bool:
    return label.height() >= label.heightForWidth(label.width())


def test_consent_text_is_whole_on_a_1024x768_kiosk_with_a_qr_shown(qtbot, kiosk):  # noqa: F811
    kiosk.resize(1024, 768)
    kiosk.pages.setCurrentWidget(kiosk.deliver)
    form = kiosk.deliver.form
    qtbot.keyClicks(form.email, "guest@example.com")
    qtbot.mouseClick(form.processing, Qt.MouseButton.LeftButton)
    kiosk.deliver.show_qr("https://studio.example.com/r/nv8WM3_Hn3Qug0I7VUIQwF9m8nlvYJFw")
    qtbot.waitUntil(lambda: kiosk.deliver.isVisible() and kiosk.width() == 1024)
    qtbot.wait(50)
    assert _whole(form.processing_text), "the required consent is clipped"
    assert _whole(form.marketing_text)
    address = kiosk.deliver.qr.address  # the long token wraps rather than being cut
    assert _whole(address) and address.width() <= kiosk.deliver.qr.width()
    assert address.text().replace("\u200b", "") == kiosk.deliver.qr.url

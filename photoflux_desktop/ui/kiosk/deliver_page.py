"""Taking the result home: the e-mail form (ConsentForm) and a QR code (QrView)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.sync.consent import ConsentTexts
from photoflux_desktop.ui.studio.consent_form import ConsentForm
from photoflux_desktop.ui.studio.qr_view import QrView


class DeliverPage(QWidget):
    qrRequested = Signal()
    done = Signal()
    back = Signal()

    def __init__(
        self, texts: ConsentTexts, campaign: str | None, qr_possible: bool, parent=None
    ) -> None:
        super().__init__(parent)
        self.form = ConsentForm(texts, large=True, campaign=campaign, source="kiosk")
        self.form.setMinimumWidth(420)  # leaves room for the QR column on a 1024-px screen
        self.thanks = QLabel("")
        self.thanks.setObjectName("kioskTitle")
        self.thanks.setWordWrap(True)
        self.thanks.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.email_side = QStackedWidget()
        self.email_side.addWidget(self.form)
        self.email_side.addWidget(self.thanks)
        self.qr = QrView(large=True)
        self.qr_button = QPushButton("Show a QR code")
        self.qr_button.setObjectName("kioskPrimary")
        self.qr_button.clicked.connect(self.qrRequested.emit)
        self.qr_note = QLabel(
            "" if qr_possible else "QR codes work once this kiosk is connected to the studio."
        )
        self.qr_note.setWordWrap(True)
        self.qr_button.setEnabled(qr_possible)
        email_title = QLabel("Get it by e-mail")
        email_title.setObjectName("kioskTitle")
        qr_title = QLabel("Or scan it")
        qr_title.setObjectName("kioskTitle")
        left = QVBoxLayout()
        left.addWidget(email_title)
        left.addWidget(self.email_side, 1)
        right = QVBoxLayout()
        right.addWidget(qr_title)
        right.addWidget(self.qr, 1)
        right.addWidget(self.qr_note)
        right.addWidget(self.qr_button)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addSpacing(24)
        columns.addLayout(right, 2)
        back_button = QPushButton("Back to my picture")
        back_button.clicked.connect(self.back.emit)
        done_button = QPushButton("Done")
        done_button.setObjectName("kioskPrimary")
        done_button.clicked.connect(self.done.emit)
        bottom = QHBoxLayout()
        bottom.addWidget(back_button)
        bottom.addStretch(1)
        bottom.addWidget(done_button)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addLayout(bottom)

    def show_sent(self, text: str) -> None:
        self.form.clear()  # the address is in the outbox now; off the screen
        self.thanks.setText(text)
        self.email_side.setCurrentWidget(self.thanks)

    def show_qr(self, url: str) -> None:
        self.qr.set_url(url)
        self.qr_button.setVisible(False)

    def clear(self) -> None:
        self.form.clear()
        self.qr.clear()
        self.thanks.setText("")
        self.email_side.setCurrentWidget(self.form)
        self.qr_button.setVisible(True)

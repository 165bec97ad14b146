"""The lead form a guest fills in: e-mail (checked as it is typed), optional name, and
two separate consents. Consent is data: the lead body carries the version and time of
each consent, and it is built by `sync.leads`, which refuses it again without the
required one.

Public API (the kiosk reuses it): `ConsentForm(texts, *, large=False, campaign=None,
source="desktop")`, signal `submitted(dict)` (the lead body), `clear()`."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.sync import leads
from photoflux_desktop.sync.consent import ConsentTexts

LARGE_POINT_SIZE = 20


def email_problem(text: str) -> str | None:
    """Why `text` is not a usable address yet, in words for the guest; None when it is."""
    if not text.strip():
        return "Enter your e-mail address."
    return leads.email_problem(text)  # the same check the cloud makes


class ConsentForm(QWidget):
    """Emits `submitted(body)` only with a valid address and the required consent."""

    submitted = Signal(dict)

    def __init__(
        self,
        texts: ConsentTexts | None = None,
        *,
        large: bool = False,
        campaign: str | None = None,
        source: str = "desktop",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("consentForm")
        self.texts = texts or ConsentTexts()
        self.large = large
        self.campaign = campaign
        self.source = source
        self._build()
        self.email.textChanged.connect(self._refresh)
        self.name.textChanged.connect(self._refresh)
        self.processing.toggled.connect(self._refresh)
        self.send_button.clicked.connect(self.submit)
        self.email.returnPressed.connect(self.submit)
        if large:
            font = self.font()
            font.setPointSize(LARGE_POINT_SIZE)
            self.setFont(font)
            self.setStyleSheet(
                "QCheckBox::indicator { width: 36px; height: 36px; }"
                " QLineEdit { padding: 10px; } QPushButton { padding: 14px 28px; }"
            )
        self.setMinimumWidth(640 if large else 440)
        self._refresh()

    def _build(self) -> None:
        self.email = QLineEdit()
        self.email.setPlaceholderText("name@example.com")
        self.email.setAccessibleName("E-mail address")
        self.email_message = QLabel()
        self.email_message.setObjectName("emailMessage")
        self.email_message.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional")
        self.name.setAccessibleName("Name (optional)")
        self.processing = QCheckBox()
        self.processing.setAccessibleName("Processing and delivery consent (required)")
        self.marketing = QCheckBox()
        self.marketing.setAccessibleName("Marketing contact (optional)")
        self.processing_text = _wrapped(self.texts.processing_text + " (required)", _ConsentLabel)
        self.marketing_text = _wrapped(self.texts.marketing_text + " (optional)", _ConsentLabel)
        self.privacy = _wrapped(self._privacy_html(), rich=not self.large)
        self.privacy.setObjectName("muted")
        # a kiosk guest must not be able to leave the kiosk for a browser
        self.privacy.setOpenExternalLinks(not self.large)
        self.form_message = QLabel()
        self.form_message.setObjectName("formMessage")
        self.form_message.setWordWrap(True)
        self.form_message.hide()
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("primary")
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        top = Qt.AlignmentFlag.AlignTop
        grid.addWidget(QLabel("E-mail"), 0, 0)
        grid.addWidget(self.email, 0, 1)
        grid.addWidget(self.email_message, 1, 1)
        grid.addWidget(QLabel("Name"), 2, 0)
        grid.addWidget(self.name, 2, 1)
        consents = ((self.processing, self.processing_text), (self.marketing, self.marketing_text))
        for row, (box, label) in enumerate(consents, start=3):
            label.setBuddy(box)
            grid.addWidget(box, row, 0, top | Qt.AlignmentFlag.AlignRight)
            grid.addWidget(label, row, 1, top)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.privacy)
        layout.addWidget(self.form_message)
        layout.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignRight)

    def _privacy_html(self) -> str:
        url = self.texts.privacy_url
        if not url:
            return ""
        if self.large:
            return f"Privacy notice: {url}"
        return f'<a href="{html.escape(url, quote=True)}">Privacy notice</a>'

    # -- state --------------------------------------------------------------------
    def email_ok(self) -> bool:
        return email_problem(self.email.text()) is None

    def _refresh(self) -> None:
        typed = self.email.text()
        problem = email_problem(typed)
        # an empty field is not an error yet: say what to do, not what is wrong
        self.email_message.setText(problem if typed.strip() and problem else "")
        self.email_message.setVisible(bool(typed.strip() and problem))
        self.email_message.setStyleSheet("color: #c0392b;")
        self.form_message.hide()
        self.send_button.setEnabled(problem is None and self.processing.isChecked())
        self.send_button.setToolTip(
            "" if self.send_button.isEnabled() else self._why_not_ready(problem)
        )

    def _why_not_ready(self, problem: str | None) -> str:
        if problem:
            return problem
        return "Tick the box to agree to the processing and delivery of your photo."

    def lead_body(self) -> dict[str, Any]:
        """The lead body as sync.leads builds it; raises PhotoFluxError when refused."""
        return leads.lead_body(
            self.email.text(),
            consent=self.processing.isChecked(),
            name=self.name.text(),
            marketing=self.marketing.isChecked(),
            texts=self.texts,
            campaign=self.campaign,
            source=self.source,
        )

    def submit(self) -> None:
        if not self.send_button.isEnabled():
            return
        try:
            body = self.lead_body()
        except PhotoFluxError as exc:
            self.form_message.setText(exc.error.message)
            self.form_message.setStyleSheet("color: #c0392b;")
            self.form_message.show()
            return
        self.submitted.emit(body)

    def clear(self) -> None:
        """Wipes what the guest typed and ticked (the kiosk calls it on idle)."""
        for field in (self.email, self.name):
            field.clear()
            field.setModified(False)
        self.processing.setChecked(False)
        self.marketing.setChecked(False)
        self.form_message.clear()
        self._refresh()


class _ConsentLabel(QLabel):
    """A consent's text: a click (or a tap at the kiosk) on it ticks its box."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        buddy = self.buddy()
        if isinstance(buddy, QCheckBox) and event.button() == Qt.MouseButton.LeftButton:
            buddy.toggle()
        super().mouseReleaseEvent(event)


def _wrapped(text: str, cls: type[QLabel] = QLabel, *, rich: bool = False) -> QLabel:
    """A wrapping label. Plain text unless `rich`: consent texts come from the studio's
    cloud and are shown as written, never interpreted as HTML (hidden words, images)."""
    label = cls(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    return label

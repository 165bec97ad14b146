"""The reusable studio widgets, driven as a guest would: typing, ticking, clicking."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from photoflux_desktop.sync.consent import ConsentTexts
from photoflux_desktop.ui.studio.consent_form import ConsentForm
from photoflux_desktop.ui.studio.qr_view import QrView


@pytest.fixture
def form(qtbot):
    texts = ConsentTexts(processing_version="studio-7", privacy_url="https://studio.example/p")
    widget = ConsentForm(texts, campaign="Summer Fair")
    qtbot.addWidget(widget)
    widget.show()
    return widget


def tick(qtbot, box) -> None:
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=box.rect().center())


def test_an_invalid_address_is_explained_while_typing(qtbot, form):
    assert not form.email_message.isVisible()  # nothing typed: no scolding yet
    qtbot.keyClicks(form.email, "jane.doe@")
    assert form.email_message.isVisible()
    assert "after the @" in form.email_message.text()
    qtbot.keyClicks(form.email, "example.org")
    assert not form.email_message.isVisible()


def test_send_needs_a_valid_address_and_the_required_consent(qtbot, form):
    assert not form.processing.isChecked() and not form.marketing.isChecked()
    qtbot.keyClicks(form.email, "jane.doe@example.org")
    assert not form.send_button.isEnabled()  # the required box is not ticked
    tick(qtbot, form.marketing)
    assert not form.send_button.isEnabled()  # marketing alone is not enough
    tick(qtbot, form.processing_text)  # a click on the consent's words ticks its box
    assert form.processing.isChecked() and form.send_button.isEnabled()
    form.email.setText("jane.doe@@example.org")
    assert not form.send_button.isEnabled()


def test_sending_emits_the_lead_with_its_consents(qtbot, form):
    qtbot.keyClicks(form.email, "Jane.Doe@Example.org")
    qtbot.keyClicks(form.name, "Jane")
    tick(qtbot, form.processing)
    with qtbot.waitSignal(form.submitted, timeout=2000) as sent:
        qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    body = sent.args[0]
    assert body["email"] == "Jane.Doe@example.org" and body["name"] == "Jane"
    assert body["consent"] is True and body["consent_text_version"] == "studio-7"
    assert body["consented_at"]
    assert body["marketing"] is False and body["marketing_consented_at"] is None
    assert body.get("marketing_text_version") is None
    assert body["campaign"] == "Summer Fair"


def test_the_form_refuses_again_without_consent(qtbot, form):
    """Even if the button were forced on, no lead leaves without the required consent."""
    qtbot.keyClicks(form.email, "jane@example.org")
    form.send_button.setEnabled(True)
    with qtbot.assertNotEmitted(form.submitted):
        form.submit()
        form.processing.setChecked(False)
        form.send_button.setEnabled(True)
        form.submit()
    from photoflux_desktop.engine.errors import PhotoFluxError

    with pytest.raises(PhotoFluxError, match="Consent is required"):
        form.lead_body()


def test_clear_wipes_everything(qtbot, form):
    qtbot.keyClicks(form.email, "jane@example.org")
    qtbot.keyClicks(form.name, "Jane")
    tick(qtbot, form.processing)
    tick(qtbot, form.marketing)
    form.clear()
    assert form.email.text() == "" and form.name.text() == ""
    assert not form.processing.isChecked() and not form.marketing.isChecked()
    assert not form.send_button.isEnabled() and not form.email_message.isVisible()


def test_large_variant_shows_the_privacy_address_instead_of_a_link(qtbot):
    texts = ConsentTexts(privacy_url="https://studio.example/privacy?a=1&b=2")
    normal, large = ConsentForm(texts), ConsentForm(texts, large=True)
    for widget in (normal, large):
        qtbot.addWidget(widget)
    assert large.font().pointSize() > normal.font().pointSize()
    assert normal.privacy.openExternalLinks() and "<a href=" in normal.privacy.text()
    assert not large.privacy.openExternalLinks()
    assert large.privacy.text().endswith("https://studio.example/privacy?a=1&b=2")


def test_qr_view_draws_a_scannable_code_at_once(qtbot):
    view = QrView()
    qtbot.addWidget(view)
    view.show()
    url = "https://studio.example/r/Zm9vYmFyYmF6cXV4MTIzNDU2"
    view.set_url(url)
    assert view.url == url and url in view.address.text()
    image = view.image
    assert image is not None and not view.code.pixmap().isNull()
    # quiet zone white, finder pattern black at its top-left corner
    scale, border = 8, 4
    assert image.pixelColor(1, 1).lightness() > 200
    corner = image.pixelColor(border * scale + 2, border * scale + 2)
    assert corner.lightness() < 50
    view.clear()
    assert view.url is None and view.image is None and view.address.text() == ""


def test_studio_consent_texts_are_shown_as_written_never_as_html(qtbot):
    """The texts come from the studio's cloud: markup in them is text, not HTML that
    could hide words of the consent or pull in images."""
    text = 'I agree <a href="https://x.example">here</a><span style="font-size:0">not</span>'
    widget = ConsentForm(ConsentTexts(processing_text=text, marketing_text="<a href=#>x</a>"))
    qtbot.addWidget(widget)
    for label in (widget.processing_text, widget.marketing_text):
        assert label.textFormat() == Qt.TextFormat.PlainText
    assert widget.processing_text.text().startswith(text)

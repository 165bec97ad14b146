"""Sends one result by e-mail over SMTP (aiosmtplib)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from cloud_api.core.config import Settings

SMTP_TIMEOUT_S = 30


class PermanentMailError(Exception):
    """The server refused the message for good (bad recipient, message rejected)."""


class TemporaryMailError(Exception):
    """Worth another try later (server down, timeout, 4xx)."""


@dataclass(frozen=True)
class Outgoing:
    to: str
    studio_name: str
    style: str | None
    filename: str
    image: bytes
    image_subtype: str  # jpeg, png, webp


ENCODED_WORD = re.compile(r"=\?")
MAX_HEADER_TEXT = 120


def header_text(value: str) -> str:
    """Text safe inside a header: every control, format and line or paragraph separator
    (CR, LF, U+0085, U+2028, U+2029, ...) becomes a space, and `=?` cannot start an RFC
    2047 encoded word, which the email package would otherwise decode into line breaks
    and so into new headers (a `Bcc:`)."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in value
    )
    cleaned = ENCODED_WORD.sub("= ?", cleaned)
    return " ".join(cleaned.split())[:MAX_HEADER_TEXT]


def build_message(settings: Settings, mail: Outgoing) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    studio = header_text(mail.studio_name)
    message["Subject"] = f"Your photo from {studio}"
    look = f" in the {mail.style} style" if mail.style else ""
    message.set_content(
        f"Hello,\n\nhere is your photo{look} from {studio}, attached.\n\n"
        "You receive this because you asked for it at the studio. "
        "Reply to this e-mail if you want your data deleted.\n"
    )
    message.add_attachment(
        mail.image, maintype="image", subtype=mail.image_subtype, filename=mail.filename
    )
    return message


async def send(settings: Settings, mail: Outgoing) -> None:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            build_message(settings, mail),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=SMTP_TIMEOUT_S,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise PermanentMailError("the recipient address was refused") from exc
    except aiosmtplib.SMTPResponseException as exc:
        if 500 <= exc.code < 600:
            raise PermanentMailError(f"SMTP {exc.code}: {exc.message[:200]}") from exc
        raise TemporaryMailError(f"SMTP {exc.code}: {exc.message[:200]}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise TemporaryMailError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc

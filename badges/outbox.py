"""Outgoing mail: SMTP when a server is configured, otherwise ``.eml`` files in a folder.

No Flask here: the caller passes a plain :class:`MailSettings`. A development installation
without a mail server still works: messages land in ``<instance>/outbox/`` as RFC 5322 files
that a person can open in any mail program.
"""

import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from badges.core.errors import BadgesError

#: Seconds to wait for the mail server before giving up (a page must not hang).
SMTP_TIMEOUT = 15


class MailError(BadgesError):
    """The message could not be handed to the mail server or written to the outbox."""

    code = "mail_failed"
    status = 503


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where mail goes: an SMTP server, or the outbox folder when ``smtp_host`` is empty."""

    mail_from: str
    outbox_dir: Path
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    #: Upgrade the connection with STARTTLS before sending (and before any password).
    smtp_starttls: bool = True


def build_message(settings: MailSettings, *, to: str, subject: str, body: str, now: datetime) -> EmailMessage:
    """Return a plain-text UTF-8 message with the headers RFC 5322 asks for."""
    for value in (to, subject):
        if "\r" in value or "\n" in value:
            raise MailError("line breaks are not allowed in mail headers")
    message = EmailMessage(policy=SMTP)
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    # An explicit domain: make_msgid() would otherwise ask the resolver for this host's name.
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "osaamispassi.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send(settings: MailSettings, *, to: str, subject: str, body: str, now: datetime) -> Path | None:
    """Send one message; return the ``.eml`` path when it went to the outbox folder.

    Raises:
        MailError: the server refused or could not be reached, or the folder is not writable.
    """
    message = build_message(settings, to=to, subject=subject, body=body, now=now)
    if settings.smtp_host:
        _send_smtp(settings, message)
        return None
    return _write_eml(settings.outbox_dir, message, now)


def _send_smtp(settings: MailSettings, message: EmailMessage) -> None:
    try:
        with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                # Never fall back to plain text when TLS was asked for: refuse instead.
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"the mail server did not accept the message ({error.__class__.__name__})") from None


def _write_eml(folder: Path, message: EmailMessage, now: datetime) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Sortable by time (to the microsecond), unique by the random part.
        name = f"{now.strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(4)}.eml"
        path = folder / name
        partial = folder / f".{name}.part"
        # Write then rename, so that a reader never sees half a message.
        partial.write_bytes(message.as_bytes())
        os.replace(partial, path)
    except OSError as error:
        raise MailError(f"the outbox folder is not writable ({error.__class__.__name__})") from None
    return path

"""Helpers for the people tests: who is who, reading the database and the outbox."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from flask import Flask
from helpers import BASE_URL
from sqlalchemy.orm import Session

from badges.db import get_session

INVITE_LINK = re.compile(re.escape(BASE_URL) + r"/invite/([A-Za-z0-9_\-]+)")


@dataclass(frozen=True)
class World:
    """Public ids and addresses of the people made by the ``world`` fixture."""

    org: str  #: slug of organisation A
    other: str  #: slug of organisation B
    admin: str
    coach: str
    client: str  #: public id of a client of A (e-mail client@example.test)
    paperless: str  #: public id of a client of A without e-mail or password
    client_b: str  #: public id of a client of B only
    award: str  #: an award A gave ``client``
    award_b: str  #: an award B gave ``client`` (must never show on A's pages)


ADMIN = "admin@example.test"
COACH = "coach@example.test"
CLIENT = "client@example.test"
ADMIN_B = "admin-b@example.test"
COACH_B = "coach-b@example.test"


@contextmanager
def db(app: Flask) -> Iterator[Session]:
    """Open a fresh app context and its session (read the database as it is now)."""
    with app.app_context():
        yield get_session()


def outbox(app: Flask) -> list[EmailMessage]:
    """Return the messages in the instance's outbox folder, oldest first."""
    folder = Path(app.instance_path) / "outbox"
    if not folder.is_dir():
        return []
    return [message_from_bytes(path.read_bytes(), policy=default)  # type: ignore[misc]
            for path in sorted(folder.glob("*.eml"))]


def invite_token(message: EmailMessage) -> str:
    """Return the invitation token from a message's link."""
    match = INVITE_LINK.search(message.get_content())
    assert match, "no invitation link in the message"
    return match.group(1)


def text(response) -> str:  # noqa: ANN001 - a test response
    """Return the response body as text."""
    return response.get_data(as_text=True)

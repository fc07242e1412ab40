"""Helpers for the security tests: reading the database, the outbox, pages and form tokens."""

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

RESET_LINK = re.compile(re.escape(BASE_URL) + r"/reset/([A-Za-z0-9_\-]+)")
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

CLIENT = "client@example.test"
COACH = "coach@example.test"
ADMIN = "admin@example.test"
NEW_PASSWORD = "a brand new passphrase 2026"  # noqa: S105 - test password


@dataclass(frozen=True)
class People:
    """Public ids of the people made by the ``people`` fixture."""

    org: str
    admin: str
    coach: str
    client: str  #: has an e-mail address and a password
    paperless: str  #: a client without e-mail address
    award: str  #: an award ``coach`` gave ``client``


@contextmanager
def db(app: Flask) -> Iterator[Session]:
    """Open a fresh app context and its session (read the database as it is now)."""
    with app.app_context():
        yield get_session()


def outbox(app: Flask) -> list[EmailMessage]:
    """Return the messages in the instance's outbox folder, oldest first."""
    folder = Path(app.instance_path) / "outbox"
    return [message_from_bytes(path.read_bytes(), policy=default)  # type: ignore[misc]
            for path in sorted(folder.glob("*.eml"))]


def reset_token(message: EmailMessage) -> str:
    """Return the token of the reset link in ``message``."""
    match = RESET_LINK.search(message.get_content())
    assert match, "no reset link in the message"
    return match.group(1)


def text(response) -> str:  # noqa: ANN001 - a test response
    """Return the response body as text."""
    return response.get_data(as_text=True)


def csrf_token(page: str) -> str:
    """Return the CSRF token of the first form on ``page``."""
    match = CSRF_FIELD.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


# --- sample files for bad-input tests -----------------------------------------------------------

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8" viewBox="0 0 8 8">'
       '<circle cx="4" cy="4" r="3" fill="#1b5e20"/></svg>')


def image_bytes(fmt: str, size: tuple[int, int] = (8, 8), *, noise: bool = False) -> bytes:
    """Return a small valid image in ``fmt`` (PNG, JPEG, GIF, WEBP); noise makes it incompressible."""
    import io
    import random

    from PIL import Image

    image = Image.new("RGB", size, (27, 94, 32))
    if noise:
        image = Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """Return a tiny PNG whose header claims ``width`` × ``height`` pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # A little compressed data that inflates to rows of zeros: small file, huge image.
    body = zlib.compress(b"\x00" * 65536, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


#: Hostile SVG and XML payloads: scripts, external entities (XXE), entity expansion (billion laughs).
HOSTILE_SVGS = {
    "script": SVG.replace("</svg>", "<script>alert(document.cookie)</script></svg>"),
    "xxe": ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            '<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>'),
    "billion_laughs": ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                       + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                                 for i in range(1, 10))
                       + ']><svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text></svg>'),
    "external_image": SVG.replace("<circle", '<image href="http://169.254.169.254/latest/meta-data"/><circle'),
    "onload": SVG.replace("<svg ", '<svg onload="alert(1)" '),
}

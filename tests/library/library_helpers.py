"""Helpers for the badge library tests: who is who, reading the database, tiny images."""

import io
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from PIL import Image
from sqlalchemy.orm import Session

from badges.db import get_session

DATA = Path(__file__).resolve().parent / "data"
ADMIN = "admin@example.test"
COACH = "coach@example.test"
CLIENT = "client@example.test"
ADMIN_B = "admin-b@example.test"
COACH_B = "coach-b@example.test"


@dataclass(frozen=True)
class Lib:
    """Slugs and public ids made by the ``lib`` fixture."""

    org: str  #: organisation A (fi)
    other: str  #: organisation B
    badge: str  #: A's own badge with one award (version 1)
    award: str  #: the award of ``badge``
    badge_b: str  #: B's badge (A must never reach it)


@contextmanager
def db(app: Flask) -> Iterator[Session]:
    """Open a fresh app context and its session (read the database as it is now)."""
    with app.app_context():
        yield get_session()


def png_bytes(size: tuple[int, int] = (64, 64), colour: str = "#1d6b3a") -> bytes:
    """Return a small valid PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def huge_png_header(width: int = 50_000, height: int = 50_000) -> bytes:
    """Return a PNG that claims enormous dimensions (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def form_data(**overrides: object) -> dict[str, object]:
    """Return a complete, valid badge form in Finnish; keyword arguments replace fields."""
    data: dict[str, object] = {
        "name_fi": "Lumityöt",
        "description_fi": "Osaa tehdä lumityöt turvallisesti.",
        "criteria_fi": "Osaa aurata ja hiekoittaa kulkureitit ohjeen mukaan.",
        "image_alt_fi": "Sininen pyöreä merkki: Lumityöt",
        "evidence_guidance_fi": "Valokuva aurattusta pihasta.",
        "alignments": "osaamismerkit_1016",
        "colour": "#0b5394",
        "action": "save",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}

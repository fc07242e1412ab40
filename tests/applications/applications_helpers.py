"""Small helpers shared by the application tests."""

import io
import json

from flask import g, has_app_context
from PIL import Image
from sqlalchemy import select

from badges.models import Award, BadgeApplication, Notification, User


def sign_in(client, user: User) -> None:
    """Log ``user`` in without the password form (fast, and free of rate limits)."""
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.public_id
        cookie["_fresh"] = True
    # The ``session`` fixture keeps an app context open, which requests reuse: forget the
    # user Flask-Login cached on ``g`` for the previous person.
    if has_app_context():
        g.pop("_login_user", None)


def photo_bytes() -> bytes:
    """Return a small JPEG carrying EXIF metadata that must not survive the upload."""
    image = Image.new("RGB", (64, 48), (40, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera 3000"  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def send(client, badge: str, statement: str = "Tunnistin koivun, männyn ja kuusen.", *, photo=None,
         filename: str = "photo.jpg"):
    """Post the application form."""
    data = {"badge": badge, "statement": statement}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), filename, "image/jpeg")
    return client.post("/passport/applications/new", data=data, content_type="multipart/form-data")


def rows(session, model, **where) -> list:
    """Return the rows of ``model`` (afresh from the database) matching ``where``."""
    session.expire_all()
    stmt = select(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return list(session.scalars(stmt))


def applications(session, **where) -> list[BadgeApplication]:
    """Return the applications matching ``where``."""
    return rows(session, BadgeApplication, **where)


def awards(session, **where) -> list[Award]:
    """Return the awards matching ``where``."""
    return rows(session, Award, **where)


def notifications(session, **where) -> list[Notification]:
    """Return the notifications matching ``where``."""
    return rows(session, Notification, **where)


def credential(award: Award) -> dict:
    """Return the signed credential of ``award``."""
    return json.loads(award.document)

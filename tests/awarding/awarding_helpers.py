"""Small helpers shared by the awarding tests."""

import html
import io
import re
from datetime import UTC, datetime

from PIL import Image

from badges.awarding import finnish_today

_CONFIRM = re.compile(r'<form method="post" action="([^"]*/award/confirm)".*?</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def today():
    """Return today's date in Finland (what the form uses)."""
    return finnish_today(datetime.now(UTC))


def photo_bytes(*, camera: str = "SecretCamera 3000") -> bytes:
    """Return a small JPEG carrying EXIF metadata that must not survive the upload."""
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = camera  # Make
    exif[0x013B] = "Artist Name"  # Artist
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def confirm_fields(page: str) -> tuple[str, list[tuple[str, str]]]:
    """Return the confirm form's action and its hidden fields (in order) from a preview page."""
    match = _CONFIRM.search(page)
    assert match, "no confirm form on the page"
    fields = [(name, html.unescape(value)) for name, value in _HIDDEN.findall(match.group(0))]
    return match.group(1), fields


def preview(client, slug: str, *, badge: str, clients: list[str], note: str = "", observed=None, photo=None):
    """Post step 1 and return the response."""
    data = {"badge": badge, "clients": clients, "note": note,
            "observed": (observed or today()).isoformat()}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "photo.jpg", "image/jpeg")
    return client.post(f"/org/{slug}/award", data=data, content_type="multipart/form-data")


def confirm(client, action: str, fields: list[tuple[str, str]], **changes):
    """Post the confirm form with its hidden fields, optionally changed (a tampered form)."""
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    for name, value in changes.items():
        data[name] = value if isinstance(value, list) else [value]
    return client.post(action, data=data)


def sign_in(client, user) -> None:
    """Log ``user`` in without the password form (fast, and free of rate limits)."""
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.public_id
        cookie["_fresh"] = True


def anonymous(app):
    """Return a test client of nobody."""
    return app.test_client()

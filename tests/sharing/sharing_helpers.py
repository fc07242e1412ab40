"""Small helpers shared by the sharing tests."""

import io
import re
from datetime import UTC, datetime

from flask import g, has_app_context
from PIL import Image

from badges import sharing
from badges.models import User

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0 Safari/537.36")
LINK = re.compile(r'id="share-link"[^>]*value="([^"]+)"')


def now() -> datetime:
    """Return the real current time (what the web layer uses)."""
    return datetime.now(UTC)


def sign_in(client, user: User) -> None:
    """Log ``user`` in without the password form (fast, and free of rate limits)."""
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.public_id
        cookie["_fresh"] = True
    # The ``session`` fixture keeps an app context open, which requests reuse: forget the
    # user Flask-Login cached on ``g`` for the previous person.
    if has_app_context():
        g.pop("_login_user", None)


def png_bytes() -> bytes:
    """Return a small PNG photo."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def share_form(**fields) -> dict:
    """Return valid form data for a new share, overridden by ``fields``."""
    data = {
        "scope": "passport", "recipient_kind": "name", "recipient_label": "Employment services, Ms N",
        "purpose": "planning the next step",
        "expires_on": sharing.default_expiry_day(now()).isoformat(),
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def token_of(link: str) -> str:
    """Return the token at the end of a share link."""
    return link.rsplit("/s/", 1)[1]

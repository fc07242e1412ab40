"""Translated messages for domain error codes, so that errors speak the user's language.

Each blueprint registers its codes at import time: ``register({"code": _l("…")})``. An error
whose code is not registered shows its own (English) message.
"""

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from badges.core.errors import BadgesError

_MESSAGES: dict[str, object] = {}


def register(messages: Mapping[str, object]) -> None:
    """Add translated messages for error codes."""
    _MESSAGES.update(messages)


def message_for(error: BadgesError) -> str:
    """Return the user-facing message of ``error`` in the current language."""
    message = _MESSAGES.get(error.code)
    return str(message) if message is not None else str(error)


register({
    "image_empty": _l("The file is empty."),
    "image_too_large": _l("The file is too large (at most 10 MB)."),
    "image_svg": _l("SVG files are not accepted. Use a PNG or JPEG image."),
    "image_format": _l("Only PNG, JPEG, WebP and GIF images are accepted."),
    "image_too_many_pixels": _l("The image is too large in pixels. Use a smaller image."),
    "image_unreadable": _l("The file is not a readable image."),
    "not_found": _l("The page was not found. Check the address."),
    "already_revoked": _l("This badge was revoked already."),
    "badge_retired": _l("This badge is retired and cannot be awarded."),
})

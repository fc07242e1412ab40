"""Errors the core raises on purpose, each with a stable ``code``."""


class BadgesError(Exception):
    """Base for errors the domain raises on purpose."""

    code = "badges_error"
    status = 400  # used by the web layer only; the core never interprets it


class UnknownContextError(BadgesError):
    """A JSON-LD context URL is not vendored; it is never fetched."""

    code = "unknown_context"


class UndefinedTermError(BadgesError):
    """A document uses a term or type that its contexts do not define."""

    code = "undefined_term"


class MalformedCredentialError(BadgesError):
    """Input cannot be read as a credential at all (not JSON, not an object, …)."""

    code = "malformed_credential"


class BakingError(BadgesError):
    """A baked image cannot be read or written (bad PNG/SVG, missing or repeated chunk)."""

    code = "baking_error"


class KeyFormatError(BadgesError):
    """A key or its encoding is not what it claims to be."""

    code = "key_format"


class StatusListError(BadgesError):
    """A status list or its index is invalid."""

    code = "status_list"

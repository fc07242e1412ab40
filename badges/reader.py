"""Read credentials and helper documents from files: JSON, compact JWT, baked PNG or SVG."""

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from badges.core.baking import sniff_format, unbake_png, unbake_svg
from badges.core.errors import BadgesError

#: No badge file is anywhere near this; larger input is refused before parsing.
MAX_FILE_BYTES = 10 * 1024 * 1024


class ReadError(BadgesError):
    """A file cannot be read as a credential; the message says why."""

    code = "unreadable"


def parse_credential_bytes(data: bytes) -> tuple[dict[str, Any] | str, str]:
    """Return (credential JSON object or compact JWT, format name) from file contents."""
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    kind = sniff_format(data)
    try:
        if kind == "png":
            text = unbake_png(data)
        elif kind == "svg":
            text = unbake_svg(data)
        elif kind in ("json", "jwt"):
            text = data.decode("utf-8-sig")
        else:
            raise ReadError("this is not a credential: expected JSON, a JWT, or a baked PNG or SVG badge")
    except UnicodeDecodeError:
        raise ReadError("the file is not UTF-8 text") from None
    except BadgesError as error:
        if isinstance(error, ReadError):
            raise
        raise ReadError(str(error)) from None
    return _parse_text(text, kind)


def _parse_text(text: str, kind: str) -> tuple[dict[str, Any] | str, str]:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise ReadError(f"the credential is not valid JSON (line {error.lineno}, column {error.colno})") from None
        except RecursionError:  # thousands of nested brackets: no credential looks like that
            raise ReadError("the credential is nested too deeply to be read") from None
        if not isinstance(document, dict):
            raise ReadError("the credential must be a JSON object")
        return document, kind
    if stripped.count(".") == 2 and " " not in stripped:
        return stripped, "jwt" if kind in ("json", "jwt") else f"{kind}+jwt"
    raise ReadError("the content is neither a JSON credential nor a compact JWT")


def read_credential_file(path: Path) -> tuple[dict[str, Any] | str, str]:
    """Read and parse a credential file (size-capped before reading it all)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ReadError(f"cannot open {path}: {error.strerror}") from None
    return parse_credential_bytes(data)


def load_documents(paths: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """Read helper documents (DID documents, status lists), keyed by their ``id``."""
    documents: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            document = json.loads(path.read_bytes()[: MAX_FILE_BYTES + 1])
        except (OSError, ValueError):
            raise ReadError(f"{path} is not a JSON document") from None
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            raise ReadError(f"{path} has no 'id': cannot tell which document it is")
        documents[document["id"]] = document
    return documents

"""Pinned JSON-LD context URLs and the offline document loader over the vendored copies.

The contexts in ``contexts/`` are byte-for-byte the files the npm context packages ship
(see ``contexts/index.json``). No code path fetches a context from the network: an unknown
URL is an error.
"""

import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from badges.core.errors import UnknownContextError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"

#: Legacy OB 3.0 contexts that verification still reads (badges issued before 3.0.3).
OB_LEGACY = (
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
)

#: A pyld document loader: ``loader(url, options) -> remote document dict``.
DocumentLoader = Callable[[str, Mapping[str, Any]], dict[str, Any]]


@cache
def vendored_contexts() -> Mapping[str, Any]:
    """Return every vendored context document, keyed by its URL (parsed once per process)."""
    folder = resources.files("badges.core") / "contexts"
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    return {url: json.loads((folder / name).read_text(encoding="utf-8")) for url, name in index.items()}


def is_known_context(url: str) -> bool:
    """Return True when ``url`` is one of the vendored contexts."""
    return url in vendored_contexts()


def make_loader(extra: Mapping[str, Any] | None = None) -> DocumentLoader:
    """Return an offline pyld loader over the vendored contexts plus ``extra`` documents.

    ``extra`` maps further URLs (for example a DID document) to their parsed JSON; it can
    add documents but never replace a vendored context. Any other URL raises
    :class:`UnknownContextError`; nothing is ever fetched.
    """
    vendored = vendored_contexts()
    extra = {url: doc for url, doc in (extra or {}).items() if url not in vendored}

    def load(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        document = vendored.get(url)
        if document is not None:
            # The "static" tag lets pyld keep the processed context in its process-wide
            # resolved-context cache; without a tag it re-processes every context on every
            # call (about 1.7x slower signing). Only vendored documents are tagged: that
            # cache is keyed by URL alone and shared by all loaders, so an ``extra``
            # document must never land in it and become visible to other loaders.
            return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}
        document = extra.get(url)
        if document is None:
            raise UnknownContextError(f"unknown JSON-LD context or document: {url}")
        return {"contextUrl": None, "documentUrl": url, "document": document}

    return load


@cache
def static_loader() -> DocumentLoader:
    """Return the process-wide loader over the vendored contexts alone."""
    return make_loader()

"""RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD documents, with an undefined-term guard."""

import re
from collections.abc import Mapping
from typing import Any

from pyld import jsonld

from badges.core.contexts import DocumentLoader
from badges.core.fastcanon import canonicalize_fast
from badges.core.errors import MalformedCredentialError, UndefinedTermError, UnknownContextError

#: An IRI prefix no real vocabulary uses. Appended as ``@vocab`` after the document's own
#: contexts it catches every term and type the contexts leave undefined: pyld (which has no
#: JSON-LD "safe mode") would otherwise drop such terms silently, and a signature over the
#: remaining quads would then fail in every safe-mode verifier.
UNDEFINED_VOCAB = "urn:osaamispassi:undefined-term#"
#: Deeper JSON than this is refused before pyld sees it: pyld recurses several Python frames
#: per level, and a credential is a dozen levels deep at most.
MAX_DEPTH = 64
#: An N-Quads string literal (escapes included), removed before looking for the sentinel IRI.
_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_SENTINEL_IRI = re.compile("<" + re.escape(UNDEFINED_VOCAB) + "([^>]*)>")


def _contexts_of(document: Mapping[str, Any]) -> list[Any]:
    context = document.get("@context")
    if context is None:
        raise MalformedCredentialError("the document has no @context")
    return list(context) if isinstance(context, list) else [context]


def check_compact_form(document: Mapping[str, Any]) -> None:
    """Refuse JSON that a JSON-LD processor would read differently from a JSON reader.

    The signature covers RDF quads, but verifiers and displays read JSON members by name.
    Any second spelling of the same quads would let a signed credential be re-dressed:
    ``{"https://www.w3.org/2018/credentials#credentialStatus": …}`` or ``{"@nest": {…}}``
    carry the same quads as ``credentialStatus`` yet hide it from ``doc["credentialStatus"]``
    (a revocation bypass), and an embedded ``"@context": {"@vocab": null}`` makes pyld drop
    unsigned members silently. So every property name must be a plain term (no ``@`` keyword,
    no IRI), and every ``@context`` must be a URL string or a list of them (the loader then
    accepts only vendored ones). A plain dict walk: microseconds next to the JSON-LD work.

    Raises:
        UndefinedTermError: a property name is a keyword or an IRI instead of a term.
        UnknownContextError: an ``@context`` is inline rather than a URL.
        MalformedCredentialError: the JSON is nested implausibly deep.
    """
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedCredentialError("the document is nested too deeply")
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "@context":
                    contexts = value if isinstance(value, list) else [value]
                    if not all(isinstance(c, str) for c in contexts):
                        raise UnknownContextError("inline JSON-LD contexts are not accepted")
                elif not isinstance(key, str) or key.startswith("@") or ":" in key:
                    raise UndefinedTermError(f"property names must be context terms, not {key!r}")
                else:
                    stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)


def canonicalize(document: Mapping[str, Any], loader: DocumentLoader, *, fast: bool = True) -> str:
    """Return the RDFC-1.0 (URDNA2015) N-Quads of ``document``.

    ``fast`` uses the shape cache of :mod:`badges.core.fastcanon` when it applies; the
    output is identical to the general pyld path (``fast=False``), which a differential
    test checks.

    Raises:
        UndefinedTermError: a property or type is not defined by the document's contexts.
        UnknownContextError: a context is inline or its URL is not vendored (never fetched).
        MalformedCredentialError: the document is not JSON-LD pyld can process.
    """
    check_compact_form(document)
    guarded = dict(document)
    guarded["@context"] = [*_contexts_of(document), {"@vocab": UNDEFINED_VOCAB}]
    try:
        nquads = canonicalize_fast(guarded, loader) if fast else None
        if nquads is None:
            nquads = jsonld.normalize(
                guarded,
                {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader},
            )
    except jsonld.JsonLdError as error:
        raise _translate(error) from None
    if UNDEFINED_VOCAB in nquads:  # cheap test first; the exact one only when it may hit
        terms = _undefined_terms(nquads)
        if terms:
            # With no sentinel IRI the output is exactly the canonical form of the document.
            raise UndefinedTermError(
                "terms not defined by the document's contexts: " + ", ".join(terms)
            )
    return nquads


def _undefined_terms(nquads: str) -> list[str]:
    # Only IRIs count: a literal such as a name may legitimately contain the sentinel text.
    return sorted(set(_SENTINEL_IRI.findall(_LITERAL.sub('""', nquads))))


def _translate(error: Exception) -> Exception:
    """Map a pyld error to our domain error, finding an UnknownContextError in the chain."""
    seen: Exception | None = error
    while seen is not None:
        if isinstance(seen, UnknownContextError):
            return seen
        cause = getattr(seen, "cause", None) or seen.__cause__
        seen = cause if isinstance(cause, Exception) else None
    return MalformedCredentialError(f"JSON-LD processing failed: {getattr(error, 'message', error)}")

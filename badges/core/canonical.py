"""RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD documents, with an undefined-term guard."""

from collections.abc import Mapping
from typing import Any

from pyld import jsonld

from badges.core.contexts import DocumentLoader
from badges.core.errors import MalformedCredentialError, UndefinedTermError, UnknownContextError

#: An IRI prefix no real vocabulary uses. Appended as ``@vocab`` after the document's own
#: contexts it catches every term and type the contexts leave undefined: pyld (which has no
#: JSON-LD "safe mode") would otherwise drop such terms silently, and a signature over the
#: remaining quads would then fail in every safe-mode verifier.
UNDEFINED_VOCAB = "urn:osaamispassi:undefined-term#"


def _contexts_of(document: Mapping[str, Any]) -> list[Any]:
    context = document.get("@context")
    if context is None:
        raise MalformedCredentialError("the document has no @context")
    return list(context) if isinstance(context, list) else [context]


def canonicalize(document: Mapping[str, Any], loader: DocumentLoader) -> str:
    """Return the RDFC-1.0 (URDNA2015) N-Quads of ``document``.

    Raises:
        UndefinedTermError: a property or type is not defined by the document's contexts.
        UnknownContextError: a context URL is not vendored (never fetched).
    """
    guarded = dict(document)
    guarded["@context"] = [*_contexts_of(document), {"@vocab": UNDEFINED_VOCAB}]
    try:
        nquads = jsonld.normalize(
            guarded,
            {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader},
        )
    except jsonld.JsonLdError as error:
        raise _translate(error) from None
    if UNDEFINED_VOCAB in nquads:
        # With no sentinel quad the output is exactly the canonical form of the document itself.
        raise UndefinedTermError(
            "terms not defined by the document's contexts: " + ", ".join(_undefined_terms(nquads))
        )
    return nquads


def _undefined_terms(nquads: str) -> list[str]:
    terms: set[str] = set()
    for part in nquads.split("<" + UNDEFINED_VOCAB)[1:]:
        terms.add(part.split(">", 1)[0])
    return sorted(terms)


def _translate(error: Exception) -> Exception:
    """Map a pyld error to our domain error, finding an UnknownContextError in the chain."""
    seen: Exception | None = error
    while seen is not None:
        if isinstance(seen, UnknownContextError):
            return seen
        cause = getattr(seen, "cause", None) or seen.__cause__
        seen = cause if isinstance(cause, Exception) else None
    return MalformedCredentialError(f"JSON-LD processing failed: {getattr(error, 'message', error)}")

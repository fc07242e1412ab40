"""A fast path for RDFC-1.0 canonicalization of documents that share a shape.

Almost all of pyld's time goes into JSON-LD expansion (context processing, type-scoped
contexts), yet two credentials of the same *shape* — the same members, types and contexts,
with only the string values differing — expand identically apart from those values. So
the expansion is done once per shape, with every string value replaced by a stand-in,
and turned into an RDF dataset template. A later document of that shape gets its values
put into a copy of the template, and only the RDFC-1.0 step (URDNA2015 over ~60 quads) runs.

A value may be substituted only where JSON-LD passes it through untouched: as a literal
(``@value``) or as an absolute IRI (``@id``). Expanding the shape twice, with two kinds of
stand-in (an absolute IRI and a plain word), shows which values those are: a value that
a context maps (``@type: @vocab`` terms, ``type`` members, …) becomes part of the shape
instead. Anything unusual (a value that is not an absolute IRI where an IRI goes, a blank
node id, an unknown context) returns None and the caller takes the general pyld path,
which stays the reference: a differential test compares both over thousands of documents.
"""

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from functools import cache
from typing import Any

from pyld import jsonld
from pyld.canon import URDNA2015

from badges.core.contexts import DocumentLoader, is_known_context, vendored_contexts

_IRI_PLACEHOLDER = "urn:x-osaamispassi-slot:{}"
_WORD_PLACEHOLDER = "x-osaamispassi-slot-{}"
_IRI_SLOT = re.compile(r"^urn:x-osaamispassi-slot:(\d+)$")
#: pyld's own test for an absolute IRI (jsonld._is_absolute_iri), minus blank node ids.
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:[^\s]*$")
#: Members whose string values are never substituted: they choose contexts and types.
_STRUCTURAL_KEYS = frozenset({"@context", "type", "@type"})
#: The base pyld resolves relative IRIs against when none is given (its documented default).
_PYLD_DEFAULT_BASE = "http://example.org/base/"
_CANON_OPTIONS = {"algorithm": "URDNA2015", "format": "application/n-quads"}
MAX_SHAPES = 512


class _Template:
    """The RDF dataset of one shape, with the slots where values go.

    ``triples`` is None for a shape the template cannot serve: remembered, so that such
    documents go straight to the general path instead of being expanded again each time.
    """

    __slots__ = ("fixed", "iri_slots", "slots", "triples")

    def __init__(
        self, triples: list[dict[str, Any]] | None, iri_slots: frozenset[int], fixed: dict[int, str], slots: int
    ) -> None:
        self.triples = triples
        self.slots = slots
        self.iri_slots = iri_slots
        #: Values that are part of the shape (mapped by a context): index -> required value.
        self.fixed = fixed


_cache: OrderedDict[str, list[_Template]] = OrderedDict()
_lock = threading.Lock()


def _flatten(document: Any) -> tuple[str, list[str]] | None:
    """Return (shape key, string values in walk order), or None for unsupported input."""
    values: list[str] = []

    def walk(node: Any, structural: bool) -> Any:
        if isinstance(node, Mapping):
            return {key: walk(value, key in _STRUCTURAL_KEYS) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item, structural) for item in node]
        if isinstance(node, str) and not structural:
            values.append(node)
            # A slot: its value is not part of the key. The marker differs from JSON null,
            # and no structural string can stand where a slot stands.
            return "\u0000"
        if node is None or isinstance(node, (str, bool, int)):
            return node
        raise TypeError  # floats and other types: leave them to pyld

    try:
        skeleton = walk(document, False)
    except TypeError:
        return None
    return json.dumps(skeleton, ensure_ascii=False, separators=(",", ":")), values


def _fill(document: Any, pattern: str, fixed: Mapping[int, str]) -> Any:
    """Return ``document`` with every substitutable string replaced by a numbered stand-in."""
    counter = iter(range(1 << 62))

    def walk(node: Any, structural: bool) -> Any:
        if isinstance(node, Mapping):
            return {key: walk(value, key in _STRUCTURAL_KEYS) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item, structural) for item in node]
        if isinstance(node, str) and not structural:
            index = next(counter)
            return node if index in fixed else pattern.format(index)
        return node

    return walk(document, False)


def _classify(a: Any, b: Any, roles: dict[int, str], unstable: set[int]) -> bool:
    """Walk two expansions side by side and record each slot's role.

    Returns False when the two differ in any way other than a whole stand-in in an
    ``@id`` or ``@value`` (a stand-in inside a longer string — a relative IRI resolved
    against another value, an ``@json`` literal — means values shape the output in ways a
    template cannot follow; the general path handles such shapes).
    """
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return False
        for key in a:
            if key in ("@value", "@id") and isinstance(a[key], str):
                match = _IRI_SLOT.match(a[key])
                if match:
                    index = int(match.group(1))
                    word = _WORD_PLACEHOLDER.format(index)
                    # An IRI position resolves a relative word against pyld's default base;
                    # an absolute IRI passes through it unchanged, so either form is a slot.
                    if b[key] == word or (key == "@id" and b[key] == _PYLD_DEFAULT_BASE + word):
                        if roles.setdefault(index, key) != key:
                            return False
                    else:
                        unstable.add(index)  # a context rewrote the value: it is structure
                    continue
            if not _classify(a[key], b[key], roles, unstable):
                return False
        return True
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(
            _classify(x, y, roles, unstable) for x, y in zip(a, b, strict=True)
        )
    return a == b and type(a) is type(b)


def _build(document: Mapping[str, Any], loader: DocumentLoader, values: list[str]) -> _Template | None:
    """Expand the shape of ``document`` and return its template.

    None: pyld could not expand it (the general path will report why). A template without
    triples: this shape is for the general path.
    """
    fixed: dict[int, str] = {}
    options = {"documentLoader": loader}
    for _ in range(4):  # each round fixes the values a context rewrote; two rounds are usual
        try:
            expanded_a = jsonld.expand(_fill(document, _IRI_PLACEHOLDER, fixed), options)
            expanded_b = jsonld.expand(_fill(document, _WORD_PLACEHOLDER, fixed), options)
        except jsonld.JsonLdError:
            return None
        roles: dict[int, str] = {}
        unstable: set[int] = set()
        if not _classify(expanded_a, expanded_b, roles, unstable):
            return _Template(None, frozenset(), fixed, len(values))
        unstable -= fixed.keys()
        if not unstable:
            dataset = jsonld.JsonLdProcessor().to_rdf(
                expanded_a, {"documentLoader": loader, "produceGeneralizedRdf": False}
            )
            if set(dataset) != {"@default"}:
                return _Template(None, frozenset(), fixed, len(values))
            iri_slots = frozenset(i for i, role in roles.items() if role == "@id")
            return _Template(dataset["@default"], iri_slots, fixed, len(values))
        fixed.update({index: values[index] for index in unstable})
    return _Template(None, frozenset(), fixed, len(values))


def _template_for(document: Mapping[str, Any], loader: DocumentLoader) -> tuple[_Template, list[str]] | None:
    flat = _flatten(document)
    if flat is None:
        return None
    key, values = flat
    with _lock:
        candidates = _cache.get(key)
        if candidates is not None:
            _cache.move_to_end(key)
            for template in candidates:
                if template.slots == len(values) and all(values[i] == v for i, v in template.fixed.items()):
                    return template, values
    template = _build(document, loader, values)
    if template is None:
        return None
    with _lock:
        _cache.setdefault(key, []).append(template)
        while len(_cache) > MAX_SHAPES:
            _cache.popitem(last=False)
    return template, values


@cache
def _context_terms() -> frozenset[str]:
    """Return every term the vendored contexts define (any of them may act as a prefix)."""
    terms: set[str] = set()
    stack: list[Any] = list(vendored_contexts().values())
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            terms.update(key for key in node if not key.startswith("@"))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(terms)


def _term(term: dict[str, Any], values: list[str], iri_slots: frozenset[int]) -> dict[str, Any] | None:
    """Return ``term`` with its stand-in replaced (None when the value cannot go there)."""
    value = term["value"]
    if "x-osaamispassi-slot" not in value:
        return dict(term)  # URDNA2015 relabels blank nodes in place: never hand it the template
    match = _IRI_SLOT.match(value)
    if match is None:
        return None
    index = int(match.group(1))
    replacement = values[index]
    if index in iri_slots and (
        term["type"] != "IRI"
        or not _ABSOLUTE_IRI.match(replacement)
        # "xsd:…", "cred:…": a compact IRI whose prefix a context defines is expanded by pyld
        or replacement.split(":", 1)[0] in _context_terms()
    ):
        return None  # pyld would drop, relabel or expand it: the general path decides
    return {**term, "value": replacement}


def canonicalize_fast(document: Mapping[str, Any], loader: DocumentLoader) -> str | None:
    """Return the RDFC-1.0 N-Quads of ``document``, or None when the general path must run.

    The caller has already guarded the document (compact form, undefined-term sentinel).
    """
    contexts = document.get("@context")
    urls = contexts if isinstance(contexts, list) else [contexts]
    # Every context must be vendored (its content cannot change under a cached shape),
    # apart from the caller's inline undefined-term guard, which is a fixed dict.
    if not all((isinstance(c, str) and is_known_context(c)) or isinstance(c, dict) for c in urls):
        return None
    found = _template_for(document, loader)
    if found is None:
        return None
    template, values = found
    if template.triples is None:
        return None
    triples = []
    seen: set[tuple[str, ...]] = set()
    for triple in template.triples:
        subject = _term(triple["subject"], values, template.iri_slots)
        obj = _term(triple["object"], values, template.iri_slots)
        if subject is None or obj is None:
            return None
        # Two slots given the same IRI name one node: an RDF dataset is a set, so the
        # triples the node map would have merged must not appear twice.
        identity = (subject["value"], triple["predicate"]["value"], obj["type"], obj["value"],
                    obj.get("datatype", ""), obj.get("language", ""))
        if identity in seen:
            continue
        seen.add(identity)
        triples.append({"subject": subject, "predicate": triple["predicate"], "object": obj})
    return URDNA2015().main({"@default": triples}, dict(_CANON_OPTIONS))


def clear_cache() -> None:
    """Forget every cached shape (for tests and benchmarks)."""
    with _lock:
        _cache.clear()

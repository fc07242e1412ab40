"""Canonicalization: RDFC-1.0 N-Quads, the undefined-term guard and the offline loader."""

import copy
import json
import socket
from importlib import resources

import pytest

from badges.core.canonical import MAX_DEPTH, UNDEFINED_VOCAB, canonicalize, check_compact_form
from badges.core.contexts import (
    OB_EXTENSIONS,
    OB_V3,
    VC_V2,
    make_loader,
    static_loader,
    vendored_contexts,
)
from badges.core.credential import build_credential
from badges.core.errors import MalformedCredentialError, UndefinedTermError, UnknownContextError


@pytest.fixture
def unsigned(make_credential_data):
    """Return the fixture credential, unsigned."""
    return build_credential(make_credential_data())


def test_canonicalize_returns_sorted_nquads(unsigned, loader):
    nquads = canonicalize(unsigned, loader)
    lines = nquads.splitlines()
    assert lines == sorted(lines)
    assert all(line.endswith(" .") for line in lines)
    assert f"<{unsigned['id']}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>" in nquads
    assert '"Puutuotteiden valmistus"' in nquads
    assert UNDEFINED_VOCAB not in nquads


def test_canonicalize_does_not_depend_on_member_order(unsigned, loader):
    reordered = dict(reversed(list(unsigned.items())))
    reordered["credentialSubject"] = dict(reversed(list(unsigned["credentialSubject"].items())))
    assert canonicalize(reordered, loader) == canonicalize(unsigned, loader)


def test_canonicalize_does_not_modify_its_input(unsigned, loader):
    before = copy.deepcopy(unsigned)
    canonicalize(unsigned, loader)
    assert unsigned == before


def test_canonicalize_leaves_vendored_contexts_untouched(unsigned, loader):
    canonicalize(unsigned, loader)
    folder = resources.files("badges.core") / "contexts"
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    for url, name in index.items():
        assert vendored_contexts()[url] == json.loads(
            (folder / name).read_text(encoding="utf-8")
        ), url


def test_undefined_top_level_term_is_refused_and_named(unsigned, loader):
    unsigned["foo"] = "bar"
    with pytest.raises(UndefinedTermError, match="foo") as caught:
        canonicalize(unsigned, loader)
    assert caught.value.code == "undefined_term"


def test_undefined_type_is_refused_and_named(unsigned, loader):
    unsigned["type"] = [*unsigned["type"], "MyBadge"]
    with pytest.raises(UndefinedTermError, match="MyBadge"):
        canonicalize(unsigned, loader)


def test_undefined_nested_term_is_refused(unsigned, loader):
    unsigned["credentialSubject"]["achievement"]["osaamisala"] = "puuala"
    with pytest.raises(UndefinedTermError, match="osaamisala"):
        canonicalize(unsigned, loader)


def test_type_scoped_term_outside_its_type_is_refused(unsigned, loader):
    # achievementType is defined only in the Achievement type-scoped context.
    unsigned["credentialSubject"]["achievementType"] = "Competency"
    with pytest.raises(UndefinedTermError, match="achievementType"):
        canonicalize(unsigned, loader)


def test_1edtech_types_need_the_extensions_context(unsigned, loader):
    # The trap of standards.md §1.2: without extensions.json pyld would sign a relative type.
    unsigned["@context"] = [VC_V2, OB_V3]
    with pytest.raises(UndefinedTermError, match="1EdTechJsonSchemaValidator2019"):
        canonicalize(unsigned, loader)


def test_sentinel_text_inside_a_literal_is_not_an_undefined_term(unsigned, loader):
    unsigned["name"] = f'Nimi <{UNDEFINED_VOCAB}x> "lainaus"'
    assert f"<{UNDEFINED_VOCAB}x>" in canonicalize(unsigned, loader)


def test_unknown_context_raises_and_nothing_is_fetched(unsigned, loader):
    unsigned["@context"] = [*unsigned["@context"], "https://example.test/contexts/oma.jsonld"]
    with pytest.raises(UnknownContextError, match="example.test") as caught:
        canonicalize(unsigned, loader)
    assert caught.value.code == "unknown_context"


def test_network_is_refused_in_core_tests(no_network):
    with pytest.raises(OSError, match="disabled"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    assert no_network, "the attempt is recorded"
    no_network.clear()  # recorded attempts fail the test at teardown


def test_unknown_nested_context_raises(unsigned, loader):
    unsigned["credentialSubject"]["@context"] = "https://example.test/contexts/oma.jsonld"
    with pytest.raises(UnknownContextError):
        canonicalize(unsigned, loader)


@pytest.mark.parametrize(
    "where",
    [
        lambda d: d.__setitem__("@context", [*d["@context"], {"foo": "https://example.test/foo"}]),
        lambda d: d["credentialSubject"].__setitem__("@context", {"@vocab": None}),
        lambda d: d["credentialSubject"]["achievement"].__setitem__(
            "@context", [OB_V3, {"x": None}]
        ),
    ],
    ids=["top-level", "nested-vocab-null", "nested-in-list"],
)
def test_inline_contexts_are_refused(unsigned, loader, where):
    where(unsigned)
    with pytest.raises(UnknownContextError, match="inline"):
        canonicalize(unsigned, loader)


@pytest.mark.parametrize(
    "rename",
    [
        # The same quads as credentialStatus, invisible to doc["credentialStatus"].
        ("credentialStatus", "https://www.w3.org/2018/credentials#credentialStatus"),
        ("credentialStatus", "cred:credentialStatus"),
        ("validUntil", "@validUntil"),
    ],
)
def test_iri_and_keyword_property_names_are_refused(unsigned, loader, rename):
    old, new = rename
    unsigned.setdefault(old, "2030-01-01T00:00:00Z")
    unsigned[new] = unsigned.pop(old)
    with pytest.raises(UndefinedTermError, match="context terms"):
        canonicalize(unsigned, loader)


@pytest.mark.parametrize("keyword", ["@nest", "@included", "@graph", "@reverse", "@id", "@type"])
def test_keywords_as_property_names_are_refused(unsigned, loader, keyword):
    unsigned["credentialSubject"][keyword] = {}
    with pytest.raises(UndefinedTermError):
        canonicalize(unsigned, loader)


def test_check_compact_form_accepts_the_credential(unsigned):
    check_compact_form(unsigned)


def test_absurdly_deep_json_is_refused_before_pyld(unsigned, loader):
    deep: dict = {"name": "pohja"}
    for _ in range(MAX_DEPTH + 1):
        deep = {"evidence": [deep]}
    unsigned["credentialSubject"]["x"] = deep
    with pytest.raises(MalformedCredentialError, match="deeply"):
        canonicalize(unsigned, loader)


def test_document_without_context_is_malformed(loader):
    with pytest.raises(MalformedCredentialError):
        canonicalize({"name": "x"}, loader)


def test_invalid_jsonld_is_malformed(unsigned, loader):
    unsigned["id"] = 5  # "id" is an alias of @id, which must be a string
    with pytest.raises(MalformedCredentialError, match="JSON-LD"):
        canonicalize(unsigned, loader)


def test_static_loader_serves_vendored_contexts_only():
    load = static_loader()
    assert static_loader() is load
    for url in (VC_V2, OB_V3, OB_EXTENSIONS):
        assert load(url, {})["document"] is vendored_contexts()[url]
    with pytest.raises(UnknownContextError):
        load("https://example.test/ctx.jsonld", {})


def test_make_loader_adds_documents_but_never_replaces_a_vendored_context():
    did_document = {"id": "did:web:example.test"}
    load = make_loader({"https://example.test/did.json": did_document, VC_V2: {"@context": {}}})
    assert load("https://example.test/did.json", {})["document"] is did_document
    assert load(VC_V2, {})["document"] is vendored_contexts()[VC_V2]
    with pytest.raises(UnknownContextError):
        load("https://example.test/other.json", {})

"""The shape-cached fast path canonicalizes exactly like the general pyld path.

Signatures must not depend on which path ran: every generated document is canonicalized
both ways and the N-Quads compared byte for byte (and errors compared by type).
"""

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badges.core import fastcanon
from badges.core.canonical import canonicalize
from badges.core.contexts import static_loader
from badges.core.credential import (
    Achievement,
    Alignment,
    CredentialData,
    Evidence,
    Issuer,
    StatusEntry,
    build_credential,
    hash_identity,
)
from badges.core.errors import BadgesError
from badges.core.signing import proof_configuration

LOADER = static_loader()
GOLDEN = Path(__file__).resolve().parents[1] / "data" / "signed_credential.json"

# Any text JSON can carry, including quotes, backslashes, newlines and astral characters.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
words = st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=8)
iris = st.one_of(
    st.builds(lambda host, path: f"https://{host}.example/{path}", words, words),
    st.builds(lambda u: f"urn:uuid:{u}", st.uuids()),
    st.builds(lambda w: f"did:web:{w}.example:issuers:{w}", words),
    st.sampled_from(["https://x.example/a b", "relative/path", "_:b7", "did:example:ä#ö", "http://[::1]/",
                     "cred:compact", "xsd:string", "sec:key-1", "schema:Thing"]),
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
languages = st.sampled_from(["fi", "sv", "en", "se", "x-klingon"])
achievement_types = st.sampled_from(["Competency", "Badge", "Achievement", "ext:Työpajataito", "Unknown"])


@st.composite
def credentials(draw) -> dict:
    """A credential of our own shape with arbitrary values and optional parts."""
    alignments = tuple(
        Alignment(
            target_name=draw(texts), target_url=draw(iris), target_framework=draw(st.none() | texts),
            target_code=draw(st.none() | texts), target_type=draw(st.sampled_from(["ext:ePerusteet", "CFItem", None])),
        )
        for _ in range(draw(st.integers(0, 3)))
    )
    achievement = Achievement(
        id=draw(iris), name=draw(texts), description=draw(texts), criteria_narrative=draw(texts),
        image=draw(st.none() | iris), image_caption=draw(st.none() | texts), in_language=draw(languages),
        alignments=alignments, achievement_type=draw(achievement_types), version=draw(st.none() | words),
    )
    identity = hash_identity(draw(st.sampled_from(["emailAddress", "name"])), draw(texts), draw(words))
    issued = draw(moments)
    data = CredentialData(
        credential_id=draw(iris),
        issuer=Issuer(id=draw(iris), name=draw(texts), url=draw(st.none() | iris), email=draw(st.none() | texts)),
        achievement=achievement,
        identities=(identity,) * draw(st.integers(1, 2)),
        issued_at=issued,
        valid_until=draw(st.none() | st.just(issued + timedelta(days=365))),
        subject_id=draw(st.none() | iris),
        evidence=tuple(Evidence(narrative=draw(texts), name=draw(st.none() | texts), id=draw(st.none() | iris))
                       for _ in range(draw(st.integers(0, 2)))),
        status=draw(st.none() | st.builds(StatusEntry, iris, st.integers(0, 131_071))),
    )
    return build_credential(data)


def both_ways(document: dict) -> tuple[object, object]:
    """Canonicalize via the fast and the general path; return results or exception types."""
    results = []
    for fast in (True, False):
        try:
            results.append(canonicalize(document, LOADER, fast=fast))
        except BadgesError as error:
            results.append(type(error))
    return results[0], results[1]


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials())
def test_fast_path_equals_pyld_for_our_credentials(document: dict):
    fast, general = both_ways(document)
    assert fast == general


@settings(max_examples=300, deadline=None)
@given(iris, st.sampled_from(["assertionMethod", "authentication", "weird purpose"]), moments)
def test_fast_path_equals_pyld_for_proof_configurations(method: str, purpose: str, created: datetime):
    credential = json.loads(GOLDEN.read_text())
    config = proof_configuration(credential, verification_method=method,
                                 created=created.strftime("%Y-%m-%dT%H:%M:%SZ"), purpose=purpose)
    fast, general = both_ways(config)
    assert fast == general


def _string_paths(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "@context":
                yield from _string_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _string_paths(value, (*path, index))
    elif isinstance(node, str):
        yield path


GOLDEN_DOC = {k: v for k, v in json.loads(GOLDEN.read_text()).items() if k != "proof"}
GOLDEN_PATHS = list(_string_paths(GOLDEN_DOC))


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(GOLDEN_PATHS), st.one_of(texts, iris, achievement_types)), max_size=4))
def test_fast_path_equals_pyld_when_any_string_changes(changes):
    """Every string, including types and vocabulary-mapped values, may change."""
    document = copy.deepcopy(GOLDEN_DOC)
    for path, value in changes:
        target = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    fast, general = both_ways(document)
    assert fast == general


def test_values_a_context_rewrites_become_part_of_the_shape():
    document = copy.deepcopy(GOLDEN_DOC)
    first = canonicalize(document, LOADER)
    document["credentialSubject"]["achievement"]["achievementType"] = "Badge"
    second = canonicalize(document, LOADER)
    assert first != second
    assert second == canonicalize(document, LOADER, fast=False)


def test_the_fast_path_is_used_and_cached():
    fastcanon.clear_cache()
    guarded = {**GOLDEN_DOC, "@context": [*GOLDEN_DOC["@context"], {"@vocab": "urn:x:"}]}
    assert fastcanon.canonicalize_fast(guarded, LOADER) is not None
    assert len(fastcanon._cache) == 1
    other = copy.deepcopy(guarded)
    other["name"] = "Toinen nimi"
    assert fastcanon.canonicalize_fast(other, LOADER) is not None
    assert len(fastcanon._cache) == 1  # same shape, new values: no new expansion


def test_unknown_contexts_never_take_the_fast_path():
    document = {**GOLDEN_DOC, "@context": ["https://example.org/unknown-context"]}
    assert fastcanon.canonicalize_fast(document, LOADER) is None


def test_compact_iris_with_a_context_prefix_are_expanded_like_pyld():
    document = copy.deepcopy(GOLDEN_DOC)
    canonicalize(document, LOADER)  # warm the shape
    for value in ("cred:compact", "xsd:string", "sec:key-1"):
        document["id"] = value
        assert canonicalize(document, LOADER) == canonicalize(document, LOADER, fast=False)

"""eddsa-rdfc-2022 Data Integrity proofs: round trip, golden bytes, and tampering."""

import copy
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from badges.core.credential import build_credential
from badges.core.errors import MalformedCredentialError, UndefinedTermError
from badges.core.keys import multibase_decode, multibase_encode
from badges.core.signing import CRYPTOSUITE, PROOF_TYPE, split_proof, verify_proof
from badges.core.verification import PASSED, verify_credential

Path = tuple[str | int, ...]


def dumps(document: dict[str, Any]) -> str:
    """Serialise the way the golden files are written."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture
def unsigned(make_credential_data) -> dict[str, Any]:
    """Return the fixture credential, unsigned."""
    return build_credential(make_credential_data())


@pytest.fixture
def signed(unsigned, sign) -> dict[str, Any]:
    """Return the fixture credential signed with the fixed key at the fixed time."""
    return sign(unsigned)


@pytest.fixture
def verify(loader, resolve_key, resolve_status, verify_time):
    """Return ``verify(document)`` with every resolver of the fixture world."""

    def _verify(document: Any):
        return verify_credential(
            document,
            loader=loader,
            resolve_key=resolve_key,
            resolve_status=resolve_status,
            now=verify_time,
        )

    return _verify


def test_sign_then_verify_round_trip(signed, issuer_key, loader):
    assert verify_proof(signed, issuer_key.public_key(), loader=loader)


def test_proof_has_the_eddsa_rdfc_2022_shape(signed, demo):
    proof = signed["proof"]
    assert set(proof) == {
        "type",
        "cryptosuite",
        "created",
        "verificationMethod",
        "proofPurpose",
        "proofValue",
    }
    assert proof["type"] == PROOF_TYPE == "DataIntegrityProof"
    assert proof["cryptosuite"] == CRYPTOSUITE == "eddsa-rdfc-2022"
    assert proof["created"] == "2025-01-02T03:04:05Z"
    assert proof["verificationMethod"] == demo.issuer_vm
    assert proof["proofPurpose"] == "assertionMethod"
    assert len(multibase_decode(proof["proofValue"])) == 64


def test_signing_is_deterministic_and_leaves_the_input_alone(unsigned, sign):
    before = copy.deepcopy(unsigned)
    assert sign(unsigned) == sign(copy.deepcopy(unsigned))
    assert unsigned == before


def test_signed_credential_matches_golden_file(signed, golden):
    golden("signed_credential.json", dumps(signed))


def test_signature_does_not_verify_with_another_key(signed, other_key, loader):
    assert not verify_proof(signed, other_key.public_key(), loader=loader)


def test_create_proof_refuses_a_signed_document(signed, sign):
    with pytest.raises(MalformedCredentialError):
        sign(signed)


def test_create_proof_refuses_a_naive_created_time(unsigned, sign):
    with pytest.raises(ValueError, match="timezone"):
        sign(unsigned, created=datetime(2025, 1, 2, 3, 4, 5))  # noqa: DTZ001 - the point of the test


def test_create_proof_refuses_an_extra_top_level_term(unsigned, sign):
    unsigned["foo"] = "bar"
    with pytest.raises(UndefinedTermError, match="foo"):
        sign(unsigned)


def test_create_proof_refuses_an_undefined_type(unsigned, sign):
    unsigned["type"] = ["VerifiableCredential", "OpenBadgeCredential", "MyBadge"]
    with pytest.raises(UndefinedTermError, match="MyBadge"):
        sign(unsigned)


def test_create_proof_takes_other_key_and_time(unsigned, sign, other_key, demo, loader):
    created = datetime.fromisoformat("2025-06-01T12:00:00.999+03:00")
    signed = sign(unsigned, key=other_key, vm=demo.other_vm, created=created)
    assert signed["proof"]["created"] == "2025-06-01T09:00:00Z"
    assert signed["proof"]["verificationMethod"] == demo.other_vm
    assert verify_proof(signed, other_key.public_key(), loader=loader)


def test_split_proof_accepts_a_single_proof_in_a_list(signed):
    listed = {**signed, "proof": [signed["proof"]]}
    unsecured, proof = split_proof(listed)
    assert "proof" not in unsecured
    assert proof == signed["proof"]


@pytest.mark.parametrize(
    "proof", [None, "z123", [], [{}, {}]], ids=["missing", "string", "empty", "two"]
)
def test_split_proof_refuses_anything_but_one_proof(signed, proof):
    document = {**signed, "proof": proof}
    if proof is None:
        del document["proof"]
    with pytest.raises(MalformedCredentialError):
        split_proof(document)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("type", "Ed25519Signature2020"),
        ("cryptosuite", "eddsa-jcs-2022"),
        ("cryptosuite", "eddsa-2022"),
        ("proofValue", "not multibase"),
        ("proofValue", multibase_encode(b"\x01" * 63)),
        ("proofValue", multibase_encode(b"\x01" * 65)),
        ("proofValue", "z" + "2" * 5000),
        ("proofValue", 42),
        ("created", None),
        ("expires", "2030-01-01T00:00:00Z"),  # a member we do not hash is not silently ignored
        ("challenge", "abc"),
    ],
)
def test_verify_proof_is_false_for_bad_proofs(signed, issuer_key, loader, member, value):
    proof = dict(signed["proof"])
    if value is None:
        del proof[member]
    else:
        proof[member] = value
    assert not verify_proof({**signed, "proof": proof}, issuer_key.public_key(), loader=loader)


# --- tampering: any single change to a signed credential must break it ----------------------


def leaves(node: Any, path: Path = ()) -> Iterator[Path]:
    """Yield the path of every scalar in a JSON value (list elements included)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))
    else:
        yield path


def members(node: Any, path: Path = ()) -> Iterator[Path]:
    """Yield the path of every object member and list element."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from members(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from members(value, (*path, index))


def changed(value: Any) -> Any:
    """Return ``value`` with one character changed, a boolean flipped or a number moved."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    assert isinstance(value, str), value
    assert value, "empty strings have no character to change"
    return value[:-1] + ("b" if value[-1] == "a" else "a")


def replaced(document: dict[str, Any], path: Path, change) -> dict[str, Any]:
    """Return a deep copy of ``document`` with ``change(parent, last key)`` applied at ``path``."""
    copied = copy.deepcopy(document)
    parent: Any = copied
    for step in path[:-1]:
        parent = parent[step]
    change(parent, path[-1])
    return copied


def describe(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def test_fixture_credential_verifies_before_tampering(signed, verify):
    result = verify(signed)
    assert result.verified, result.to_json()


def test_changing_any_single_value_breaks_the_credential(signed, verify):
    paths = list(leaves(signed))
    assert len(paths) > 50, "the fixture credential should exercise many fields"
    survivors = []
    for path in paths:

        def change(parent: Any, key: Any) -> None:
            parent[key] = changed(parent[key])

        result = verify(replaced(signed, path, change))
        proof = result.check("proof")
        if result.verified or (proof is not None and proof.outcome == PASSED):
            survivors.append(describe(path))
    assert not survivors, f"still verified (or signature valid) after changing: {survivors}"


def test_removing_any_member_breaks_the_credential(signed, verify):
    survivors = []
    for path in members(signed):

        def remove(parent: Any, key: Any) -> None:
            del parent[key]

        result = verify(replaced(signed, path, remove))
        proof = result.check("proof")
        if result.verified or (proof is not None and proof.outcome == PASSED):
            survivors.append(describe(path))
    assert not survivors, f"still verified (or signature valid) after removing: {survivors}"


@pytest.mark.parametrize(
    "rename",
    [
        ("credentialStatus", "https://www.w3.org/2018/credentials#credentialStatus"),
        ("credentialStatus", "@nest"),
        ("validFrom", "https://www.w3.org/2018/credentials#validFrom"),
    ],
)
def test_respelling_a_member_with_the_same_quads_breaks_the_credential(signed, verify, rename):
    # JSON-LD would read these as the same statements; a JSON reader would not see them.
    old, new = rename
    document = copy.deepcopy(signed)
    document[new] = {old: document.pop(old)} if new == "@nest" else document.pop(old)
    result = verify(document)
    assert not result.verified
    proof = result.check("proof")  # None: refused as malformed before the proof check
    assert proof is None or proof.outcome != PASSED


def test_embedded_context_cannot_smuggle_unsigned_members(signed, verify):
    document = copy.deepcopy(signed)
    document["credentialSubject"]["@context"] = {"@vocab": None}
    document["credentialSubject"]["lisätieto"] = "Ei allekirjoitettu"
    result = verify(document)
    assert not result.verified
    assert result.check("proof").code == "unknown_context"

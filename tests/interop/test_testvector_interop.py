"""The independent JavaScript verifier says yes to good credentials and no to tampered ones.

Two sources of known-good credentials, neither from our Python signer:
* the official 1EdTech OB 3.0 Data Integrity test vector (../shared/ob3, not copied here);
* credentials signed in Node by sign_fixture.mjs (did:key, did:web, Bitstring status list).
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import time
from pathlib import Path
from typing import Any

import base58
import pytest

pytestmark = pytest.mark.interop

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
TESTVECTOR = SHARED / "ob3" / "1edtech-ldp-testvector.json"

ISSUER = "https://example.edu/issuers/565049"
MULTIKEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
VM_ID = f"{ISSUER}#{MULTIKEY}"
CONTROLLER_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def controller_document(controller: str = ISSUER, *, assertion: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": CONTROLLER_CONTEXT,
        "id": controller,
        "verificationMethod": [
            {"id": VM_ID, "type": "Multikey", "controller": controller,
             "publicKeyMultibase": MULTIKEY}
        ],
    }
    if assertion:
        doc["assertionMethod"] = [VM_ID]
    return doc


def issuer_documents() -> dict[str, Any]:
    return {ISSUER: controller_document()}


@pytest.fixture(scope="module")
def testvector() -> dict[str, Any]:
    if not TESTVECTOR.is_file():
        pytest.skip("../shared is absent")
    return json.loads(TESTVECTOR.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def node_signed(js_verify) -> dict[str, Any]:
    return js_verify.sign_fixtures()


def flip_proof_value(credential: dict[str, Any]) -> dict[str, Any]:
    """A copy whose proofValue is a well-formed but different signature."""
    bad = copy.deepcopy(credential)
    raw = bytearray(base58.b58decode(bad["proof"]["proofValue"][1:]))
    raw[10] ^= 0x01
    bad["proof"]["proofValue"] = "z" + base58.b58encode(bytes(raw)).decode()
    return bad


def decode_status_list(encoded: str) -> bytes:
    assert encoded.startswith("u")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def bit(bits: bytes, index: int) -> int:
    return 1 if bits[index // 8] & (0x80 >> (index % 8)) else 0


# --- the 1EdTech test vector ----------------------------------------------------------------


def test_testvector_verifies(js_verify, testvector):
    result = js_verify(testvector, issuer_documents())
    assert result == {"verified": True, "errors": [], "statusRevoked": None, "statusResults": []}


def test_testvector_changed_achievement_name_fails(js_verify, testvector):
    bad = copy.deepcopy(testvector)
    bad["credentialSubject"]["achievement"]["name"] = "Teamwork (edited)"
    result = js_verify(bad, issuer_documents())
    assert result["verified"] is False
    assert "Invalid signature." in result["errors"]


def test_testvector_changed_proof_value_fails(js_verify, testvector):
    result = js_verify(flip_proof_value(testvector), issuer_documents())
    assert result["verified"] is False
    assert "Invalid signature." in result["errors"]


def test_testvector_issuer_id_changed_fails(js_verify, testvector):
    bad = copy.deepcopy(testvector)
    bad["issuer"]["id"] = "https://example.edu/issuers/999999"
    result = js_verify(bad, issuer_documents())
    assert result["verified"] is False


def test_testvector_issuer_not_vm_controller_fails(js_verify, testvector):
    # Signature intact; only the key's controller differs from the issuer: the
    # CredentialIssuancePurpose issuer == controller binding must reject it.
    other = "https://other.example/issuers/1"
    docs = {other: controller_document(other), ISSUER: controller_document()}
    docs[ISSUER]["verificationMethod"][0]["controller"] = other
    result = js_verify(testvector, docs)
    assert result["verified"] is False
    assert any("issuer must match the verification method controller" in e
               for e in result["errors"]), result


def test_testvector_key_not_in_assertion_method_fails(js_verify, testvector):
    result = js_verify(testvector, {ISSUER: controller_document(assertion=False)})
    assert result["verified"] is False
    assert any("not authorized by controller" in e for e in result["errors"]), result


def test_testvector_without_documents_fails_offline(js_verify, testvector):
    result = js_verify(testvector, {})
    assert result["verified"] is False
    assert any("document not found" in e for e in result["errors"]), result


def test_testvector_not_yet_valid_fails(js_verify, testvector):
    result = js_verify(testvector, issuer_documents(), now="2009-12-31T00:00:00Z")
    assert result["verified"] is False
    assert any("validFrom" in e for e in result["errors"]), result


# --- credentials signed in Node -------------------------------------------------------------


def test_node_did_key_credential_verifies_and_tamper_fails(js_verify_batch, node_signed):
    good = node_signed["didKey"]
    assert good["credential"]["issuer"]["id"].startswith("did:key:z6Mk")
    tampered = copy.deepcopy(good["credential"])
    tampered["credentialSubject"]["achievement"]["name"] = "Something else"
    other_subject = copy.deepcopy(good["credential"])
    other_subject["credentialSubject"]["id"] = "did:example:someone-else"
    ok, bad_name, bad_subject, bad_sig = js_verify_batch([
        (good["credential"], good["documents"]),
        (tampered, good["documents"]),
        (other_subject, good["documents"]),
        (flip_proof_value(good["credential"]), good["documents"]),
    ])
    assert ok["verified"] is True, ok
    for result in (bad_name, bad_subject, bad_sig):
        assert result["verified"] is False
        assert "Invalid signature." in result["errors"]


def test_node_did_web_credential_resolved_from_https_document(js_verify, node_signed):
    case = node_signed["didWeb"]
    assert js_verify(case["credential"], case["documents"])["verified"] is True
    assert js_verify(case["credential"], {})["verified"] is False


def test_node_status_list_active_and_revoked(js_verify_batch, node_signed):
    active, revoked = js_verify_batch([
        (node_signed["statusActive"]["credential"], node_signed["statusActive"]["documents"]),
        (node_signed["statusRevoked"]["credential"], node_signed["statusRevoked"]["documents"]),
    ])
    assert active["verified"] is True
    assert active["statusRevoked"] is False
    assert revoked["verified"] is True
    assert revoked["statusRevoked"] is True
    assert revoked["statusResults"][0]["statusListIndex"] == str(node_signed["revokedIndex"])


def test_node_status_list_uses_spec_bit_order(node_signed):
    # Bitstring Status List: index i is bit (0x80 >> i % 8) of byte i // 8 (MSB first).
    (status_vc,) = node_signed["statusRevoked"]["documents"].values()
    bits = decode_status_list(status_vc["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == 131072
    assert bit(bits, node_signed["revokedIndex"]) == 1
    assert bit(bits, node_signed["activeIndex"]) == 0
    assert bits[node_signed["revokedIndex"] // 8] == 0x80 >> (node_signed["revokedIndex"] % 8)
    assert sum(bin(b).count("1") for b in bits) == 1


def test_node_status_list_tampered_or_missing(js_verify_batch, node_signed):
    case = node_signed["statusRevoked"]
    (url, status_vc), = case["documents"].items()
    # flip the revoked bit back to 0 without re-signing the list: must not verify
    bits = bytearray(decode_status_list(status_vc["credentialSubject"]["encodedList"]))
    bits[node_signed["revokedIndex"] // 8] = 0
    forged = copy.deepcopy(status_vc)
    forged["credentialSubject"]["encodedList"] = "u" + base64.urlsafe_b64encode(
        gzip.compress(bytes(bits))).decode().rstrip("=")
    forged_result, missing_result = js_verify_batch([
        (case["credential"], {url: forged}),
        (case["credential"], {}),
    ])
    assert forged_result["verified"] is False
    assert any("BitstringStatusListCredential" in e for e in forged_result["errors"])
    # status list not supplied: the proof still verifies, status is reported unknown
    assert missing_result["verified"] is True
    assert missing_result["statusRevoked"] is None


# --- harness ---------------------------------------------------------------------------------


def test_batch_of_50(js_verify_batch, testvector, node_signed):
    good = (testvector, issuer_documents())
    bad_vc = copy.deepcopy(testvector)
    bad_vc["name"] = "Not the Teamwork Badge"
    bad = (bad_vc, issuer_documents())
    node = (node_signed["didKey"]["credential"], {})
    pairs = [good, bad, node, good, node] * 10
    start = time.perf_counter()
    results = js_verify_batch(pairs)
    elapsed = time.perf_counter() - start
    print(f"js_verify_batch: {len(pairs)} credentials in {elapsed:.2f}s")
    assert [r["verified"] for r in results] == [True, False, True, True, True] * 10


def test_bad_stdin_is_a_harness_failure(js_verify):
    with pytest.raises(RuntimeError, match="stdin"):
        js_verify._run(js_verify_script(), ["--batch"], "{not json")


def js_verify_script() -> Path:
    return Path(__file__).resolve().parent / "verify.mjs"

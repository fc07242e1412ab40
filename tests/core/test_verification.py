"""verify_credential: every check as a value, for good, bad and hostile credentials."""

import copy
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badges.core.credential import StatusEntry, build_credential, hash_identity
from badges.core.keys import did_key, did_key_verification_method, multibase_encode
from badges.core.statuslist import build_status_list_credential, new_bitstring
from badges.core.verification import (
    FAILED,
    PASSED,
    SKIPPED,
    UNKNOWN,
    Check,
    VerificationResult,
    did_web_document_url,
    methods_from_document,
    resolver_from_documents,
    verify_credential,
)

SUSPENSION_LIST = "https://passport.example.test/issuers/demo-saatio/status/2"


@pytest.fixture
def signed(make_credential_data, sign) -> dict[str, Any]:
    """Return the fixture credential signed with the demo issuer's key."""
    return sign(build_credential(make_credential_data()))


@pytest.fixture
def verify(loader, resolve_key, resolve_status, verify_time):
    """Return ``verify(document, **overrides)`` over the fixture world."""

    def _verify(document: Any, **overrides: Any) -> VerificationResult:
        arguments = {
            "loader": loader,
            "resolve_key": resolve_key,
            "resolve_status": resolve_status,
            "now": verify_time,
            **overrides,
        }
        return verify_credential(document, **arguments)

    return _verify


def outcomes(result: VerificationResult) -> dict[str, tuple[str, str]]:
    """Return {check name: (outcome, code)}, for readable assertions."""
    return {c.name: (c.outcome, c.code) for c in result.checks}


# --- the happy path -----------------------------------------------------------------------


def test_valid_credential_verifies_with_every_check_passed(signed, verify):
    result = verify(signed)
    assert result.verified
    assert not result.revoked
    assert [c.name for c in result.checks] == [
        "structure",
        "contexts",
        "issuer_key",
        "proof",
        "status",
        "dates",
    ]
    assert all(c.outcome == PASSED for c in result.checks), outcomes(result)
    assert result.credential is signed


def test_result_to_json(signed, verify):
    summary = verify(signed).to_json()
    assert summary["verified"] is True
    assert {
        "name": "proof",
        "outcome": "passed",
        "code": "",
        "message": "The digital signature is valid.",
    } in summary["checks"]


def test_credential_without_status_skips_the_status_check(make_credential_data, sign, verify):
    result = verify(sign(build_credential(make_credential_data(status=None))))
    assert result.verified
    assert result.check("status").outcome == SKIPPED


def test_did_key_issuer_verifies_offline(make_credential_data, sign, issuer_key, verify):
    from badges.core.credential import Issuer

    did = did_key(issuer_key.public_key())
    data = make_credential_data(issuer=Issuer(id=did, name="Avaintestaaja"), status=None)
    signed = sign(build_credential(data), vm=did_key_verification_method(did))
    assert verify(signed, resolve_key=resolver_from_documents({})).verified


def test_did_web_document_is_found_under_its_https_url(signed, verify, issuer_documents, demo):
    url = did_web_document_url(demo.issuer_did)
    assert url == "https://passport.example.test/issuers/demo-saatio/did.json"
    resolve = resolver_from_documents({url: issuer_documents[demo.issuer_did]})
    assert verify(signed, resolve_key=resolve).verified


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:example.com", "https://example.com/.well-known/did.json"),
        ("did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json"),
        ("did:web:example.com:u:alice", "https://example.com/u/alice/did.json"),
    ],
)
def test_did_web_document_url(did, url):
    assert did_web_document_url(did) == url


# --- status lists -------------------------------------------------------------------------


def test_revoked_credential_is_not_verified(signed, verify, status_lists, make_status_list, demo):
    status_lists[demo.status_list_url] = make_status_list((demo.status_index,))
    result = verify(signed)
    assert not result.verified
    assert result.revoked
    assert outcomes(result)["status"] == (FAILED, "revoked")
    assert result.check("proof").outcome == PASSED  # the credential itself is intact


def test_neighbouring_revocation_does_not_affect_the_credential(
    signed, verify, status_lists, make_status_list, demo
):
    status_lists[demo.status_list_url] = make_status_list(
        (demo.status_index - 1, demo.status_index + 1)
    )
    assert verify(signed).verified


def test_suspended_credential_is_not_verified(
    make_credential_data, sign, verify, status_lists, demo
):
    entry = StatusEntry(list_url=SUSPENSION_LIST, index=5, purpose="suspension")
    signed = sign(build_credential(make_credential_data(status=entry)))
    bits = new_bitstring()
    bits[0] = 0b0000_0100  # index 5, most significant bit first
    status_lists[SUSPENSION_LIST] = sign(
        build_status_list_credential(
            list_url=SUSPENSION_LIST,
            issuer=demo.issuer_did,
            bits=bits,
            valid_from=demo.now,
            purpose="suspension",
        )
    )
    assert outcomes(verify(signed))["status"] == (FAILED, "suspended")


def test_status_list_signed_by_another_issuer_fails(
    signed, verify, status_lists, make_status_list, other_key, demo
):
    status_lists[demo.status_list_url] = make_status_list(key=other_key, vm=demo.other_vm)
    result = verify(signed)
    assert not result.verified
    assert outcomes(result)["status"] == (FAILED, "status_bad_signature")


def test_status_list_signed_by_a_wrong_key_under_the_issuers_name_fails(
    signed, verify, status_lists, make_status_list, other_key, demo
):
    status_lists[demo.status_list_url] = make_status_list(key=other_key, vm=demo.issuer_vm)
    assert outcomes(verify(signed))["status"] == (FAILED, "status_bad_signature")


def test_status_list_with_an_unknown_key_is_unknown(
    signed, verify, status_lists, make_status_list, demo
):
    status_lists[demo.status_list_url] = make_status_list(vm=f"{demo.issuer_did}#key-99")
    result = verify(signed)
    assert not result.verified
    assert outcomes(result)["status"] == (UNKNOWN, "status_key_not_found")


def test_tampered_status_list_fails(signed, verify, status_lists, make_status_list, demo):
    revoked = make_status_list((demo.status_index,))
    forged = copy.deepcopy(revoked)
    forged["credentialSubject"]["encodedList"] = make_status_list()["credentialSubject"][
        "encodedList"
    ]
    status_lists[demo.status_list_url] = forged
    assert outcomes(verify(signed))["status"] == (FAILED, "status_bad_signature")


def test_status_list_of_another_issuer_fails(signed, verify, status_lists, sign, other_key, demo):
    unsigned = build_status_list_credential(
        list_url=demo.status_list_url,
        issuer=demo.other_did,
        bits=new_bitstring(),
        valid_from=demo.now,
    )
    status_lists[demo.status_list_url] = sign(unsigned, key=other_key, vm=demo.other_vm)
    assert outcomes(verify(signed))["status"] == (FAILED, "status_wrong_issuer")


def test_another_list_of_the_same_issuer_is_refused(
    signed, verify, status_lists, make_status_list, demo
):
    # A validly signed list, but not the one the credential points at (say, an older URL).
    status_lists[demo.status_list_url] = make_status_list(list_url=demo.status_list_url + "-vanha")
    assert outcomes(verify(signed))["status"] == (FAILED, "status_wrong_list")


def test_status_list_unavailable_is_unknown_and_not_verified(signed, verify, status_lists, demo):
    del status_lists[demo.status_list_url]
    result = verify(signed)
    assert not result.verified
    assert outcomes(result)["status"] == (UNKNOWN, "status_unavailable")
    assert not verify(signed, resolve_status=None).verified


def test_expired_status_list_is_unknown(signed, verify, status_lists, sign, demo, verify_time):
    unsigned = build_status_list_credential(
        list_url=demo.status_list_url,
        issuer=demo.issuer_did,
        bits=new_bitstring(),
        valid_from=demo.now,
    )
    unsigned["validUntil"] = "2025-01-03T00:00:00Z"
    status_lists[demo.status_list_url] = sign(unsigned)
    assert outcomes(verify(signed))["status"] == (UNKNOWN, "status_list_expired")


def test_status_list_with_another_purpose_fails(signed, verify, status_lists, sign, demo):
    unsigned = build_status_list_credential(
        list_url=demo.status_list_url,
        issuer=demo.issuer_did,
        bits=new_bitstring(),
        valid_from=demo.now,
        purpose="suspension",
    )
    status_lists[demo.status_list_url] = sign(unsigned)
    assert outcomes(verify(signed))["status"] == (FAILED, "status_purpose")


@pytest.mark.parametrize("status_list", [[], "lista", 5], ids=["list", "string", "number"])
def test_status_list_that_is_not_an_object_fails(signed, verify, status_lists, demo, status_list):
    status_lists[demo.status_list_url] = status_list
    assert outcomes(verify(signed))["status"] == (FAILED, "malformed_status")


@pytest.mark.parametrize(
    ("member", "value", "expected"),
    [
        ("statusListIndex", "²", (FAILED, "malformed_status")),  # str.isdigit() says yes
        ("statusListIndex", "9" * 5000, (FAILED, "malformed_status")),  # int() refuses it
        ("statusListIndex", "-1", (FAILED, "malformed_status")),
        ("statusListIndex", 5, (FAILED, "malformed_status")),
        ("statusListIndex", "999999", (FAILED, "malformed_status")),  # outside the list
        ("statusListCredential", None, (FAILED, "malformed_status")),
        ("type", "1EdTechRevocationList", (UNKNOWN, "unsupported_status")),
    ],
)
def test_malformed_status_entries_give_a_result(signed, verify, member, value, expected):
    document = copy.deepcopy(signed)
    document["credentialStatus"][member] = value
    assert outcomes(verify(document))["status"] == expected


def test_two_status_entries_are_not_understood(signed, verify):
    document = copy.deepcopy(signed)
    document["credentialStatus"] = [document["credentialStatus"]] * 2
    result = verify(document)
    assert not result.verified
    assert outcomes(result)["status"] == (UNKNOWN, "unsupported_status")


# --- dates ---------------------------------------------------------------------------------


def test_expired_credential_is_not_verified(make_credential_data, sign, verify, demo, verify_time):
    signed = sign(build_credential(make_credential_data(valid_until=demo.now + timedelta(days=7))))
    result = verify(signed)
    assert not result.verified
    assert outcomes(result)["dates"] == (FAILED, "expired")
    assert verify(signed, now=demo.now + timedelta(days=6)).verified


def test_credential_is_not_valid_before_valid_from(signed, verify, demo):
    result = verify(signed, now=demo.now - timedelta(seconds=1))
    assert not result.verified
    assert outcomes(result)["dates"] == (FAILED, "not_yet_valid")


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-02",
        "2025-01-02T03:04:05",  # no offset
        "2025-13-02T03:04:05Z",
        "2025-01-02T03:04:05Z\n",
        "٢٠٢٥-01-02T03:04:05Z",  # Arabic-Indic digits match \d
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: OverflowError
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        5,
    ],
)
def test_bad_dates_give_a_result(signed, verify, value):
    document = copy.deepcopy(signed)
    document["validFrom"] = value
    result = verify(document)
    assert not result.verified
    assert outcomes(result)["dates"] == (FAILED, "bad_date")


def test_naive_now_is_a_caller_error(signed, verify, demo):
    with pytest.raises(ValueError, match="timezone"):
        verify(signed, now=demo.now.replace(tzinfo=None))


# --- keys: rotation, controllers -----------------------------------------------------------


def test_old_key_still_verifies_after_rotation(
    make_credential_data, sign, verify, issuer_key, other_key, controller_document, demo
):
    signed = sign(build_credential(make_credential_data()))  # with key-1, before the rotation
    # key-2 is the new active key; key-1 is retired but still listed, also under assertionMethod.
    rotated = controller_document(
        [issuer_key.public_key(), other_key.public_key()],
        demo.issuer_did,
        fragments=("key-1", "key-2"),
    )
    assert verify(signed, resolve_key=resolver_from_documents({demo.issuer_did: rotated})).verified


def test_dropped_key_is_unknown(
    make_credential_data, sign, verify, other_key, controller_document, demo
):
    signed = sign(build_credential(make_credential_data()))
    dropped = controller_document(other_key.public_key(), demo.issuer_did, fragments=("key-2",))
    result = verify(signed, resolve_key=resolver_from_documents({demo.issuer_did: dropped}))
    assert not result.verified
    assert outcomes(result)["issuer_key"] == (UNKNOWN, "key_not_found")
    assert result.check("proof").outcome == UNKNOWN


def test_key_listed_but_not_for_assertions_is_refused(
    signed, verify, issuer_key, controller_document, demo
):
    document = controller_document(issuer_key.public_key(), demo.issuer_did, assertion=())
    result = verify(signed, resolve_key=resolver_from_documents({demo.issuer_did: document}))
    assert not result.verified
    assert outcomes(result)["issuer_key"] == (FAILED, "wrong_purpose")


def test_key_of_another_issuer_fails(make_credential_data, sign, verify, other_key, demo):
    signed = sign(build_credential(make_credential_data()), key=other_key, vm=demo.other_vm)
    result = verify(signed)
    assert not result.verified
    assert outcomes(result)["issuer_key"] == (FAILED, "wrong_controller")


def test_other_issuer_cannot_claim_to_be_the_controller(
    make_credential_data, sign, verify, other_key, controller_document, demo
):
    # The other issuer publishes its own key with "controller": <demo issuer> and signs in its name.
    forged_document = controller_document(other_key.public_key(), demo.other_did)
    forged_document["verificationMethod"][0]["controller"] = demo.issuer_did
    signed = sign(
        build_credential(make_credential_data(status=None)), key=other_key, vm=demo.other_vm
    )
    result = verify(signed, resolve_key=resolver_from_documents({demo.other_did: forged_document}))
    assert not result.verified
    assert result.check("issuer_key").outcome != PASSED


def test_document_claiming_another_id_is_not_trusted(
    make_credential_data, sign, verify, other_key, controller_document, demo
):
    # Served at the other issuer's URL, the document says it is the demo issuer's.
    forged_document = controller_document(other_key.public_key(), demo.issuer_did)
    forged_document["verificationMethod"][0]["id"] = demo.other_vm
    forged_document["assertionMethod"] = [demo.other_vm]
    signed = sign(
        build_credential(make_credential_data(status=None)), key=other_key, vm=demo.other_vm
    )
    result = verify(signed, resolve_key=resolver_from_documents({demo.other_did: forged_document}))
    assert not result.verified


def test_methods_from_document_reads_relative_and_embedded_methods(issuer_key, other_key, demo):
    document = {
        "id": demo.issuer_did,
        "verificationMethod": [
            {
                "id": "#key-1",
                "type": "Multikey",
                "controller": demo.issuer_did,
                "publicKeyMultibase": multibase_encode(b"\xed\x01" + b"\x00" * 32),
            },
            {"id": "#jwk", "type": "JsonWebKey", "controller": demo.issuer_did, "publicKeyJwk": {}},
            "not a method",
        ],
        "assertionMethod": [
            "#key-1",
            {
                "id": f"{demo.issuer_did}#key-2",
                "type": "Multikey",
                "controller": demo.issuer_did,
                "publicKeyMultibase": multibase_encode(b"\xed\x01" + b"\x01" * 32),
            },
        ],
    }
    methods = methods_from_document(document)
    assert sorted(methods) == [f"{demo.issuer_did}#key-1", f"{demo.issuer_did}#key-2"]
    assert all(m.assertion and m.controller == demo.issuer_did for m in methods.values())


@pytest.mark.parametrize(
    "document", [{}, {"id": 5}, [], "did"], ids=["empty", "bad-id", "list", "string"]
)
def test_methods_from_odd_documents_is_empty(document):
    assert methods_from_document(document) == {}


# --- recipient -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "Maija.Meikalainen@Example.FI",
        "maija.meikalainen@example.fi",
        " MAIJA.MEIKALAINEN@EXAMPLE.FI",
    ],
)
def test_recipient_email_matches_in_any_case(signed, verify, typed):
    result = verify(signed, identity=typed)
    assert outcomes(result)["recipient"] == (PASSED, "match")
    assert result.verified


def test_recipient_name_matches(make_credential_data, sign, verify, demo):
    identities = (
        hash_identity("emailAddress", demo.email, "suola-1"),
        hash_identity("name", demo.name, "suola-2"),
    )
    signed = sign(build_credential(make_credential_data(identities=identities)))
    assert outcomes(verify(signed, identity="maija  MEIKÄLÄINEN"))["recipient"] == (PASSED, "match")


@pytest.mark.parametrize(
    "typed", ["matti.meikalainen@example.fi", "Maija Meikäläinen", "", "sha256$"]
)
def test_recipient_check_rejects_others(signed, verify, typed):
    result = verify(signed, identity=typed)
    assert outcomes(result)["recipient"] == (FAILED, "no_match")
    assert not result.verified


def test_recipient_subject_id_matches(make_credential_data, sign, verify):
    signed = sign(
        build_credential(make_credential_data(identities=(), subject_id="did:example:maija"))
    )
    assert outcomes(verify(signed, identity="did:example:maija"))["recipient"] == (PASSED, "match")


# --- malformed input: always a result, never an exception ----------------------------------


@pytest.mark.parametrize(
    "document", [None, 5, "credential", [], [{}], {}, {"@context": []}], ids=repr
)
def test_non_credentials_give_a_failed_result(verify, document):
    result = verify(document)
    assert not result.verified
    assert outcomes(result)["structure"][0] == FAILED
    assert result.credential is None


def test_signed_credential_inside_a_list_is_not_a_credential(signed, verify):
    assert not verify([signed]).verified


@pytest.mark.parametrize(
    "member",
    ["@context", "type", "issuer", "credentialSubject", "validFrom", "proof", "id", "name"],
)
def test_missing_members_give_a_result(signed, verify, member):
    document = copy.deepcopy(signed)
    del document[member]
    assert not verify(document).verified


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("proof", "proof"),
        ("proof", []),
        ("proof", [{}, {}]),
        ("@context", "https://www.w3.org/ns/credentials/v2"),
        ("@context", [{"@vocab": "https://example.test/"}]),
        ("type", [{}]),  # unhashable type entries
        ("type", "VerifiableCredential"),
        ("issuer", ["did:example:1"]),
        ("issuer", {"id": {"nested": True}}),
        ("credentialSubject", []),
        ("credentialSubject", [{"achievement": "x"}, {}]),
        ("id", 5),
        ("name", {"@value": "x"}),
        ("evidence", [None]),
    ],
)
def test_malformed_members_give_a_result(signed, verify, member, value):
    document = copy.deepcopy(signed)
    document[member] = value
    assert not verify(document).verified


def test_two_proofs_give_a_result(signed, verify):
    document = copy.deepcopy(signed)
    document["proof"] = [document["proof"], document["proof"]]
    result = verify(document)
    assert not result.verified
    assert outcomes(result)["proof"] == (FAILED, "no_proof")


@pytest.mark.parametrize(
    "proof_value",
    [
        "not multibase",
        "z0OIl",
        "u" + "A" * 86,
        multibase_encode(b"\x01" * 32),
        "z" + "2" * 100_000,
        "",
        None,
    ],
    ids=["text", "bad-alphabet", "base64url", "short", "huge", "empty", "null"],
)
def test_bad_proof_values_give_a_result(signed, verify, proof_value):
    document = copy.deepcopy(signed)
    document["proof"]["proofValue"] = proof_value
    result = verify(document)
    assert not result.verified
    assert outcomes(result)["proof"] == (FAILED, "bad_signature")


def test_unknown_context_is_reported_and_not_fetched(signed, verify):
    document = copy.deepcopy(signed)
    document["@context"].append("https://example.test/contexts/v1")
    result = verify(document)
    assert not result.verified
    assert outcomes(result)["contexts"] == (FAILED, "unknown_context")
    assert result.check("proof").outcome == UNKNOWN


def test_checks_are_plain_values():
    check = Check("proof", PASSED, "ok")
    assert check == Check("proof", PASSED, "ok", "")
    assert not VerificationResult(()).verified


# --- property tests ------------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
#: Members and values a credential has, so that random documents get past the first checks.
CREDENTIAL_KEYS = st.sampled_from(
    [
        "@context",
        "id",
        "type",
        "issuer",
        "credentialSubject",
        "validFrom",
        "validUntil",
        "proof",
        "credentialStatus",
        "achievement",
        "identifier",
        "verificationMethod",
        "proofValue",
        "name",
    ]
)
LIKELY_VALUES = st.sampled_from(
    [
        "https://www.w3.org/ns/credentials/v2",
        [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        ["VerifiableCredential", "OpenBadgeCredential"],
        "did:web:passport.example.test:issuers:demo-saatio",
        "did:web:passport.example.test:issuers:demo-saatio#key-1",
        "2025-01-02T03:04:05Z",
        "DataIntegrityProof",
        "eddsa-rdfc-2022",
        "BitstringStatusListEntry",
        "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk1xN6Jv1dnLkP7QY5KAqqmYyEGR5FKx2Cb6c3FZjAqxTXU",
    ]
)
CREDENTIAL_LIKE = st.recursive(
    JSON_SCALARS | LIKELY_VALUES,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(CREDENTIAL_KEYS | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=30,
)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY_SETTINGS
@given(document=JSON_VALUES | CREDENTIAL_LIKE)
def test_verify_never_raises_on_arbitrary_json(verify, document):
    result = verify(document)
    assert isinstance(result, VerificationResult)
    assert not result.verified


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


@PROPERTY_SETTINGS
@given(data=st.data())
def test_verify_never_raises_on_mutations_of_a_signed_credential(signed, verify, data):
    document = copy.deepcopy(signed)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="mutations")):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["replace", "delete", "wrap", "add"]), label="action")
        if action == "replace":
            # A copy: sampled_from hands out the same list objects, which later steps mutate.
            parent[path[-1]] = copy.deepcopy(data.draw(JSON_VALUES | LIKELY_VALUES, label="value"))
        elif action == "delete":
            del parent[path[-1]]
        elif action == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
        elif isinstance(parent[path[-1]], dict):
            key = data.draw(CREDENTIAL_KEYS | st.text(max_size=8), label="key")
            parent[path[-1]][key] = data.draw(JSON_VALUES, label="added")
    result = verify(document)
    assert isinstance(result, VerificationResult)

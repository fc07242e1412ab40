"""The agreement corpus: our verifier and the independent JavaScript VC stack give the same verdict.

The corpus is built here: valid credentials (did:key, did:web, with a status list, VC 1.1-era
contexts) and broken ones (tampered fields, a wrong key, the key of another issuer, revoked,
expired, not yet valid, missing or unknown contexts, undefined terms, bad proofValues). Each
is verified by :func:`badges.verifier.verify_submission` (documents of other issuers come from
an allow-listed host through a fetcher double) and by ``tests/interop/verify.mjs`` (the same
documents passed in its ``documents`` map), and both verdicts must equal the expected one.

Where the JavaScript stack by design checks less, the test says so and compares what both check:

* A status list that is not available: verify.mjs checks status only when the status list
  credential is in its ``documents`` ("not checked" is not a failure there); we answer
  "could not be checked", because an unrevoked badge cannot be confirmed. Compared: the
  signature, the issuer's key and the dates, which both check.
* Revocation: verify.mjs reports a set bit as ``statusRevoked: true`` beside ``verified``;
  its verdict here is ``verified and not statusRevoked``.
* Dates: verify.mjs compares with the real clock (with 5 minutes' skew), we with FIXED_NOW;
  the dates in the corpus are far enough from both (2025 and 2099) to give the same answer.
* VC-JWT: verify.mjs checks Data Integrity proofs only; JWTs are covered by our own tests.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from verify_helpers import (
    DID_A,
    DID_B,
    KEY_A,
    KEY_B,
    KEY_EVIL,
    STATUS_ENTRY,
    STATUS_HOST,
    STATUS_INDEX,
    STATUS_URL,
    VM_A,
    VM_B,
    WEB_DID,
    WEB_DID_URL,
    WEB_HOST,
    WEB_VM,
    FakeFetcher,
    credential,
    did_document,
    legacy,
    sign,
    sign_unguarded,
    status_list,
    tampered,
    unsigned,
)

from badges import verifier
from badges.core.contexts import OB_LEGACY, VC_V2, static_loader
from badges.core.signing import create_proof

PAST = datetime(2025, 12, 31, tzinfo=UTC)
FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
OTHER_WEB_DID = "did:web:other.partner.example:issuers:toinen"
OTHER_WEB_URL = "https://other.partner.example/issuers/toinen/did.json"


@dataclass
class Case:
    """One corpus entry: the credential, the documents its issuer publishes, the expected verdicts."""

    name: str
    credential: dict[str, Any]
    documents: dict[str, Any] = field(default_factory=dict)  #: by URL, as the issuer publishes them
    verified: bool = True  #: the expected verdict of both verifiers
    ours: str = verifier.VALID  #: our verdict in words
    #: Set where the JS stack by design checks less (see the module doc): its own verdict.
    js_verified: bool | None = None


def _web_documents() -> dict[str, Any]:
    return {WEB_DID_URL: did_document(WEB_DID, KEY_B)}


def _status(revoked=(), key=KEY_A, vm=VM_A, issuer=DID_A) -> dict[str, Any]:
    return {STATUS_URL: status_list(issuer, key, vm, revoked=revoked)}


def corpus() -> list[Case]:
    """Build the corpus (deterministic: fixed keys and dates)."""
    valid = credential()
    with_status = credential(status=STATUS_ENTRY)
    web = sign(unsigned(issuer=WEB_DID), KEY_B, WEB_VM)
    swapped_key = sign(unsigned(), KEY_B, VM_A)  # claims A's key, signed with B's
    web_wrong_purpose = create_proof(unsigned(issuer=WEB_DID), KEY_B, verification_method=WEB_VM,
                                     created=datetime(2025, 6, 1, tzinfo=UTC), loader=static_loader(),
                                     purpose="authentication")
    web_not_assertion = did_document(WEB_DID, KEY_B)
    web_not_assertion["assertionMethod"] = []
    other_proof_value = sign(unsigned(name="Toinen merkki"))["proof"]["proofValue"]
    undefined_signed = unsigned()
    undefined_signed["credentialSubject"]["favouriteColour"] = "sininen"
    legacy_undefined = legacy(OB_LEGACY[2])
    legacy_undefined["favouriteColour"] = "sininen"
    issuer_as_string = unsigned()
    issuer_as_string["issuer"] = DID_A
    date_only = unsigned()
    date_only["validFrom"] = "2025-06-01"
    return [
        # --- genuine badges -------------------------------------------------------------------
        Case("valid did:key", valid),
        Case("valid did:key, issuer as a plain id", sign(issuer_as_string)),
        Case("valid did:key with an unrevoked status list", with_status, _status()),
        Case("valid until 2099", credential(valid_until=FUTURE)),
        Case("valid did:web from an allow-listed host", web, _web_documents()),
        Case("VC 1.1 era, OB context 3.0.0", sign(legacy(OB_LEGACY[0]))),
        Case("VC 1.1 era, OB context 3.0.1", sign(legacy(OB_LEGACY[1]))),
        Case("VC 1.1 era, OB context 3.0.2", sign(legacy(OB_LEGACY[2]))),
        # --- revoked, expired, not yet valid ------------------------------------------------------
        Case("revoked", with_status, _status(revoked=(STATUS_INDEX,)), False, verifier.REVOKED),
        Case("expired (validUntil)", credential(valid_until=PAST), verified=False, ours=verifier.EXPIRED),
        Case("not yet valid (validFrom 2099)", credential(valid_from=FUTURE), verified=False,
             ours=verifier.NOT_YET_VALID),
        Case("VC 1.1 era, expired (expirationDate)", sign(legacy(OB_LEGACY[2], valid_until=PAST)),
             verified=False, ours=verifier.EXPIRED),
        # --- tampered -----------------------------------------------------------------------------
        Case("tampered achievement name", tampered(valid, ("credentialSubject", "achievement", "name"), "Hitsaaja"),
             verified=False, ours=verifier.INVALID),
        Case("tampered issuer name", tampered(valid, ("issuer", "name"), "Toinen säätiö"),
             verified=False, ours=verifier.INVALID),
        Case("tampered validFrom", tampered(valid, ("validFrom",), "2020-01-01T00:00:00Z"),
             verified=False, ours=verifier.INVALID),
        Case("tampered recipient hash", tampered(valid, ("credentialSubject", "identifier"), [{
            **valid["credentialSubject"]["identifier"][0], "identityHash": "sha256$" + "0" * 64}]),
             verified=False, ours=verifier.INVALID),
        Case("tampered status index", tampered(with_status, ("credentialStatus", "statusListIndex"), "7"),
             _status(), verified=False, ours=verifier.INVALID),
        Case("a proof member added", tampered(valid, ("proof", "nonce"), "abc"), verified=False, ours=verifier.INVALID),
        # --- keys ---------------------------------------------------------------------------------
        Case("wrong key (claims the issuer's key)", swapped_key, verified=False, ours=verifier.INVALID),
        Case("wrong key (an impostor's signature)", sign(unsigned(), KEY_EVIL, VM_A), verified=False,
             ours=verifier.INVALID),
        Case("key of another issuer (did:key B signs for A)", sign(unsigned(), KEY_B, VM_B), verified=False,
             ours=verifier.INVALID),
        Case("key of another did:web issuer", sign(unsigned(issuer=WEB_DID), KEY_B, f"{OTHER_WEB_DID}#key-1"),
             {**_web_documents(), OTHER_WEB_URL: did_document(OTHER_WEB_DID, KEY_B)}, False, verifier.INVALID),
        Case("did:web key not listed for assertions", web, {WEB_DID_URL: web_not_assertion}, False, verifier.INVALID),
        Case("did:web key used for another purpose", web_wrong_purpose, _web_documents(), False, verifier.INVALID),
        Case("status list signed by another key", with_status, _status(key=KEY_B, vm=VM_B), False,
             verifier.UNVERIFIABLE),
        Case("status list of another issuer", with_status, _status(key=KEY_B, vm=VM_B, issuer=DID_B), False,
             verifier.UNVERIFIABLE),
        # --- contexts and terms -------------------------------------------------------------------
        Case("OB context removed", tampered(valid, ("@context",), [VC_V2]), verified=False, ours=verifier.INVALID),
        Case("unknown context added", tampered(valid, ("@context",), [*valid["@context"], "https://example.org/ctx"]),
             verified=False, ours=verifier.UNVERIFIABLE),
        Case("undefined term, signed", sign_unguarded(undefined_signed), verified=False, ours=verifier.INVALID),
        Case("undefined term, added after signing", tampered(valid, ("favouriteColour",), "sininen"),
             verified=False, ours=verifier.INVALID),
        Case("VC 1.1 era, undefined term, signed", sign_unguarded(legacy_undefined), verified=False,
             ours=verifier.INVALID),
        Case("date without time, signed", sign(date_only), verified=False, ours=verifier.INVALID),
        # --- proofValue ---------------------------------------------------------------------------
        Case("proofValue of another credential", tampered(valid, ("proof", "proofValue"), other_proof_value),
             verified=False, ours=verifier.INVALID),
        Case("proofValue truncated", tampered(valid, ("proof", "proofValue"), valid["proof"]["proofValue"][:-4]),
             verified=False, ours=verifier.INVALID),
        Case("proofValue not base58", tampered(valid, ("proof", "proofValue"), "z0OIl+/="), verified=False,
             ours=verifier.INVALID),
        Case("proofValue missing", tampered(valid, ("proof",), {k: v for k, v in valid["proof"].items()
                                                                  if k != "proofValue"}),
             verified=False, ours=verifier.INVALID),
        # --- documented difference: the status list is not available -------------------------------
        Case("status list not available", with_status, {}, verified=False, ours=verifier.UNVERIFIABLE,
             js_verified=True),
    ]


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    """The corpus, built once per module."""
    return corpus()


@pytest.fixture(scope="module")
def js_results(js_verify, cases) -> dict[str, dict[str, Any]]:
    """The JavaScript verdicts of the whole corpus (one Node process)."""
    results = js_verify.batch([(case.credential, _js_documents(case.documents)) for case in cases])
    return {case.name: result for case, result in zip(cases, results, strict=True)}


def _js_documents(documents: dict[str, Any]) -> dict[str, Any]:
    """verify.mjs looks DID documents up by the DID (or its did.json URL) and lists by URL."""
    out = dict(documents)
    for url, document in documents.items():
        if isinstance(document, dict) and str(document.get("id", "")).startswith("did:"):
            out[document["id"]] = document
    return out


def _ours(verify, case: Case) -> verifier.VerificationReport:
    fetcher = FakeFetcher(case.documents, allowed={WEB_HOST, STATUS_HOST, "other.partner.example"})
    return verify(text=json.dumps(case.credential), fetcher=fetcher)


def test_the_corpus_covers_what_the_issue_lists(cases):
    names = " ".join(case.name for case in cases)
    for topic in ("tampered", "wrong key", "another issuer", "revoked", "expired", "not yet valid",
                  "context removed", "undefined term", "proofValue", "did:key", "VC 1.1"):
        assert topic in names
    assert sum(case.verified for case in cases) >= 8
    assert sum(not case.verified for case in cases) >= 20


def test_our_verifier_agrees_with_the_javascript_stack(verify, cases, js_results):
    disagreements = []
    for case in cases:
        report = _ours(verify, case)
        js = js_results[case.name]
        js_verdict = js["verified"] and js["statusRevoked"] is not True
        expected_js = case.verified if case.js_verified is None else case.js_verified
        if (report.verified, report.verdict, js_verdict) != (case.verified, case.ours, expected_js):
            disagreements.append(
                f"{case.name}: ours {report.verified}/{report.verdict} "
                f"{[(c.name, c.outcome, c.code) for c in report.checks if c.outcome != 'passed']}, "
                f"JS {js_verdict} {js['errors'][:2]}, expected {case.verified}/{case.ours}/{expected_js}"
            )
    assert not disagreements, "\n".join(disagreements)


def test_where_js_does_not_check_status_both_agree_on_what_they_check(verify, cases, js_results):
    case = next(c for c in cases if c.js_verified is not None)
    report = _ours(verify, case)
    checked_by_both = {c.name: c.outcome for c in report.checks if c.name in ("issuer_key", "proof", "dates")}
    assert checked_by_both == {"issuer_key": "passed", "proof": "passed", "dates": "passed"}
    assert js_results[case.name]["verified"] is True
    assert js_results[case.name]["statusRevoked"] is None  # "not checked" in the JS stack
    status = next(c for c in report.checks if c.name == "status")
    assert (status.outcome, status.code) == ("unknown", "fetch_failed")


def test_revocation_is_seen_by_both(verify, cases, js_results):
    report = _ours(verify, next(c for c in cases if c.name == "revoked"))
    assert report.revoked and report.genuine
    assert js_results["revoked"]["statusRevoked"] is True

"""Verify an Open Badges 3.0 credential: every check is a named outcome, never an exception."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from badges.core.contexts import OB_LEGACY, OB_V3, VC_V1, VC_V2, DocumentLoader, is_known_context
from badges.core.credential import identity_matches
from badges.core.dates import parse_datetime
from badges.core.errors import BadgesError, KeyFormatError, StatusListError
from badges.core.keys import (
    VerificationMethod,
    did_key_verification_method,
    public_key_from_did_key,
    public_key_from_multibase,
)
from badges.core.signing import CRYPTOSUITE, PROOF_TYPE, split_proof, verify_proof
from badges.core.statuslist import decode_list, get_bit

#: Resolve a verification method URL to its key, or None when it cannot be found offline.
KeyResolver = Callable[[str], VerificationMethod | None]
#: Resolve a status list credential URL to the signed list, or None when it is not available.
StatusResolver = Callable[[str], Mapping[str, Any] | None]

PASSED, FAILED, UNKNOWN, SKIPPED = "passed", "failed", "unknown", "skipped"
OB_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
#: A statusListIndex: ASCII digits, short enough for int() (which caps digit strings).
_INDEX = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class Check:
    """One named verification step and its outcome."""

    name: str  #: structure, contexts, issuer_key, proof, status, dates, recipient
    outcome: str  #: passed, failed, unknown (could not be done) or skipped (does not apply)
    message: str
    code: str = ""  #: a stable machine code for the outcome, e.g. ``revoked``, ``expired``


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of verifying one credential."""

    checks: tuple[Check, ...]
    credential: Mapping[str, Any] | None = None
    #: Revocation reason or other detail that a person should see.
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        """True only when every applicable check passed (an unknown status is not a pass)."""
        return bool(self.checks) and all(c.outcome in (PASSED, SKIPPED) for c in self.checks) and any(
            c.name == "proof" and c.outcome == PASSED for c in self.checks
        )

    def check(self, name: str) -> Check | None:
        """Return the check called ``name``, if it was run."""
        return next((c for c in self.checks if c.name == name), None)

    @property
    def revoked(self) -> bool:
        """True when the status list says the credential was revoked."""
        status = self.check("status")
        return status is not None and status.code == "revoked"

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready summary."""
        return {
            "verified": self.verified,
            "checks": [
                {"name": c.name, "outcome": c.outcome, "code": c.code, "message": c.message}
                for c in self.checks
            ],
            **({"details": self.details} if self.details else {}),
        }


def did_web_document_url(did: str) -> str:
    """Return the HTTPS URL of a did:web DID document (did:web method §3.2)."""
    parts = did.removeprefix("did:web:").split(":")
    host = unquote(parts[0])
    path = "/".join(parts[1:])
    return f"https://{host}/{path}/did.json" if path else f"https://{host}/.well-known/did.json"


def methods_from_document(document: Mapping[str, Any]) -> dict[str, VerificationMethod]:
    """Return the Multikey verification methods a controller document publishes.

    Only methods that belong to the document itself count: id ``<document id>#…`` and
    ``controller`` equal to the document id. Otherwise issuer B's own DID document could
    list a key of B's with ``"controller": "<A's DID>"`` and sign credentials in A's name;
    only A's document can say which keys A controls.
    """
    controller_id = document.get("id") if isinstance(document, Mapping) else None
    if not isinstance(controller_id, str) or not controller_id:
        return {}
    assertion_refs: set[str] = set()
    methods: dict[str, VerificationMethod] = {}
    for ref in _as_list(document.get("assertionMethod")):
        if isinstance(ref, str):
            assertion_refs.add(_absolute(ref, controller_id))
        elif isinstance(ref, Mapping):
            vm = _method(ref, controller_id, assertion=True)
            if vm:
                assertion_refs.add(vm.id)
                methods[vm.id] = vm
    for entry in _as_list(document.get("verificationMethod")):
        if isinstance(entry, Mapping):
            vm = _method(entry, controller_id, assertion=False)
            if vm and vm.id not in methods:
                methods[vm.id] = VerificationMethod(
                    id=vm.id, controller=vm.controller, public_key=vm.public_key,
                    assertion=vm.id in assertion_refs,
                )
    return methods


def _method(entry: Mapping[str, Any], controller_id: str, *, assertion: bool) -> VerificationMethod | None:
    if entry.get("type") != "Multikey" or not isinstance(entry.get("publicKeyMultibase"), str):
        return None
    vm_id, controller = entry.get("id"), entry.get("controller")
    if not isinstance(vm_id, str) or controller != controller_id:
        return None
    vm_id = _absolute(vm_id, controller_id)
    if vm_id.split("#", 1)[0] != controller_id:
        return None
    try:
        key = public_key_from_multibase(entry["publicKeyMultibase"])
    except KeyFormatError:
        return None
    return VerificationMethod(id=vm_id, controller=controller_id, public_key=key, assertion=assertion)


def _absolute(ref: str, controller_id: str) -> str:
    return f"{controller_id}{ref}" if ref.startswith("#") else ref


def resolver_from_documents(documents: Mapping[str, Mapping[str, Any]]) -> KeyResolver:
    """Return a key resolver over controller documents (keyed by id or URL) and did:key.

    A did:web method is looked up under the DID itself or its did.json URL, an HTTPS
    method under the URL without its fragment. Nothing is fetched.
    """

    def resolve(method_id: str) -> VerificationMethod | None:
        if method_id.startswith("did:key:"):
            try:
                key = public_key_from_did_key(method_id)
            except KeyFormatError:
                return None
            did = method_id.split("#", 1)[0]
            if method_id != did_key_verification_method(did):
                return None
            return VerificationMethod(id=method_id, controller=did, public_key=key)
        base = method_id.split("#", 1)[0]
        candidates = [base]
        if base.startswith("did:web:"):
            candidates.append(did_web_document_url(base))
        for url in candidates:
            document = documents.get(url)
            if isinstance(document, Mapping):
                return methods_from_document(document).get(method_id)
        return None

    return resolve


def verify_credential(
    document: Any,
    *,
    loader: DocumentLoader,
    resolve_key: KeyResolver,
    now: datetime,
    resolve_status: StatusResolver | None = None,
    identity: str | None = None,
) -> VerificationResult:
    """Verify ``document`` and return each check's outcome.

    ``identity`` is a name or e-mail address the verifier was told; when given, the
    ``recipient`` check says whether it matches the hashed identifier. Any ``document``
    (parsed JSON of any shape) gives a result; only a naive ``now`` raises (a caller bug).
    """
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    checks: list[Check] = []
    details: dict[str, Any] = {}
    structure = _check_structure(document)
    checks.append(structure)
    if structure.outcome == FAILED:
        return VerificationResult(tuple(checks), None, details)
    contexts = _check_contexts(document)
    checks.append(contexts)
    issuer_id = _issuer_id(document)
    key_check, method = _check_issuer_key(document, issuer_id, resolve_key)
    checks.append(key_check)
    checks.append(_check_proof(document, method, loader, contexts))
    checks.append(_check_status(document, issuer_id, loader, resolve_key, resolve_status, now))
    checks.append(_check_dates(document, now))
    if identity is not None:
        checks.append(_check_recipient(document, identity))
    return VerificationResult(tuple(checks), document, details)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _issuer_id(document: Mapping[str, Any]) -> str:
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else ""


def _check_structure(document: Any) -> Check:
    def fail(message: str, code: str = "malformed") -> Check:
        return Check("structure", FAILED, message, code)

    if not isinstance(document, Mapping):
        return fail("The credential is not a JSON object.")
    contexts = _as_list(document.get("@context"))
    if not contexts or contexts[0] not in (VC_V2, VC_V1):
        return fail("The first @context must be the W3C Verifiable Credentials context.")
    types = {t for t in _as_list(document.get("type")) if isinstance(t, str)}  # [{}] is unhashable
    # An OB 3.0 EndorsementCredential is checked like a badge, with its own kind of subject.
    endorsement = "EndorsementCredential" in types and not types & OB_TYPES
    if "VerifiableCredential" not in types or not (types & OB_TYPES or endorsement):
        return fail("The type must include VerifiableCredential and OpenBadgeCredential.")
    if not _issuer_id(document):
        return fail("The credential names no issuer.")
    subject = document.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if endorsement:
        if not isinstance(subject, Mapping) or not isinstance(subject.get("id"), str) or (
            "EndorsementSubject" not in _as_list(subject.get("type"))
        ):
            return fail("The endorsement has no endorsement subject.")
    elif not isinstance(subject, Mapping) or not isinstance(subject.get("achievement"), Mapping):
        return fail("The credential has no achievement subject.")
    if not (document.get("validFrom") or document.get("issuanceDate")):
        return fail("The credential has no issue date (validFrom).")
    if not any(c == OB_V3 or c in OB_LEGACY for c in contexts):
        return fail("The Open Badges 3.0 context is missing.", "missing_context")
    return Check("structure", PASSED, "The credential has the shape of an Open Badges 3.0 credential.")


def _check_contexts(document: Mapping[str, Any]) -> Check:
    unknown = [c for c in _as_list(document.get("@context")) if isinstance(c, str) and not is_known_context(c)]
    if unknown:
        return Check("contexts", FAILED, "Unknown JSON-LD contexts (never fetched): " + ", ".join(unknown), "unknown_context")
    if any(not isinstance(c, str) for c in _as_list(document.get("@context"))):
        return Check("contexts", FAILED, "Inline JSON-LD contexts are not accepted.", "inline_context")
    return Check("contexts", PASSED, "All JSON-LD contexts are known standard contexts.")


def _check_issuer_key(
    document: Mapping[str, Any], issuer_id: str, resolve_key: KeyResolver
) -> tuple[Check, VerificationMethod | None]:
    try:
        _, proof = split_proof(document)
    except BadgesError as error:
        return Check("issuer_key", FAILED, str(error), "no_proof"), None
    method_id = proof.get("verificationMethod")
    if not isinstance(method_id, str) or not method_id:
        return Check("issuer_key", FAILED, "The proof names no verification method.", "no_method"), None
    method = resolve_key(method_id)
    if method is None:
        return Check("issuer_key", UNKNOWN, f"The signing key {method_id} could not be found.", "key_not_found"), None
    if method.controller != issuer_id:
        return Check("issuer_key", FAILED, "The signing key does not belong to the issuer.", "wrong_controller"), None
    if not method.assertion or proof.get("proofPurpose") != "assertionMethod":
        return Check("issuer_key", FAILED, "The key is not authorised to issue credentials.", "wrong_purpose"), None
    return Check("issuer_key", PASSED, f"The signing key belongs to the issuer {issuer_id}."), method


def _check_proof(
    document: Mapping[str, Any], method: VerificationMethod | None, loader: DocumentLoader, contexts: Check
) -> Check:
    try:
        _, proof = split_proof(document)
    except BadgesError as error:
        return Check("proof", FAILED, str(error), "no_proof")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return Check("proof", FAILED, f"Unsupported proof type {proof.get('type')}/{proof.get('cryptosuite')}.", "unsupported_proof")
    if contexts.outcome != PASSED:
        return Check("proof", UNKNOWN, "The signature cannot be checked with unknown contexts.", "unknown_context")
    if method is None:
        return Check("proof", UNKNOWN, "The signature cannot be checked without the issuer's key.", "key_not_found")
    try:
        valid = verify_proof(document, method.public_key, loader=loader)
    except BadgesError as error:
        return Check("proof", FAILED, str(error), error.code)
    if not valid:
        return Check("proof", FAILED, "The signature does not match: the credential was altered or not signed by this key.", "bad_signature")
    return Check("proof", PASSED, "The digital signature is valid.")


def _check_status(
    document: Mapping[str, Any], issuer_id: str, loader: DocumentLoader, resolve_key: KeyResolver,
    resolve_status: StatusResolver | None, now: datetime,
) -> Check:
    entries = _as_list(document.get("credentialStatus"))
    if not entries:
        return Check("status", SKIPPED, "The credential has no revocation status list.", "no_status")
    entry = entries[0]
    if len(entries) > 1 or not isinstance(entry, Mapping) or entry.get("type") != "BitstringStatusListEntry":
        kind = entry.get("type") if isinstance(entry, Mapping) else None
        return Check("status", UNKNOWN, f"Unsupported status method {kind}.", "unsupported_status")
    list_url, index = entry.get("statusListCredential"), entry.get("statusListIndex")
    # ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
    if not isinstance(list_url, str) or not isinstance(index, str) or not _INDEX.fullmatch(index):
        return Check("status", FAILED, "The status entry is malformed.", "malformed_status")
    status_list = resolve_status(list_url) if resolve_status else None
    if status_list is None:
        return Check("status", UNKNOWN, f"The status list {list_url} is not available, so revocation could not be checked.", "status_unavailable")
    if not isinstance(status_list, Mapping):
        return Check("status", FAILED, "The status list is not a JSON object.", "malformed_status")
    if _issuer_id(status_list) != issuer_id:
        return Check("status", FAILED, "The status list was not published by the issuer.", "status_wrong_issuer")
    # The list must be the one the entry names: another list of the same issuer, served in
    # its place, would carry validly signed but irrelevant bits.
    if status_list.get("id") != list_url:
        return Check("status", FAILED, "The status list is not the one the credential names.", "status_wrong_list")
    key_check, method = _check_issuer_key(status_list, issuer_id, resolve_key)
    if key_check.outcome == UNKNOWN:
        return Check("status", UNKNOWN, "The key that signed the status list could not be found.", "status_key_not_found")
    try:
        valid = method is not None and verify_proof(status_list, method.public_key, loader=loader)
    except BadgesError:
        valid = False
    if not valid:
        return Check("status", FAILED, "The status list's signature is not valid.", "status_bad_signature")
    end = parse_datetime(status_list.get("validUntil"))
    if end is not None and end <= now:
        return Check("status", UNKNOWN, "The status list has expired, so revocation could not be checked.", "status_list_expired")
    subject = status_list.get("credentialSubject")
    types = _as_list(status_list.get("type"))
    if not isinstance(subject, Mapping) or "BitstringStatusListCredential" not in types or subject.get("type") != "BitstringStatusList":
        return Check("status", FAILED, "The status list is not a BitstringStatusListCredential.", "malformed_status")
    if subject.get("statusPurpose") != entry.get("statusPurpose"):
        return Check("status", FAILED, "The status list has a different purpose.", "status_purpose")
    try:
        set_ = get_bit(decode_list(subject.get("encodedList", "")), int(index))
    except StatusListError as error:
        return Check("status", FAILED, str(error), "malformed_status")
    if set_:
        purpose = entry.get("statusPurpose")
        if purpose == "suspension":
            return Check("status", FAILED, "The issuer has suspended this credential.", "suspended")
        return Check("status", FAILED, "The issuer has revoked this credential.", "revoked")
    return Check("status", PASSED, "The issuer has not revoked this credential.")


def _check_dates(document: Mapping[str, Any], now: datetime) -> Check:
    start_raw = document.get("validFrom") or document.get("issuanceDate")
    end_raw = document.get("validUntil") or document.get("expirationDate")
    start = parse_datetime(start_raw)
    if start is None:
        return Check("dates", FAILED, f"The issue date {start_raw!r} is not a valid date and time.", "bad_date")
    if start > now:
        return Check("dates", FAILED, "The credential is not valid yet.", "not_yet_valid")
    if end_raw is not None:
        end = parse_datetime(end_raw)
        if end is None:
            return Check("dates", FAILED, f"The expiry date {end_raw!r} is not a valid date and time.", "bad_date")
        if end <= now:
            return Check("dates", FAILED, "The credential has expired.", "expired")
    return Check("dates", PASSED, "The credential is within its validity period.")


def _check_recipient(document: Mapping[str, Any], candidate: str) -> Check:
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    identities = _as_list(subject.get("identifier")) if isinstance(subject, Mapping) else []
    if any(isinstance(i, Mapping) and identity_matches(i, candidate) for i in identities):
        return Check("recipient", PASSED, "The name or e-mail address matches the recipient.", "match")
    if isinstance(subject, Mapping) and subject.get("id") == candidate:
        return Check("recipient", PASSED, "The identifier matches the recipient.", "match")
    return Check("recipient", FAILED, "The name or e-mail address does not match the recipient.", "no_match")


def verify_jwt(
    token: str,
    *,
    loader: DocumentLoader,
    resolve_key: KeyResolver,
    now: datetime,
    resolve_status: StatusResolver | None = None,
    identity: str | None = None,
) -> VerificationResult:
    """Verify a VC-JWT credential: the JWS signature replaces the Data Integrity proof."""
    from badges.core.jwt import parse_jwt, verify_jwt_signature

    try:
        header, payload, signing_input, signature = parse_jwt(token)
    except BadgesError as error:
        return VerificationResult((Check("structure", FAILED, str(error), error.code),))
    checks: list[Check] = []
    structure = _check_structure(payload)
    checks.append(structure)
    if structure.outcome == FAILED:
        return VerificationResult(tuple(checks), None)
    checks.append(_check_contexts(payload))
    issuer_id = _issuer_id(payload)
    kid = header.get("kid")
    method = resolve_key(kid) if isinstance(kid, str) else None
    if method is None:
        checks.append(Check("issuer_key", UNKNOWN, f"The signing key {kid} could not be found.", "key_not_found"))
        checks.append(Check("proof", UNKNOWN, "The signature cannot be checked without the issuer's key.", "key_not_found"))
    elif method.controller != issuer_id or not method.assertion:
        checks.append(Check("issuer_key", FAILED, "The signing key does not belong to the issuer.", "wrong_controller"))
        checks.append(Check("proof", UNKNOWN, "The signature was not checked.", "wrong_controller"))
    else:
        checks.append(Check("issuer_key", PASSED, f"The signing key belongs to the issuer {issuer_id}."))
        if header.get("alg") != "EdDSA":
            checks.append(Check("proof", UNKNOWN, f"JWT algorithm {header.get('alg')} is not supported.", "unsupported_proof"))
        elif payload.get("iss") not in (None, issuer_id) or verify_jwt_signature(header, signing_input, signature, method.public_key) is False:
            checks.append(Check("proof", FAILED, "The signature does not match: the credential was altered or not signed by this key.", "bad_signature"))
        else:
            checks.append(Check("proof", PASSED, "The digital signature (JWT) is valid."))
    details: dict[str, Any] = {}
    checks.append(_check_status(payload, issuer_id, loader, resolve_key, resolve_status, now))
    checks.append(_check_dates(payload, now))
    if identity is not None:
        checks.append(_check_recipient(payload, identity))
    return VerificationResult(tuple(checks), payload, details)

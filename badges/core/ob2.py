"""Open Badges 2.0 documents (hosted verification) built from plain values.

OB 2.0 is the legacy format that existing backpacks such as Open Badge Passport import:
separate Assertion, BadgeClass and Issuer Profile documents, linked by HTTPS ids, each
served at its own id (``verification: {"type": "hosted"}``). The recipient is a salted
SHA-256 ``IdentityObject``; the baked image carries the Assertion JSON under the PNG iTXt
keyword ``openbadges``. Nothing here is signed: the issuer's origin is the trust anchor.
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from badges.core.dates import xsd_datetime

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
#: OB 2.0 IdentityObject types that verifiers accept (``Profile`` identifier properties).
RECIPIENT_TYPES = ("email", "url", "telephone", "id")
#: The OB 3.0 ``identityType`` that maps onto OB 2.0 ``email``.
OB3_EMAIL = "emailAddress"
#: The alignment members OB 2.0 defines (``targetType`` is OB 3.0 only).
_ALIGNMENT_KEYS = ("targetName", "targetUrl", "targetDescription", "targetFramework", "targetCode")


def _sha256(value: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((value + salt).encode("utf-8")).hexdigest()


def recipient_from_identity(identity: Mapping[str, Any], *, fallback_url: str) -> dict[str, Any]:
    """Return the OB 2.0 recipient for an award's OB 3.0 ``IdentityObject``.

    An e-mail identity is the same value in both versions (``sha256$`` of address + salt), so
    it is reused as it is: backpacks match it against their users' addresses. A recipient
    known only by name has no OB 2.0 identifier type (only email, url, telephone and id are
    accepted), so the recipient is then the hashed ``fallback_url`` (the URL of the award's
    OB 3.0 credential) with the same salt: nothing in clear, and stable across requests.
    """
    salt = identity.get("salt")
    salt = salt if isinstance(salt, str) else ""
    identity_hash = identity.get("identityHash")
    is_email = identity.get("identityType") == OB3_EMAIL and identity.get("hashed") is True
    if is_email and isinstance(identity_hash, str):
        return {"type": "email", "hashed": True, "salt": salt, "identity": identity_hash}
    return {"type": "url", "hashed": True, "salt": salt, "identity": _sha256(fallback_url, salt)}


def recipient_matches(recipient: Mapping[str, Any], value: str) -> bool:
    """Return True when ``value`` (an e-mail address or URL) is the hashed OB 2.0 recipient."""
    identity = recipient.get("identity")
    if not isinstance(identity, str):
        return False
    candidate = value.strip().lower() if recipient.get("type") == "email" else value.strip()
    if recipient.get("hashed") is not True:
        return identity == candidate
    salt = recipient.get("salt") if isinstance(recipient.get("salt"), str) else ""
    return identity.lower() == _sha256(candidate, salt)


@dataclass(frozen=True, slots=True)
class AssertionData:
    """One award as an OB 2.0 hosted Assertion."""

    id: str  #: the URL the Assertion is served at (hosted verification fetches it)
    badge: str  #: the BadgeClass URL
    recipient: Mapping[str, Any]
    issued_on: datetime
    image: str | None = None  #: the baked image URL
    expires: datetime | None = None
    evidence: Sequence[Mapping[str, Any]] = ()


def build_assertion(data: AssertionData) -> dict[str, Any]:
    """Return the Assertion document (``verification.type`` hosted)."""
    assertion: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": data.id,
        "recipient": dict(data.recipient),
        "badge": data.badge,
        "issuedOn": xsd_datetime(data.issued_on),
        "verification": {"type": "hosted"},
    }
    if data.image:
        assertion["image"] = data.image
    if data.expires:
        assertion["expires"] = xsd_datetime(data.expires)
    evidence = [_evidence(item) for item in data.evidence]
    if any(evidence):
        assertion["evidence"] = [item for item in evidence if item]
    return assertion


def _evidence(item: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the members OB 2.0 Evidence defines (the type defaults to Evidence)."""
    return {key: item[key] for key in ("id", "name", "narrative", "description", "genre")
            if isinstance(item.get(key), str) and item[key]}


def build_revoked_assertion(assertion_id: str, reason: str) -> dict[str, Any]:
    """Return what a revoked hosted Assertion answers: only id, revoked and the reason."""
    return {"@context": OB2_CONTEXT, "type": "Assertion", "id": assertion_id, "revoked": True,
            "revocationReason": reason}


@dataclass(frozen=True, slots=True)
class BadgeClassData:
    """One version of a badge definition as an OB 2.0 BadgeClass."""

    id: str
    name: str
    description: str
    image: str
    criteria_narrative: str
    criteria_url: str  #: a human-readable page with the criteria
    issuer: str  #: the issuer Profile URL
    language: str = "fi"
    version: str | None = None
    alignments: Sequence[Mapping[str, Any]] = ()
    tags: Sequence[str] = ()


def build_badge_class(data: BadgeClassData) -> dict[str, Any]:
    """Return the BadgeClass document; alignments keep their OB 2.0 members only."""
    badge: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": data.id,
        "name": data.name,
        "description": data.description,
        "image": data.image,
        "criteria": {"id": data.criteria_url, "narrative": data.criteria_narrative},
        "issuer": data.issuer,
        "@language": data.language,
    }
    if data.version:
        badge["version"] = data.version
    alignments = [
        {key: a[key] for key in _ALIGNMENT_KEYS if isinstance(a.get(key), str) and a[key]}
        for a in data.alignments
    ]
    alignments = [a for a in alignments if a.get("targetName") and a.get("targetUrl")]
    if alignments:
        badge["alignment"] = alignments
    if data.tags:
        badge["tags"] = list(data.tags)
    return badge


@dataclass(frozen=True, slots=True)
class IssuerData:
    """An organisation as an OB 2.0 issuer Profile."""

    id: str
    name: str
    url: str
    email: str | None = None
    description: str | None = None
    image: str | None = None
    revocation_list: str | None = None


def build_issuer(data: IssuerData) -> dict[str, Any]:
    """Return the issuer Profile (type ``Issuer``); ``email`` is required of issuers when known."""
    issuer: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": data.id,
        "name": data.name,
        "url": data.url,
    }
    for key, value in (("email", data.email), ("description", data.description), ("image", data.image),
                       ("revocationList", data.revocation_list)):
        if value:
            issuer[key] = value
    return issuer


def build_revocation_list(list_id: str, issuer: str, revoked: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Return an OB 2.0 RevocationList of (assertion id, reason) pairs."""
    return {
        "@context": OB2_CONTEXT,
        "type": "RevocationList",
        "id": list_id,
        "issuer": issuer,
        "revokedAssertions": [{"id": assertion_id, "revoked": True, "revocationReason": reason}
                              for assertion_id, reason in revoked],
    }

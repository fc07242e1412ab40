"""Build unsigned Open Badges 3.0 ``OpenBadgeCredential`` documents from plain values."""

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from badges.core.contexts import OB_EXTENSIONS, OB_V3, VC_V2
from badges.core.dates import xsd_datetime

#: OB 3.0 JSON Schema for AchievementCredential (1EdTechJsonSchemaValidator2019, VCCS 1.0).
OB_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
CREDENTIAL_CONTEXT = (VC_V2, OB_V3, OB_EXTENSIONS)
#: The ``targetType`` we write for ePerusteet requirements and units: no CASE/CTDL node
#: exists for them, so OB 3.0 asks for an ``ext:`` extension value.
EPERUSTEET_TARGET_TYPE = "ext:ePerusteet"


@dataclass(frozen=True, slots=True)
class Issuer:
    """The issuing organisation, embedded in the credential as an OB 3.0 Profile."""

    id: str
    name: str
    url: str | None = None
    email: str | None = None
    description: str | None = None
    image: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the Profile object."""
        profile: dict[str, Any] = {"id": self.id, "type": ["Profile"], "name": self.name}
        if self.url:
            profile["url"] = self.url
        if self.email:
            profile["email"] = self.email
        if self.description:
            profile["description"] = self.description
        if self.image:
            profile["image"] = {"id": self.image, "type": "Image"}
        return profile


@dataclass(frozen=True, slots=True)
class Alignment:
    """A pointer from an achievement to a qualification unit or requirement."""

    target_name: str
    target_url: str
    target_framework: str | None = None
    target_code: str | None = None
    target_type: str | None = EPERUSTEET_TARGET_TYPE
    target_description: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 Alignment object."""
        data: dict[str, Any] = {
            "type": ["Alignment"],
            "targetName": self.target_name,
            "targetUrl": self.target_url,
        }
        for key, value in (
            ("targetDescription", self.target_description),
            ("targetFramework", self.target_framework),
            ("targetCode", self.target_code),
            ("targetType", self.target_type),
        ):
            if value:
                data[key] = value
        return data


@dataclass(frozen=True, slots=True)
class Achievement:
    """What the badge means: one version of a badge definition."""

    id: str
    name: str
    description: str
    criteria_narrative: str
    image: str | None = None
    image_caption: str | None = None
    in_language: str = "fi"
    alignments: tuple[Alignment, ...] = ()
    achievement_type: str = "Competency"
    version: str | None = None
    criteria_id: str | None = None
    #: Signed EndorsementCredentials of this badge definition, as the JSON text they were
    #: stored in: embedded exactly as signed (text keeps the dataclass hashable and immutable).
    endorsements: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 Achievement object."""
        criteria: dict[str, Any] = {"narrative": self.criteria_narrative}
        if self.criteria_id:
            criteria["id"] = self.criteria_id
        data: dict[str, Any] = {
            "id": self.id,
            "type": ["Achievement"],
            "achievementType": self.achievement_type,
            "name": self.name,
            "description": self.description,
            "criteria": criteria,
            "inLanguage": self.in_language,
        }
        if self.image:
            image = {"id": self.image, "type": "Image"}
            if self.image_caption:
                image["caption"] = self.image_caption
            data["image"] = image
        if self.version:
            data["version"] = self.version
        if self.alignments:
            data["alignment"] = [a.to_json() for a in self.alignments]
        if self.endorsements:
            data["endorsement"] = [json.loads(text) for text in self.endorsements]
        return data


@dataclass(frozen=True, slots=True)
class Identity:
    """A hashed recipient identifier (OB 3.0 IdentityObject)."""

    identity_type: str  #: ``emailAddress`` or ``name`` (IdentifierTypeEnum)
    identity_hash: str  #: ``sha256$`` + hex digest of the normalised value + salt
    salt: str

    def to_json(self) -> dict[str, Any]:
        """Return the IdentityObject."""
        return {
            "type": "IdentityObject",
            "identityType": self.identity_type,
            "hashed": True,
            "identityHash": self.identity_hash,
            "salt": self.salt,
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """Evidence of the achievement: a coach's note and/or a link to a photo."""

    narrative: str | None = None
    name: str | None = None
    id: str | None = None
    description: str | None = None
    genre: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 Evidence object."""
        data: dict[str, Any] = {"type": ["Evidence"]}
        for key, value in (
            ("id", self.id),
            ("name", self.name),
            ("narrative", self.narrative),
            ("description", self.description),
            ("genre", self.genre),
        ):
            if value:
                data[key] = value
        return data


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """A credential's place in a Bitstring Status List."""

    list_url: str
    index: int
    purpose: str = "revocation"

    def to_json(self) -> dict[str, Any]:
        """Return the ``BitstringStatusListEntry`` object."""
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


def normalise_identity(identity_type: str, value: str) -> str:
    """Return the canonical form of an identifier before hashing.

    E-mail addresses are trimmed and lower-cased; names are NFC-normalised, trimmed,
    inner white space collapsed and case-folded, so that "Maija  Meikäläinen" typed by an
    employer matches "maija meikäläinen" recorded by the coach.
    """
    text = unicodedata.normalize("NFC", value).strip()
    text = re.sub(r"\s+", " ", text)
    return text.lower() if identity_type == "emailAddress" else text.casefold()


def hash_identity(identity_type: str, value: str, salt: str) -> Identity:
    """Return the IdentityObject for ``value`` with ``salt`` (OB 3.0: sha256$hex(value+salt))."""
    digest = hashlib.sha256((normalise_identity(identity_type, value) + salt).encode("utf-8")).hexdigest()
    return Identity(identity_type=identity_type, identity_hash=f"sha256${digest}", salt=salt)


def identity_matches(identity: Mapping[str, Any], candidate: str) -> bool:
    """Return True when ``candidate`` hashes to the IdentityObject ``identity``."""
    expected = identity.get("identityHash")
    salt = identity.get("salt") or ""
    kind = identity.get("identityType") or ""
    hashed = identity.get("hashed")
    if not isinstance(expected, str) or not isinstance(salt, str) or not isinstance(kind, str):
        return False
    value = normalise_identity(kind, candidate)
    # compare_digest refuses str with non-ASCII characters (TypeError): compare UTF-8 bytes.
    if hashed is False:  # a plain identifier is normalised like the candidate
        return hmac.compare_digest(normalise_identity(kind, expected).encode(), value.encode())
    if hashed is not True:  # "hashed" is a required boolean
        return False
    algorithm, _, _ = expected.partition("$")
    if algorithm == "sha256":
        computed = "sha256$" + hashlib.sha256((value + salt).encode("utf-8")).hexdigest()
    elif algorithm == "md5":  # OB 2.0 allowed it; still seen in migrated badges
        digest = hashlib.md5((value + salt).encode("utf-8"), usedforsecurity=False)
        computed = "md5$" + digest.hexdigest()
    else:
        return False
    return hmac.compare_digest(computed.encode(), expected.lower().encode("utf-8"))


@dataclass(frozen=True, slots=True)
class CredentialData:
    """Everything needed for one award, as plain values."""

    credential_id: str
    issuer: Issuer
    achievement: Achievement
    identities: tuple[Identity, ...]
    issued_at: datetime
    valid_until: datetime | None = None
    subject_id: str | None = None
    evidence: tuple[Evidence, ...] = ()
    status: StatusEntry | None = None
    awarded_at: datetime | None = None
    extra_subject: dict[str, Any] = field(default_factory=dict)


def build_credential(data: CredentialData) -> dict[str, Any]:
    """Build an unsigned OpenBadgeCredential; field names follow the pinned OB 3.0 context."""
    if not data.identities and not data.subject_id:
        raise ValueError("an AchievementSubject needs an id or at least one identifier")
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if data.subject_id:
        subject["id"] = data.subject_id
    if data.identities:
        subject["identifier"] = [i.to_json() for i in data.identities]
    subject["achievement"] = data.achievement.to_json()
    subject.update(data.extra_subject)
    credential: dict[str, Any] = {
        "@context": list(CREDENTIAL_CONTEXT),
        "id": data.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": data.achievement.name,
        "issuer": data.issuer.to_json(),
        "validFrom": xsd_datetime(data.issued_at),
    }
    if data.awarded_at:
        credential["awardedDate"] = xsd_datetime(data.awarded_at)
    if data.valid_until:
        credential["validUntil"] = xsd_datetime(data.valid_until)
    credential["credentialSubject"] = subject
    if data.evidence:
        credential["evidence"] = [e.to_json() for e in data.evidence]
    credential["credentialSchema"] = [
        {"id": OB_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}
    ]
    if data.status:
        credential["credentialStatus"] = data.status.to_json()
    return credential


#: OB 3.0 JSON Schema for EndorsementCredential (1EdTechJsonSchemaValidator2019).
ENDORSEMENT_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
)


@dataclass(frozen=True, slots=True)
class EndorsementData:
    """One organisation's signed statement about another's badge definition (OB 3.0 §EndorsementCredential)."""

    credential_id: str
    issuer: Issuer  #: the endorser
    subject_id: str  #: the id of the endorsed Achievement
    name: str
    comment: str  #: ``endorsementComment``: the endorser's words and the requirements they speak for
    issued_at: datetime
    valid_until: datetime | None = None
    status: StatusEntry | None = None


def build_endorsement_credential(data: EndorsementData) -> dict[str, Any]:
    """Build an unsigned ``EndorsementCredential`` with an ``EndorsementSubject``."""
    if not data.comment.strip():
        raise ValueError("an endorsement needs a comment")
    credential: dict[str, Any] = {
        "@context": list(CREDENTIAL_CONTEXT),
        "id": data.credential_id,
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": data.name,
        "issuer": data.issuer.to_json(),
        "validFrom": xsd_datetime(data.issued_at),
    }
    if data.valid_until:
        credential["validUntil"] = xsd_datetime(data.valid_until)
    credential["credentialSubject"] = {
        "id": data.subject_id,
        "type": ["EndorsementSubject"],
        "endorsementComment": data.comment,
    }
    credential["credentialSchema"] = [{"id": ENDORSEMENT_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}]
    if data.status:
        credential["credentialStatus"] = data.status.to_json()
    return credential

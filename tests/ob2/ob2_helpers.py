"""An Open Badges 2.0 rule checker, written from the specification (not from our builders).

It checks what the OB 2.0 spec (and the 1EdTech validator's class rules) require of a hosted
badge: required properties and their types, IRIs, ISO 8601 dates with a time zone, a hashed
recipient, image and criteria, and hosted-verification ids that are the URLs the documents are
served at, all on the issuer Profile's origin (the default verification policy).
"""

import hashlib
import re
from urllib.parse import urlsplit

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
#: ISO 8601 date and time with seconds and a time zone indicator (OB 2.0 §DateTime).
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})")
_IDENTITY_HASH = re.compile(r"(sha256\$[0-9a-fA-F]{64}|md5\$[0-9a-fA-F]{32})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def _is_url(value) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _types(document) -> list:
    value = document.get("type")
    return value if isinstance(value, list) else [value]


def _common(document, kind: str, problems: list[str], *types: str) -> None:
    if document.get("@context") != OB2_CONTEXT:
        problems.append(f"{kind}: @context must be {OB2_CONTEXT}")
    if not any(t in _types(document) for t in types):
        problems.append(f"{kind}: type must include one of {types}")
    if not _is_url(document.get("id")):
        problems.append(f"{kind}: id must be an HTTP(S) IRI")


def check_assertion(assertion: dict, *, served_at: str) -> list[str]:
    """Return the problems of a hosted Assertion served at ``served_at``."""
    problems: list[str] = []
    _common(assertion, "Assertion", problems, "Assertion")
    if assertion.get("id") != served_at:
        problems.append("Assertion: a hosted Assertion's id must be the URL it is served at")
    recipient = assertion.get("recipient")
    if not isinstance(recipient, dict):
        problems.append("Assertion: recipient IdentityObject is required")
    else:
        if recipient.get("type") not in ("email", "url", "telephone", "id"):
            problems.append("IdentityObject: type must be email, url, telephone or id")
        if not isinstance(recipient.get("hashed"), bool):
            problems.append("IdentityObject: hashed must be a boolean")
        if recipient.get("hashed") is not True or not _IDENTITY_HASH.fullmatch(str(recipient.get("identity"))):
            problems.append("IdentityObject: the identity must be a hash (no personal data in clear)")
        if not isinstance(recipient.get("salt"), str) or not recipient.get("salt"):
            problems.append("IdentityObject: a salt is expected")
    if not _is_url(assertion.get("badge")):
        problems.append("Assertion: badge must be the BadgeClass IRI")
    verification = assertion.get("verification")
    if not isinstance(verification, dict) or verification.get("type") not in ("hosted", "HostedBadge"):
        problems.append("Assertion: verification.type must be hosted")
    if not _DATETIME.fullmatch(str(assertion.get("issuedOn"))):
        problems.append("Assertion: issuedOn must be an ISO 8601 date-time with a time zone")
    if "expires" in assertion and not _DATETIME.fullmatch(str(assertion["expires"])):
        problems.append("Assertion: expires must be an ISO 8601 date-time with a time zone")
    if "image" in assertion and not _is_url(assertion["image"]):
        problems.append("Assertion: image must be a URL")
    for item in assertion.get("evidence", []):
        if not isinstance(item, dict) or not (item.get("narrative") or _is_url(item.get("id"))):
            problems.append("Evidence: a narrative or an id is expected")
    return problems


def check_badge_class(badge: dict, *, served_at: str) -> list[str]:
    """Return the problems of a BadgeClass served at ``served_at``."""
    problems: list[str] = []
    _common(badge, "BadgeClass", problems, "BadgeClass")
    if badge.get("id") != served_at:
        problems.append("BadgeClass: id must be the URL it is served at")
    for key in ("name", "description"):
        if not isinstance(badge.get(key), str) or not badge[key].strip():
            problems.append(f"BadgeClass: {key} is required text")
    image = badge.get("image")
    if not (_is_url(image) or (isinstance(image, dict) and _is_url(image.get("id")))):
        problems.append("BadgeClass: image is required (an IRI)")
    criteria = badge.get("criteria")
    embedded = isinstance(criteria, dict) and (criteria.get("narrative") or _is_url(criteria.get("id")))
    if not (_is_url(criteria) or embedded):
        problems.append("BadgeClass: criteria is required (IRI or Criteria with narrative/id)")
    if not _is_url(badge.get("issuer")):
        problems.append("BadgeClass: issuer must be the Profile IRI")
    for alignment in badge.get("alignment", []):
        if not isinstance(alignment.get("targetName"), str) or not _is_url(alignment.get("targetUrl")):
            problems.append("AlignmentObject: targetName and a targetUrl URL are required")
    return problems


def check_issuer(issuer: dict, *, served_at: str) -> list[str]:
    """Return the problems of an issuer Profile served at ``served_at``."""
    problems: list[str] = []
    _common(issuer, "Profile", problems, "Issuer", "Profile")
    if issuer.get("id") != served_at:
        problems.append("Profile: id must be the URL it is served at")
    if not isinstance(issuer.get("name"), str) or not issuer["name"]:
        problems.append("Profile: an issuer needs a name")
    if not _is_url(issuer.get("url")):
        problems.append("Profile: an issuer needs a url")
    if not _EMAIL.fullmatch(str(issuer.get("email"))):
        problems.append("Profile: an issuer needs an email")
    return problems


def check_hosted_links(assertion: dict, badge: dict, issuer: dict) -> list[str]:
    """Return the problems of the links between the three documents (default verification policy)."""
    problems: list[str] = []
    if assertion.get("badge") != badge.get("id"):
        problems.append("the Assertion's badge is not this BadgeClass")
    if badge.get("issuer") != issuer.get("id"):
        problems.append("the BadgeClass's issuer is not this Profile")
    origin = urlsplit(issuer["id"]).netloc
    for kind, document in (("Assertion", assertion), ("BadgeClass", badge)):
        if urlsplit(document["id"]).netloc != origin:
            problems.append(f"the {kind} is not on the issuer Profile's origin")
    return problems


def identity_verifies(recipient: dict, value: str) -> bool:
    """Return True when sha256(value + salt) is the recipient's identity (OB 2.0 §IdentityHash)."""
    digest = hashlib.sha256((value + recipient["salt"]).encode("utf-8")).hexdigest()
    return recipient["identity"] == f"sha256${digest}"

"""Verify a badge someone brings: a file, pasted text, or the address of one of our credentials.

:func:`verify_submission` works out what it was given (a baked PNG or SVG, Open Badges 3.0
JSON, a VC-JWT, an Open Badges 2.0 assertion, or a ``/credentials/<id>`` address of this
installation), verifies it with :mod:`badges.core.verification`, and returns a
:class:`VerificationReport`: the verdict, the issuer, dates, recipient match, what the badge
means (criteria and aligned qualification requirements) and every technical check.

Keys and status lists are found like this, and nothing else is ever fetched:

* ``did:key``: from the identifier itself, offline;
* this installation's issuers (``did:web:<our host>:…`` and URLs on our origin): from the
  database, never over HTTP;
* other issuers: only from hosts on the administrator's allow-list (:class:`TrustedHost`),
  through :class:`badges.fetcher.Fetcher` and its strict limits. Otherwise the check says
  plainly that it could not be done, and the verdict is "could not be checked", not "fake".

A service module: takes a Session, never commits, never imports Flask. Bad input of any
kind gives a report with the verdict ``unreadable``, never an exception.
"""

import base64
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from badges import services
from badges.core.baking import (
    LEGACY_PNG_KEYWORD,
    PNG_KEYWORD,
    CredentialNotFoundError,
    ImageTooLargeError,
    UnsafeSvgError,
    find_png_keywords,
    sniff_format,
    unbake_png,
    unbake_svg,
    unbake_svg_ob2,
)
from badges.core.contexts import static_loader
from badges.core.credential import identity_matches
from badges.core.dates import parse_datetime
from badges.core.errors import BadgesError
from badges.core.jwt import parse_jwt
from badges.core.keys import VerificationMethod
from badges.core.verification import (
    FAILED,
    PASSED,
    SKIPPED,
    UNKNOWN,
    Check,
    did_web_document_url,
    methods_from_document,
    verify_credential,
    verify_jwt,
)
from badges.fetcher import Fetcher, FetchError, host_of, normalise_host
from badges.models import Award, Organisation, TrustedHost

#: The largest file accepted (a baked PNG with its image); larger ones are refused unread.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: The largest credential text (JSON or JWT); our credentials are a few kilobytes.
MAX_TEXT_BYTES = 1024 * 1024
#: What a typed name or e-mail address may be at most.
MAX_IDENTITY_CHARS = 320
#: Alignments shown at most (each may cost a framework lookup).
MAX_ALIGNMENTS = 50

KIND_OB3, KIND_OB3_JWT, KIND_OB2, KIND_UNKNOWN = "ob3", "ob3-jwt", "ob2", "unknown"
#: Verdicts, from the reader's point of view.
VALID = "valid"  #: genuine, in force, and (if asked) issued to the person named
REVOKED = "revoked"  #: genuine, but the issuer revoked (or suspended) it
EXPIRED = "expired"  #: genuine, but past its validUntil
NOT_YET_VALID = "not_yet_valid"  #: genuine, but its validity starts later
RECIPIENT_MISMATCH = "recipient_mismatch"  #: genuine, but not issued to the person named
INVALID = "invalid"  #: not genuine: altered, signed by someone else, or malformed
UNVERIFIABLE = "unverifiable"  #: a check could not be done (key or list not reachable, …)
UNREADABLE = "unreadable"  #: the input is not a badge we can read at all
VERDICTS = (VALID, REVOKED, EXPIRED, NOT_YET_VALID, RECIPIENT_MISMATCH, INVALID, UNVERIFIABLE, UNREADABLE)

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_OWN_CREDENTIAL_PATH = re.compile(r"/credentials/([0-9a-f]{32})(?:\.(?:json|png|svg))?/?")
_PUBLIC_ID = re.compile(r"(?<![0-9a-f])([0-9a-f]{32})(?![0-9a-f])")
#: Checks whose failure means the badge is not genuine (as opposed to revoked or expired).
_AUTHENTICITY = ("structure", "issuer_key", "proof", "hosted", "signature")


class DocumentFetcher(Protocol):
    """What the verifier needs from a fetcher (:class:`badges.fetcher.Fetcher` or a test double)."""

    def is_allowed(self, url: str) -> bool:
        """Return True when ``url`` is on an allow-listed host."""

    def fetch_json(self, url: str) -> Any:
        """Return the JSON at ``url`` or raise :class:`badges.fetcher.FetchError`."""


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """One technical check as the reader sees it."""

    name: str  #: input, structure, contexts, issuer_key, proof, hosted, signature, status, dates, recipient
    outcome: str  #: passed, failed, unknown (could not be checked) or skipped (does not apply)
    code: str
    message: str  #: English; the web layer shows a translation chosen by ``code``
    #: Values for the translated message, e.g. ``{"host": "issuer.example"}``.
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IssuerInfo:
    """Who issued the badge, as the credential says (and whether it is one of ours)."""

    id: str
    name: str | None
    url: str | None
    ours: bool  #: one of this installation's organisations
    slug: str | None = None  #: the organisation's slug when ``ours``


@dataclass(frozen=True, slots=True)
class AlignmentInfo:
    """An alignment explained with our framework data where we have it."""

    name: str
    url: str | None  #: only https links
    code: str | None
    framework: str | None
    requirement: str | None  #: requirement text from the imported ePerusteet data
    unit: str | None
    qualification: str | None


@dataclass(frozen=True, slots=True)
class AchievementInfo:
    """What the badge says it means."""

    id: str | None
    name: str | None
    description: str | None
    criteria: str | None  #: the criteria narrative
    criteria_url: str | None
    language: str | None
    alignments: tuple[AlignmentInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """Everything the result page and the API say about one verified input."""

    verdict: str  #: one of :data:`VERDICTS`
    kind: str  #: ob3, ob3-jwt, ob2 or unknown
    source: str  #: png, svg, json, jwt, text or url
    checks: tuple[CheckInfo, ...]
    issuer: IssuerInfo | None = None
    credential_id: str | None = None
    issued: datetime | None = None
    valid_until: datetime | None = None
    achievement: AchievementInfo | None = None
    recipient_checked: bool = False
    recipient_match: bool | None = None
    #: The award's public id when the credential is one of this installation's awards.
    award_public_id: str | None = None

    @property
    def verified(self) -> bool:
        """True only for a genuine badge in force (and issued to the person named, if asked)."""
        return self.verdict == VALID

    @property
    def genuine(self) -> bool:
        """True when the signature (or the issuer's own record) confirms the content."""
        return any(c.name in ("proof", "hosted", "signature") and c.outcome == PASSED for c in self.checks)

    @property
    def revoked(self) -> bool:
        """True when the issuer revoked or suspended the badge."""
        return any(c.name == "status" and c.code in ("revoked", "suspended") for c in self.checks)

    @property
    def expired(self) -> bool:
        """True when the badge is past its validity."""
        return any(c.name == "dates" and c.code == "expired" for c in self.checks)

    @property
    def not_yet_valid(self) -> bool:
        """True when the badge's validity starts later."""
        return any(c.name == "dates" and c.code == "not_yet_valid" for c in self.checks)

    @property
    def problem(self) -> CheckInfo | None:
        """The check that made the input unreadable, if it was."""
        return self.checks[0] if self.verdict == UNREADABLE and self.checks else None

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON (see :data:`REPORT_JSON_SCHEMA`)."""
        achievement = self.achievement
        return {
            "verified": self.verified,
            "verdict": self.verdict,
            "kind": self.kind,
            "source": self.source,
            "genuine": self.genuine,
            "credential_id": self.credential_id,
            "issuer": None if self.issuer is None else {
                "id": self.issuer.id, "name": self.issuer.name, "url": self.issuer.url, "ours": self.issuer.ours,
            },
            "issued": _iso(self.issued),
            "valid_until": _iso(self.valid_until),
            "revoked": self.revoked,
            "expired": self.expired,
            "not_yet_valid": self.not_yet_valid,
            "recipient": {"checked": self.recipient_checked, "match": self.recipient_match},
            "achievement": None if achievement is None else {
                "id": achievement.id, "name": achievement.name, "description": achievement.description,
                "criteria": achievement.criteria, "criteria_url": achievement.criteria_url,
                "language": achievement.language,
                "alignments": [
                    {"name": a.name, "url": a.url, "code": a.code, "framework": a.framework,
                     "requirement": a.requirement, "unit": a.unit, "qualification": a.qualification}
                    for a in achievement.alignments
                ],
            },
            "checks": [
                {"name": c.name, "outcome": c.outcome, "code": c.code, "message": c.message} for c in self.checks
            ],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


_NULLABLE_STRING = {"type": ["string", "null"]}
#: JSON Schema (2020-12) of :meth:`VerificationReport.to_json`, for the OpenAPI document.
REPORT_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "VerificationReport",
    "description": "The result of verifying one badge. `verified` is true only for a genuine badge in force "
                   "(and, when an identity was given, issued to that person). `verdict` says why not.",
    "required": ["verified", "verdict", "kind", "source", "genuine", "credential_id", "issuer", "issued",
                 "valid_until", "revoked", "expired", "not_yet_valid", "recipient", "achievement", "checks"],
    "properties": {
        "verified": {"type": "boolean"},
        "verdict": {"type": "string", "enum": list(VERDICTS)},
        "kind": {"type": "string", "enum": [KIND_OB3, KIND_OB3_JWT, KIND_OB2, KIND_UNKNOWN]},
        "source": {"type": "string", "enum": ["png", "svg", "json", "jwt", "text", "url"]},
        "genuine": {"type": "boolean", "description": "The signature, or the issuer's own record, confirms the content."},
        "credential_id": _NULLABLE_STRING,
        "issuer": {
            "type": ["object", "null"],
            "required": ["id", "name", "url", "ours"],
            "properties": {
                "id": {"type": "string"}, "name": _NULLABLE_STRING, "url": _NULLABLE_STRING,
                "ours": {"type": "boolean", "description": "Issued by an organisation of this installation."},
            },
        },
        "issued": {"type": ["string", "null"], "format": "date-time"},
        "valid_until": {"type": ["string", "null"], "format": "date-time"},
        "revoked": {"type": "boolean"},
        "expired": {"type": "boolean"},
        "not_yet_valid": {"type": "boolean"},
        "recipient": {
            "type": "object",
            "required": ["checked", "match"],
            "properties": {"checked": {"type": "boolean"}, "match": {"type": ["boolean", "null"]}},
        },
        "achievement": {
            "type": ["object", "null"],
            "required": ["id", "name", "description", "criteria", "criteria_url", "language", "alignments"],
            "properties": {
                "id": _NULLABLE_STRING, "name": _NULLABLE_STRING, "description": _NULLABLE_STRING,
                "criteria": _NULLABLE_STRING, "criteria_url": _NULLABLE_STRING, "language": _NULLABLE_STRING,
                "alignments": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "url", "code", "framework", "requirement", "unit", "qualification"],
                        "properties": {
                            "name": {"type": "string"}, "url": _NULLABLE_STRING, "code": _NULLABLE_STRING,
                            "framework": _NULLABLE_STRING, "requirement": _NULLABLE_STRING,
                            "unit": _NULLABLE_STRING, "qualification": _NULLABLE_STRING,
                        },
                    },
                },
            },
        },
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "outcome", "code", "message"],
                "properties": {
                    "name": {"type": "string"},
                    "outcome": {"type": "string", "enum": [PASSED, FAILED, UNKNOWN, SKIPPED],
                                "description": "unknown: the check could not be done (the reason is in message)."},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

#: JSON Schema of the JSON body of ``POST /api/v1/verify`` (a file may be sent as multipart instead).
REQUEST_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "VerificationRequest",
    "description": "Give exactly one of `credential` (the credential as a JSON object, or a compact JWT or "
                   "JSON text as a string) and `url` (the address of a credential of this installation).",
    "properties": {
        "credential": {"type": ["object", "string"], "maxLength": MAX_TEXT_BYTES},
        "url": {"type": "string", "maxLength": 2048},
        "identity": {"type": "string", "maxLength": MAX_IDENTITY_CHARS,
                     "description": "A name or e-mail address the badge is said to belong to."},
    },
    "anyOf": [{"required": ["credential"]}, {"required": ["url"]}],
    "additionalProperties": False,
}


# --- the allow-list ---------------------------------------------------------------------------


def trusted_hosts(session: Session) -> list[TrustedHost]:
    """Return the allow-listed hosts, alphabetically."""
    return list(session.scalars(select(TrustedHost).order_by(TrustedHost.host)))


def add_trusted_host(session: Session, host: str, *, now: datetime, note: str | None = None) -> TrustedHost:
    """Put ``host`` on the allow-list (or update its note); returns the row. The caller commits.

    Raises:
        services.InvalidInputError: ``host`` is not a host name, IP address or ``host:port``.
    """
    try:
        normalised = normalise_host(host)
    except ValueError:
        raise services.InvalidInputError(f"not a host name: {host!r}") from None
    row = session.scalar(select(TrustedHost).where(TrustedHost.host == normalised))
    if row is None:
        row = TrustedHost(host=normalised, note=note, created_at=now)
        session.add(row)
    elif note is not None:
        row.note = note
    session.flush()
    return row


def remove_trusted_host(session: Session, host: str) -> bool:
    """Take ``host`` off the allow-list; return False when it was not on it."""
    try:
        normalised = normalise_host(host)
    except ValueError:
        return False
    row = session.scalar(select(TrustedHost).where(TrustedHost.host == normalised))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def default_fetcher(session: Session) -> Fetcher:
    """Return a fetcher limited to the allow-listed hosts (production limits)."""
    return Fetcher([row.host for row in trusted_hosts(session)])


# --- entry point -------------------------------------------------------------------------------


def verify_submission(
    session: Session,
    site: services.Site,
    *,
    data: bytes | None = None,
    text: str | None = None,
    url: str | None = None,
    identity: str | None = None,
    now: datetime,
    fetcher: DocumentFetcher | None = None,
    language: str = "fi",
) -> VerificationReport:
    """Verify a file (``data``), pasted ``text`` or an address of ours (``url``); see the module doc.

    ``identity`` is the name or e-mail address the visitor was told; the report says whether it
    matches the badge's hashed recipient. ``language`` chooses the language of requirement texts
    from our framework tables. Any input gives a report; only a naive ``now`` raises.
    """
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    identity = identity.strip() if isinstance(identity, str) else None
    if identity and len(identity) > MAX_IDENTITY_CHARS:
        return _unreadable("text", "identity_too_long", "The name or e-mail address is too long.")
    if identity and not _unicode(identity):
        return _unreadable("text", "identity_invalid", "The name or e-mail address has characters that are not text.")
    run = _Run(session, site, fetcher, now=now, identity=identity or None, language=language)
    given = [x for x in (data, text, url) if x is not None and x != b"" and x != ""]
    if len(given) > 1:
        return _unreadable("text", "verify_several", "Give one badge at a time: a file, pasted text or an address.")
    try:
        if data:
            return run.from_bytes(data)
        if text:
            return run.from_text(text, "text")
        if url:
            return run.from_url(url.strip(), "url")
    except _Unreadable as problem:
        return _unreadable(problem.source, problem.code, problem.message, problem.params)
    return _unreadable("text", "verify_empty", "Nothing was given to verify.")


class _Unreadable(Exception):
    """Internal: the input cannot be read; becomes a report with the verdict ``unreadable``."""

    def __init__(self, source: str, code: str, message: str, **params: str) -> None:
        super().__init__(message)
        self.source, self.code, self.message, self.params = source, code, message, params


def _unreadable(source: str, code: str, message: str, params: Mapping[str, str] | None = None) -> VerificationReport:
    return VerificationReport(
        verdict=UNREADABLE, kind=KIND_UNKNOWN, source=source,
        checks=(CheckInfo("input", FAILED, code, message, dict(params or {})),),
    )


@dataclass
class _Note:
    """Why a key or status list could not be had: replaces the core's generic message."""

    code: str
    message: str
    params: dict[str, str]


class _Run:
    """One verification: the inputs, the resolvers and what they could not find."""

    def __init__(
        self, session: Session, site: services.Site, fetcher: DocumentFetcher | None, *,
        now: datetime, identity: str | None, language: str,
    ) -> None:
        self.session, self.site, self.now, self.identity, self.language = session, site, now, identity, language
        self._fetcher = fetcher
        self.notes: dict[str, _Note] = {}
        self._local_keys = services.local_key_resolver(session, site)
        self._local_status = services.local_status_resolver(session, site)
        self._own_did_prefix = f"did:web:{quote(site.host, safe='')}:"

    @property
    def fetcher(self) -> DocumentFetcher:
        """The fetcher, made from the allow-list on first use (most badges never need it)."""
        if self._fetcher is None:
            self._fetcher = default_fetcher(self.session)
        return self._fetcher

    # --- reading the input ---------------------------------------------------------------

    def from_bytes(self, data: bytes) -> VerificationReport:
        """Read a file: a baked PNG or SVG, or JSON / JWT text."""
        if len(data) > MAX_FILE_BYTES:
            raise _Unreadable("json", "verify_too_large", "The file is too large.",
                              limit=str(MAX_FILE_BYTES // (1024 * 1024)))
        kind = sniff_format(data)
        if kind == "png":
            return self._from_png(data)
        if kind == "svg":
            return self._from_svg(data)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _Unreadable("json", "verify_not_utf8", "The file is not a badge: it is not an image or UTF-8 text.") from None
        return self.from_text(text, "jwt" if kind == "jwt" else "json")

    def _from_png(self, data: bytes) -> VerificationReport:
        try:
            keywords = find_png_keywords(data)
            if PNG_KEYWORD in keywords:
                return self.from_text(unbake_png(data, max_bytes=MAX_FILE_BYTES), "png")
            if LEGACY_PNG_KEYWORD in keywords:
                return self.from_text(unbake_png(data, keyword=LEGACY_PNG_KEYWORD, max_bytes=MAX_FILE_BYTES),
                                      "png", ob2=True)
        except BadgesError as error:
            raise _image_problem("png", error) from None
        raise _Unreadable("png", "verify_no_credential", "This image has no badge baked into it.")

    def _from_svg(self, data: bytes) -> VerificationReport:
        try:
            try:
                return self.from_text(unbake_svg(data, max_bytes=MAX_FILE_BYTES), "svg")
            except CredentialNotFoundError:
                return self.from_text(unbake_svg_ob2(data, max_bytes=MAX_FILE_BYTES), "svg", ob2=True)
        except CredentialNotFoundError:
            raise _Unreadable("svg", "verify_no_credential", "This image has no badge baked into it.") from None
        except BadgesError as error:
            raise _image_problem("svg", error) from None

    def from_text(self, text: str, source: str, *, ob2: bool = False) -> VerificationReport:
        """Read credential text: JSON, a compact JWT or JWS, or (baked OB 2.0) an assertion URL."""
        stripped = text.strip().removeprefix("\ufeff").strip()
        if not _unicode(stripped):
            raise _Unreadable(source, "verify_bad_json", "The text has characters that are not valid Unicode.")
        if not stripped:
            raise _Unreadable(source, "verify_empty", "Nothing was given to verify.")
        if len(stripped) > MAX_TEXT_BYTES:
            raise _Unreadable(source, "verify_too_large", "The credential is too large.",
                              limit=str(MAX_TEXT_BYTES // (1024 * 1024)))
        if stripped.startswith("{"):
            document = _load_json(stripped, source)
            if ob2 or _looks_ob2(document):
                return self._ob2(source, assertion=document)
            if not _looks_ob3(document) and "@context" not in document:
                raise _Unreadable(source, "verify_not_badge",
                                  "This is not a badge: the JSON is neither an Open Badges credential nor an assertion.")
            return self._ob3(document, KIND_OB3, source)
        if _JWT.fullmatch(stripped):
            return self._from_jwt(stripped, source, ob2=ob2)
        if re.fullmatch(r"https?://\S+", stripped):
            if ob2:  # OB 2.0 baking may hold just the hosted assertion's address
                return self._ob2(source, hosted_url=stripped)
            return self.from_url(stripped, source)
        raise _Unreadable(source, "verify_not_badge", "This is not a badge: expected a badge image, JSON or a JWT.")

    def _from_jwt(self, token: str, source: str, *, ob2: bool) -> VerificationReport:
        try:
            header, payload, _, _ = parse_jwt(token)
        except BadgesError:
            raise _Unreadable(source, "verify_bad_jwt", "The JWT cannot be read: it is not a valid compact JWT.") from None
        if not _unicode_json(payload) or not _unicode_json(header):
            raise _Unreadable(source, "verify_bad_jwt", "The JWT cannot be read: it is not valid Unicode JSON.")
        if ob2 or _looks_ob2(payload) or header.get("alg") in ("RS256", "ES256") and "recipient" in payload:
            return self._ob2(source, jws=token, header=header, assertion=payload)
        return self._ob3(token, KIND_OB3_JWT, "jwt" if source in ("json", "text", "jwt") else source)

    def from_url(self, url: str, source: str) -> VerificationReport:
        """Verify one of this installation's credentials by its address (read from the database)."""
        award = self._own_award(url)
        try:
            document = json.loads(award.document)
        except ValueError:  # stored documents are written by us; a broken one is still not a crash
            raise _Unreadable(source, "verify_not_found", "No badge with this address was found here.") from None
        return self._ob3(document, KIND_OB3, source)

    def _own_award(self, url: str) -> Award:
        if len(url) > 2048:
            raise _Unreadable("url", "verify_url_not_ours", "Only badge addresses of this service can be checked by address.")
        parts, ours = urlsplit(url), urlsplit(self.site.base_url)
        match = _OWN_CREDENTIAL_PATH.fullmatch(parts.path)
        if (parts.scheme.lower(), parts.netloc.lower()) != (ours.scheme.lower(), ours.netloc.lower()) or not match:
            raise _Unreadable("url", "verify_url_not_ours",
                              "Only badge addresses of this service can be checked by address. "
                              "Download the badge file and upload it here instead.")
        award = self.session.scalar(select(Award).where(Award.public_id == match.group(1)))
        if award is None:
            raise _Unreadable("url", "verify_not_found", "No badge with this address was found here.")
        return award

    # --- Open Badges 3.0 ------------------------------------------------------------------

    def _ob3(self, document: Any, kind: str, source: str) -> VerificationReport:
        verify = verify_jwt if kind == KIND_OB3_JWT else verify_credential
        result = verify(
            document, loader=static_loader(), resolve_key=self._resolve_key,
            resolve_status=self._resolve_status, now=self.now, identity=self.identity,
        )
        credential = result.credential if isinstance(result.credential, Mapping) else (
            document if isinstance(document, Mapping) else None
        )
        if kind == KIND_OB3 and (credential is None or not _looks_ob3(credential)):
            kind = KIND_UNKNOWN
        checks = tuple(self._explain(check, credential) for check in result.checks)
        return self._report(kind, source, checks, credential)

    def _report(self, kind: str, source: str, checks: tuple[CheckInfo, ...],
                credential: Mapping[str, Any] | None) -> VerificationReport:
        issuer = self._issuer(credential) if credential is not None else None
        recipient = next((c for c in checks if c.name == "recipient"), None)
        report = VerificationReport(
            verdict=verdict_of(checks), kind=kind, source=source, checks=checks, issuer=issuer,
            credential_id=_text(credential.get("id")) if credential is not None else None,
            issued=_date(credential, "validFrom", "issuanceDate", "issuedOn"),
            valid_until=_date(credential, "validUntil", "expirationDate", "expires"),
            achievement=self._achievement(credential),
            recipient_checked=recipient is not None and recipient.outcome in (PASSED, FAILED),
            recipient_match=None if recipient is None or recipient.outcome not in (PASSED, FAILED)
            else recipient.outcome == PASSED,
        )
        if issuer is not None and issuer.ours and report.credential_id and report.genuine:
            report = replace(report, award_public_id=self._award_id(report.credential_id))
        return report

    def _award_id(self, credential_id: str) -> str | None:
        prefix = self.site.credential_url("")
        if not credential_id.startswith(prefix) or not _db_safe(credential_id):
            return None
        public_id = credential_id[len(prefix):]
        exists = self.session.scalar(select(Award.public_id).where(Award.public_id == public_id))
        return exists

    def _explain(self, check: Check, credential: Mapping[str, Any] | None) -> CheckInfo:
        """Turn a core check into a report check, naming the reason a key or list was not found."""
        info = CheckInfo(check.name, check.outcome, check.code, check.message)
        if credential is None or check.outcome != UNKNOWN:
            if check.name == "contexts" and check.code == "unknown_context":
                return replace(info, message="Some JSON-LD contexts of this credential are not available offline "
                                             "here, so it could not be checked: " + check.message.split(": ", 1)[-1])
            return info
        if check.name in ("issuer_key", "proof") and check.code == "key_not_found":
            note = self.notes.get(_proof_method(credential) or "")
            if note is not None:
                if check.name == "issuer_key":
                    return CheckInfo(check.name, check.outcome, note.code, note.message, note.params)
                return replace(info, message="The signature could not be checked. " + note.message, params=note.params)
        if check.name == "status" and check.code in ("status_unavailable", "status_key_not_found"):
            entry = credential.get("credentialStatus")
            entry = entry[0] if isinstance(entry, list) and entry else entry
            list_url = entry.get("statusListCredential") if isinstance(entry, Mapping) else None
            note = self.notes.get(list_url) if isinstance(list_url, str) else None
            if note is not None:
                return CheckInfo(check.name, check.outcome, note.code,
                                 "Revocation could not be checked. " + note.message, note.params)
        return info

    # --- finding keys and status lists ----------------------------------------------------

    def is_own(self, reference: str) -> bool:
        """Return True for a DID or URL of this installation (never fetched over HTTP)."""
        if reference.startswith("did:web:"):
            return reference.startswith(self._own_did_prefix)
        parts, ours = urlsplit(reference), urlsplit(self.site.base_url)
        return bool(parts.netloc) and parts.netloc.lower() == ours.netloc.lower()

    def _resolve_key(self, method_id: str) -> VerificationMethod | None:
        if not _db_safe(method_id):
            return None
        if method_id.startswith("did:key:") or self.is_own(method_id):
            found = self._local_keys(method_id)
            if found is None and self.is_own(method_id):
                self.notes[method_id] = _Note("key_not_found", "This service has no such signing key.", {})
            return found
        base = method_id.split("#", 1)[0]
        if base.startswith("did:web:"):
            document_url = did_web_document_url(base)
        elif base.startswith("https://"):
            document_url = base
        elif base.startswith("did:"):
            method = ":".join(base.split(":", 2)[:2])
            self.notes[method_id] = _Note(
                "unsupported_did_method", f"Keys of {method} identifiers cannot be looked up here.", {"method": method}
            )
            return None
        else:
            self.notes[method_id] = _Note("key_not_found", "The signing key is not given as a DID or HTTPS address.", {})
            return None
        document = self._fetch(document_url, method_id, what="key")
        if not isinstance(document, Mapping):
            return None
        method = methods_from_document(document).get(method_id)
        if method is None:
            self.notes[method_id] = _Note(
                "key_not_in_document", f"The issuer's published keys ({host_of(document_url)}) do not include this key.",
                {"host": host_of(document_url) or ""},
            )
        return method

    def _resolve_status(self, url: str) -> Mapping[str, Any] | None:
        if not _db_safe(url):
            return None
        if self.is_own(url):
            found = self._local_status(url)
            if found is None:
                self.notes[url] = _Note("status_unavailable", "This service has no such status list.", {})
            return found
        document = self._fetch(url, url, what="status list")
        return document if isinstance(document, Mapping) else None

    def _fetch(self, url: str, note_key: str, *, what: str) -> Any:
        host = host_of(url) or url[:100]
        if not url.startswith("https://"):
            self.notes[note_key] = _Note("not_https", f"The {what} is not published at an HTTPS address.", {"host": host})
            return None
        if not self.fetcher.is_allowed(url):
            self.notes[note_key] = _Note(
                "host_not_trusted",
                f"The {what} is published at {host}, which is not on this service's list of trusted hosts.",
                {"host": host},
            )
            return None
        try:
            return self.fetcher.fetch_json(url)
        except FetchError as error:
            self.notes[note_key] = _Note(
                "fetch_failed", f"The {what} could not be fetched from {host}: {error}.", {"host": host, "reason": error.reason}
            )
            return None

    # --- who and what ------------------------------------------------------------------

    def _issuer(self, credential: Mapping[str, Any]) -> IssuerInfo | None:
        issuer = credential.get("issuer")
        badge = credential.get("badge")  # OB 2.0: the issuer hangs off the BadgeClass
        if issuer is None and isinstance(badge, Mapping):
            issuer = badge.get("issuer")
        profile = issuer if isinstance(issuer, Mapping) else {}
        issuer_id = _text(profile.get("id")) if profile else _text(issuer)
        if not issuer_id:
            return None
        slug = None
        if issuer_id.startswith(self._own_did_prefix + "issuers:") and _db_safe(issuer_id):
            candidate = issuer_id[len(self._own_did_prefix + "issuers:"):]
            slug = self.session.scalar(select(Organisation.slug).where(Organisation.slug == candidate))
        return IssuerInfo(
            id=issuer_id, name=_text(profile.get("name")), url=_https(profile.get("url")),
            ours=slug is not None, slug=slug,
        )

    def _achievement(self, credential: Mapping[str, Any] | None) -> AchievementInfo | None:
        if credential is None:
            return None
        subject = credential.get("credentialSubject")
        if isinstance(subject, list):
            subject = subject[0] if subject else None
        achievement = subject.get("achievement") if isinstance(subject, Mapping) else credential.get("badge")
        if not isinstance(achievement, Mapping):
            return None
        criteria = achievement.get("criteria")
        narrative = _text(criteria.get("narrative")) if isinstance(criteria, Mapping) else None
        criteria_url = _https(criteria.get("id")) if isinstance(criteria, Mapping) else _https(criteria)
        raw = achievement.get("alignment")
        alignments = [a for a in (raw if isinstance(raw, list) else [raw]) if isinstance(a, Mapping)]
        return AchievementInfo(
            id=_text(achievement.get("id")), name=_text(achievement.get("name")),
            description=_text(achievement.get("description")), criteria=narrative, criteria_url=criteria_url,
            language=_text(achievement.get("inLanguage")),
            alignments=tuple(explain_alignments(self.session, alignments[:MAX_ALIGNMENTS], language=self.language)),
        )

    # --- Open Badges 2.0 --------------------------------------------------------------------

    def _ob2(
        self, source: str, *, assertion: Any = None, jws: str | None = None,
        header: Mapping[str, Any] | None = None, hosted_url: str | None = None,
    ) -> VerificationReport:
        """Recognise an OB 2.0 assertion and check what can be checked (see :class:`_Ob2`)."""
        return _Ob2(self, source).verify(assertion=assertion, jws=jws, header=header, hosted_url=hosted_url)


def _image_problem(source: str, error: BadgesError) -> _Unreadable:
    if isinstance(error, UnsafeSvgError):
        return _Unreadable(source, "verify_unsafe_svg", "SVG images with a DOCTYPE or entity declarations are refused.")
    if isinstance(error, ImageTooLargeError):
        return _Unreadable(source, "verify_too_large", "The file is too large.", limit=str(MAX_FILE_BYTES // (1024 * 1024)))
    if isinstance(error, CredentialNotFoundError):
        return _Unreadable(source, "verify_no_credential", "This image has no badge baked into it.")
    return _Unreadable(source, "verify_bad_image", f"The image cannot be read: {error}.")


def _load_json(text: str, source: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise _Unreadable(source, "verify_bad_json", "The text is not valid JSON (line %(line)s, column %(column)s).",
                          line=str(error.lineno), column=str(error.colno)) from None
    except (ValueError, RecursionError):  # a number too long to convert, nesting too deep
        raise _Unreadable(source, "verify_bad_json", "The JSON cannot be read (too deeply nested or too large numbers).") from None
    if not isinstance(document, dict):
        raise _Unreadable(source, "verify_not_badge", "This is not a badge: the JSON is not an object.")
    if not _unicode_json(document):  # "\ud800" escapes decode to lone surrogates
        raise _Unreadable(source, "verify_bad_json", "The text has characters that are not valid Unicode.")
    return document


def _unicode(text: str) -> bool:
    """Return True when ``text`` is valid Unicode (no lone surrogates): it can be hashed and stored."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unicode_json(document: Any) -> bool:
    try:
        return _unicode(json.dumps(document, ensure_ascii=False))
    except (ValueError, RecursionError):
        return False


def _db_safe(value: Any) -> bool:
    """Return True for a string that may be used in a query (PostgreSQL refuses NUL characters)."""
    return isinstance(value, str) and "\x00" not in value and len(value) <= 2048


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _looks_ob2(document: Mapping[str, Any]) -> bool:
    contexts = _as_list(document.get("@context"))
    types = _as_list(document.get("type"))
    return OB2_CONTEXT in contexts or "Assertion" in types or (
        "recipient" in document and "badge" in document and "credentialSubject" not in document
    )


def _looks_ob3(document: Mapping[str, Any]) -> bool:
    return "credentialSubject" in document or "VerifiableCredential" in _as_list(document.get("type"))


def _proof_method(credential: Mapping[str, Any]) -> str | None:
    proof = credential.get("proof")
    proof = proof[0] if isinstance(proof, list) and proof else proof
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    return method if isinstance(method, str) else None


def _text(value: Any, limit: int = 5000) -> str | None:
    """Return a string member for display (cut to ``limit``), or None for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value[:limit]


def _https(value: Any) -> str | None:
    """Return ``value`` when it is an https link (never javascript: or data:), else None."""
    text = _text(value, 2048)
    return text if text and text.startswith("https://") and not any(c.isspace() for c in text) else None


def _date(credential: Mapping[str, Any] | None, *names: str) -> datetime | None:
    if credential is None:
        return None
    for name in names:
        value = credential.get(name)
        if value is not None:
            return parse_datetime(value) or _lenient_date(value)
    return None


def _lenient_date(value: Any) -> datetime | None:
    """OB 2.0 dates: ISO 8601 with or without an offset (then UTC), or a date."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def explain_alignments(session: Session, alignments: Iterable[Mapping[str, Any]], *, language: str) -> list[AlignmentInfo]:
    """Explain alignment objects of any credential with our framework data (requirement, unit, qualification).

    The lookup is the passport's (:func:`badges.passport.explain_alignments`), fed with the
    credential's own alignment list; only string members are used and only https links kept.
    """
    from badges import passport

    cleaned = [
        {k: v for k, v in a.items() if k in ("targetName", "targetUrl", "targetCode", "targetFramework")
         and _db_safe(v)}
        for a in alignments
    ]

    class _Version:  # the passport explains an award's version; give it just the alignments
        def __init__(self, items: list[dict[str, str]]) -> None:
            self.alignments = items

    class _AwardLike:
        def __init__(self, items: list[dict[str, str]]) -> None:
            self.achievement_version = _Version(items)

    views = passport.explain_alignments(session, _AwardLike(cleaned), language=language)  # type: ignore[arg-type]
    return [
        AlignmentInfo(name=view.name or (view.code or ""), url=view.url, code=view.code,
                      framework=_text(item.get("targetFramework")), requirement=view.requirement,
                      unit=view.unit, qualification=view.qualification)
        for view, item in zip(views, cleaned, strict=True)
    ]


def verdict_of(checks: Iterable[CheckInfo]) -> str:
    """Return the verdict a person should read from the checks (see :data:`VERDICTS`)."""
    by_name = {c.name: c for c in checks}
    if "input" in by_name:
        return UNREADABLE
    for name in ("structure", "issuer_key"):
        check = by_name.get(name)
        if check is not None and check.outcome == FAILED:
            return INVALID
    contexts = by_name.get("contexts")
    if contexts is not None and contexts.outcome == FAILED:
        return UNVERIFIABLE  # an unknown context is not proof of forgery; it just cannot be checked
    authenticity = [by_name[n] for n in ("proof", "hosted", "signature") if n in by_name]
    if any(c.outcome == FAILED and c.code != "unsupported_proof" for c in authenticity):
        return INVALID
    if not any(c.outcome == PASSED for c in authenticity):
        return UNVERIFIABLE
    status, dates, recipient = by_name.get("status"), by_name.get("dates"), by_name.get("recipient")
    if status is not None and status.code in ("revoked", "suspended"):
        return REVOKED
    if dates is not None and dates.outcome == FAILED:
        return {"expired": EXPIRED, "not_yet_valid": NOT_YET_VALID}.get(dates.code, INVALID)
    if status is not None and status.outcome in (FAILED, UNKNOWN):
        return UNVERIFIABLE
    if recipient is not None and recipient.outcome == FAILED:
        return RECIPIENT_MISMATCH
    if any(c.outcome in (FAILED, UNKNOWN) for c in by_name.values()):
        return UNVERIFIABLE
    return VALID


# --- Open Badges 2.0 ------------------------------------------------------------------------


class _Ob2:
    """What can be checked of an Open Badges 2.0 assertion.

    * Our own hosted assertions (``/ob2/assertions/<award>``): from the database, never over
      HTTP. The given assertion must equal the one we serve for that award, and the report is
      then the award's signed OB 3.0 credential, verified in full.
    * Another issuer's hosted assertion: only on an allow-listed host, by fetching its ``id``
      and comparing it with what was given (``revoked: true`` or HTTP 410 mean revoked).
    * Signed assertions (a JWS): the RS256 signature with the key at ``verification.creator``,
      fetched only from an allow-listed host; OB 2.0 revocation lists are not read.
    * Dates (``issuedOn``, ``expires``) and the typed name or e-mail against ``recipient``.
    """

    def __init__(self, run: _Run, source: str) -> None:
        self.run, self.source = run, source

    def verify(
        self, *, assertion: Any, jws: str | None, header: Mapping[str, Any] | None, hosted_url: str | None,
    ) -> VerificationReport:
        run = self.run
        if hosted_url is not None:  # only the assertion's address was baked in
            if run.is_own(hosted_url):
                return self._own(hosted_url, None)
            assertion, hosted = self._hosted(hosted_url, None)
            if assertion is None:
                return self._finish([hosted], None)
        structure = self._structure(assertion)
        if structure.outcome == FAILED:
            return self._finish([structure], assertion if isinstance(assertion, Mapping) else None)
        checks = [structure]
        if hosted_url is not None:
            checks.append(hosted)
        elif jws is not None:
            checks.append(self._signature(jws, header or {}, assertion))
        elif self._verification_type(assertion) == "hosted":
            url = _text(assertion.get("id"), 2048) or ""
            if url and run.is_own(url):
                return self._own(url, assertion)
            assertion, hosted = self._hosted(url, assertion)
            checks.append(hosted)
        else:
            checks.append(CheckInfo("signature", UNKNOWN, "ob2_signed_without_jws",
                                    "A signed Open Badges 2.0 badge can only be checked in its signed form "
                                    "(the JWS in the badge image)."))
        checks.append(self._status(assertion, fetched=checks[-1].code == "ob2_hosted_fetched"))
        checks.append(self._dates(assertion))
        if run.identity is not None:
            checks.append(self._recipient(assertion))
        return self._finish(checks, assertion)

    def _own(self, url: str, given: Mapping[str, Any] | None) -> VerificationReport:
        """One of our awards in OB 2.0 form: compare with what we serve, then verify the award itself."""
        from badges import ob2

        run = self.run
        match = _PUBLIC_ID.search(urlsplit(url).path)
        award = run.session.scalar(select(Award).where(Award.public_id == match.group(1))) if match else None
        if award is None or ob2.assertion_url(run.site, award.public_id) != url:
            return self._finish([CheckInfo("hosted", FAILED, "ob2_not_issued_here",
                                           "This service has no badge at the assertion's address.")], given)
        if given is not None and award.revoked_at is None and not _same_content(
            given, ob2.assertion_document(run.site, award)
        ):
            return self._finish([CheckInfo("hosted", FAILED, "ob2_mismatch",
                                           "The badge differs from the issuer's copy: it was altered.")], given)
        report = run._ob3(json.loads(award.document), KIND_OB3, self.source)
        hosted = CheckInfo("hosted", PASSED, "ob2_hosted_own", "This service issued this badge and still holds it.")
        return replace(report, kind=KIND_OB2, checks=(hosted, *report.checks), verdict=verdict_of((hosted, *report.checks)))

    def _finish(self, checks: list[CheckInfo], assertion: Mapping[str, Any] | None) -> VerificationReport:
        report = self.run._report(KIND_OB2, self.source, tuple(checks), assertion)
        return self._with_badge_class(report, assertion) if assertion is not None else report

    def _with_badge_class(self, report: VerificationReport, assertion: Mapping[str, Any]) -> VerificationReport:
        """Fill in the BadgeClass and Issuer when they are given by address on a trusted host."""
        badge = self._document(assertion.get("badge"))
        if isinstance(badge, Mapping) and not isinstance(assertion.get("badge"), Mapping):
            report = replace(report, achievement=self.run._achievement({"badge": badge}))
        if report.issuer is None and isinstance(badge, Mapping):
            issuer = self._document(badge.get("issuer"))
            if isinstance(issuer, Mapping) or isinstance(issuer, str):
                report = replace(report, issuer=self.run._issuer({"issuer": issuer}))
        return report

    def _document(self, value: Any) -> Any:
        """Return ``value``, or the document at it when it is the address of one on a trusted host."""
        if not isinstance(value, str) or not value.startswith("https://") or self.run.is_own(value) \
                or not self.run.fetcher.is_allowed(value):
            return value
        try:
            return self.run.fetcher.fetch_json(value)
        except FetchError:
            return value

    @staticmethod
    def _verification_type(assertion: Mapping[str, Any]) -> str:
        verification = assertion.get("verification")
        kind = verification.get("type") if isinstance(verification, Mapping) else None
        return "signed" if kind in ("signed", "SignedBadge") else "hosted"

    @staticmethod
    def _structure(assertion: Any) -> CheckInfo:
        if not isinstance(assertion, Mapping) or not isinstance(assertion.get("recipient"), Mapping) \
                or not isinstance(assertion.get("badge"), str | Mapping) or assertion.get("issuedOn") is None:
            return CheckInfo("structure", FAILED, "ob2_malformed",
                             "This is not a complete Open Badges 2.0 assertion (recipient, badge and issuedOn are needed).")
        return CheckInfo("structure", PASSED, "ob2", "An Open Badges 2.0 assertion (an older badge format).")

    def _hosted(self, url: str, given: Mapping[str, Any] | None) -> tuple[Any, CheckInfo]:
        """Check another issuer's hosted assertion at ``url``; return (the assertion, the check)."""
        run = self.run
        host = host_of(url) or ""
        if not url.startswith("https://"):
            return given, CheckInfo("hosted", UNKNOWN, "not_https",
                                    "The assertion is not hosted at an HTTPS address, so it could not be checked.")
        if not run.fetcher.is_allowed(url):
            return given, CheckInfo(
                "hosted", UNKNOWN, "host_not_trusted",
                f"The badge is hosted at {host}, which is not on this service's list of trusted hosts, "
                "so it could not be checked.", {"host": host})
        try:
            fetched = run.fetcher.fetch_json(url)
        except FetchError as error:
            if error.status == 410 and given is not None:  # OB 2.0: Gone means revoked
                return {**given, "revoked": True}, CheckInfo(
                    "hosted", PASSED, "ob2_hosted_fetched", f"The issuer at {host} answers that the badge was revoked.",
                    {"host": host})
            return given, CheckInfo("hosted", UNKNOWN, "fetch_failed",
                                    f"The badge could not be fetched from {host}: {error}.",
                                    {"host": host, "reason": error.reason})
        if not isinstance(fetched, Mapping) or fetched.get("id") != url:
            return given, CheckInfo("hosted", FAILED, "ob2_mismatch",
                                    "The issuer's copy of the badge is not this badge.", {"host": host})
        if fetched.get("revoked") is True:
            return {**(given or fetched), "revoked": True}, CheckInfo(
                "hosted", PASSED, "ob2_hosted_fetched", f"The issuer at {host} answers that the badge was revoked.",
                {"host": host})
        if given is not None and not _same_content(given, fetched):
            return given, CheckInfo("hosted", FAILED, "ob2_mismatch",
                                    "The badge differs from the issuer's copy: it was altered.", {"host": host})
        return fetched, CheckInfo("hosted", PASSED, "ob2_hosted_fetched",
                                  f"The issuer's copy at {host} is the same badge.", {"host": host})

    def _signature(self, jws: str, header: Mapping[str, Any], assertion: Mapping[str, Any]) -> CheckInfo:
        run = self.run
        verification = assertion.get("verification")
        creator = verification.get("creator") if isinstance(verification, Mapping) else None
        if header.get("alg") != "RS256":
            return CheckInfo("signature", UNKNOWN, "unsupported_proof",
                             f"The signature algorithm {str(header.get('alg'))[:20]} is not supported here.")
        if not isinstance(creator, str) or not creator.startswith("https://"):
            return CheckInfo("signature", UNKNOWN, "key_not_found", "The badge does not say where its signing key is.")
        host = host_of(creator) or ""
        if not run.fetcher.is_allowed(creator):
            return CheckInfo("signature", UNKNOWN, "host_not_trusted",
                             f"The signing key is published at {host}, which is not on this service's list of "
                             "trusted hosts, so the signature could not be checked.", {"host": host})
        try:
            key_document = run.fetcher.fetch_json(creator)
        except FetchError as error:
            return CheckInfo("signature", UNKNOWN, "fetch_failed",
                             f"The signing key could not be fetched from {host}: {error}.",
                             {"host": host, "reason": error.reason})
        pem = key_document.get("publicKeyPem") if isinstance(key_document, Mapping) else None
        if not _rs256_valid(jws, pem):
            return CheckInfo("signature", FAILED, "bad_signature",
                             "The signature does not match: the badge was altered or not signed by this key.")
        return CheckInfo("signature", PASSED, "ob2_signed", f"The signature is valid for the key published at {host}.",
                         {"host": host})

    @staticmethod
    def _status(assertion: Mapping[str, Any], *, fetched: bool) -> CheckInfo:
        if assertion.get("revoked") is True:
            return CheckInfo("status", FAILED, "revoked", "The issuer has revoked this badge.")
        if fetched:
            return CheckInfo("status", PASSED, "not_revoked", "The issuer's copy is not marked revoked.")
        return CheckInfo("status", UNKNOWN, "ob2_status_not_checked",
                         "Revocation of Open Badges 2.0 badges could not be checked here.")

    def _dates(self, assertion: Mapping[str, Any]) -> CheckInfo:
        issued = _lenient_date(assertion.get("issuedOn"))
        if issued is None:
            return CheckInfo("dates", FAILED, "bad_date", "The issue date is not a valid date.")
        if issued > self.run.now:
            return CheckInfo("dates", FAILED, "not_yet_valid", "The badge is not valid yet.")
        expires_raw = assertion.get("expires")
        if expires_raw is not None:
            expires = _lenient_date(expires_raw)
            if expires is None:
                return CheckInfo("dates", FAILED, "bad_date", "The expiry date is not a valid date.")
            if expires <= self.run.now:
                return CheckInfo("dates", FAILED, "expired", "The badge has expired.")
        return CheckInfo("dates", PASSED, "", "The badge is within its validity period.")

    def _recipient(self, assertion: Mapping[str, Any]) -> CheckInfo:
        recipient = assertion.get("recipient")
        identity = _ob2_identity(recipient) if isinstance(recipient, Mapping) else {}
        if self.run.identity and identity_matches(identity, self.run.identity):
            return CheckInfo("recipient", PASSED, "match", "The name or e-mail address matches the recipient.")
        return CheckInfo("recipient", FAILED, "no_match", "The name or e-mail address does not match the recipient.")


def _ob2_identity(recipient: Mapping[str, Any]) -> dict[str, Any]:
    """Map an OB 2.0 IdentityObject to the OB 3.0 names :func:`identity_matches` reads."""
    kind = recipient.get("type")
    return {
        "identityType": "emailAddress" if kind == "email" else kind,
        "identityHash": recipient.get("identity"),
        "hashed": recipient.get("hashed"),
        "salt": recipient.get("salt"),
    }


def _same_content(given: Mapping[str, Any], fetched: Mapping[str, Any]) -> bool:
    """Return True when the given assertion says what the issuer's copy says (revocation aside)."""
    def canonical(document: Mapping[str, Any]) -> str:
        return json.dumps({k: v for k, v in document.items() if k not in ("revoked", "revocationReason")},
                          sort_keys=True, separators=(",", ":"))
    try:
        return canonical(given) == canonical(fetched)
    except (TypeError, ValueError, RecursionError):
        return False


def _rs256_valid(jws: str, pem: Any) -> bool:
    """Return True for a valid RS256 JWS signature under the RSA public key ``pem``."""
    if not isinstance(pem, str) or len(pem) > 10_000:
        return False
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeError):
        return False
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        return False
    head, payload, signature = jws.strip().split(".")
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        key.verify(raw, f"{head}.{payload}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True

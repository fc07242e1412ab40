"""Use cases: organisations and keys, badge definitions, issuing, revoking, verifying.

Every function takes a SQLAlchemy ``Session`` and plain values, flushes, and never commits:
the view or CLI command that called it commits once. Nothing here imports Flask.
"""

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from badges.core import artwork, keywrap
from badges.core.contexts import DID_V1, MULTIKEY_V1, OB_V3, VC_V2, static_loader
from badges.core.dates import xsd_datetime
from badges.core.credential import (
    Achievement as AchievementData,
)
from badges.core.credential import (
    Alignment,
    CredentialData,
    Evidence,
    Issuer,
    StatusEntry,
    build_credential,
    hash_identity,
)
from badges.core.errors import BadgesError
from badges.core.keys import (
    VerificationMethod,
    private_key_from_seed,
    private_key_seed,
    public_key_from_multibase,
    public_key_multibase,
)
from badges.core.signing import create_proof
from badges.core.statuslist import MIN_ENTRIES, build_status_list_credential, new_bitstring, set_bit
from badges.core.verification import (
    KeyResolver,
    StatusResolver,
    VerificationResult,
    methods_from_document,
    resolver_from_documents,
    verify_credential,
    verify_jwt,
)
from badges.models import (
    Achievement,
    AchievementVersion,
    AuditEvent,
    Award,
    Endorsement,
    Membership,
    Organisation,
    SigningKey,
    StatusList,
    User,
    new_public_id,
)

_hasher = PasswordHasher()
#: ``session.info`` key of the endorsements remembered for one transaction (endorsement_texts).
_ENDORSEMENTS_MEMO = "badges.endorsement_texts"
ModelT = TypeVar("ModelT")
#: The name of a coach's observation note, in the badge's own language.
_OBSERVATION = {"fi": "Havainto", "sv": "Observation", "en": "Observation"}


class NotFoundError(BadgesError):
    """The object does not exist (or the caller may not know that it does)."""

    code = "not_found"
    status = 404


class AlreadyRevokedError(BadgesError):
    """The award was revoked already."""

    code = "already_revoked"
    status = 409


class BadgeRetiredError(BadgesError):
    """The badge definition is retired and issues nothing new."""

    code = "badge_retired"
    status = 409


class InvalidInputError(BadgesError):
    """A value given by a person is not acceptable; the message says why."""

    code = "invalid_input"


@dataclass(frozen=True, slots=True)
class Site:
    """Where this installation lives and how it reaches its signing keys."""

    base_url: str  #: public origin, e.g. ``https://osaamispassi.example.fi`` (no trailing slash)
    kek: bytes  #: key-encryption key for private key seeds; never stored in the database

    @property
    def host(self) -> str:
        """Return host[:port] of the public origin."""
        return urlsplit(self.base_url).netloc

    def url(self, path: str) -> str:
        """Return the absolute public URL of ``path``."""
        return self.base_url + path

    def issuer_did(self, slug: str) -> str:
        """Return ``did:web:<host>:issuers:<slug>`` (a port's colon is percent-encoded)."""
        return f"did:web:{quote(self.host, safe='')}:issuers:{slug}"

    def credential_url(self, public_id: str) -> str:
        """Return the id of a credential."""
        return self.url(f"/credentials/{public_id}")

    def achievement_url(self, public_id: str) -> str:
        """Return the id of an achievement version."""
        return self.url(f"/achievements/{public_id}")

    def status_url(self, public_id: str) -> str:
        """Return the id of a status list credential."""
        return self.url(f"/status/{public_id}")


def verification_method_id(did: str, multikey: str) -> str:
    """Return the verification method id for a key of ``did``."""
    return f"{did}#{multikey}"


# --- people ---------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    """Return True when ``password`` is the user's password (constant time inside argon2)."""
    if not user.password_hash:
        _hasher.hash(password)  # spend the same time, so timing says nothing about the account
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def find_user_by_email(session: Session, email: str) -> User | None:
    """Return the user with this e-mail address (case-insensitive), if any."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session, *, display_name: str, now: datetime, email: str | None = None,
    password: str | None = None, locale: str = "fi",
) -> User:
    """Create a user; e-mail addresses are stored lower-cased."""
    name = display_name.strip()
    if not name:
        raise InvalidInputError("a name is required")
    address = email.strip().lower() if email else None
    if address and find_user_by_email(session, address):
        raise InvalidInputError("that e-mail address is already in use")
    user = User(
        display_name=name, email=address, locale=locale, created_at=now,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    return user


def add_member(session: Session, user: User, organisation: Organisation, role: str, *, now: datetime) -> Membership:
    """Give ``user`` a role in ``organisation`` (idempotent)."""
    existing = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id, Membership.role == role
        )
    )
    if existing:
        return existing
    membership = Membership(user=user, organisation=organisation, role=role, created_at=now)
    session.add(membership)
    session.flush()
    return membership


def roles_of(session: Session, user: User, organisation: Organisation) -> set[str]:
    """Return the user's roles in ``organisation``."""
    return set(
        session.scalars(
            select(Membership.role).where(
                Membership.user_id == user.id, Membership.organisation_id == organisation.id
            )
        )
    )


def organisations_of(session: Session, user: User, roles: Sequence[str]) -> list[Organisation]:
    """Return the organisations where ``user`` has one of ``roles``."""
    return list(
        session.scalars(
            select(Organisation)
            .join(Membership)
            .where(Membership.user_id == user.id, Membership.role.in_(roles))
            .distinct()
            .order_by(Organisation.name)
        )
    )


def record(
    session: Session, action: str, *, now: datetime, actor: User | None = None,
    organisation: Organisation | None = None, target: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Write an audit event (no personal data in ``details``)."""
    event = AuditEvent(
        at=now, action=action, actor_id=actor.id if actor else None,
        organisation_id=organisation.id if organisation else None,
        target=target, details=dict(details or {}),
    )
    session.add(event)
    return event


# --- organisations and keys -----------------------------------------------------------


def get_organisation(session: Session, slug: str) -> Organisation:
    """Return the organisation with ``slug`` or raise NotFoundError."""
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise NotFoundError(f"no organisation {slug!r}")
    return organisation


def create_organisation(
    session: Session, site: Site, *, slug: str, name: str, now: datetime, url: str | None = None,
    email: str | None = None, description: str | None = None, language: str = "fi", is_demo: bool = False,
    kind: str = "workshop",
) -> Organisation:
    """Create an issuer with its first signing key; ``kind`` e.g. ``education_provider`` (may endorse)."""
    if not slug or not slug.replace("-", "").isalnum() or slug != slug.lower() or len(slug) > 64:
        raise InvalidInputError("the short name may contain lower-case letters, digits and hyphens")
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        raise InvalidInputError(f"the short name {slug!r} is taken")
    organisation = Organisation(
        slug=slug, name=name, url=url, email=email, description=description,
        language=language, is_demo=is_demo, kind=kind, created_at=now,
    )
    session.add(organisation)
    session.flush()
    generate_key(session, site, organisation, now=now)
    return organisation


def generate_key(session: Session, site: Site, organisation: Organisation, *, now: datetime) -> SigningKey:
    """Create a new Ed25519 key for ``organisation`` and retire the previous active one."""
    private = Ed25519PrivateKey.generate()
    multikey = public_key_multibase(private.public_key())
    for key in organisation.keys:
        if key.retired_at is None:
            key.retired_at = now
    key = SigningKey(
        organisation=organisation, public_key_multibase=multikey, created_at=now,
        encrypted_seed=keywrap.wrap(site.kek, private_key_seed(private), associated=multikey.encode()),
    )
    session.add(key)
    session.flush()
    return key


def rotate_key(session: Session, site: Site, organisation: Organisation, *, now: datetime, actor: User | None = None) -> SigningKey:
    """Retire the active key and make a new one; re-sign the status lists with it."""
    key = generate_key(session, site, organisation, now=now)
    for status_list in session.scalars(select(StatusList).where(StatusList.organisation_id == organisation.id)):
        _sign_status_list(session, site, status_list, now=now)
    record(session, "key.rotate", now=now, actor=actor, organisation=organisation, target=key.public_key_multibase)
    return key


def active_key(organisation: Organisation) -> SigningKey:
    """Return the key that signs new credentials."""
    for key in reversed(organisation.keys):
        if key.retired_at is None:
            return key
    raise BadgesError(f"organisation {organisation.slug} has no active signing key")


def _private_key(site: Site, key: SigningKey) -> Ed25519PrivateKey:
    return _unwrapped_key(site.kek, key.encrypted_seed, key.public_key_multibase)


@lru_cache(maxsize=64)
def _unwrapped_key(kek: bytes, encrypted_seed: bytes, multikey: str) -> Ed25519PrivateKey:
    """Unwrap a signing key once per process (70 µs a time; a bulk job signs thousands).

    The process holds the key-encryption key anyway, so keeping a few unwrapped keys adds
    no exposure; a rotated key is a new cache entry, its predecessor simply ages out.
    """
    return private_key_from_seed(keywrap.unwrap(kek, encrypted_seed, associated=multikey.encode()))


def sign_document(
    site: Site, organisation: Organisation, unsigned: Mapping[str, Any], *, created: datetime
) -> dict[str, Any]:
    """Sign a document with the organisation's active key (eddsa-rdfc-2022)."""
    key = active_key(organisation)
    did = site.issuer_did(organisation.slug)
    return create_proof(
        unsigned, _private_key(site, key), created=created, loader=static_loader(),
        verification_method=verification_method_id(did, key.public_key_multibase),
    )


def issuer_of(site: Site, organisation: Organisation) -> Issuer:
    """Return the embedded issuer Profile values of ``organisation``."""
    return Issuer(
        id=site.issuer_did(organisation.slug), name=organisation.name,
        url=organisation.url or site.url(f"/issuers/{organisation.slug}"),
        email=organisation.email, description=organisation.description,
        image=site.url(f"/org/{organisation.slug}/logo.png") if organisation.logo_png else None,
    )


def did_document(site: Site, organisation: Organisation) -> dict[str, Any]:
    """Return the issuer's DID document: every key, current and retired, as a Multikey.

    Retired keys stay under ``assertionMethod``: verifiers check that relation at
    verification time, and old badges must keep verifying after a rotation.
    """
    did = site.issuer_did(organisation.slug)
    methods = [
        VerificationMethod(
            id=verification_method_id(did, key.public_key_multibase), controller=did,
            public_key=public_key_from_multibase(key.public_key_multibase),
        ).to_json()
        for key in organisation.keys
    ]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def issuer_profile(site: Site, organisation: Organisation) -> dict[str, Any]:
    """Return the issuer's OB 3.0 Profile as JSON-LD."""
    return {"@context": [VC_V2, OB_V3], **issuer_of(site, organisation).to_json()}


# --- status lists -----------------------------------------------------------------------


def _new_status_list(session: Session, site: Site, organisation: Organisation, *, now: datetime) -> StatusList:
    status_list = StatusList(
        organisation=organisation, size=MIN_ENTRIES, bits=bytes(new_bitstring(MIN_ENTRIES)),
        allocated=0, multiplier=secrets.randbelow(MIN_ENTRIES // 2) * 2 + 1,
        offset=secrets.randbelow(MIN_ENTRIES), document="", updated_at=now,
    )
    session.add(status_list)
    session.flush()
    _sign_status_list(session, site, status_list, now=now)
    return status_list


def _sign_status_list(session: Session, site: Site, status_list: StatusList, *, now: datetime) -> None:
    unsigned = build_status_list_credential(
        list_url=site.status_url(status_list.public_id),
        issuer=site.issuer_did(status_list.organisation.slug),
        bits=status_list.bits, valid_from=now, purpose=status_list.purpose,
    )
    signed = sign_document(site, status_list.organisation, unsigned, created=now)
    status_list.document = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    status_list.updated_at = now


def set_status_bit(session: Session, site: Site, status_list: StatusList, index: int, *, now: datetime) -> None:
    """Set one status bit (revoke what holds that slot) and re-sign the list."""
    session.refresh(status_list, with_for_update=True)  # serialise concurrent revocations of one list
    bits = bytearray(status_list.bits)
    set_bit(bits, index)
    status_list.bits = bytes(bits)
    _sign_status_list(session, site, status_list, now=now)


def allocate_status_slot(session: Session, site: Site, organisation: Organisation, *, now: datetime) -> tuple[StatusList, int]:
    """Return a fresh (list, index) for a new award."""
    return allocate_status_slots(session, site, organisation, 1, now=now)[0]


def allocate_status_slots(
    session: Session, site: Site, organisation: Organisation, count: int, *, now: datetime
) -> list[tuple[StatusList, int]]:
    """Return ``count`` fresh (list, index) pairs for new awards, taking whole runs at once.

    Each run is claimed with a single conditional UPDATE of the list's counter, so concurrent
    transactions (threads or processes) never receive the same slot: on PostgreSQL the
    second UPDATE waits for the first transaction's row lock and then finds the counter
    moved; on SQLite the UPDATE takes the database's write lock. The unique constraint on
    awards is the last guard.
    """
    slots: list[tuple[StatusList, int]] = []
    while len(slots) < count:
        status_list = session.scalar(
            select(StatusList)
            .where(StatusList.organisation_id == organisation.id, StatusList.allocated < StatusList.size)
            .order_by(StatusList.id)
            .limit(1)
        )
        if status_list is None:
            status_list = _new_status_list(session, site, organisation, now=now)
        taken = status_list.allocated
        run = min(count - len(slots), status_list.size - taken)
        result = session.execute(
            update(StatusList)
            .where(StatusList.id == status_list.id, StatusList.allocated == taken)
            .values(allocated=taken + run)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            session.refresh(status_list, ["allocated"])
            slots.extend(
                (status_list, (status_list.multiplier * n + status_list.offset) % status_list.size)
                for n in range(taken, taken + run)
            )
        else:
            session.expire(status_list)
    return slots


# --- badge definitions ------------------------------------------------------------------


def create_achievement(
    session: Session, organisation: Organisation, *, name: str, description: str, criteria: str,
    image_alt: str, now: datetime, language: str | None = None, alignments: Sequence[Mapping[str, Any]] = (),
    valid_days: int | None = None, plain_description: str | None = None, catalogue_ref: str | None = None,
    colour: str | None = None, translations: Mapping[str, Mapping[str, str]] | None = None,
    evidence_guidance: str | None = None, image_png: bytes | None = None,
) -> Achievement:
    """Create a badge definition with its first version (uploaded or generated image)."""
    achievement = Achievement(organisation=organisation, created_at=now, catalogue_ref=catalogue_ref)
    session.add(achievement)
    session.flush()
    add_version(
        session, achievement, name=name, description=description, criteria=criteria, image_alt=image_alt,
        now=now, language=language or organisation.language, alignments=alignments, valid_days=valid_days,
        plain_description=plain_description, colour=colour, translations=translations,
        evidence_guidance=evidence_guidance, image_png=image_png,
    )
    return achievement


def add_version(
    session: Session, achievement: Achievement, *, name: str, description: str, criteria: str,
    image_alt: str, now: datetime, language: str, alignments: Sequence[Mapping[str, Any]] = (),
    valid_days: int | None = None, plain_description: str | None = None, colour: str | None = None,
    translations: Mapping[str, Mapping[str, str]] | None = None, evidence_guidance: str | None = None,
    image_png: bytes | None = None,
) -> AchievementVersion:
    """Add a new version of a badge definition; earlier awards keep theirs.

    ``image_png`` is an already re-encoded upload (see ``badges.core.images``); without it the
    default image is drawn from the name and ``colour``.
    """
    for label, value in (("name", name), ("description", description), ("criteria", criteria), ("alt text", image_alt)):
        if not value or not value.strip():
            raise InvalidInputError(f"the {label} is required")
    if valid_days is not None and valid_days <= 0:
        raise InvalidInputError("the validity period must be a positive number of days")
    colour = colour or artwork.pick_colour(name)
    if image_png is not None:
        svg = artwork.svg_wrapping_png(image_png, image_alt.strip())
    else:
        image_png, svg = artwork.default_badge_png(name, colour), artwork.default_badge_svg(name, colour)
    version = AchievementVersion(
        achievement=achievement, number=len(achievement.versions) + 1, language=language,
        name=name.strip(), description=description.strip(), criteria_narrative=criteria.strip(),
        plain_description=plain_description, image_alt=image_alt.strip(), image_png=image_png, image_svg=svg,
        alignments=[dict(a) for a in alignments], valid_days=valid_days, created_at=now,
        translations={lang: dict(texts) for lang, texts in (translations or {}).items()},
        evidence_guidance=evidence_guidance,
    )
    session.add(version)
    session.flush()
    return version


def achievement_data(site: Site, version: AchievementVersion, *, endorsements: Sequence[str] = ()) -> AchievementData:
    """Return the core Achievement values of one version (``endorsements``: see endorsement_texts)."""
    return AchievementData(
        id=site.achievement_url(version.public_id),
        name=version.name,
        description=version.description,
        criteria_narrative=version.criteria_narrative,
        image=site.url(f"/achievements/{version.public_id}/image.png"),
        image_caption=version.image_alt,
        in_language=version.language,
        version=str(version.number),
        alignments=tuple(
            Alignment(
                target_name=a["targetName"], target_url=a["targetUrl"],
                target_framework=a.get("targetFramework"), target_code=a.get("targetCode"),
                target_type=a.get("targetType", "ext:ePerusteet"), target_description=a.get("targetDescription"),
            )
            for a in version.alignments
        ),
        endorsements=tuple(endorsements),
    )


def achievement_document(site: Site, version: AchievementVersion, *, now: datetime | None = None) -> dict[str, Any]:
    """Return the Achievement as a standalone JSON-LD document, with its endorsements in force."""
    session = object_session(version)
    endorsements = endorsement_texts(session, version.achievement, now=now) if session is not None else ()
    return {"@context": [VC_V2, OB_V3], **achievement_data(site, version, endorsements=endorsements).to_json()}


def endorsement_texts(session: Session, achievement: Achievement, *, now: datetime | None = None) -> tuple[str, ...]:
    """Return the signed EndorsementCredentials (as stored) that new awards of ``achievement`` embed.

    Withdrawn endorsements are left out, and with ``now`` also expired ones and those given
    later. The rows are remembered for the rest of the transaction, so that a bulk job asks
    once per badge, not once per award; ``badges.endorsements`` forgets them when it changes one.
    """
    transaction = session.get_transaction()
    memo = session.info.get(_ENDORSEMENTS_MEMO)
    if transaction is not None and memo is not None and memo[0] is transaction and achievement.id in memo[1]:
        rows = memo[1][achievement.id]
    else:
        query = (
            select(Endorsement.document, Endorsement.created_at, Endorsement.valid_until)
            .where(Endorsement.achievement_id == achievement.id, Endorsement.revoked_at.is_(None))
            .order_by(Endorsement.created_at, Endorsement.id)
        )
        with session.no_autoflush:  # bulk issuing keeps awards pending; endorsements never depend on them
            rows = tuple((text, given, until) for text, given, until in session.execute(query))
        transaction = session.get_transaction()
        if memo is None or memo[0] is not transaction:
            memo = session.info[_ENDORSEMENTS_MEMO] = (transaction, {})
        memo[1][achievement.id] = rows
    return tuple(text for text, given, until in rows
                 if now is None or (given <= now and (until is None or until > now)))


def forget_endorsements(session: Session) -> None:
    """Forget the endorsements ``endorsement_texts`` remembered (call after changing one)."""
    session.info.pop(_ENDORSEMENTS_MEMO, None)


# --- awards -------------------------------------------------------------------------------


def issue_award(
    session: Session, site: Site, *, version: AchievementVersion, recipient: User, now: datetime,
    issued_by: User | None = None, evidence_note: str | None = None, observed_at: datetime | None = None,
    evidence: Sequence[Evidence] = (), idempotency_key: str | None = None,
) -> Award:
    """Build, sign and record one credential. The caller commits.

    ``evidence_note`` becomes an Evidence narrative; ``evidence`` adds further items (e.g. a
    photo's immutable URL). ``observed_at`` (when the coach saw the skill) is written as the
    subject's ``activityEndDate``. An ``idempotency_key`` that was used before returns the
    award it made instead of issuing again.
    """
    if idempotency_key:
        existing = session.scalar(select(Award).where(Award.idempotency_key == idempotency_key))
        if existing is not None:
            return existing
    achievement = version.achievement
    if achievement.retired_at is not None:
        raise BadgeRetiredError("this badge is retired and cannot be awarded")
    slot = allocate_status_slot(session, site, achievement.organisation, now=now)
    award = build_award(
        session, site, version=version, recipient=recipient, now=now, slot=slot, issued_by=issued_by,
        evidence_note=evidence_note, observed_at=observed_at, evidence=evidence, idempotency_key=idempotency_key,
    )
    session.flush()
    return award


def build_award(
    session: Session, site: Site, *, version: AchievementVersion, recipient: User, now: datetime,
    slot: tuple[StatusList, int], issued_by: User | None = None, evidence_note: str | None = None,
    observed_at: datetime | None = None, evidence: Sequence[Evidence] = (), idempotency_key: str | None = None,
    achievement_values: AchievementData | None = None, add: bool = True,
) -> Award:
    """Build and sign one credential in a status ``slot`` the caller allocated; add it and its
    audit event to the session, unflushed.

    The step of ``issue_award`` that bulk jobs repeat for many rows of one transaction: the
    caller checks idempotency and retirement, flushes, and may pass the version's
    ``achievement_values`` (``achievement_data`` with its endorsements) computed once. With
    ``add=False`` the award is only returned: a bulk caller inserts many rows and their audit
    events (``issue_event``) with one statement each.
    """
    achievement = version.achievement
    organisation = achievement.organisation
    status_list, index = slot
    award = Award(
        # Foreign keys, not relationship objects: a bulk flush of thousands of awards then
        # skips the ORM's cascade walk over the related objects (a third of its cost).
        public_id=new_public_id(), organisation_id=organisation.id, achievement_version_id=version.id,
        recipient_id=recipient.id, issued_by_id=issued_by.id if issued_by else None, issued_at=now,
        status_list_id=status_list.id, status_index=index, document="",
        valid_until=now + timedelta(days=version.valid_days) if version.valid_days else None,
        idempotency_key=idempotency_key,
    )
    salt = secrets.token_hex(8)
    identity = (
        hash_identity("emailAddress", recipient.email, salt)
        if recipient.email
        else hash_identity("name", recipient.display_name, salt)
    )
    items = list(evidence)
    if evidence_note and evidence_note.strip():
        items.insert(0, Evidence(narrative=evidence_note.strip(), name=_OBSERVATION.get(version.language, "Havainto")))
    unsigned = build_credential(
        CredentialData(
            credential_id=site.credential_url(award.public_id),
            issuer=issuer_of(site, organisation),
            achievement=achievement_values or achievement_data(
                site, version, endorsements=endorsement_texts(session, achievement, now=now)
            ),
            identities=(identity,),
            issued_at=now,
            valid_until=award.valid_until,
            evidence=tuple(items),
            extra_subject={"activityEndDate": xsd_datetime(observed_at)} if observed_at else {},
            status=StatusEntry(list_url=site.status_url(status_list.public_id), index=index),
        )
    )
    signed = sign_document(site, organisation, unsigned, created=now)
    award.document = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    # Sound by construction, so recorded without a second canonicalization: the signer's
    # canonical form is the reference (pyld) path's (tests/core/test_fastcanon.py), and the
    # key's seed is sealed together with the public key the DID document publishes. Pages read
    # this and the status bit instead of verifying on every view (see sharing.badge_status).
    award.verified_at = now
    if add:
        session.add(award)
        session.add(AuditEvent(**issue_event(award, version)))
    return award


def issue_event(award: Award, version: AchievementVersion) -> dict[str, Any]:
    """Return the column values of the audit event of issuing ``award`` (no personal data)."""
    return {
        "at": award.issued_at, "action": "award.issue", "actor_id": award.issued_by_id,
        "organisation_id": award.organisation_id, "target": award.public_id,
        "details": {"achievement": version.achievement.public_id, "version": version.number},
    }


def revoke_award(
    session: Session, site: Site, award: Award, *, reason: str, now: datetime, actor: User | None = None
) -> Award:
    """Revoke an award: set its status bit, re-sign the list, keep the reason."""
    if award.revoked_at is not None:
        raise AlreadyRevokedError("this badge was revoked already")
    if not reason or not reason.strip():
        raise InvalidInputError("a reason is required")
    set_status_bit(session, site, award.status_list, award.status_index, now=now)
    award.revoked_at = now
    award.revocation_reason = reason.strip()
    session.flush()
    record(session, "award.revoke", now=now, actor=actor, organisation=award.organisation, target=award.public_id)
    return award


def get_by_public_id(session: Session, model: type[ModelT], public_id: str) -> ModelT:
    """Return the ``model`` row with this opaque public id or raise NotFoundError."""
    if not public_id or "\x00" in public_id or len(public_id) > 64:  # PostgreSQL refuses NUL in text
        raise NotFoundError(f"no such {model.__tablename__.replace('_', ' ')}")  # type: ignore[attr-defined]
    found = session.scalar(select(model).where(model.public_id == public_id))  # type: ignore[attr-defined]
    if found is None:
        raise NotFoundError(f"no such {model.__tablename__.replace('_', ' ')}")  # type: ignore[attr-defined]
    return found


def get_award(session: Session, public_id: str) -> Award:
    """Return the award with this public id or raise NotFoundError."""
    return get_by_public_id(session, Award, public_id)


def get_status_list(session: Session, public_id: str) -> StatusList:
    """Return the status list with this public id or raise NotFoundError."""
    return get_by_public_id(session, StatusList, public_id)


def get_achievement_version(session: Session, public_id: str) -> AchievementVersion:
    """Return the achievement version with this public id or raise NotFoundError."""
    return get_by_public_id(session, AchievementVersion, public_id)


def awards_for(session: Session, recipient: User) -> list[Award]:
    """Return a person's awards, newest first."""
    return list(session.scalars(select(Award).where(Award.recipient_id == recipient.id).order_by(Award.issued_at.desc())))


def awards_of_organisation(session: Session, organisation: Organisation, *, limit: int = 100) -> list[Award]:
    """Return the organisation's latest awards."""
    return list(
        session.scalars(
            select(Award).where(Award.organisation_id == organisation.id).order_by(Award.issued_at.desc()).limit(limit)
        )
    )


# --- verification with this installation's documents --------------------------------------


def local_key_resolver(session: Session, site: Site) -> KeyResolver:
    """Resolve verification methods of this installation's issuers from the database.

    did:key works offline too; any other DID or URL is unknown (nothing is fetched).
    """
    prefix = f"did:web:{quote(site.host, safe='')}:issuers:"
    fallback = resolver_from_documents({})
    # A resolver serves one verification, which asks for the same DID twice (the credential's
    # key and the status list's): its document is read and parsed once.
    methods: dict[str, dict[str, VerificationMethod]] = {}

    def resolve(method_id: str) -> VerificationMethod | None:
        did = method_id.split("#", 1)[0]
        if did.startswith(prefix):
            if did not in methods:
                organisation = session.scalar(select(Organisation).where(Organisation.slug == did[len(prefix):]))
                methods[did] = methods_from_document(did_document(site, organisation)) if organisation else {}
            return methods[did].get(method_id)
        return fallback(method_id)

    return resolve


def local_status_resolver(session: Session, site: Site) -> StatusResolver:
    """Resolve this installation's status list credentials from the database."""
    prefix = site.url("/status/")

    def resolve(url: str) -> Mapping[str, Any] | None:
        if not url.startswith(prefix):
            return None
        status_list = session.scalar(select(StatusList).where(StatusList.public_id == url[len(prefix):]))
        return json.loads(status_list.document) if status_list else None

    return resolve


def verify_document(
    session: Session, site: Site, document: Any, *, now: datetime, identity: str | None = None,
    documents: Mapping[str, Mapping[str, Any]] | None = None,
) -> VerificationResult:
    """Verify a credential with this installation's keys and status lists, plus ``documents``."""
    local_keys = local_key_resolver(session, site)
    local_status = local_status_resolver(session, site)
    extra = dict(documents or {})
    extra_keys = resolver_from_documents(extra)

    def resolve_key(method_id: str) -> VerificationMethod | None:
        return local_keys(method_id) or extra_keys(method_id)

    def resolve_status(url: str) -> Mapping[str, Any] | None:
        found = local_status(url)
        if found is not None:
            return found
        document = extra.get(url)
        return document if isinstance(document, Mapping) else None

    verify = verify_jwt if isinstance(document, str) else verify_credential
    return verify(
        document, loader=static_loader(), resolve_key=resolve_key, resolve_status=resolve_status,
        now=now, identity=identity,
    )

"""SQLAlchemy 2.0 typed models: organisations, people, keys, badge definitions, awards, status lists."""

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("admin", "coach", "client")


def new_public_id() -> str:
    """Return an opaque, unguessable identifier for public URLs (never the integer key)."""
    return uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as naive UTC and return them aware (SQLite drops tzinfo)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Convert to naive UTC, refusing naive input."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return an aware UTC datetime."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with named constraints and aware datetimes."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Organisation(Base):
    """A foundation or workshop: an Open Badges issuer with its own keys."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: URL-safe name used in the issuer DID ``did:web:<host>:issuers:<slug>``; never changes.
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    description: Mapped[str | None] = mapped_column(Text)
    #: Default language of the organisation's badge texts (fi, sv or en).
    language: Mapped[str] = mapped_column(String(8), default="fi")
    #: True for data created by ``badges demo``; shown as such in the UI.
    is_demo: Mapped[bool] = mapped_column(default=False)
    #: ``workshop``, ``foundation`` or ``education_provider`` (the last may endorse badges).
    kind: Mapped[str] = mapped_column(String(32), default="workshop")
    #: Logo as a re-encoded PNG (uploads are validated and stripped of metadata).
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]

    keys: Mapped[list["SigningKey"]] = relationship(
        back_populates="organisation", order_by="SigningKey.created_at"
    )
    memberships: Mapped[list["Membership"]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"Organisation(slug={self.slug!r})"


class SigningKey(Base):
    """An Ed25519 key of an organisation; the private half is encrypted at rest."""

    __tablename__ = "signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: ``z6Mk…`` Multikey; also the fragment of the verification method id.
    public_key_multibase: Mapped[str] = mapped_column(String(64), unique=True)
    #: AES-256-GCM nonce ‖ ciphertext of the 32-byte seed, under the key-encryption key
    #: (which lives outside the database); the associated data is the public key.
    encrypted_seed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    #: Set when a newer key took over. A retired key stays in the DID document so that
    #: what it signed keeps verifying; it just signs nothing new.
    retired_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(back_populates="keys")

    def __repr__(self) -> str:
        return f"SigningKey({self.public_key_multibase[:12]}…, retired={self.retired_at is not None})"


class User(Base):
    """A person who logs in: admin, coach, client or network professional."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    #: Optional: many clients have no stable e-mail address.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    #: argon2id hash; None until the person sets a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Preferred interface language (fi, sv, en).
    locale: Mapped[str] = mapped_column(String(8), default="fi")
    is_active: Mapped[bool] = mapped_column(default=True)
    #: A professional of a client's network (employment services, Kela, social work, teacher):
    #: sees only what clients share with this account, while the share lives.
    is_professional: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: Where a professional works, shown to clients choosing whom to share with.
    professional_organisation: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"User(public_id={self.public_id!r})"


class Membership(Base):
    """A user's role in an organisation."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role", name="user_org_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: One of ``ROLES``.
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class Achievement(Base):
    """A badge definition adopted or created by an organisation."""

    __tablename__ = "achievement"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: Stable id of the catalogue definition this was adopted from, if any.
    catalogue_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    versions: Mapped[list["AchievementVersion"]] = relationship(
        back_populates="achievement", order_by="AchievementVersion.number"
    )

    @property
    def current(self) -> "AchievementVersion":
        """Return the newest version: the one new awards are issued under."""
        return self.versions[-1]


class AchievementVersion(Base):
    """One immutable version of a badge definition; an award keeps the version it was issued under."""

    __tablename__ = "achievement_version"
    __table_args__ = (UniqueConstraint("achievement_id", "number", name="achievement_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The last path segment of the Achievement ``id`` written into credentials.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8), default="fi")
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    #: Observable skill written as "Osaa …" / "Can …".
    criteria_narrative: Mapped[str] = mapped_column(Text)
    #: Plain-language (selkokieli) version of the description, optional.
    plain_description: Mapped[str | None] = mapped_column(Text)
    #: Texts in the other languages: ``{"sv": {"name", "description", "criteria", "image_alt"}, …}``.
    #: The credential carries the primary ``language``; pages show the reader's language.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: How to show the skill (guidance for coaches; not in the credential).
    evidence_guidance: Mapped[str | None] = mapped_column(Text)
    image_alt: Mapped[str] = mapped_column(String(300))
    image_png: Mapped[bytes] = mapped_column(LargeBinary)
    image_svg: Mapped[str] = mapped_column(Text)
    #: OB 3.0 Alignment objects as plain dicts (targetName, targetUrl, targetCode, …).
    alignments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: Awards carry ``validUntil`` = issue time + this many days (e.g. safety skills).
    valid_days: Mapped[int | None]
    created_at: Mapped[datetime]

    achievement: Mapped[Achievement] = relationship(back_populates="versions")


class StatusList(Base):
    """A Bitstring Status List of one organisation, served signed at ``/status/<public_id>``."""

    __tablename__ = "status_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16), default="revocation")
    size: Mapped[int] = mapped_column(Integer)
    #: The uncompressed bitstring (size / 8 bytes).
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    #: How many indexes have been handed out; index = (multiplier · n + offset) mod size, a
    #: permutation, so that neighbours in the list are not neighbours in time (herd privacy).
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    multiplier: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(Integer)
    #: The signed BitstringStatusListCredential for the current bits, re-signed on every change.
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]

    organisation: Mapped[Organisation] = relationship()


class Award(Base):
    """One issued credential, stored exactly as signed."""

    __tablename__ = "award"
    __table_args__ = (
        UniqueConstraint("status_list_id", "status_index", name="status_slot"),
        Index("ix_award_recipient_issued", "recipient_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    achievement_version_id: Mapped[int] = mapped_column(ForeignKey("achievement_version.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The signed OB 3.0 credential exactly as issued; never re-serialised.
    document: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_list.id"))
    status_index: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The holder chose to keep the evidence of this award out of their passport and shares.
    evidence_hidden: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: Set when the award came from a bulk job row or an API request with an idempotency
    #: key: the same key never issues twice.
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    #: When our own verifier last checked the stored proof (set at issuance): pages read this
    #: and the status-list bit instead of re-running proof verification on every view.
    verified_at: Mapped[datetime | None]

    achievement_version: Mapped[AchievementVersion] = relationship()
    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    organisation: Mapped[Organisation] = relationship()
    status_list: Mapped[StatusList] = relationship()

    def __repr__(self) -> str:
        return f"Award(public_id={self.public_id!r}, revoked={self.revoked_at is not None})"


class AuditEvent(Base):
    """A coach's or admin's action, kept for the organisation's audit log."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: A stable verb such as ``award.issue``, ``award.revoke``, ``key.rotate``.
    action: Mapped[str] = mapped_column(String(64))
    #: The public id of the object acted on.
    target: Mapped[str | None] = mapped_column(String(64))
    #: Extra facts without personal data (reason codes, counts).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EvidenceFile(Base):
    """A photo taken as evidence of an award, re-encoded and stripped of metadata."""

    __tablename__ = "evidence_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Part of the evidence URL written into the credential; never changes.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: The client the evidence is about (access follows the client's awards and shares).
    subject_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    mimetype: Mapped[str] = mapped_column(String(32))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class Invitation(Base):
    """A one-time link that lets a person join an organisation with a role."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    #: SHA-256 of the token in the link; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()


class ActivationCode(Base):
    """A one-time code a coach gives a client (on paper, with a QR code) to claim the account."""

    __tablename__ = "activation_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: SHA-256 of the normalised code; the code itself is shown once and never stored.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Notification(Base):
    """Something a person should see in the UI (e.g. a badge was withdrawn)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: A stable kind such as ``award.revoked``; the page renders it in the reader's language.
    kind: Mapped[str] = mapped_column(String(64))
    award_id: Mapped[int | None] = mapped_column(ForeignKey("award.id"))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]

    award: Mapped[Award | None] = relationship()


class Job(Base):
    """Long work (bulk awards) run in the background with visible progress."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(32))
    #: queued, running, done or failed.
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    #: The validated rows to process (no free text beyond the evidence notes).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    #: Which worker (host:pid) holds the job, and when it last reported progress: a job whose
    #: heartbeat is old may be taken over by another worker.
    worker: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None]


class Qualification(Base):
    """A national qualification (peruste) or the osaamismerkit set: read-only framework data."""

    __tablename__ = "qualification"
    __table_args__ = (UniqueConstraint("source", "source_id", name="source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``eperusteet`` or ``osaamismerkit``.
    source: Mapped[str] = mapped_column(String(32))
    #: The ePerusteet peruste id (e.g. ``3932281``) or ``osaamismerkit``.
    source_id: Mapped[str] = mapped_column(String(64))
    diaarinumero: Mapped[str | None] = mapped_column(String(64))
    #: ``koulutustyyppi_1`` etc.
    kind: Mapped[str | None] = mapped_column(String(64))
    #: Which of the three ePerusteet format generations the data came in (2015, 2018, 2019).
    format_generation: Mapped[str | None] = mapped_column(String(16))
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  #: {"fi": …, "sv": …, "en": …}
    imported_at: Mapped[datetime]

    units: Mapped[list["Unit"]] = relationship(back_populates="qualification", order_by="Unit.position")


class Unit(Base):
    """A unit of a qualification (tutkinnon osa) or one osaamismerkki."""

    __tablename__ = "qualification_unit"
    __table_args__ = (UniqueConstraint("qualification_id", "code", name="qualification_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    qualification_id: Mapped[int] = mapped_column(ForeignKey("qualification.id"), index=True)
    #: koodiUri such as ``tutkinnonosat_105444`` or ``osaamismerkit_1002``; alignments point at it.
    code: Mapped[str] = mapped_column(String(64), index=True)
    #: The ePerusteet id of the unit object (for links), when there is one.
    source_id: Mapped[str | None] = mapped_column(String(64))
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Competence points (osaamispisteet), when given.
    points: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    qualification: Mapped[Qualification] = relationship(back_populates="units")
    requirements: Mapped[list["Requirement"]] = relationship(
        back_populates="unit", order_by="Requirement.position"
    )


class Requirement(Base):
    """A vocational skill requirement (ammattitaitovaatimus) or assessment target of a unit."""

    __tablename__ = "requirement"
    __table_args__ = (UniqueConstraint("unit_id", "key", name="unit_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("qualification_unit.id"), index=True)
    #: ``ammattitaitovaatimukset_NNN`` where the data has a code, else a stable derived key
    #: (unit code + position path) that survives re-imports of the same text structure.
    key: Mapped[str] = mapped_column(String(128), index=True)
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  #: {"fi": …, "sv": …}
    #: Assessment criteria per level: {"T1": {"fi": [...]}, …}.
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Set when a newer import no longer has this requirement; alignments keep pointing at it.
    withdrawn_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship(back_populates="requirements")


share_award = Table(
    "share_award",
    Base.metadata,
    Column("share_id", ForeignKey("share.id", ondelete="CASCADE"), primary_key=True),
    Column("award_id", ForeignKey("award.id", ondelete="CASCADE"), primary_key=True),
)


class Share(Base):
    """A client's consent to show part of their passport to someone, for a purpose, until a date."""

    __tablename__ = "share"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    client_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: SHA-256 of the link token (≥ 128 random bits); the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: ``passport`` (all valid badges), ``qualification`` (one qualification's) or ``badges`` (chosen).
    scope: Mapped[str] = mapped_column(String(16))
    qualification_id: Mapped[int | None] = mapped_column(ForeignKey("qualification.id"))
    include_evidence: Mapped[bool] = mapped_column(default=False)
    #: Free text chosen by the client, e.g. "Employment services, Ms N".
    recipient_label: Mapped[str] = mapped_column(String(200))
    #: Set when shared directly with a professional's account.
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]

    client: Mapped[User] = relationship(foreign_keys=[client_id])
    recipient_user: Mapped[User | None] = relationship(foreign_keys=[recipient_user_id])
    qualification: Mapped["Qualification | None"] = relationship()
    awards: Mapped[list[Award]] = relationship(secondary=share_award)
    accesses: Mapped[list["ShareAccess"]] = relationship(back_populates="share", order_by="ShareAccess.at")


class ShareAccess(Base):
    """One opening of a share, shown to the client (no IP address or other tracking data)."""

    __tablename__ = "share_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("share.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    #: ``phone``, ``tablet``, ``computer`` or ``other``, from the User-Agent; nothing more is kept.
    device: Mapped[str] = mapped_column(String(16))
    #: ``link`` or ``account`` (a professional signed in).
    via: Mapped[str] = mapped_column(String(16))

    share: Mapped[Share] = relationship(back_populates="accesses")


class BadgeApplication(Base):
    """A client's own application for a badge, reviewed by a coach (the osaamismerkki principle)."""

    __tablename__ = "badge_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    client_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id"))
    #: What the client did, in their own words.
    statement: Mapped[str] = mapped_column(Text)
    evidence_file_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_file.id"))
    #: ``submitted``, ``awarded`` or ``answered`` (encouragement and what to show next).
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    reply: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    award_id: Mapped[int | None] = mapped_column(ForeignKey("award.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]

    client: Mapped[User] = relationship(foreign_keys=[client_id])
    organisation: Mapped[Organisation] = relationship()
    achievement: Mapped[Achievement] = relationship()
    evidence_file: Mapped["EvidenceFile | None"] = relationship()
    award: Mapped[Award | None] = relationship()


class Endorsement(Base):
    """An education provider's signed statement about a badge definition (OB 3.0 EndorsementCredential)."""

    __tablename__ = "endorsement"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    #: The endorsed badge definition (every version of it; later awards embed the endorsement).
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id"), index=True)
    #: The endorsing organisation (kind ``education_provider``).
    endorser_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The endorsement's words, e.g. "evidences requirement X of unit Y".
    comment: Mapped[str] = mapped_column(Text)
    #: ePerusteet references the endorsement speaks for: [{"unit": code, "requirement": id}, …].
    requirements: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: The signed EndorsementCredential exactly as issued; never re-serialised.
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    status_list_id: Mapped[int | None] = mapped_column(ForeignKey("status_list.id"))
    status_index: Mapped[int | None] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(Text)

    achievement: Mapped[Achievement] = relationship()
    endorser: Mapped[Organisation] = relationship()


class ApiToken(Base):
    """A personal access token for the JSON API: scoped, revocable, stored as a hash only."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: The person's own name for it, e.g. "case-management system".
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, to recognise it in lists.
    prefix: Mapped[str] = mapped_column(String(16))
    #: Space-separated scopes, e.g. "awards:read awards:write".
    scopes: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class IdempotentRequest(Base):
    """The stored answer to an API request sent with an ``Idempotency-Key`` (replayed on retry)."""

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("user_id", "key", name="user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


class TrustedHost(Base):
    """A host whose issuer documents the verifier may fetch (the admin-set allow-list)."""

    __tablename__ = "trusted_host"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)
    note: Mapped[str | None] = mapped_column(String(500))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]


class PasswordReset(Base):
    """A one-time, expiring password-reset token (stored as a hash)."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

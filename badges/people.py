"""Use cases for organisations and people: profile, members, invitations, clients, activation.

Like :mod:`badges.services`, every function takes a SQLAlchemy ``Session`` and plain values,
flushes, and never commits; nothing here imports Flask. Secrets (invitation tokens,
activation codes) are returned to the caller once and stored only as SHA-256 hashes.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from badges.core.errors import BadgesError
from badges.core.images import clean_image
from badges.models import ActivationCode, Award, Invitation, Membership, Organisation, User
from badges.services import (
    InvalidInputError,
    NotFoundError,
    add_member,
    create_user,
    find_user_by_email,
    record,
    roles_of,
)

KINDS = ("workshop", "foundation", "education_provider")
LANGUAGES = ("fi", "sv", "en")
STAFF_ROLES = ("admin", "coach")
INVITABLE_ROLES = ("admin", "coach", "client")
INVITATION_LIFETIME = timedelta(days=7)
ACTIVATION_LIFETIME = timedelta(days=30)
#: No 0/O, 1/I/L: the code is read from paper and typed on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
#: Hex characters of the public id that form a login name (48 bits: collisions are
#: vanishingly rare at national scale, and an ambiguous name simply does not log in).
LOGIN_NAME_LENGTH = 12


class LastAdminError(BadgesError):
    """The change would leave the organisation without an administrator."""

    code = "last_admin"
    status = 409


class AlreadyMemberError(BadgesError):
    """The person already works in the organisation."""

    code = "already_member"
    status = 409


class AlreadyClientError(BadgesError):
    """The person is already a client of the organisation."""

    code = "already_client"
    status = 409


class InvalidLinkError(BadgesError):
    """An invitation link or activation code is unknown, expired or used (never says which)."""

    code = "invalid_link"
    status = 404


class ActivationNotAllowedError(BadgesError):
    """Staff accounts are never taken over with an activation code made by someone else."""

    code = "activation_staff"
    status = 409


def secret_hash(secret: str) -> str:
    """Return the SHA-256 hex digest stored in place of a token or code."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# --- organisation profile ----------------------------------------------------------------


def update_organisation(
    session: Session, organisation: Organisation, *, name: str, url: str | None, email: str | None,
    description: str | None, language: str, kind: str, actor: User, now: datetime,
) -> list[str]:
    """Change the issuer profile; return the names of the fields that changed."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInputError("a name of at most 200 characters is required")
    url = (url or "").strip() or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc or len(url) > 500:
            raise InvalidInputError("the web address must start with https://")
    email = (email or "").strip().lower() or None
    if language not in LANGUAGES:
        raise InvalidInputError("unknown language")
    if kind not in KINDS:
        raise InvalidInputError("unknown kind of organisation")
    values = {
        "name": name, "url": url, "email": email, "description": (description or "").strip() or None,
        "language": language, "kind": kind,
    }
    changed = [field for field, value in values.items() if getattr(organisation, field) != value]
    for field in changed:
        setattr(organisation, field, values[field])
    session.flush()
    if changed:
        record(session, "org.update", now=now, actor=actor, organisation=organisation,
               target=organisation.slug, details={"fields": changed})
    return changed


def set_logo(session: Session, organisation: Organisation, data: bytes, *, actor: User, now: datetime) -> None:
    """Validate, re-encode and store a logo (PNG); raises ImageUploadError and stores nothing."""
    image = clean_image(data, purpose="logo", max_output_side=512)
    organisation.logo_png = image.data
    session.flush()
    record(session, "org.update", now=now, actor=actor, organisation=organisation,
           target=organisation.slug, details={"fields": ["logo"]})


def remove_logo(session: Session, organisation: Organisation, *, actor: User, now: datetime) -> None:
    """Remove the logo."""
    if organisation.logo_png is None:
        return
    organisation.logo_png = None
    session.flush()
    record(session, "org.update", now=now, actor=actor, organisation=organisation,
           target=organisation.slug, details={"fields": ["logo"], "removed": True})


# --- members -------------------------------------------------------------------------------


def staff_members(session: Session, organisation: Organisation) -> list[tuple[User, list[str]]]:
    """Return the organisation's admins and coaches with their roles, by name."""
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation.id, Membership.role.in_(STAFF_ROLES))
        .order_by(User.display_name, User.id)
    ).all()
    members: dict[int, tuple[User, list[str]]] = {}
    for user, role in rows:
        members.setdefault(user.id, (user, []))[1].append(role)
    return [(user, sorted(roles)) for user, roles in members.values()]


def staff_member(session: Session, organisation: Organisation, public_id: str) -> User:
    """Return an admin or coach of ``organisation`` by public id, else raise NotFoundError."""
    user = session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.public_id == public_id, Membership.organisation_id == organisation.id,
               Membership.role.in_(STAFF_ROLES))
        .limit(1)
    )
    if user is None:
        raise NotFoundError("no such member")
    return user


def _admin_ids(session: Session, organisation: Organisation) -> set[int]:
    return set(session.scalars(
        select(Membership.user_id).where(Membership.organisation_id == organisation.id, Membership.role == "admin")
    ))


def _guard_last_admin(session: Session, organisation: Organisation, user: User) -> None:
    admins = _admin_ids(session, organisation)
    if admins == {user.id}:
        raise LastAdminError("the organisation needs at least one administrator")


def _drop_staff_roles(session: Session, organisation: Organisation, user: User) -> None:
    for membership in session.scalars(
        select(Membership).where(
            Membership.organisation_id == organisation.id, Membership.user_id == user.id,
            Membership.role.in_(STAFF_ROLES),
        )
    ):
        session.delete(membership)
    session.flush()


def change_role(
    session: Session, organisation: Organisation, user: User, role: str, *, actor: User, now: datetime
) -> None:
    """Make ``user`` exactly an admin or exactly a coach (a client relationship is kept)."""
    if role not in STAFF_ROLES:
        raise InvalidInputError("the role must be admin or coach")
    current = roles_of(session, user, organisation) & set(STAFF_ROLES)
    if not current:
        raise NotFoundError("no such member")
    if current == {role}:
        return
    if role != "admin":
        _guard_last_admin(session, organisation, user)
    _drop_staff_roles(session, organisation, user)
    add_member(session, user, organisation, role, now=now)
    record(session, "member.role", now=now, actor=actor, organisation=organisation, target=user.public_id,
           details={"role": role})


def remove_member(session: Session, organisation: Organisation, user: User, *, actor: User, now: datetime) -> None:
    """Remove ``user``'s admin and coach roles (a client relationship is kept)."""
    if not roles_of(session, user, organisation) & set(STAFF_ROLES):
        raise NotFoundError("no such member")
    _guard_last_admin(session, organisation, user)
    _drop_staff_roles(session, organisation, user)
    record(session, "member.remove", now=now, actor=actor, organisation=organisation, target=user.public_id)


# --- invitations -----------------------------------------------------------------------------


def invitation_ref(invitation: Invitation) -> str:
    """Return an opaque reference for the admin's list (neither the token nor its hash)."""
    return hashlib.sha256(b"invitation-ref:" + invitation.token_hash.encode("ascii")).hexdigest()[:32]


def invite(
    session: Session, organisation: Organisation, *, email: str, role: str, actor: User, now: datetime
) -> tuple[Invitation, str]:
    """Create a one-time invitation; return it with the token for the link (shown only once).

    An earlier pending invitation of the same address to the same organisation and role
    stops working: only the newest link is valid.
    """
    if role not in INVITABLE_ROLES:
        raise InvalidInputError("unknown role")
    address = (email or "").strip().lower()
    if not address or "@" not in address or len(address) > 320:
        raise InvalidInputError("an e-mail address is required")
    existing = find_user_by_email(session, address)
    if existing is not None:
        roles = roles_of(session, existing, organisation)
        if role == "client" and "client" in roles:
            raise AlreadyClientError("this person is already a client of the organisation")
        if role != "client" and roles & set(STAFF_ROLES):
            raise AlreadyMemberError("this person already works in the organisation")
    session.execute(
        update(Invitation)
        .where(Invitation.organisation_id == organisation.id, Invitation.email == address,
               Invitation.role == role, Invitation.accepted_at.is_(None), Invitation.expires_at > now)
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation, email=address, role=role, token_hash=secret_hash(token),
        created_by_id=actor.id, created_at=now, expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    record(session, "member.invite", now=now, actor=actor, organisation=organisation,
           target=invitation_ref(invitation), details={"role": role})
    return invitation, token


def pending_invitations(
    session: Session, organisation: Organisation, *, now: datetime, roles: tuple[str, ...] = INVITABLE_ROLES
) -> list[Invitation]:
    """Return invitations that can still be accepted, newest first."""
    return list(session.scalars(
        select(Invitation)
        .where(Invitation.organisation_id == organisation.id, Invitation.accepted_at.is_(None),
               Invitation.expires_at > now, Invitation.role.in_(roles))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ))


def revoke_invitation(
    session: Session, organisation: Organisation, ref: str, *, actor: User, now: datetime
) -> Invitation:
    """Make a pending invitation unusable; raise NotFoundError for an unknown reference."""
    for invitation in pending_invitations(session, organisation, now=now):
        if hmac.compare_digest(invitation_ref(invitation), ref):
            invitation.expires_at = now
            session.flush()
            record(session, "invite.revoke", now=now, actor=actor, organisation=organisation, target=ref,
                   details={"role": invitation.role})
            return invitation
    raise NotFoundError("no such invitation")


def find_invitation(session: Session, token: str, *, now: datetime) -> Invitation:
    """Return the usable invitation for ``token``; raise InvalidLinkError otherwise."""
    if not token or len(token) > 100:
        raise InvalidLinkError("this link is no longer valid")
    digest = secret_hash(token)
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == digest))
    if (
        invitation is None
        or not hmac.compare_digest(invitation.token_hash, digest)
        or invitation.accepted_at is not None
        or invitation.expires_at <= now
    ):
        raise InvalidLinkError("this link is no longer valid")
    return invitation


def accept_invitation(session: Session, invitation: Invitation, user: User, *, now: datetime) -> Membership:
    """Give ``user`` the invited role, once; the address must be the invited one."""
    if (user.email or "") != invitation.email:
        raise InvalidLinkError("this invitation was sent to another address")
    # One conditional UPDATE: two simultaneous clicks cannot both use the link.
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None), Invitation.expires_at > now)
        .values(accepted_at=now)
    )
    if claimed.rowcount != 1:
        raise InvalidLinkError("this link is no longer valid")
    session.refresh(invitation)
    membership = add_member(session, user, invitation.organisation, invitation.role, now=now)
    record(session, "invite.accept", now=now, actor=user, organisation=invitation.organisation,
           target=user.public_id, details={"role": invitation.role})
    return membership


def accept_with_new_account(
    session: Session, invitation: Invitation, *, display_name: str, password: str, locale: str, now: datetime
) -> User:
    """Create the invited person's account with a password and accept the invitation."""
    check_password_rules(password)
    user = create_user(session, display_name=display_name, email=invitation.email, password=password,
                       locale=locale if locale in LANGUAGES else "fi", now=now)
    accept_invitation(session, invitation, user, now=now)
    return user


def check_password_rules(password: str) -> None:
    """Raise InvalidInputError unless the password is long enough (and not absurdly long)."""
    if not password or len(password) < MIN_PASSWORD_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInputError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")


# --- clients ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewClient:
    """What creating a client did: an account was made, or an invitation waits for consent."""

    user: User | None
    invitation: Invitation | None = None
    token: str | None = None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def clients_of(
    session: Session, organisation: Organisation, *, search: str | None = None, limit: int = 200
) -> list[User]:
    """Return the organisation's clients by name, optionally only names containing ``search``."""
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation.id, Membership.role == "client")
    )
    text = (search or "").strip()
    if text:
        query = query.where(func.lower(User.display_name).like(_like_pattern(text.lower()), escape="\\"))
    return list(session.scalars(query.order_by(User.display_name, User.id).limit(limit)))


def create_client(
    session: Session, organisation: Organisation, *, name: str, email: str | None, locale: str,
    actor: User, now: datetime,
) -> NewClient:
    """Add a client; an address that already has an account gets an invitation instead.

    A person who already has an account is never attached silently: they consent by
    accepting the invitation.
    """
    if locale not in LANGUAGES:
        raise InvalidInputError("unknown language")
    if not (name or "").strip():
        raise InvalidInputError("a name is required")
    address = (email or "").strip().lower() or None
    if address and find_user_by_email(session, address) is not None:
        invitation, token = invite(session, organisation, email=address, role="client", actor=actor, now=now)
        return NewClient(user=None, invitation=invitation, token=token)
    user = create_user(session, display_name=name, email=address, locale=locale, now=now)
    add_member(session, user, organisation, "client", now=now)
    record(session, "client.create", now=now, actor=actor, organisation=organisation, target=user.public_id)
    return NewClient(user=user)


def client_since(session: Session, organisation: Organisation, user: User) -> datetime | None:
    """Return when ``user`` became a client of ``organisation``."""
    return session.scalar(
        select(Membership.created_at).where(
            Membership.organisation_id == organisation.id, Membership.user_id == user.id, Membership.role == "client"
        )
    )


def client_awards(session: Session, organisation: Organisation, user: User) -> list[Award]:
    """Return the awards ``organisation`` gave ``user``, newest first (never other issuers')."""
    return list(session.scalars(
        select(Award)
        .where(Award.organisation_id == organisation.id, Award.recipient_id == user.id)
        .order_by(Award.issued_at.desc(), Award.id.desc())
    ))


# --- activation codes -------------------------------------------------------------------------


def normalise_code(text: str) -> str:
    """Return the code's 12 significant characters: upper case, no spaces or hyphens."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    """Return ``K7QF9MXD2RTA`` as ``K7QF-9MXD-2RTA`` (easier to read and type)."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def create_activation_code(
    session: Session, organisation: Organisation, user: User, *, actor: User, now: datetime
) -> tuple[ActivationCode, str]:
    """Make a new one-time code for a client; earlier unused codes stop working.

    Returns the stored row and the formatted code, which is never stored in clear.
    """
    staff = session.scalar(
        select(Membership.id).where(Membership.user_id == user.id, Membership.role.in_(STAFF_ROLES)).limit(1)
    )
    if staff is not None:
        raise ActivationNotAllowedError("staff accounts cannot be activated with a code")
    session.execute(
        update(ActivationCode)
        .where(ActivationCode.user_id == user.id, ActivationCode.used_at.is_(None), ActivationCode.expires_at > now)
        .values(expires_at=now)
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    row = ActivationCode(
        user=user, code_hash=secret_hash(code), created_by_id=actor.id, created_at=now,
        expires_at=now + ACTIVATION_LIFETIME,
    )
    session.add(row)
    session.flush()
    record(session, "client.activation", now=now, actor=actor, organisation=organisation, target=user.public_id)
    return row, format_code(code)


def activate(session: Session, code: str, password: str, *, now: datetime) -> User:
    """Use an activation code: set the account's password; raise InvalidLinkError for a bad code."""
    check_password_rules(password)
    normal = normalise_code(code)
    if len(normal) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in normal):
        raise InvalidLinkError("the code is not valid")
    digest = secret_hash(normal)
    row = session.scalar(select(ActivationCode).where(ActivationCode.code_hash == digest))
    if (
        row is None
        or not hmac.compare_digest(row.code_hash, digest)
        or row.used_at is not None
        or row.expires_at <= now
        or not row.user.is_active
    ):
        raise InvalidLinkError("the code is not valid")
    claimed = session.execute(
        update(ActivationCode)
        .where(ActivationCode.id == row.id, ActivationCode.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise InvalidLinkError("the code is not valid")
    user = row.user
    from badges.accounts import set_password  # here: accounts builds on this module

    set_password(session, user, password, now=now)  # also ends any pending reset link
    record(session, "account.activate", now=now, actor=user, target=user.public_id)
    return user


# --- logging in without an e-mail address ----------------------------------------------------


def login_name(user: User) -> str:
    """Return the name a person without an e-mail address logs in with, e.g. ``3f9a-12bc-77d0``."""
    return format_code(user.public_id[:LOGIN_NAME_LENGTH])


def find_user_for_login(session: Session, identifier: str) -> User | None:
    """Return the user for an e-mail address, or for a login name of a person without one."""
    text = (identifier or "").strip().lower()
    if "@" in text:
        return find_user_by_email(session, text)
    compact = "".join(ch for ch in text if ch not in "- ")
    if len(compact) != LOGIN_NAME_LENGTH or any(ch not in "0123456789abcdef" for ch in compact):
        return None
    # A range on the unique index instead of LIKE: fast on SQLite and PostgreSQL alike.
    users = list(session.scalars(
        select(User).where(User.public_id >= compact, User.public_id < compact + "g", User.email.is_(None)).limit(2)
    ))
    return users[0] if len(users) == 1 else None

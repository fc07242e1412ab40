"""Password reset by a one-time, expiring link sent to the account's e-mail address.

Like the other services: takes a ``Session`` and plain values, flushes, never commits, no
Flask. The token is returned to the caller once (for the e-mail) and stored only as its
SHA-256 hash. A token works once, for :data:`RESET_LIFETIME`; a newer request, a reset, or
any other password change through :func:`set_password` ends every other token of the person.

People without an e-mail address cannot reset their password here: their coach prints a
new activation sheet (:func:`badges.people.create_activation_code`).
"""

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from badges.models import PasswordReset, User
from badges.people import InvalidLinkError, check_password_rules, secret_hash
from badges.services import find_user_by_email, hash_password, record

RESET_LIFETIME = timedelta(hours=1)
#: Longer strings are not our tokens (``token_urlsafe(32)`` gives 43 characters).
MAX_TOKEN_LENGTH = 100


def request_reset(session: Session, email: str, *, now: datetime) -> tuple[User, str] | None:
    """Make a reset token for the account with this e-mail address.

    Returns the person and the token for the link, or None when no active account has the
    address — the caller must answer both cases alike, so that the form does not tell who
    has an account. Earlier unused tokens of the person stop working.
    """
    address = (email or "").strip().lower()
    if not address or "@" not in address or len(address) > 320:
        return None
    user = find_user_by_email(session, address)
    if user is None or not user.is_active:
        return None
    _end_resets(session, user, now=now)
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(
        user=user, token_hash=secret_hash(token), created_at=now, expires_at=now + RESET_LIFETIME,
    ))
    session.flush()
    record(session, "account.reset_request", now=now, actor=user, target=user.public_id)
    return user, token


def find_reset(session: Session, token: str, *, now: datetime) -> PasswordReset:
    """Return the usable reset for ``token``; raise InvalidLinkError when unknown, used or expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidLinkError("this link is no longer valid")
    digest = secret_hash(token)
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == digest))
    if (
        reset is None
        or not hmac.compare_digest(reset.token_hash, digest)
        or reset.used_at is not None
        or reset.expires_at <= now
        or not reset.user.is_active
    ):
        raise InvalidLinkError("this link is no longer valid")
    return reset


def reset_password(session: Session, token: str, password: str, *, now: datetime) -> User:
    """Use a reset token: set the new password (same rules as at activation), once.

    Raises:
        InvalidInputError: the password breaks the rules (the token stays usable).
        InvalidLinkError: the token is unknown, used, expired, or was used at the same moment.
    """
    check_password_rules(password)
    reset = find_reset(session, token, now=now)
    # One conditional UPDATE: two simultaneous submissions cannot both use the link.
    claimed = session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise InvalidLinkError("this link is no longer valid")
    user = reset.user
    set_password(session, user, password, now=now)
    record(session, "account.reset", now=now, actor=user, target=user.public_id)
    return user


def set_password(session: Session, user: User, password: str, *, now: datetime) -> None:
    """Give ``user`` a new password; every unused reset link of theirs stops working.

    Sessions started with the old password end too: the web layer keeps a fingerprint of
    the password hash in the session and compares it on every request.
    """
    check_password_rules(password)
    user.password_hash = hash_password(password)
    _end_resets(session, user, now=now)
    session.flush()


def _end_resets(session: Session, user: User, *, now: datetime) -> None:
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )

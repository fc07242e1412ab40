"""The JSON API's use cases: personal access tokens, scopes, idempotent requests and paged lists.

A token is ``op_`` followed by 256 random bits (URL-safe base64). Only its SHA-256 is stored,
with its first characters to recognise it in lists. A token carries *scopes*; each request
also checks that the person still has a role that allows the scope, so a coach who leaves an
organisation loses the power of their tokens at once.

Like ``badges.services``, every function takes a ``Session`` and plain values, flushes and
never commits; nothing here imports Flask. Errors are ``ApiError`` values with a stable
``code`` and an HTTP ``status`` that the web layer turns into JSON in the reader's language.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from badges import awarding
from badges.core.errors import BadgesError
from badges.models import (
    Achievement,
    AchievementVersion,
    ApiToken,
    Award,
    IdempotentRequest,
    Job,
    Membership,
    Organisation,
    User,
)

#: Every token starts with this, so that secret scanners and people recognise it.
TOKEN_PREFIX = "op_"  # nosec B105
#: Random bytes in a token (256 bits).
TOKEN_BYTES = 32
#: Characters of the token kept in the database to tell tokens apart in lists.
SHOWN_PREFIX = 10
#: A token longer than this cannot be ours; it is refused before hashing.
MAX_TOKEN_LENGTH = 100
_TOKEN_SHAPE = re.compile(r"op_[A-Za-z0-9_-]{43}")

STAFF_ROLES = ("admin", "coach")
#: Scopes for the staff of an organisation (admins and coaches).
STAFF_SCOPES = ("badges:read", "clients:read", "awards:read", "awards:write")
#: Scopes for clients: their own passport and shares.
CLIENT_SCOPES = ("passport:read", "shares:read", "shares:write")
SCOPES = STAFF_SCOPES + CLIENT_SCOPES
MAX_NAME = 100
#: The longest expiry a new token may have.
MAX_EXPIRY_DAYS = 3650
#: Only refresh "last used" this often, so that reading with a token is not a write each time.
LAST_USED_RESOLUTION = timedelta(minutes=1)

#: Stored answers to requests with an ``Idempotency-Key`` are kept this long; a retry later
#: than this is a new request (award keys still stop a second award of the same key).
IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_BULK = 1000


class ApiError(BadgesError):
    """A request to the API cannot be served; ``code`` and ``status`` say why."""

    code = "api"

    def __init__(self, code: str, message: str, *, status: int = 400,
                 details: Sequence[Mapping[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.details = list(details or [])


# --- tokens ----------------------------------------------------------------------------------------


def new_token() -> str:
    """Return a fresh token: ``op_`` and 43 URL-safe characters (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest stored for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def scopes_of(token: ApiToken) -> list[str]:
    """Return the token's scopes in the canonical order."""
    granted = set(token.scopes.split())
    return [scope for scope in SCOPES if scope in granted]


def roles_of(session: Session, user: User) -> set[str]:
    """Return every role the person has in any organisation."""
    return set(session.scalars(select(Membership.role).where(Membership.user_id == user.id).distinct()))


def allowed_scopes(session: Session, user: User) -> list[str]:
    """Return the scopes the person's roles allow now (staff scopes, client scopes or both)."""
    roles = roles_of(session, user)
    allowed: list[str] = []
    if roles & set(STAFF_ROLES):
        allowed += STAFF_SCOPES
    if "client" in roles:
        allowed += CLIENT_SCOPES
    return allowed


def create_token(
    session: Session, user: User, *, name: str, scopes: Iterable[str], now: datetime,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Record a new token for ``user``; return it with the token text (shown once, never stored)."""
    name = " ".join((name or "").split())
    if not name:
        raise ApiError("token_name_missing", "the token needs a name", status=422)
    if len(name) > MAX_NAME:
        raise ApiError("token_name_too_long", "the name is too long", status=422)
    wanted = list(dict.fromkeys(scopes))
    if not wanted:
        raise ApiError("token_no_scopes", "choose at least one scope", status=422)
    unknown = [scope for scope in wanted if scope not in SCOPES]
    if unknown:
        raise ApiError("token_unknown_scope", f"unknown scope {unknown[0]!r}", status=422)
    allowed = allowed_scopes(session, user)
    if any(scope not in allowed for scope in wanted):
        raise ApiError("token_scope_not_allowed", "your roles do not allow a chosen scope", status=422)
    if expires_at is not None and (expires_at <= now or expires_at > now + timedelta(days=MAX_EXPIRY_DAYS)):
        raise ApiError("token_expiry", "the expiry must be in the future, at most ten years", status=422)
    text = new_token()
    token = ApiToken(
        user_id=user.id, name=name, token_hash=hash_token(text), prefix=text[:SHOWN_PREFIX],
        scopes=" ".join(scope for scope in SCOPES if scope in wanted), created_at=now, expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, text


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """Return the person's tokens, newest first (revoked ones too, for the record)."""
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def own_token(session: Session, user: User, public_id: str) -> ApiToken | None:
    """Return the person's token ``public_id``, else None (another person's token is unknown)."""
    return session.scalar(select(ApiToken).where(ApiToken.public_id == public_id, ApiToken.user_id == user.id))


def find_token(session: Session, public_id: str) -> ApiToken | None:
    """Return the token ``public_id`` of anyone (for the command line)."""
    return session.scalar(select(ApiToken).where(ApiToken.public_id == public_id))


def revoke_token(session: Session, token: ApiToken, *, now: datetime) -> ApiToken:
    """End a token at once; revoking twice keeps the first time."""
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def token_state(token: ApiToken, now: datetime) -> str:
    """Return ``active``, ``expired`` or ``revoked``."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def authenticate(session: Session, text: str, *, now: datetime) -> ApiToken:
    """Return the live token ``text`` (and note its use), else raise a 401 ``ApiError``."""
    if not isinstance(text, str) or len(text) > MAX_TOKEN_LENGTH or not _TOKEN_SHAPE.fullmatch(text):
        raise ApiError("token_invalid", "the token is not valid", status=401)
    digest = hash_token(text)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    # The index finds the row; the comparison that decides is constant-time all the same.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise ApiError("token_invalid", "the token is not valid", status=401)
    state = token_state(token, now)
    if state == "revoked":
        raise ApiError("token_revoked", "the token was revoked", status=401)
    if state == "expired":
        raise ApiError("token_expired", "the token has expired", status=401)
    if not token.user.is_active:
        raise ApiError("token_invalid", "the token is not valid", status=401)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.flush()
    return token


def require_scope(session: Session, token: ApiToken, scopes: Sequence[str]) -> str:
    """Return the first of ``scopes`` the token has and the person's roles still allow, else raise 403."""
    granted = [scope for scope in scopes if scope in set(scopes_of(token))]
    if not granted:
        raise ApiError("insufficient_scope", f"the token needs the scope {' or '.join(scopes)}", status=403)
    allowed = allowed_scopes(session, token.user)
    for scope in granted:
        if scope in allowed:
            return scope
    raise ApiError("role_required", "the account no longer has a role that allows this", status=403)


# --- idempotent requests -------------------------------------------------------------------------------


def check_idempotency_key(key: str | None) -> str | None:
    """Return the header's key if it has an acceptable shape (None when absent), else raise 400."""
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError("invalid_idempotency_key",
                       "the Idempotency-Key must be 1 to 200 visible ASCII characters", status=400)
    return key


def fingerprint(method: str, path: str, body: Any) -> str:
    """Return the SHA-256 of a request's method, path and JSON body (key order does not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def award_key(user: User, key: str) -> str:
    """Return the award idempotency key for a person's ``Idempotency-Key`` (fits the column)."""
    return "api:" + hashlib.sha256(f"{user.public_id}\n{key}".encode()).hexdigest()


def stored_answer(session: Session, user: User, key: str, fingerprint_: str, *, now: datetime
                  ) -> IdempotentRequest | None:
    """Return the stored answer for the person's ``key``; raise 422 if the key was used for another request."""
    stored = session.scalar(
        select(IdempotentRequest).where(IdempotentRequest.user_id == user.id, IdempotentRequest.key == key)
    )
    if stored is None or stored.created_at <= now - IDEMPOTENCY_TTL:
        return None
    if not hmac.compare_digest(stored.fingerprint, fingerprint_):
        raise ApiError("idempotency_key_reused", "this Idempotency-Key was used for another request", status=422)
    return stored


def store_answer(
    session: Session, user: User, key: str, fingerprint_: str, *, status: int, body: str, now: datetime,
) -> IdempotentRequest:
    """Keep the answer to a request with ``key``; a concurrent twin fails on the unique constraint.

    Answers past their retention go first (everyone's: one indexed delete), which also makes
    room for an old key used again.
    """
    purge_answers(session, now=now)
    stored = IdempotentRequest(user_id=user.id, key=key, fingerprint=fingerprint_, status_code=status,
                               response=body, created_at=now)
    session.add(stored)
    session.flush()
    return stored


def purge_answers(session: Session, *, now: datetime) -> int:
    """Delete stored answers older than the retention; return how many."""
    result = session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at <= now - IDEMPOTENCY_TTL))
    return result.rowcount or 0


# --- cursors -------------------------------------------------------------------------------------------


def encode_cursor(*parts: str) -> str:
    """Return an opaque cursor for the position after the row with these sort values."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def decode_cursor(text: str, size: int) -> list[str]:
    """Return the sort values of a cursor, else raise 400 ``invalid_cursor``."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        parts = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        parts = None
    if not isinstance(parts, list) or len(parts) != size or not all(isinstance(p, str) for p in parts):
        raise ApiError("invalid_cursor", "the cursor is not valid; start from the first page", status=400)
    return parts


@dataclass(frozen=True)
class Page:
    """One page of a list and the cursor of the next page (None on the last page)."""

    items: list[Any]
    next_cursor: str | None


# --- what a staff token reaches --------------------------------------------------------------------------


def staff_organisations(session: Session, user: User) -> list[Organisation]:
    """Return the organisations where the person is an admin or a coach now."""
    return list(session.scalars(
        select(Organisation).join(Membership)
        .where(Membership.user_id == user.id, Membership.role.in_(STAFF_ROLES))
        .distinct().order_by(Organisation.slug)
    ))


def memberships_of(session: Session, user: User) -> dict[Organisation, list[str]]:
    """Return each organisation of the person with the person's roles there."""
    found: dict[Organisation, list[str]] = {}
    for membership in session.scalars(
        select(Membership).join(Organisation).where(Membership.user_id == user.id).order_by(Organisation.slug)
    ):
        found.setdefault(membership.organisation, []).append(membership.role)
    return found


def staff_organisation(session: Session, user: User, slug: str) -> Organisation:
    """Return the organisation ``slug`` if the person is staff there, else raise 404 (no hint that it exists)."""
    organisation = session.scalar(
        select(Organisation).join(Membership)
        .where(Organisation.slug == slug, Membership.user_id == user.id, Membership.role.in_(STAFF_ROLES))
    )
    if organisation is None:
        raise ApiError("not_found", "no such organisation", status=404)
    return organisation


def staff_roles(session: Session, user: User, organisation: Organisation) -> set[str]:
    """Return the person's roles in ``organisation``."""
    return set(session.scalars(select(Membership.role).where(
        Membership.user_id == user.id, Membership.organisation_id == organisation.id)))


def badges_of(session: Session, organisation: Organisation, *, include_retired: bool) -> list[Achievement]:
    """Return the organisation's badge definitions (with a version), by name."""
    stmt = select(Achievement).where(Achievement.organisation_id == organisation.id)
    if not include_retired:
        stmt = stmt.where(Achievement.retired_at.is_(None))
    return sorted((a for a in session.scalars(stmt) if a.versions),
                  key=lambda a: (a.current.name.casefold(), a.public_id))


def client_page(
    session: Session, organisation: Organisation, *, email: str | None, cursor: str | None, limit: int,
) -> Page:
    """Return a page of the organisation's clients, ordered by their opaque id."""
    stmt = (
        select(User, Membership.created_at)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation.id, Membership.role == "client")
    )
    if email:
        stmt = stmt.where(User.email == email.strip().lower())
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        stmt = stmt.where(User.public_id > after)
    rows = session.execute(stmt.order_by(User.public_id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([(user, since) for user, since in rows], encode_cursor(rows[-1][0].public_id) if more else None)


def find_client(session: Session, organisation: Organisation, public_id: str) -> User | None:
    """Return the organisation's client ``public_id``, else None."""
    return session.scalar(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(User.public_id == public_id, Membership.organisation_id == organisation.id, Membership.role == "client")
    )


@dataclass(frozen=True)
class AwardQuery:
    """Filters of the API's award list (all optional)."""

    organisation: str | None = None  #: slug
    badge: str | None = None  #: achievement public id
    client: str | None = None  #: recipient public id
    status: str | None = None  #: valid, revoked or expired
    issued_from: date | None = None  #: Finnish date, inclusive
    issued_to: date | None = None  #: Finnish date, inclusive
    job: str | None = None  #: bulk job public id


def award_page(
    session: Session, user: User, query: AwardQuery, *, cursor: str | None, limit: int, now: datetime,
) -> Page:
    """Return a page of awards of the organisations where the person is staff, newest first.

    A filter naming another organisation, badge, client or job simply matches nothing.
    """
    organisations = staff_organisations(session, user)
    if query.organisation:
        organisations = [o for o in organisations if o.slug == query.organisation]
    job = None
    if query.job:
        job = session.scalar(select(Job).where(
            Job.public_id == query.job, Job.organisation_id.in_([o.id for o in organisations])))
    if not organisations or (query.job and job is None):
        return Page([], None)
    stmt = select(Award).where(Award.organisation_id.in_([o.id for o in organisations]))
    if job is not None:
        stmt = stmt.where(awarding.of_job(job))
    if query.badge:
        stmt = stmt.join(AchievementVersion, AchievementVersion.id == Award.achievement_version_id).join(
            Achievement, Achievement.id == AchievementVersion.achievement_id
        ).where(Achievement.public_id == query.badge)
    if query.client:
        stmt = stmt.join(User, User.id == Award.recipient_id).where(User.public_id == query.client)
    if query.status == "revoked":
        stmt = stmt.where(Award.revoked_at.is_not(None))
    elif query.status == "expired":
        stmt = stmt.where(Award.revoked_at.is_(None), Award.valid_until.is_not(None), Award.valid_until <= now)
    elif query.status == "valid":
        stmt = stmt.where(Award.revoked_at.is_(None), or_(Award.valid_until.is_(None), Award.valid_until > now))
    if query.issued_from:
        stmt = stmt.where(Award.issued_at >= awarding.day_start(query.issued_from))
    if query.issued_to:
        stmt = stmt.where(Award.issued_at < awarding.day_start(query.issued_to + timedelta(days=1)))
    if cursor:
        moment, public_id = decode_cursor(cursor, 2)
        try:
            after = datetime.fromisoformat(moment)
        except ValueError:
            raise ApiError("invalid_cursor", "the cursor is not valid; start from the first page", status=400) from None
        if after.tzinfo is None:
            raise ApiError("invalid_cursor", "the cursor is not valid; start from the first page", status=400)
        stmt = stmt.where(or_(Award.issued_at < after, and_(Award.issued_at == after, Award.public_id < public_id)))
    awards = list(session.scalars(stmt.order_by(Award.issued_at.desc(), Award.public_id.desc()).limit(limit + 1)))
    more = len(awards) > limit
    awards = awards[:limit]
    last = awards[-1] if awards else None
    return Page(awards, encode_cursor(last.issued_at.isoformat(), last.public_id) if more and last else None)


def staff_award(session: Session, user: User, public_id: str) -> Award:
    """Return the award ``public_id`` if the person is staff of its organisation, else raise 404."""
    award = session.scalar(
        select(Award).join(Membership, Membership.organisation_id == Award.organisation_id)
        .where(Award.public_id == public_id, Membership.user_id == user.id, Membership.role.in_(STAFF_ROLES))
        .limit(1)
    )
    if award is None:
        raise ApiError("not_found", "no such award", status=404)
    return award


def staff_job(session: Session, user: User, public_id: str) -> Job:
    """Return the bulk award job ``public_id`` if the person is staff of its organisation, else raise 404."""
    job = session.scalar(
        select(Job).join(Membership, Membership.organisation_id == Job.organisation_id)
        .where(Job.public_id == public_id, Job.kind == awarding.JOB_KIND_AWARDS,
               Membership.user_id == user.id, Membership.role.in_(STAFF_ROLES))
        .limit(1)
    )
    if job is None:
        raise ApiError("not_found", "no such job", status=404)
    return job


# --- awarding ------------------------------------------------------------------------------------------------


def award_target(session: Session, user: User, badge_id: str, client_id: str) -> tuple[Organisation, Achievement, User]:
    """Return the badge's organisation (where the person must be staff), the badge and the client.

    A badge of an organisation where the person is not staff is reported as unknown, the same
    as a badge that does not exist.
    """
    achievement = session.scalar(
        select(Achievement).join(Membership, Membership.organisation_id == Achievement.organisation_id)
        .where(Achievement.public_id == badge_id, Membership.user_id == user.id, Membership.role.in_(STAFF_ROLES))
        .limit(1)
    )
    if achievement is None:
        raise awarding.AwardingError("unknown_badge", "no such badge in this organisation")
    organisation = achievement.organisation
    achievement = awarding.find_badge(session, organisation, badge_id)
    client = awarding.find_clients(session, organisation, [client_id])[0]
    return organisation, achievement, client


def check_bulk_rows(
    session: Session, organisation: Organisation, items: Sequence[Mapping[str, Any]], *, today: date,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Check every item of a bulk request; return the job rows and the problems by item path."""
    rows: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            achievement = awarding.find_badge(session, organisation, item["badge"])
        except awarding.AwardingError as error:
            problems.append({"path": f"/awards/{index}/badge", "code": error.code})
            achievement = None
        client = find_client(session, organisation, item["client"])
        if client is None:
            problems.append({"path": f"/awards/{index}/client", "code": "unknown_client"})
        observed = item.get("observed_on")
        if observed is not None:
            try:
                awarding.check_observed(date.fromisoformat(observed), today=today)
            except awarding.AwardingError as error:
                problems.append({"path": f"/awards/{index}/observed_on", "code": error.code})
        narrative = (item.get("narrative") or "").strip() or None
        if achievement is not None and client is not None:
            rows.append({"line": index + 1, "client": client.public_id, "version": achievement.current.public_id,
                         "note": narrative, "observed": observed, "photo": None})
    return rows, problems

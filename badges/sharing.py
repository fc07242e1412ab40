"""Sharing with consent: a client's shares, their links, the access log and the network's view.

A share is the client's explicit grant: which badges (the whole passport, one qualification's
badges, or chosen badges; with or without evidence), for whom, why and until when. Its link
carries a random token of 256 bits; only the token's SHA-256 is stored. Scopes are evaluated
when the share is opened, so a passport share shows the badges the client has at that moment.

Like ``badges.services``, every function takes a ``Session`` and plain values, flushes and
never commits; nothing here imports Flask. Errors carry a stable ``code`` that the web layer
turns into a message in the reader's language.
"""

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, defer, selectinload

from badges import endorsements, people, services
from badges.core.errors import BadgesError
from badges.core.statuslist import get_bit
from badges.core.verification import PASSED
from badges.endorsements import EndorsementView
from badges.models import (
    AchievementVersion,
    Award,
    EvidenceFile,
    Organisation,
    Qualification,
    Requirement,
    Share,
    ShareAccess,
    StatusList,
    Unit,
    User,
    share_award,
)

#: Dates people choose are Finnish dates: a share lasts to the end of its last day in Finland.
HELSINKI = ZoneInfo("Europe/Helsinki")
SCOPES = ("passport", "qualification", "badges")
DEVICES = ("phone", "tablet", "computer", "other")
VIAS = ("link", "account")
DEFAULT_DAYS = 30
MAX_DAYS = 365
MAX_RECIPIENT = 200
MAX_PURPOSE = 500
MAX_ORGANISATION = 200
#: Random bytes in a share token (256 bits; the issue asks for at least 128).
TOKEN_BYTES = 32
#: Longer input cannot be one of our tokens; it is refused before any hashing or look-up.
MAX_TOKEN_LENGTH = 100
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")
#: Evidence photos are served at ``/evidence/<public id>`` (the URL written into credentials).
EVIDENCE_PATH = "/evidence/"


class SharingError(BadgesError):
    """A share cannot be created or changed as asked; ``code`` says why."""

    code = "sharing"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- tokens ---------------------------------------------------------------------------------------


def new_token() -> str:
    """Return a fresh link token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest stored for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _plausible_token(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN_LENGTH and _TOKEN_CHARS.fullmatch(token) is not None


# --- dates ----------------------------------------------------------------------------------------


def finnish_today(now: datetime) -> date:
    """Return today's date in Finland."""
    return now.astimezone(HELSINKI).date()


def default_expiry_day(now: datetime) -> date:
    """Return the default last day of a new share (30 days from today)."""
    return finnish_today(now) + timedelta(days=DEFAULT_DAYS)


def latest_expiry_day(now: datetime) -> date:
    """Return the latest last day a new share may have (one year from today)."""
    return finnish_today(now) + timedelta(days=MAX_DAYS)


def end_of_day(day: date) -> datetime:
    """Return the last second of ``day`` in Finland, as an aware UTC datetime."""
    return datetime.combine(day, time(23, 59, 59), HELSINKI).astimezone(UTC)


def share_status(share: Share, now: datetime) -> str:
    """Return ``active``, ``expired`` or ``revoked``."""
    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at <= now:
        return "expired"
    return "active"


def is_live(share: Share, now: datetime) -> bool:
    """Return True while the share may be opened."""
    return share_status(share, now) == "active"


# --- what a client can share ------------------------------------------------------------------------


def is_valid_award(award: Award, now: datetime) -> bool:
    """Return True for an award that is neither revoked nor past its validity."""
    return award.revoked_at is None and (award.valid_until is None or award.valid_until > now)


def shareable_awards(session: Session, client: User, *, now: datetime) -> list[Award]:
    """Return the client's valid awards, newest first: what they may choose to share."""
    return [a for a in services.awards_for(session, client) if is_valid_award(a, now)]


def aligned_codes(award: Award) -> set[str]:
    """Return the alignment target codes of the award's badge version."""
    return {
        a["targetCode"] for a in award.achievement_version.alignments or []
        if isinstance(a, dict) and isinstance(a.get("targetCode"), str) and a["targetCode"]
    }


def qualification_codes(session: Session, qualification: Qualification) -> set[str]:
    """Return the unit codes and requirement keys of ``qualification`` (what alignments point at)."""
    units = set(session.scalars(select(Unit.code).where(Unit.qualification_id == qualification.id)))
    keys = set(session.scalars(
        select(Requirement.key).join(Requirement.unit).where(Unit.qualification_id == qualification.id)
    ))
    return units | keys


def qualifications_of_codes(session: Session, codes: Iterable[str]) -> list[Qualification]:
    """Return the qualifications that have a unit or requirement with one of ``codes``."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    by_unit = select(Unit.qualification_id).where(Unit.code.in_(wanted))
    by_requirement = select(Unit.qualification_id).join(Requirement, Requirement.unit_id == Unit.id).where(
        Requirement.key.in_(wanted)
    )
    return list(session.scalars(
        select(Qualification)
        .where(or_(Qualification.id.in_(by_unit), Qualification.id.in_(by_requirement)))
        .order_by(Qualification.source, Qualification.id)
    ))


def qualifications_for_client(session: Session, client: User, *, now: datetime) -> list[Qualification]:
    """Return the qualifications that at least one of the client's valid badges is aligned to."""
    codes: set[str] = set()
    for award in shareable_awards(session, client, now=now):
        codes |= aligned_codes(award)
    return qualifications_of_codes(session, codes)


def find_professional(session: Session, email: str) -> User | None:
    """Return the active professional account with exactly this e-mail address (case-insensitive)."""
    address = (email or "").strip().lower()
    if not address:
        return None
    return session.scalar(
        select(User).where(User.email == address, User.is_professional.is_(True), User.is_active.is_(True))
    )


# --- creating and revoking ----------------------------------------------------------------------------


def _clean_text(
    value: str | None, *, limit: int, missing: str, too_long: str, what: str, one_line: bool = False
) -> str:
    text = " ".join((value or "").split()) if one_line else (value or "").strip()
    if not text:
        raise SharingError(missing, f"the {what} is required")
    if len(text) > limit:
        raise SharingError(too_long, f"the {what} may be at most {limit} characters long")
    return text


def _chosen_awards(session: Session, client: User, award_ids: Sequence[str], *, now: datetime) -> list[Award]:
    wanted = list(dict.fromkeys(i for i in award_ids if isinstance(i, str) and i))
    if not wanted:
        raise SharingError("share_no_badges", "choose at least one badge")
    found = {
        a.public_id: a for a in session.scalars(
            select(Award).where(Award.public_id.in_(wanted), Award.recipient_id == client.id)
        )
    }
    # Another person's award, a revoked or lapsed one, or a made-up id: refuse the whole share.
    if any(i not in found or not is_valid_award(found[i], now) for i in wanted):
        raise SharingError("share_unknown_badge", "a chosen badge is not one of your valid badges")
    return [found[i] for i in wanted]


def create_share(
    session: Session, *, client: User, scope: str, purpose: str, now: datetime,
    recipient_label: str | None = None, recipient_user: User | None = None,
    award_ids: Sequence[str] = (), qualification: Qualification | None = None,
    include_evidence: bool = False, expires_on: date | None = None,
) -> tuple[Share, str]:
    """Record a client's share and return it with its link token (shown once, never stored).

    ``expires_on`` is the last Finnish day the link works (default 30 days from today, at most
    one year). With ``recipient_user`` (a professional's account) the recipient label is the
    professional's name and organisation.
    """
    if scope not in SCOPES:
        raise SharingError("share_scope", "choose what to share")
    if recipient_user is not None:
        if not recipient_user.is_professional or not recipient_user.is_active:
            raise SharingError("share_no_professional", "no professional account has that e-mail address")
        if recipient_user.id == client.id:
            raise SharingError("share_self", "you cannot share with yourself")
        label = recipient_user.display_name
        if recipient_user.professional_organisation:
            label = f"{label}, {recipient_user.professional_organisation}"
        recipient_label = label[:MAX_RECIPIENT]
    label = _clean_text(recipient_label, limit=MAX_RECIPIENT, missing="share_recipient_missing",
                        too_long="share_recipient_too_long", what="recipient", one_line=True)
    reason = _clean_text(purpose, limit=MAX_PURPOSE, missing="share_purpose_missing",
                         too_long="share_purpose_too_long", what="purpose")
    day = expires_on or default_expiry_day(now)
    if day < finnish_today(now):
        raise SharingError("share_expiry_past", "the end date is in the past")
    if day > latest_expiry_day(now):
        raise SharingError("share_expiry_too_late", f"a share can last at most {MAX_DAYS} days")
    chosen: list[Award] = []
    if scope == "badges":
        chosen = _chosen_awards(session, client, award_ids, now=now)
    if scope == "qualification" and qualification is None:
        raise SharingError("share_no_qualification", "choose a qualification")
    token = new_token()
    share = Share(
        client_id=client.id, token_hash=hash_token(token), scope=scope,
        qualification_id=qualification.id if scope == "qualification" and qualification else None,
        include_evidence=bool(include_evidence), recipient_label=label,
        recipient_user_id=recipient_user.id if recipient_user is not None else None,
        purpose=reason, created_at=now, expires_at=end_of_day(day), awards=chosen,
    )
    session.add(share)
    session.flush()
    return share, token


def revoke_share(session: Session, share: Share, *, now: datetime) -> Share:
    """Stop a share at once; revoking twice keeps the first time."""
    if share.revoked_at is None:
        share.revoked_at = now
        session.flush()
    return share


# --- finding shares -----------------------------------------------------------------------------------


def resolve_token(session: Session, token: str, *, now: datetime) -> Share | None:
    """Return the live share whose link carries ``token``, else None (unknown, expired or revoked alike)."""
    if not isinstance(token, str) or not _plausible_token(token):
        return None
    digest = hash_token(token)
    share = session.scalar(select(Share).where(Share.token_hash == digest))
    # The index finds the row; the comparison that decides is constant-time all the same.
    if share is None or not hmac.compare_digest(share.token_hash, digest):
        return None
    return share if is_live(share, now) else None


def shares_for_client(session: Session, client: User) -> list[Share]:
    """Return all of the client's shares, newest first."""
    return list(session.scalars(
        select(Share)
        .where(Share.client_id == client.id)
        .options(selectinload(Share.accesses), selectinload(Share.awards), selectinload(Share.qualification))
        .order_by(Share.created_at.desc(), Share.id.desc())
    ))


def client_share(session: Session, client: User, public_id: str) -> Share | None:
    """Return the client's own share ``public_id``, else None (another person's share is unknown)."""
    return session.scalar(select(Share).where(Share.public_id == public_id, Share.client_id == client.id))


def shares_for_professional(session: Session, user: User, *, now: datetime) -> list[Share]:
    """Return the live shares made to ``user``'s account, soonest expiry first."""
    if not user.is_professional:
        return []
    return list(session.scalars(
        select(Share)
        .where(Share.recipient_user_id == user.id, Share.revoked_at.is_(None), Share.expires_at > now)
        .order_by(Share.expires_at, Share.id)
    ))


def professional_share(session: Session, user: User, public_id: str, *, now: datetime) -> Share | None:
    """Return the live share ``public_id`` made to ``user``'s account, else None."""
    if not user.is_professional:
        return None
    share = session.scalar(
        select(Share).where(Share.public_id == public_id, Share.recipient_user_id == user.id)
    )
    return share if share is not None and is_live(share, now) else None


# --- what a share shows ------------------------------------------------------------------------------


def _in_share_window(award: Award, share: Share) -> bool:
    # A badge withdrawn before the share was made was never part of what the client agreed to
    # show; one withdrawn later stays, marked as withdrawn, so the recipient is not misled.
    return award.revoked_at is None or award.revoked_at >= share.created_at


#: What a share page reads of each award, loaded together rather than one query per award.
#: Badge images, logos and the signed status list stay in the database: the page links to the
#: images and reads only the list's bits.
_AWARD_DETAILS = (
    selectinload(Award.achievement_version).options(
        defer(AchievementVersion.image_png), defer(AchievementVersion.image_svg),
        selectinload(AchievementVersion.achievement),
    ),
    selectinload(Award.organisation).defer(Organisation.logo_png),
    selectinload(Award.status_list).defer(StatusList.document),
)


def awards_in_share(session: Session, share: Share, *, now: datetime) -> list[Award]:
    """Return the awards a share shows now, newest first; always only the client's own.

    ``passport``: all the client's badges; ``qualification``: those aligned to a unit or
    requirement of the qualification; ``badges``: the chosen ones. Badges withdrawn after the
    share was made are included (with their status), never silently dropped.
    """
    if share.scope == "badges":
        return list(session.scalars(
            select(Award)
            .join(share_award, share_award.c.award_id == Award.id)
            .where(share_award.c.share_id == share.id, Award.recipient_id == share.client_id)
            .options(*_AWARD_DETAILS)
            .order_by(Award.issued_at.desc(), Award.id.desc())
        ))
    awards = [
        a for a in session.scalars(
            select(Award)
            .where(Award.recipient_id == share.client_id)
            .options(*_AWARD_DETAILS)
            .order_by(Award.issued_at.desc(), Award.id.desc())
        )
        if _in_share_window(a, share)
    ]
    if share.scope == "passport":
        return awards
    if share.scope == "qualification" and share.qualification is not None:
        codes = qualification_codes(session, share.qualification)
        return [a for a in awards if aligned_codes(a) & codes]
    return []


def device_kind(user_agent: str | None) -> str:
    """Return ``phone``, ``tablet``, ``computer`` or ``other`` from a User-Agent (nothing else is kept)."""
    ua = (user_agent or "").lower()[:512]
    if not ua:
        return "other"
    if any(bot in ua for bot in ("bot", "crawler", "spider", "preview", "curl", "wget", "python")):
        return "other"
    if "ipad" in ua or "tablet" in ua or "kindle" in ua or "silk/" in ua or ("android" in ua and "mobile" not in ua):
        return "tablet"
    if "iphone" in ua or "ipod" in ua or "mobile" in ua or "android" in ua or "windows phone" in ua:
        return "phone"
    if any(desktop in ua for desktop in ("windows nt", "macintosh", "mac os x", "x11", "linux", "cros")):
        return "computer"
    return "other"


def record_access(session: Session, share: Share, *, device: str, via: str, now: datetime) -> ShareAccess:
    """Log one opening of a share (time, device kind, link or account) for the client to see."""
    access = ShareAccess(
        share=share, at=now, device=device if device in DEVICES else "other", via=via if via in VIAS else "link",
    )
    session.add(access)
    session.flush()
    return access


# --- live verification status ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadgeStatus:
    """What the share page says about one badge: ``valid``, ``revoked``, ``expired`` or ``unverified``."""

    state: str
    revoked_at: datetime | None = None
    valid_until: datetime | None = None


_SIGNATURE_CHECKS = ("structure", "contexts", "issuer_key", "proof")


def proof_verified(session: Session, site: services.Site, award: Award, *, now: datetime) -> bool:
    """Return True when the award's proof is known to verify.

    An award records ``verified_at`` when it is signed, so pages never re-run the proof
    verification. An award from before that column is verified here the first time it is
    shown, and the result is recorded (flushed; the caller commits). A proof that fails is
    not recorded, so it is checked again on the next view and never shown as genuine.
    """
    if award.verified_at is not None:
        return True
    try:
        document = json.loads(award.document)
    except ValueError:
        return False
    result = services.verify_document(session, site, document, now=now)
    if not all((c := result.check(name)) is not None and c.outcome == PASSED for name in _SIGNATURE_CHECKS):
        return False
    award.verified_at = now
    session.flush()
    return True


def badge_status(session: Session, site: services.Site, award: Award, *, now: datetime) -> BadgeStatus:
    """Return the live status of an award: its recorded proof check, then the status-list bit and dates."""
    if not proof_verified(session, site, award, now=now):
        return BadgeStatus("unverified")
    try:
        bit = get_bit(award.status_list.bits, award.status_index)
    except BadgesError:
        return BadgeStatus("unverified")
    if bit or award.revoked_at is not None:
        return BadgeStatus("revoked", revoked_at=award.revoked_at)
    if award.valid_until is not None and award.valid_until <= now:
        return BadgeStatus("expired", valid_until=award.valid_until)
    return BadgeStatus("valid", valid_until=award.valid_until)


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One piece of evidence as the share shows it; ``photo_id`` names a photo served with the share."""

    name: str | None
    narrative: str | None
    description: str | None
    photo_id: str | None


@dataclass(frozen=True, slots=True)
class SharedBadge:
    """One badge on a share page: the award, its live status and the evidence the client shares."""

    award: Award
    status: BadgeStatus
    evidence: tuple[EvidenceItem, ...]
    #: Endorsements of the badge definition, in force first.
    endorsements: tuple[EndorsementView, ...] = ()


def _document(award: Award) -> dict[str, Any]:
    try:
        document = json.loads(award.document)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _photo_prefix(site: services.Site) -> str:
    return site.url(EVIDENCE_PATH)


def evidence_items(site: services.Site, share: Share, award: Award) -> tuple[EvidenceItem, ...]:
    """Return the award's evidence if the share includes evidence and the holder did not hide it."""
    if not share.include_evidence or award.evidence_hidden:
        return ()
    prefix = _photo_prefix(site)
    items = []
    for item in _document(award).get("evidence") or []:
        if not isinstance(item, dict):
            continue
        ref = item.get("id")
        photo = ref[len(prefix):] if isinstance(ref, str) and ref.startswith(prefix) else None
        texts = [item.get(k) if isinstance(item.get(k), str) else None for k in ("name", "narrative", "description")]
        if photo or any(texts[1:]):
            items.append(EvidenceItem(texts[0], texts[1], texts[2], photo))
    return tuple(items)


#: Badges in force come first on a share page; withdrawn and lapsed ones follow, marked as such.
_STATE_ORDER = {"valid": 0, "expired": 1, "revoked": 2, "unverified": 3}


def share_contents(session: Session, site: services.Site, share: Share, *, now: datetime) -> list[SharedBadge]:
    """Return what the share page shows: each badge in scope with its live status and evidence.

    Valid badges come first (newest first), then expired, revoked and unverifiable ones.
    """
    awards = awards_in_share(session, share, now=now)
    endorsed = endorsements.views_by_achievement(session, {a.achievement_version.achievement_id for a in awards})
    items = [
        SharedBadge(
            award, badge_status(session, site, award, now=now), evidence_items(site, share, award),
            tuple(endorsed[award.achievement_version.achievement_id]),
        )
        for award in awards
    ]
    return sorted(items, key=lambda item: _STATE_ORDER.get(item.status.state, 9))


def shared_photo(
    session: Session, site: services.Site, share: Share, evidence_public_id: str, *, now: datetime
) -> EvidenceFile | None:
    """Return the photo if the live ``share`` includes it as evidence of one of its badges, else None."""
    if not is_live(share, now) or not share.include_evidence:
        return None
    photo = session.scalar(
        select(EvidenceFile).where(
            EvidenceFile.public_id == evidence_public_id, EvidenceFile.subject_id == share.client_id
        )
    )
    if photo is None:
        return None
    for award in awards_in_share(session, share, now=now):
        if any(item.photo_id == photo.public_id for item in evidence_items(site, share, award)):
            return photo
    return None


# --- professionals ------------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    """Return the address in the form we store (lower case), or raise ``share_bad_email``."""
    try:
        result = validate_email((email or "").strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise SharingError("share_bad_email", "check the e-mail address") from None
    return result.normalized.lower()


def register_professional(
    session: Session, *, display_name: str, email: str, organisation: str, password: str, now: datetime,
    locale: str = "fi",
) -> User:
    """Create a network professional's account (employment services, Kela, social work, school)."""
    name = " ".join((display_name or "").split())
    if not name or len(name) > 200:
        raise SharingError("professional_name", "a name of at most 200 characters is required")
    where = " ".join((organisation or "").split())
    if not where or len(where) > MAX_ORGANISATION:
        raise SharingError("professional_organisation", "the organisation is required (at most 200 characters)")
    address = normalise_email(email)
    if services.find_user_by_email(session, address) is not None:
        raise SharingError("professional_email_taken", "that e-mail address already has an account")
    people.check_password_rules(password)
    user = services.create_user(
        session, display_name=name, email=address, password=password, now=now,
        locale=locale if locale in people.LANGUAGES else "fi",
    )
    user.is_professional = True
    user.professional_organisation = where
    session.flush()
    return user

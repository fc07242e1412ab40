"""Endorsements: an education provider's signed word that another organisation's badge counts.

A vocational school (an organisation of kind ``education_provider``) endorses a badge
definition of another organisation — "this badge evidences requirement X of unit Y" — as an
OB 3.0 ``EndorsementCredential`` signed with the school's own key, with a slot in the
school's status list so that it can be withdrawn. Awards issued later embed the endorsements
in force in their Achievement (see ``services.endorsement_texts``); withdrawn ones are left
out and show as withdrawn. This is the bridge to recognising prior learning.

Like :mod:`badges.services`, every function takes a Session, flushes and never commits.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from badges import library, services
from badges.core.credential import EndorsementData, StatusEntry, build_endorsement_credential
from badges.core.errors import BadgesError
from badges.models import (
    Achievement,
    AchievementVersion,
    Endorsement,
    Organisation,
    Requirement,
    StatusList,
    Unit,
    User,
    new_public_id,
)

#: The kind of organisation that may endorse.
EDUCATION_PROVIDER = "education_provider"
MAX_COMMENT = 2000
MAX_REASON = 500
#: How many requirements or units one endorsement may speak for.
MAX_REFERENCES = library.MAX_ALIGNMENTS
#: The credential's ``name``, in the endorser's language.
_NAME = {"fi": "Suositus: {badge}", "sv": "Rekommendation: {badge}", "en": "Endorsement: {badge}"}
#: Unit codes (a whole unit or an osaamismerkki) as opposed to requirement keys.
_UNIT_PREFIXES = ("tutkinnonosat_", "osaamismerkit_")


class EndorsementError(BadgesError):
    """An endorsement cannot be made or changed; ``code`` says why (messages in web/endorsements)."""

    code = "endorsement"

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def can_endorse(organisation: Organisation) -> bool:
    """Return True when ``organisation`` may endorse badges (an education provider)."""
    return organisation.kind == EDUCATION_PROVIDER


def is_in_force(endorsement: Endorsement, now: datetime | None = None) -> bool:
    """Return True when the endorsement is neither withdrawn nor (given ``now``) expired."""
    if endorsement.revoked_at is not None:
        return False
    return now is None or endorsement.valid_until is None or endorsement.valid_until > now


# --- browsing other organisations' badges ------------------------------------------------------


def endorsable_badges(
    session: Session, endorser: Organisation, *, query: str | None = None, limit: int = 50, offset: int = 0,
) -> tuple[list[Achievement], int]:
    """Return (a page of, the number of) other organisations' badge definitions in use.

    Badge definitions are public (every award links to one); ``query`` matches the badge's
    name in any version or the organisation's name, case-insensitively.
    """
    condition = [Achievement.organisation_id != endorser.id, Achievement.retired_at.is_(None)]
    text = " ".join((query or "").split())[:100]
    if text:
        pattern = "%" + text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
        named = select(AchievementVersion.achievement_id).where(
            func.lower(AchievementVersion.name).like(pattern, escape="!")
        )
        condition.append(or_(Achievement.id.in_(named), func.lower(Organisation.name).like(pattern, escape="!")))
    base = select(Achievement).join(Achievement.organisation).where(*condition)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = session.scalars(
        base.options(joinedload(Achievement.organisation))
        .order_by(Organisation.name, Achievement.created_at, Achievement.id).limit(limit).offset(offset)
    ).unique().all()
    return list(page), total


def endorsable_badge(session: Session, endorser: Organisation, public_id: str) -> Achievement:
    """Return another organisation's badge definition in use, or raise NotFoundError."""
    achievement = session.scalar(select(Achievement).where(Achievement.public_id == public_id))
    if achievement is None or achievement.organisation_id == endorser.id or achievement.retired_at is not None:
        raise services.NotFoundError("no such badge")
    return achievement


# --- making and withdrawing -------------------------------------------------------------------


def resolve_references(session: Session, codes: Sequence[str], *, language: str) -> list[dict[str, Any]]:
    """Return the ePerusteet requirements and units the codes name, as stored on an endorsement.

    Each entry: ``{"unit": unit code, "requirement": requirement key or None, "name", "url",
    "framework"}``. Raises the library's UnknownAlignmentError / TooManyAlignmentsError.
    """
    alignments = library.resolve_alignments(session, list(codes), language=language)
    references = []
    for alignment in alignments:
        code = alignment["targetCode"]
        if code.startswith(_UNIT_PREFIXES):
            unit_code, requirement = code, None
        else:
            unit_code = session.scalar(
                select(Unit.code).join(Requirement, Requirement.unit_id == Unit.id)
                .where(Requirement.key == code).order_by(Requirement.withdrawn_at.is_not(None)).limit(1)
            )
            requirement = code
        references.append({
            "unit": unit_code, "requirement": requirement, "name": alignment.get("targetName", ""),
            "url": alignment.get("targetUrl", ""), "framework": alignment.get("targetFramework", ""),
        })
    return references


def endorsement_comment(comment: str, references: Sequence[dict[str, Any]]) -> str:
    """Return the signed ``endorsementComment``: the endorser's words, then one line per requirement.

    The requirements go into the text because ``EndorsementSubject`` defines no other member
    for them, and any OB 3.0 displayer shows the comment.
    """
    lines = [comment.strip()]
    if references:
        lines.append("")
        for ref in references:
            code = ref.get("requirement") or ref.get("unit")
            framework = f"{ref['framework']}: " if ref.get("framework") else ""
            url = f" {ref['url']}" if ref.get("url") else ""
            lines.append(f"- {framework}{ref.get('name', '')} ({code}){url}")
    return "\n".join(lines)


def endorsement_url(site: services.Site, public_id: str) -> str:
    """Return the id of an EndorsementCredential (its page; ``.json`` serves the signed document)."""
    return site.url(f"/endorsements/{public_id}")


def create_endorsement(
    session: Session, site: services.Site, *, endorser: Organisation, achievement: Achievement, comment: str,
    codes: Sequence[str], actor: User | None, now: datetime,
) -> Endorsement:
    """Sign and record an endorsement of ``achievement`` (its current version) by ``endorser``.

    Raises:
        EndorsementError: not an education provider, own badge, retired badge, no or too long
            comment, no requirement, or an endorsement of this badge by ``endorser`` in force.
        UnknownAlignmentError, TooManyAlignmentsError: the requirement codes.
    """
    if not can_endorse(endorser):
        raise EndorsementError("endorse_not_provider", "only an education provider may endorse", status=403)
    if achievement.organisation_id == endorser.id:
        raise EndorsementError("endorse_own_badge", "an organisation does not endorse its own badges")
    if achievement.retired_at is not None:
        raise EndorsementError("endorse_retired", "the badge is retired", status=409)
    text = (comment or "").strip()
    if not text:
        raise EndorsementError("endorse_comment_missing", "a comment is required")
    if len(text) > MAX_COMMENT:
        raise EndorsementError("endorse_comment_too_long", "the comment is too long")
    if not codes:
        raise EndorsementError("endorse_no_requirement", "name at least one requirement or unit")
    references = resolve_references(session, codes, language=endorser.language)
    existing = session.scalar(
        select(Endorsement.id).where(Endorsement.achievement_id == achievement.id,
                                     Endorsement.endorser_id == endorser.id, Endorsement.revoked_at.is_(None))
    )
    if existing is not None:
        raise EndorsementError("endorse_duplicate", "this badge is endorsed already", status=409)
    version = achievement.current
    status_list, index = services.allocate_status_slot(session, site, endorser, now=now)
    endorsement = Endorsement(
        public_id=new_public_id(), achievement=achievement, endorser=endorser, comment=text,
        created_by_id=actor.id if actor else None, requirements=references, document="", created_at=now,
        status_list_id=status_list.id, status_index=index,
    )
    name = _NAME.get(endorser.language, _NAME["fi"]).format(badge=version.name)
    unsigned = build_endorsement_credential(EndorsementData(
        credential_id=endorsement_url(site, endorsement.public_id),
        issuer=services.issuer_of(site, endorser),
        subject_id=site.achievement_url(version.public_id),
        name=name,
        comment=endorsement_comment(text, references),
        issued_at=now,
        status=StatusEntry(list_url=site.status_url(status_list.public_id), index=index),
    ))
    signed = services.sign_document(site, endorser, unsigned, created=now)
    endorsement.document = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    session.add(endorsement)
    session.flush()
    services.forget_endorsements(session)
    services.record(session, "endorsement.create", now=now, actor=actor, organisation=endorser,
                    target=endorsement.public_id, details={"achievement": achievement.public_id,
                                                           "version": version.number})
    return endorsement


def withdraw_endorsement(
    session: Session, site: services.Site, endorsement: Endorsement, *, reason: str | None, actor: User | None,
    now: datetime,
) -> Endorsement:
    """Withdraw an endorsement: set its status bit (verifiers see it revoked); later awards leave it out."""
    if endorsement.revoked_at is not None:
        raise EndorsementError("endorse_already_withdrawn", "the endorsement was withdrawn already", status=409)
    text = (reason or "").strip()
    if len(text) > MAX_REASON:
        raise EndorsementError("endorse_reason_too_long", "the reason is too long")
    status_list = session.get(StatusList, endorsement.status_list_id) if endorsement.status_list_id else None
    if status_list is not None and endorsement.status_index is not None:
        services.set_status_bit(session, site, status_list, endorsement.status_index, now=now)
    endorsement.revoked_at = now
    endorsement.revocation_reason = text or None
    session.flush()
    services.forget_endorsements(session)
    services.record(session, "endorsement.withdraw", now=now, actor=actor, organisation=endorsement.endorser,
                    target=endorsement.public_id, details={"achievement": endorsement.achievement.public_id})
    return endorsement


# --- reading ---------------------------------------------------------------------------------------


def get_endorsement(session: Session, public_id: str) -> Endorsement:
    """Return the endorsement with this public id or raise NotFoundError."""
    return services.get_by_public_id(session, Endorsement, public_id)


def endorsement_of(session: Session, endorser: Organisation, public_id: str) -> Endorsement:
    """Return ``endorser``'s own endorsement with this public id, or raise NotFoundError."""
    endorsement = session.scalar(
        select(Endorsement).where(Endorsement.public_id == public_id, Endorsement.endorser_id == endorser.id)
    )
    if endorsement is None:
        raise services.NotFoundError("no such endorsement")
    return endorsement


def endorsements_for(session: Session, achievement: Achievement) -> list[Endorsement]:
    """Return every endorsement of a badge definition (withdrawn ones too), oldest first."""
    return list(session.scalars(
        select(Endorsement).options(joinedload(Endorsement.endorser))
        .where(Endorsement.achievement_id == achievement.id)
        .order_by(Endorsement.created_at, Endorsement.id)
    ))


def endorsements_by(session: Session, endorser: Organisation) -> list[Endorsement]:
    """Return the endorsements ``endorser`` gave, newest first."""
    return list(session.scalars(
        select(Endorsement).where(Endorsement.endorser_id == endorser.id)
        .order_by(Endorsement.created_at.desc(), Endorsement.id.desc())
    ))


def endorsements_received(session: Session, organisation: Organisation) -> list[Endorsement]:
    """Return the endorsements of ``organisation``'s badges, newest first."""
    return list(session.scalars(
        select(Endorsement).join(Endorsement.achievement).options(joinedload(Endorsement.endorser))
        .where(Achievement.organisation_id == organisation.id)
        .order_by(Endorsement.created_at.desc(), Endorsement.id.desc())
    ))


@dataclass(frozen=True, slots=True)
class EndorsementView:
    """What a page shows of one endorsement."""

    public_id: str
    endorser_name: str
    endorser_slug: str
    comment: str
    references: tuple[dict[str, Any], ...]
    created_at: datetime
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
    #: The public id of the badge version the endorsement was given for.
    version_public_id: str


def view_of(endorsement: Endorsement) -> EndorsementView:
    """Return the page values of an endorsement."""
    try:
        subject = json.loads(endorsement.document).get("credentialSubject", {})
        subject_id = subject.get("id", "") if isinstance(subject, dict) else ""
    except (ValueError, AttributeError):
        subject_id = ""
    return EndorsementView(
        public_id=endorsement.public_id, endorser_name=endorsement.endorser.name,
        endorser_slug=endorsement.endorser.slug, comment=endorsement.comment,
        references=tuple(r for r in endorsement.requirements or [] if isinstance(r, dict)),
        created_at=endorsement.created_at, withdrawn_at=endorsement.revoked_at,
        withdrawal_reason=endorsement.revocation_reason,
        version_public_id=subject_id.rstrip("/").rsplit("/", 1)[-1],
    )


def views_for(session: Session, achievement: Achievement) -> list[EndorsementView]:
    """Return the page values of a badge definition's endorsements: in force first, then withdrawn."""
    return views_by_achievement(session, [achievement.id])[achievement.id]


def views_by_achievement(session: Session, achievement_ids: Iterable[int]) -> dict[int, list[EndorsementView]]:
    """Return :func:`views_for` of many badge definitions in one query (a page of many badges)."""
    found: dict[int, list[EndorsementView]] = {i: [] for i in set(achievement_ids)}
    if found:
        for endorsement in session.scalars(
            select(Endorsement).options(joinedload(Endorsement.endorser))
            .where(Endorsement.achievement_id.in_(sorted(found)))
            .order_by(Endorsement.created_at, Endorsement.id)
        ):
            found[endorsement.achievement_id].append(view_of(endorsement))
    return {i: sorted(views, key=lambda v: v.withdrawn_at is not None) for i, views in found.items()}

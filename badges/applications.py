"""Badge applications: a client applies for a badge with their own words and a photo; a coach awards
it or answers with encouragement (the national osaamismerkki principle: evidence issued on the
individual's own application).

Like ``badges.services``, every function takes a ``Session`` and plain values, flushes and never
commits; nothing here imports Flask. Errors carry a stable ``code`` that the web layer turns into
a message in the reader's language.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from badges import services
from badges.core.credential import Evidence
from badges.core.errors import BadgesError
from badges.core.images import clean_image
from badges.models import (
    Achievement,
    AchievementVersion,
    Award,
    BadgeApplication,
    EvidenceFile,
    Membership,
    Notification,
    Organisation,
    User,
)

MAX_STATEMENT = 2000
MAX_REPLY = 1000
MAX_NOTE = 1000
#: How many decided applications the coach's list shows (the open ones are all shown).
DECIDED_LIMIT = 50

SUBMITTED = "submitted"
AWARDED = "awarded"
ANSWERED = "answered"
#: Notification kinds this module creates (the client's home shows them; the list marks them read).
KIND_AWARDED = "application.awarded"
KIND_ANSWERED = "application.answered"
NOTIFICATION_KINDS = (KIND_AWARDED, KIND_ANSWERED)

#: Names of the evidence items, in the badge's own language (they are part of the credential).
_STATEMENT = {"fi": "Hakijan oma kuvaus", "sv": "Sökandens egen beskrivning", "en": "Applicant's own statement"}
_OBSERVATION = {"fi": "Havainto", "sv": "Observation", "en": "Observation"}
_PHOTO = {"fi": "Valokuva", "sv": "Fotografi", "en": "Photo"}


class ApplicationError(BadgesError):
    """An application cannot be made or decided; ``code`` says why."""

    code = "application"

    def __init__(self, code: str, message: str, *, status: int = 400, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.params = params


# --- texts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadgeTexts:
    """A badge version's texts in one language (the reader's, when the badge has it)."""

    language: str
    name: str
    description: str
    criteria: str
    evidence_guidance: str | None
    #: Plain Finnish (selkokieli), for Finnish readers.
    plain_description: str | None


def badge_texts(version: AchievementVersion, language: str) -> BadgeTexts:
    """Return the texts of ``version`` in ``language`` if it has them complete, else in its own."""
    translated = (version.translations or {}).get(language) if language != version.language else None
    if isinstance(translated, dict) and translated.get("name") and translated.get("criteria"):
        return BadgeTexts(
            language=language, name=translated["name"], description=translated.get("description") or "",
            criteria=translated["criteria"], evidence_guidance=translated.get("evidence_guidance") or None,
            plain_description=version.plain_description if language == "fi" else None,
        )
    return BadgeTexts(
        language=version.language, name=version.name, description=version.description,
        criteria=version.criteria_narrative, evidence_guidance=version.evidence_guidance,
        plain_description=version.plain_description if language == "fi" else None,
    )


def clean_text(text: str | None) -> str:
    """Return ``text`` with uniform line ends and without surrounding white space."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


# --- what a client may apply for ---------------------------------------------------------------


def client_organisations(session: Session, client: User) -> list[Organisation]:
    """Return the organisations where ``client`` is a client, by name."""
    return services.organisations_of(session, client, ("client",))


def applicable_badges(session: Session, client: User) -> list[Achievement]:
    """Return the badges a client may apply for: current, not retired, in their organisations' libraries.

    Ordered by organisation name, then badge name.
    """
    organisations = client_organisations(session, client)
    if not organisations:
        return []
    order = {org.id: index for index, org in enumerate(organisations)}
    achievements = session.scalars(
        select(Achievement)
        .where(Achievement.organisation_id.in_(order), Achievement.retired_at.is_(None))
        .options(selectinload(Achievement.versions), selectinload(Achievement.organisation))
    ).all()
    return sorted(
        (a for a in achievements if a.versions),
        key=lambda a: (order[a.organisation_id], a.current.name.casefold()),
    )


def find_badge_for(session: Session, client: User, public_id: str) -> Achievement:
    """Return badge ``public_id`` if it is in the library of one of the client's organisations.

    A badge of any other organisation is "not found" (a tampered form reveals nothing). A retired
    badge is returned: the caller says kindly that it cannot be applied for.
    """
    achievement = session.scalar(
        select(Achievement)
        .join(Membership, Membership.organisation_id == Achievement.organisation_id)
        .where(
            Achievement.public_id == (public_id or ""), Membership.user_id == client.id,
            Membership.role == "client",
        )
        .limit(1)
    )
    if achievement is None or not achievement.versions:
        raise ApplicationError("application_unknown_badge", "no such badge in your organisations", status=404)
    return achievement


def valid_award_of(session: Session, client: User, achievement: Achievement, *, now: datetime) -> Award | None:
    """Return the client's newest award of ``achievement`` (any version) that is neither revoked nor expired."""
    return session.scalar(
        select(Award)
        .join(AchievementVersion, AchievementVersion.id == Award.achievement_version_id)
        .where(
            Award.recipient_id == client.id, AchievementVersion.achievement_id == achievement.id,
            Award.revoked_at.is_(None), or_(Award.valid_until.is_(None), Award.valid_until > now),
        )
        .order_by(Award.issued_at.desc())
        .limit(1)
    )


def open_application(session: Session, client: User, achievement: Achievement) -> BadgeApplication | None:
    """Return the client's application for ``achievement`` that waits for a coach, if any."""
    return session.scalar(
        select(BadgeApplication)
        .where(
            BadgeApplication.client_id == client.id, BadgeApplication.achievement_id == achievement.id,
            BadgeApplication.status == SUBMITTED,
        )
        .order_by(BadgeApplication.created_at.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class BadgeState:
    """Why a client cannot apply for a badge just now (all None: they can)."""

    retired: bool = False
    held: Award | None = None
    pending: BadgeApplication | None = None

    @property
    def can_apply(self) -> bool:
        """Return True when nothing stands in the way of a new application."""
        return not self.retired and self.held is None and self.pending is None


def badge_state(session: Session, client: User, achievement: Achievement, *, now: datetime) -> BadgeState:
    """Return whether ``client`` can apply for ``achievement`` now, and if not, why."""
    if achievement.retired_at is not None:
        return BadgeState(retired=True)
    return BadgeState(
        held=valid_award_of(session, client, achievement, now=now),
        pending=open_application(session, client, achievement),
    )


def badge_states(
    session: Session, client: User, achievements: Sequence[Achievement], *, now: datetime
) -> dict[int, BadgeState]:
    """Return :func:`badge_state` for many badges at once (two queries), keyed by achievement id."""
    ids = [a.id for a in achievements]
    if not ids:
        return {}
    held: dict[int, Award] = {}
    for award, achievement_id in session.execute(
        select(Award, AchievementVersion.achievement_id)
        .join(AchievementVersion, AchievementVersion.id == Award.achievement_version_id)
        .where(
            Award.recipient_id == client.id, AchievementVersion.achievement_id.in_(ids),
            Award.revoked_at.is_(None), or_(Award.valid_until.is_(None), Award.valid_until > now),
        )
        .order_by(Award.issued_at)
    ):
        held[achievement_id] = award
    pending = {
        application.achievement_id: application
        for application in session.scalars(
            select(BadgeApplication)
            .where(
                BadgeApplication.client_id == client.id, BadgeApplication.achievement_id.in_(ids),
                BadgeApplication.status == SUBMITTED,
            )
            .order_by(BadgeApplication.created_at)
        )
    }
    return {
        a.id: BadgeState(retired=a.retired_at is not None, held=held.get(a.id), pending=pending.get(a.id))
        for a in achievements
    }


def check_statement(statement: str | None) -> str:
    """Return the cleaned statement, or raise when it is empty or too long."""
    text = clean_text(statement)
    if not text:
        raise ApplicationError("statement_required", "write what you did")
    if len(text) > MAX_STATEMENT:
        raise ApplicationError("statement_too_long", "the text is too long", limit=MAX_STATEMENT)
    return text


def _refuse_unless_can_apply(state: BadgeState) -> None:
    if state.retired:
        raise ApplicationError("application_badge_retired", "this badge is no longer in use", status=409)
    if state.held is not None:
        raise ApplicationError("application_already_held", "you have this badge already", status=409)
    if state.pending is not None:
        raise ApplicationError("application_open", "you have applied for this badge already", status=409)


def submit(
    session: Session, *, client: User, badge_id: str, statement: str | None, photo: bytes | None, now: datetime
) -> BadgeApplication:
    """Record a client's application for badge ``badge_id``, with an optional photo (cleaned).

    Nothing is written unless every check passes: the badge is in the library of one of the
    client's organisations and in use, the client neither holds it nor has an open application
    for it, the statement is there and not too long, the photo is a safe image (else
    ``ImageUploadError``). Sending the same text again while it is open returns the open
    application (a double tap on a phone does not make an error).
    """
    achievement = find_badge_for(session, client, badge_id)
    text = check_statement(statement)
    # Serialise one client's submissions (PostgreSQL row lock), so that two taps never both pass
    # the "no open application" check below.
    session.execute(select(User.id).where(User.id == client.id).with_for_update())
    state = badge_state(session, client, achievement, now=now)
    if state.pending is not None and state.pending.statement == text:
        return state.pending
    _refuse_unless_can_apply(state)
    evidence = None
    if photo:
        image = clean_image(photo, purpose="photo")
        evidence = EvidenceFile(
            organisation_id=achievement.organisation_id, subject_id=client.id, uploaded_by_id=client.id,
            mimetype=image.mimetype, content=image.data, created_at=now,
        )
        session.add(evidence)
    application = BadgeApplication(
        client=client, organisation_id=achievement.organisation_id, achievement=achievement, statement=text,
        evidence_file=evidence, status=SUBMITTED, created_at=now,
    )
    session.add(application)
    session.flush()
    return application


# --- the client's own applications ----------------------------------------------------------------


def applications_of(session: Session, client: User) -> list[BadgeApplication]:
    """Return the client's applications, newest first."""
    return list(
        session.scalars(
            select(BadgeApplication)
            .where(BadgeApplication.client_id == client.id)
            .order_by(BadgeApplication.created_at.desc(), BadgeApplication.id.desc())
            .options(selectinload(BadgeApplication.achievement).selectinload(Achievement.versions))
        )
    )


def get_own(session: Session, client: User, public_id: str) -> BadgeApplication:
    """Return the client's own application ``public_id``; anyone else's is "not found"."""
    application = session.scalar(
        select(BadgeApplication).where(
            BadgeApplication.public_id == (public_id or ""), BadgeApplication.client_id == client.id
        )
    )
    if application is None:
        raise services.NotFoundError("no such application")
    return application


def unread_decisions(session: Session, client: User) -> list[Notification]:
    """Return the client's unread notifications about decided applications."""
    return list(
        session.scalars(
            select(Notification).where(
                Notification.user_id == client.id, Notification.kind.in_(NOTIFICATION_KINDS),
                Notification.read_at.is_(None),
            )
        )
    )


def mark_decisions_read(session: Session, client: User, *, now: datetime) -> list[Notification]:
    """Mark the client's application notifications read; return those that were unread."""
    notes = unread_decisions(session, client)
    for note in notes:
        note.read_at = now
    session.flush()
    return notes


# --- the coach's side ---------------------------------------------------------------------------------


def organisation_applications(
    session: Session, organisation: Organisation, *, decided_limit: int = DECIDED_LIMIT
) -> tuple[list[BadgeApplication], list[BadgeApplication]]:
    """Return the organisation's open applications (waiting longest first) and its latest decided ones."""
    base = (
        select(BadgeApplication)
        .where(BadgeApplication.organisation_id == organisation.id)
        .options(
            selectinload(BadgeApplication.client),
            selectinload(BadgeApplication.achievement).selectinload(Achievement.versions),
        )
    )
    waiting = list(
        session.scalars(
            base.where(BadgeApplication.status == SUBMITTED).order_by(
                BadgeApplication.created_at, BadgeApplication.id
            )
        )
    )
    decided = list(
        session.scalars(
            base.where(BadgeApplication.status != SUBMITTED)
            .order_by(BadgeApplication.decided_at.desc(), BadgeApplication.id.desc())
            .limit(decided_limit)
        )
    )
    return waiting, decided


def get_for_organisation(session: Session, organisation: Organisation, public_id: str) -> BadgeApplication:
    """Return application ``public_id`` made to ``organisation``; any other is "not found"."""
    application = session.scalar(
        select(BadgeApplication).where(
            BadgeApplication.public_id == (public_id or ""), BadgeApplication.organisation_id == organisation.id
        )
    )
    if application is None:
        raise services.NotFoundError("no such application")
    return application


def decided_by(session: Session, application: BadgeApplication) -> User | None:
    """Return the coach who decided the application, if any."""
    return session.get(User, application.decided_by_id) if application.decided_by_id else None


def is_client_of(session: Session, user: User, organisation_id: int) -> bool:
    """Return True while ``user`` is a client of the organisation."""
    return session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation_id,
            Membership.role == "client",
        ).limit(1)
    ) is not None


def evidence_url(site: services.Site, evidence: EvidenceFile) -> str:
    """Return the absolute URL of an evidence photo (written into the credential)."""
    return site.url(f"/evidence/{evidence.public_id}")


def award_key(application: BadgeApplication) -> str:
    """Return the idempotency key of the award an application makes: a double click issues once."""
    return f"application:{application.public_id}"


def _claim(session: Session, application: BadgeApplication, values: dict[str, Any]) -> bool:
    """Move a submitted application to a decision; False if someone decided it first.

    A conditional UPDATE: of two concurrent decisions exactly one matches the row.
    """
    result = session.execute(
        update(BadgeApplication)
        .where(BadgeApplication.id == application.id, BadgeApplication.status == SUBMITTED)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(application)
    return result.rowcount == 1


def _award_made(session: Session, application: BadgeApplication) -> Award | None:
    """Return the award an awarded application made (read afresh: another click may have made it)."""
    if application.status != AWARDED or application.award_id is None:
        return None
    return session.get(Award, application.award_id)


def _refuse_own(application: BadgeApplication, coach: User) -> None:
    """A staff member who is also a client does not decide their own application."""
    if application.client_id == coach.id:
        raise ApplicationError("application_own", "another coach decides your own application", status=403)


def _decided_error() -> ApplicationError:
    return ApplicationError("application_decided", "this application was answered already", status=409)


def award(
    session: Session, site: services.Site, application: BadgeApplication, *, coach: User, now: datetime,
    note: str | None = None,
) -> Award:
    """Award the badge an application asks for; the client's statement and photo become its evidence.

    The award is made under the current version of the badge, with the statement as an
    evidence narrative, the coach's optional note as an observation and the photo's URL as a
    photo item. A second click returns the same award (idempotency key and a conditional
    status change); a retired badge, a person who is no longer a client, or a client who got
    the badge meanwhile is refused. The client gets a notification.
    """
    _refuse_own(application, coach)
    note = clean_text(note) or None
    if note and len(note) > MAX_NOTE:
        raise ApplicationError("note_too_long", "the note is too long", limit=MAX_NOTE)
    made = _award_made(session, application)
    if made is not None:
        return made
    if application.status != SUBMITTED:
        raise _decided_error()
    achievement = application.achievement
    if achievement.retired_at is not None:
        raise ApplicationError("badge_retired", "this badge is retired and cannot be awarded", status=409)
    client = application.client
    if not is_client_of(session, client, application.organisation_id):
        raise ApplicationError("application_not_client", "the applicant is no longer a client here", status=409)
    if valid_award_of(session, client, achievement, now=now) is not None:
        raise ApplicationError("application_client_holds", "the client has this badge already", status=409)
    if not _claim(session, application, {"status": AWARDED, "decided_by_id": coach.id, "decided_at": now}):
        made = _award_made(session, application)
        if made is not None:
            return made
        raise _decided_error()
    version = achievement.current
    language = version.language
    items = [Evidence(narrative=application.statement, name=_STATEMENT.get(language, _STATEMENT["fi"]))]
    if note:
        items.append(Evidence(narrative=note, name=_OBSERVATION.get(language, _OBSERVATION["fi"])))
    if application.evidence_file is not None:
        items.append(Evidence(
            id=evidence_url(site, application.evidence_file), name=_PHOTO.get(language, _PHOTO["fi"]), genre="Photo",
        ))
    issued = services.issue_award(
        session, site, version=version, recipient=client, now=now, issued_by=coach, evidence=items,
        idempotency_key=award_key(application),
    )
    application.award = issued
    session.add(Notification(user_id=client.id, kind=KIND_AWARDED, award_id=issued.id, created_at=now))
    session.flush()
    services.record(
        session, "application.award", now=now, actor=coach, organisation=application.organisation,
        target=application.public_id, details={"achievement": achievement.public_id, "award": issued.public_id},
    )
    return issued


def answer(
    session: Session, application: BadgeApplication, *, coach: User, reply: str | None, now: datetime
) -> BadgeApplication:
    """Answer an application with encouragement and what to show next; the client gets a notification.

    The same reply sent twice (a double click) changes nothing the second time.
    """
    _refuse_own(application, coach)
    text = clean_text(reply)
    if not text:
        raise ApplicationError("reply_required", "write an answer")
    if len(text) > MAX_REPLY:
        raise ApplicationError("reply_too_long", "the answer is too long", limit=MAX_REPLY)
    if application.status == ANSWERED and application.reply == text:
        return application
    if application.status != SUBMITTED:
        raise _decided_error()
    values = {"status": ANSWERED, "reply": text, "decided_by_id": coach.id, "decided_at": now}
    if not _claim(session, application, values):
        if application.status == ANSWERED and application.reply == text:
            return application
        raise _decided_error()
    session.add(Notification(user_id=application.client_id, kind=KIND_ANSWERED, created_at=now))
    session.flush()
    services.record(
        session, "application.answer", now=now, actor=coach, organisation=application.organisation,
        target=application.public_id, details={"achievement": application.achievement.public_id},
    )
    return application

"""Awarding use cases: one badge to one or many clients, CSV bulk rows, evidence photos,
revoking with a notification to the client, and the queries behind the coach's lists.

Like ``badges.services``, every function takes a ``Session`` and plain values, flushes and
never commits; nothing here imports Flask. Errors carry a stable ``code`` (and ``params``)
that the web layer turns into a message in the reader's language.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from hashlib import sha256
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, Text, cast, delete, func, insert, select
from sqlalchemy.orm import Session

from badges import services
from badges.core.credential import Evidence
from badges.core.errors import BadgesError
from badges.core.images import clean_image
from badges.models import (
    Achievement,
    AchievementVersion,
    AuditEvent,
    BadgeApplication,
    Award,
    EvidenceFile,
    Job,
    Membership,
    Notification,
    Organisation,
    User,
)

#: Dates on pages and in forms are Finnish dates.
HELSINKI = ZoneInfo("Europe/Helsinki")
MAX_NOTE = 1000
MAX_REASON = 500
MAX_CSV_ROWS = 5000
#: A photo stored at the preview step and never confirmed is deleted after this long.
ORPHAN_AGE = timedelta(days=1)
#: Status of a bulk job whose dry run passed but that nobody has started yet (never run by
#: the runner; deleted by the clean-up after ``ORPHAN_AGE``).
DRAFT = "draft"
JOB_KIND_AWARDS = "award.bulk"
#: How many ids one IN (…) query of a job check looks up.
_LOOKUP_BATCH = 1000
#: Notification kind of a withdrawn badge (shown on the client's dashboard).
REVOKED = "award.revoked"
#: The name of a photo evidence item, in the badge's own language.
_PHOTO = {"fi": "Valokuva", "sv": "Fotografi", "en": "Photo"}
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class AwardingError(BadgesError):
    """A request to award or revoke cannot be carried out; ``code`` says why."""

    code = "awarding"

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


# --- dates ----------------------------------------------------------------------------------


def finnish_today(now: datetime) -> date:
    """Return the calendar date in Finland at ``now``."""
    return now.astimezone(HELSINKI).date()


def year_before(day: date) -> date:
    """Return the same calendar date a year earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def check_observed(day: date, *, today: date) -> None:
    """Refuse an observation date in the future or more than a year back."""
    if day > today:
        raise AwardingError("observed_future", "the date of observation is in the future")
    if day < year_before(today):
        raise AwardingError("observed_too_old", "the date of observation is more than a year back")


def observed_moment(day: date, *, now: datetime) -> datetime:
    """Return noon of ``day`` in Finland (the same date in UTC), never later than ``now``."""
    moment = datetime.combine(day, time(12), tzinfo=HELSINKI).astimezone(UTC)
    return min(moment, now)


def parse_csv_date(text: str) -> date | None:
    """Parse ``YYYY-MM-DD`` or ``D.M.YYYY``; return None when it is neither."""
    text = text.strip()
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = re.fullmatch(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})", text)
        if not match:
            return None
        day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- what a coach can pick --------------------------------------------------------------------


def awardable_badges(session: Session, organisation: Organisation) -> list[Achievement]:
    """Return the organisation's badges that are not retired, by name."""
    achievements = session.scalars(
        select(Achievement).where(Achievement.organisation_id == organisation.id, Achievement.retired_at.is_(None))
    ).all()
    return sorted((a for a in achievements if a.versions), key=lambda a: a.current.name.casefold())


def clients_of(session: Session, organisation: Organisation) -> list[User]:
    """Return the organisation's clients, by name."""
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation.id, Membership.role == "client")
            .distinct()
            .order_by(User.display_name, User.id)
        )
    )


def find_badge(session: Session, organisation: Organisation, public_id: str) -> Achievement:
    """Return the organisation's badge ``public_id`` if it can be awarded, else raise."""
    achievement = session.scalar(
        select(Achievement).where(Achievement.public_id == public_id, Achievement.organisation_id == organisation.id)
    )
    if achievement is None or not achievement.versions:
        raise AwardingError("unknown_badge", "no such badge in this organisation")
    if achievement.retired_at is not None:
        raise AwardingError("badge_retired", "this badge is retired and cannot be awarded")
    return achievement


def find_clients(session: Session, organisation: Organisation, public_ids: Iterable[str]) -> list[User]:
    """Return the clients ``public_ids`` (in the given order, once each) or raise.

    Every id must be a client of ``organisation``: a tampered form cannot reach others.
    """
    wanted = list(dict.fromkeys(pid for pid in public_ids if pid))
    if not wanted:
        raise AwardingError("no_clients", "choose at least one client")
    found = clients_among(session, organisation, wanted)
    if len(found) != len(wanted):
        raise AwardingError("unknown_client", "a chosen person is not a client of this organisation")
    return [found[pid] for pid in wanted]


def clients_among(session: Session, organisation: Organisation, public_ids: Sequence[str]) -> dict[str, User]:
    """Return those of ``public_ids`` that are clients of ``organisation``, by public id."""
    return {
        user.public_id: user
        for user in session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(User.public_id.in_(public_ids), Membership.organisation_id == organisation.id,
                   Membership.role == "client")
        )
    }


def versions_among(
    session: Session, organisation: Organisation, public_ids: Sequence[str]
) -> dict[str, AchievementVersion]:
    """Return those of ``public_ids`` that are badge versions of ``organisation``, by public id."""
    return {
        version.public_id: version
        for version in session.scalars(
            select(AchievementVersion)
            .join(Achievement)
            .where(AchievementVersion.public_id.in_(public_ids), Achievement.organisation_id == organisation.id)
        )
    }


# --- evidence photos ----------------------------------------------------------------------------


def store_photo(
    session: Session, organisation: Organisation, *, subject: User, uploaded_by: User | None, data: bytes,
    now: datetime,
) -> EvidenceFile:
    """Clean an uploaded photo (re-encoded, metadata stripped) and store it as evidence.

    Raises ``ImageUploadError`` (with its own ``code``) for anything that is not a safe image.
    """
    image = clean_image(data, purpose="photo")
    evidence = EvidenceFile(
        organisation_id=organisation.id, subject_id=subject.id,
        uploaded_by_id=uploaded_by.id if uploaded_by else None, mimetype=image.mimetype, content=image.data,
        created_at=now,
    )
    session.add(evidence)
    session.flush()
    return evidence


def find_photo(session: Session, organisation: Organisation, public_id: str, clients: Sequence[User]) -> EvidenceFile:
    """Return the organisation's photo ``public_id`` about one of ``clients``, else raise."""
    evidence = session.scalar(
        select(EvidenceFile).where(
            EvidenceFile.public_id == public_id, EvidenceFile.organisation_id == organisation.id
        )
    )
    if evidence is None or evidence.subject_id not in {c.id for c in clients}:
        raise AwardingError("unknown_photo", "the photo is no longer available; add it again")
    return evidence


def photo_path(evidence: EvidenceFile) -> str:
    """Return the path the photo is served at (written into credentials as an absolute URL)."""
    return f"/evidence/{evidence.public_id}"


def photo_is_attached(session: Session, evidence: EvidenceFile) -> bool:
    """Return True when an award of the photo's subject refers to it."""
    return session.scalar(
        select(Award.id)
        .where(Award.recipient_id == evidence.subject_id, Award.document.contains(photo_path(evidence)))
        .limit(1)
    ) is not None


def adopt_photo(session: Session, evidence: EvidenceFile, clients: Sequence[User], *, uploader: User) -> None:
    """Move an unconfirmed photo to the first chosen client when the choice of clients changed."""
    if evidence.subject_id in {c.id for c in clients} or not clients:
        return
    if evidence.uploaded_by_id == uploader.id and not photo_is_attached(session, evidence):
        evidence.subject_id = clients[0].id
        session.flush()


def _photo_for(session: Session, evidence: EvidenceFile, recipient: User, *, now: datetime) -> EvidenceFile:
    """Return the photo as evidence about ``recipient``: the original, or the recipient's own copy.

    Each client gets their own copy, so access to a photo follows one person's awards.
    """
    if evidence.subject_id == recipient.id:
        return evidence
    copy = EvidenceFile(
        organisation_id=evidence.organisation_id, subject_id=recipient.id, uploaded_by_id=evidence.uploaded_by_id,
        mimetype=evidence.mimetype, content=evidence.content, created_at=now,
    )
    session.add(copy)
    session.flush()
    return copy


def can_see_photo(session: Session, evidence: EvidenceFile, user: User) -> bool:
    """Return True for the client the photo is about and for staff of its organisation."""
    if evidence.subject_id == user.id:
        return True
    return session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id, Membership.organisation_id == evidence.organisation_id,
            Membership.role.in_(("admin", "coach")),
        ).limit(1)
    ) is not None


def delete_orphans(session: Session, *, now: datetime, max_age: timedelta = ORPHAN_AGE) -> int:
    """Delete photos from abandoned previews and draft jobs nobody started; return how many.

    A photo is kept while an award refers to it, a badge application carries it, or a draft,
    queued or running job names it.
    """
    cutoff = now - max_age
    applied = set(session.scalars(
        select(BadgeApplication.evidence_file_id).where(BadgeApplication.evidence_file_id.is_not(None))
    ))
    session.execute(delete(Job).where(Job.status == DRAFT, Job.created_at < cutoff))
    pending = [
        str(payload)
        for payload in session.scalars(
            select(cast(Job.payload, Text)).where(Job.status.in_((DRAFT, "queued", "running")))
        )
    ]
    deleted = 0
    for evidence in session.scalars(select(EvidenceFile).where(EvidenceFile.created_at < cutoff)).all():
        if (evidence.id in applied or photo_is_attached(session, evidence)
                or any(evidence.public_id in text for text in pending)):
            continue
        session.delete(evidence)
        deleted += 1
    session.flush()
    return deleted


# --- awarding -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardPlan:
    """A checked request: what will be awarded to whom, with which evidence."""

    achievement: Achievement
    version: AchievementVersion
    clients: list[User]
    note: str | None
    observed: date | None
    photo: EvidenceFile | None


def plan_award(
    session: Session, organisation: Organisation, *, badge_id: str, client_ids: Iterable[str], note: str | None,
    observed: date | None, photo_id: str | None, today: date,
) -> AwardPlan:
    """Check every part of an award request against the database; raise AwardingError if any is wrong."""
    achievement = find_badge(session, organisation, badge_id or "")
    clients = find_clients(session, organisation, client_ids)
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise AwardingError("note_too_long", "the note is too long", limit=MAX_NOTE)
    if observed is not None:
        check_observed(observed, today=today)
    photo = find_photo(session, organisation, photo_id, clients) if photo_id else None
    return AwardPlan(achievement, achievement.current, clients, note, observed, photo)


def check_nonce(nonce: str | None) -> str:
    """Return the form's one-time value if it has the right shape, else raise."""
    if not nonce or not _NONCE.fullmatch(nonce):
        raise AwardingError("form_expired", "the form expired; start again")
    return nonce


def form_key(nonce: str, client: User) -> str:
    """Return the idempotency key of one award of a confirmed form."""
    return f"form:{nonce}:{client.public_id}"


def job_key(job: Job, index: int) -> str:
    """Return the idempotency key of row ``index`` of a bulk job."""
    return f"job:{job.public_id}:{index}"


def group_job_id(organisation: Organisation, nonce: str) -> str:
    """Return the public id of the job for a confirmed group form (the same for a resubmission)."""
    return sha256(f"group-job:{organisation.id}:{nonce}".encode()).hexdigest()[:32]


def award_one(
    session: Session, site: services.Site, organisation: Organisation, *, version: AchievementVersion,
    recipient: User, key: str, now: datetime, issued_by: User | None = None, note: str | None = None,
    observed: date | None = None, photo: EvidenceFile | None = None,
) -> Award:
    """Issue one award under idempotency ``key``; the same key returns the award it made.

    A key that belongs to an award of another organisation, badge or person is refused (it
    can only come from a tampered form).
    """
    existing = session.scalar(select(Award).where(Award.idempotency_key == key))
    if existing is not None:
        _check_same(existing, organisation, recipient, version)
        return existing
    return services.issue_award(
        session, site, version=version, recipient=recipient, now=now, issued_by=issued_by, evidence_note=note,
        observed_at=observed_moment(observed, now=now) if observed else None,
        evidence=_photo_evidence(session, site, photo, recipient, version, now=now), idempotency_key=key,
    )


def _check_same(existing: Award, organisation: Organisation, recipient: User, version: AchievementVersion) -> None:
    """Refuse an idempotency key that belongs to another organisation's, badge's or person's award."""
    if (existing.organisation_id, existing.recipient_id, existing.achievement_version.achievement_id) != (
        organisation.id, recipient.id, version.achievement_id,
    ):
        raise AwardingError("form_expired", "the form expired; start again")


def _photo_evidence(
    session: Session, site: services.Site, photo: EvidenceFile | None, recipient: User,
    version: AchievementVersion, *, now: datetime,
) -> list[Evidence]:
    """Return the evidence items of an award with ``photo`` (the recipient's own copy of it)."""
    if photo is None:
        return []
    own = _photo_for(session, photo, recipient, now=now)
    return [Evidence(id=site.url(photo_path(own)), name=_PHOTO.get(version.language, _PHOTO["fi"]))]


def award_plan(
    session: Session, site: services.Site, organisation: Organisation, plan: AwardPlan, *, nonce: str,
    issued_by: User, now: datetime,
) -> list[Award]:
    """Issue the planned award to every chosen client, once each even if confirmed twice."""
    check_nonce(nonce)
    return [
        award_one(
            session, site, organisation, version=plan.version, recipient=client, key=form_key(nonce, client),
            now=now, issued_by=issued_by, note=plan.note, observed=plan.observed, photo=plan.photo,
        )
        for client in plan.clients
    ]


def awards_of_form(session: Session, organisation: Organisation, nonce: str) -> list[Award]:
    """Return the awards a confirmed form made, by recipient name."""
    check_nonce(nonce)
    return list(
        session.scalars(
            select(Award)
            .join(User, User.id == Award.recipient_id)
            .where(Award.organisation_id == organisation.id, Award.idempotency_key.startswith(f"form:{nonce}:"))
            .order_by(User.display_name)
        )
    )


# --- bulk jobs ----------------------------------------------------------------------------------


def plan_rows(plan: AwardPlan, *, nonce: str) -> list[dict[str, Any]]:
    """Return job rows for a group award (ids only; each row keeps the form's idempotency key)."""
    return [
        {
            "line": None, "client": client.public_id, "version": plan.version.public_id, "note": plan.note,
            "observed": plan.observed.isoformat() if plan.observed else None,
            "photo": plan.photo.public_id if plan.photo else None, "key": form_key(nonce, client),
        }
        for client in plan.clients
    ]


def create_job(
    session: Session, organisation: Organisation, *, rows: list[dict[str, Any]], created_by: User | None,
    now: datetime, source: str, status: str = "queued", public_id: str | None = None,
) -> Job:
    """Record a bulk award job (``draft`` waits for a person to start it).

    ``created_by`` is the staff member who issues the awards; None for an import from the
    command line without ``--by`` (the awards then name no coach).
    """
    job = Job(
        organisation_id=organisation.id, created_by_id=created_by.id if created_by else None,
        kind=JOB_KIND_AWARDS, status=status, total=len(rows), done=0, payload={"source": source, "rows": rows},
        created_at=now,
    )
    if public_id:
        job.public_id = public_id
    session.add(job)
    session.flush()
    if status != DRAFT:
        services.record(session, "job.create", now=now, actor=created_by, organisation=organisation,
                        target=job.public_id, details={"kind": job.kind, "source": source, "rows": len(rows)})
    return job


def _row_client(session: Session, organisation: Organisation, public_id: str) -> User:
    return find_clients(session, organisation, [public_id])[0]


def _row_version(session: Session, organisation: Organisation, public_id: str) -> AchievementVersion:
    """Return the current version of the row's badge (a newer version may have appeared since the dry run)."""
    version = session.scalar(
        select(AchievementVersion)
        .join(Achievement)
        .where(AchievementVersion.public_id == public_id, Achievement.organisation_id == organisation.id)
    )
    if version is None:
        raise AwardingError("unknown_badge", "no such badge in this organisation")
    if version.achievement.retired_at is not None:
        raise AwardingError("badge_retired", "this badge is retired and cannot be awarded")
    return version.achievement.current


def _row_photo(session: Session, organisation: Organisation, public_id: str) -> EvidenceFile:
    evidence = session.scalar(
        select(EvidenceFile).where(
            EvidenceFile.public_id == public_id, EvidenceFile.organisation_id == organisation.id
        )
    )
    if evidence is None:
        raise AwardingError("unknown_photo", "the photo is no longer available")
    return evidence


def check_job_rows(session: Session, organisation: Organisation, job: Job) -> list["RowProblem"]:
    """Check a draft job's rows again (clients still clients, badges not retired); return problems.

    Each distinct client and badge is looked up once (a query per thousand), not once per row:
    a job may have thousands of rows.
    """
    rows = job.payload.get("rows", [])
    client_ids = sorted({row["client"] for row in rows})
    version_ids = sorted({row["version"] for row in rows})
    clients: set[str] = set()
    versions: dict[str, AchievementVersion] = {}
    for part in range(0, len(client_ids), _LOOKUP_BATCH):
        clients.update(clients_among(session, organisation, client_ids[part:part + _LOOKUP_BATCH]))
    for part in range(0, len(version_ids), _LOOKUP_BATCH):
        versions.update(versions_among(session, organisation, version_ids[part:part + _LOOKUP_BATCH]))
    problems: list[RowProblem] = []
    for row in rows:
        if row["client"] not in clients:
            problems.append(RowProblem(row.get("line"), "unknown_client"))
        elif row["version"] not in versions:
            problems.append(RowProblem(row.get("line"), "unknown_badge"))
        elif versions[row["version"]].achievement.retired_at is not None:
            problems.append(RowProblem(row.get("line"), "badge_retired"))
    return problems


def process_award_row(session: Session, site: services.Site, job: Job, index: int, *, now: datetime) -> Award:
    """Issue the award of row ``index`` of ``job`` (idempotent: a resumed job never issues twice)."""
    organisation = session.get(Organisation, job.organisation_id)
    row = job.payload["rows"][index]
    recipient = _row_client(session, organisation, row["client"])
    version = _row_version(session, organisation, row["version"])
    photo = _row_photo(session, organisation, row["photo"]) if row.get("photo") else None
    issued_by = session.get(User, job.created_by_id) if job.created_by_id else None
    return award_one(
        session, site, organisation, version=version, recipient=recipient, now=now, issued_by=issued_by,
        key=row.get("key") or job_key(job, index), note=row.get("note"),
        observed=date.fromisoformat(row["observed"]) if row.get("observed") else None, photo=photo,
    )


def process_award_rows(
    session: Session, site: services.Site, job: Job, start: int, stop: int, *, now: datetime
) -> list[Award]:
    """Issue rows ``start``..``stop - 1`` of ``job`` in the caller's transaction; raise if any row fails.

    The same awards as ``process_award_row`` for each row (rows already issued are skipped by
    their idempotency keys), with the database work done once for the whole chunk: one query
    each for the keys, the clients and the badges, one status-slot allocation, one INSERT of
    the awards and one of their audit events (no ORM bookkeeping per row). The caller rolls
    back on an error and finds the failing row by going row by row. Returns the awards,
    detached from the session.
    """
    organisation = session.get(Organisation, job.organisation_id)
    rows = job.payload["rows"][start:stop]
    keys = [row.get("key") or job_key(job, start + offset) for offset, row in enumerate(rows)]
    existing = {award.idempotency_key: award for award in session.scalars(
        select(Award).where(Award.idempotency_key.in_(keys))
    )}
    clients = clients_among(session, organisation, list({row["client"] for row in rows}))
    versions = _current_versions(session, organisation, list({row["version"] for row in rows}))
    if not all(row["client"] in clients for row in rows):
        raise AwardingError("unknown_client", "a chosen person is not a client of this organisation")
    issued_by = session.get(User, job.created_by_id) if job.created_by_id else None
    todo = []
    for row, key in zip(rows, keys, strict=True):
        recipient, version = clients[row["client"]], versions[row["version"]]
        if key in existing:
            _check_same(existing[key], organisation, recipient, version)
        else:
            todo.append((row, key, recipient, version))
    slots = services.allocate_status_slots(session, site, organisation, len(todo), now=now)
    values: dict[int, Any] = {}
    awards: list[Award] = []
    events: list[dict[str, Any]] = []
    for (row, key, recipient, version), slot in zip(todo, slots, strict=True):
        if version.id not in values:
            values[version.id] = services.achievement_data(
                site, version, endorsements=services.endorsement_texts(session, version.achievement, now=now)
            )
        photo = _row_photo(session, organisation, row["photo"]) if row.get("photo") else None
        observed = date.fromisoformat(row["observed"]) if row.get("observed") else None
        award = services.build_award(
            session, site, version=version, recipient=recipient, now=now, slot=slot, issued_by=issued_by,
            evidence_note=row.get("note"),
            observed_at=observed_moment(observed, now=now) if observed else None,
            evidence=_photo_evidence(session, site, photo, recipient, version, now=now), idempotency_key=key,
            achievement_values=values[version.id], add=False,
        )
        awards.append(award)
        events.append(services.issue_event(award, version))
    if awards:
        session.execute(insert(Award), [_column_values(award) for award in awards])
        session.execute(insert(AuditEvent), events)
    return awards


def _column_values(award: Award) -> dict[str, Any]:
    """Return the values an unsaved award was given (the rest take their column defaults)."""
    return {
        column.key: value for column in Award.__table__.columns
        if (value := getattr(award, column.key)) is not None
    }


def _current_versions(
    session: Session, organisation: Organisation, public_ids: list[str]
) -> dict[str, AchievementVersion]:
    """Return the current version of each row badge (as ``_row_version`` does), by the row's id."""
    found = versions_among(session, organisation, public_ids)
    if len(found) != len(public_ids):
        raise AwardingError("unknown_badge", "no such badge in this organisation")
    if any(version.achievement.retired_at is not None for version in found.values()):
        raise AwardingError("badge_retired", "this badge is retired and cannot be awarded")
    return {public_id: version.achievement.current for public_id, version in found.items()}


def job_row_line(job: Job, index: int) -> int:
    """Return the CSV line number of row ``index`` (or its position for a group award)."""
    rows = job.payload.get("rows", [])
    line = rows[index].get("line") if 0 <= index < len(rows) else None
    return line if isinstance(line, int) else index + 1


def of_job(job: Job) -> ColumnElement[bool]:
    """Return the condition that selects the awards a job made (by their idempotency keys)."""
    keys = [row["key"] for row in job.payload.get("rows", []) if row.get("key")]
    if keys:
        return Award.idempotency_key.in_(keys)
    return Award.idempotency_key.startswith(f"job:{job.public_id}:")


def start_job(
    session: Session, organisation: Organisation, job: Job, *, actor: User, now: datetime
) -> list["RowProblem"]:
    """Queue a draft job after checking its rows again; return problems instead if any appeared."""
    if job.status != DRAFT:
        raise AwardingError("job_not_draft", "this job was started already")
    problems = check_job_rows(session, organisation, job)
    if problems:
        return problems
    job.status = "queued"
    job.created_at = now
    session.flush()
    services.record(session, "job.create", now=now, actor=actor, organisation=organisation, target=job.public_id,
                    details={"kind": job.kind, "source": job.payload.get("source"), "rows": job.total})
    return []


def retry_job(session: Session, organisation: Organisation, job: Job, *, actor: User | None, now: datetime) -> Job:
    """Queue a failed job again; finished rows are not issued twice (idempotency keys)."""
    if job.status != "failed":
        raise AwardingError("job_not_failed", "only a stopped job can be continued")
    job.status = "queued"
    job.error = None
    job.finished_at = None
    job.payload = {key: value for key, value in job.payload.items() if key != "failure"}
    session.flush()
    services.record(session, "job.retry", now=now, actor=actor, organisation=organisation, target=job.public_id,
                    details={"kind": job.kind, "rows_done": job.done})
    return job


# --- CSV ------------------------------------------------------------------------------------------

#: Accepted header names (English, Finnish, Swedish), lower-case.
CSV_COLUMNS = {
    "client": ("client", "asiakas", "valmennettava", "klient"),
    "badge": ("badge", "merkki", "osaamismerkki", "märke"),
    "evidence": ("evidence", "näyttö", "havainto", "bevis", "observation"),
    "observed": ("observed", "date", "päivämäärä", "havaittu", "datum"),
}


@dataclass(frozen=True)
class RowProblem:
    """Why one CSV row (``line``; None for the whole file) cannot be issued."""

    line: int | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class CsvReport:
    """The outcome of a dry run: good rows as job rows, and every problem found."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when every row is good and there is at least one."""
        return not self.problems and bool(self.rows)


def _norm(text: str) -> str:
    """Return ``text`` for matching names: NFC, case-folded, inner spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Lookup:
    """Find clients and badges of one organisation by the values people put in a CSV."""

    def __init__(self, session: Session, organisation: Organisation) -> None:
        self.by_id: dict[str, User] = {}
        self.by_email: dict[str, User] = {}
        self.by_name: dict[str, list[User]] = {}
        for user in clients_of(session, organisation):
            self.by_id[user.public_id] = user
            if user.email:
                self.by_email[user.email.lower()] = user
            self.by_name.setdefault(_norm(user.display_name), []).append(user)
        self.badges = [
            a for a in session.scalars(select(Achievement).where(Achievement.organisation_id == organisation.id))
            if a.versions
        ]

    def client(self, value: str) -> User:
        if value in self.by_id:
            return self.by_id[value]
        if "@" in value:
            user = self.by_email.get(value.strip().lower())
            if user is None:
                raise AwardingError("unknown_client", "no such client")
            return user
        matches = self.by_name.get(_norm(value), [])
        if len(matches) > 1:
            raise AwardingError("ambiguous_client", "several clients have this name", count=len(matches))
        if not matches:
            raise AwardingError("unknown_client", "no such client")
        return matches[0]

    def badge(self, value: str) -> AchievementVersion:
        text = value.strip()
        matches = [a for a in self.badges if a.public_id == text]
        matches = matches or [a for a in self.badges if a.catalogue_ref and a.catalogue_ref == text]
        matches = matches or [a for a in self.badges if _norm(a.current.name) == _norm(text)]
        active = [a for a in matches if a.retired_at is None]
        if len(active) > 1:
            raise AwardingError("ambiguous_badge", "several badges match", count=len(active))
        if active:
            return active[0].current
        if matches:
            raise AwardingError("badge_retired", "the badge is retired")
        raise AwardingError("unknown_badge", "no such badge")


def check_award_csv(
    session: Session, organisation: Organisation, data: bytes, *, today: date, badge: str | None = None
) -> CsvReport:
    """Dry-run a CSV of awards: return the good rows (as ids) and every bad row by line and reason.

    The file is UTF-8 (with or without a byte order mark), comma-, semicolon- or tab-separated,
    with a header row naming the columns ``client`` and ``badge`` and optionally ``evidence`` and
    ``observed``. With ``badge`` (an id, catalogue reference or name, as in the column) the
    ``badge`` column may be left out, and rows that leave it empty get that badge. Nothing is
    written.
    """
    report = CsvReport()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.problems.append(RowProblem(None, "csv_not_utf8"))
        return report
    if "\x00" in text:
        report.problems.append(RowProblem(None, "csv_not_csv"))
        return report
    if not text.strip():
        report.problems.append(RowProblem(None, "csv_empty"))
        return report
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.splitlines()[0]), strict=True)
    try:
        records: list[tuple[int, list[str]]] = []
        line = 1
        for record in reader:
            records.append((line, record))
            line = reader.line_num + 1
            if len(records) > 2 * MAX_CSV_ROWS:
                break  # enough to know the file is too long; stop reading
    except csv.Error:
        report.problems.append(RowProblem(reader.line_num or None, "csv_not_csv"))
        return report
    header_line, header = records[0]
    names = [_norm(cell) for cell in header]
    columns: dict[str, int] = {}
    for key, aliases in CSV_COLUMNS.items():
        positions = [i for i, name in enumerate(names) if name in aliases]
        if len(positions) > 1:
            report.problems.append(RowProblem(header_line, "csv_duplicate_column", {"column": key}))
        elif positions:
            columns[key] = positions[0]
    for required in ("client",) if badge else ("client", "badge"):
        if required not in columns:
            report.problems.append(RowProblem(header_line, "csv_missing_column", {"column": required}))
    if report.problems:
        return report

    body = records[1:]
    while body and not any(cell.strip() for cell in body[-1][1]):
        body.pop()  # blank lines at the very end are what editors leave; they are no rows
    if not body:
        report.problems.append(RowProblem(None, "csv_no_rows"))
        return report
    if len(body) > MAX_CSV_ROWS:
        report.problems.append(RowProblem(None, "csv_too_many_rows", {"limit": MAX_CSV_ROWS}))
        return report
    lookup = _Lookup(session, organisation)
    for line, record in body:
        _report_row(report, lookup, line, record, columns, len(header), today=today, badge=badge)
    return report


def _report_row(
    report: CsvReport, lookup: _Lookup, line: int, record: list[str], columns: dict[str, int], width: int, *,
    today: date, badge: str | None = None,
) -> None:
    """Check one CSV record; add a job row or its problems to ``report``."""

    def cell(key: str) -> str:
        index = columns.get(key)
        value = record[index].strip() if index is not None and index < len(record) else ""
        return badge if not value and key == "badge" and badge else value

    if not any(value.strip() for value in record):
        report.problems.append(RowProblem(line, "empty_row"))
        return
    before = len(report.problems)
    if len(record) > width and any(value.strip() for value in record[width:]):
        report.problems.append(RowProblem(line, "extra_cells"))
    client = version = None
    if not cell("client"):
        report.problems.append(RowProblem(line, "missing_client"))
    else:
        try:
            client = lookup.client(cell("client"))
        except AwardingError as error:
            report.problems.append(RowProblem(line, error.code, {"value": cell("client"), **error.params}))
    if not cell("badge"):
        report.problems.append(RowProblem(line, "missing_badge"))
    else:
        try:
            version = lookup.badge(cell("badge"))
        except AwardingError as error:
            report.problems.append(RowProblem(line, error.code, {"value": cell("badge"), **error.params}))
    note = cell("evidence") or None
    if note and len(note) > MAX_NOTE:
        report.problems.append(RowProblem(line, "note_too_long", {"limit": MAX_NOTE, "length": len(note)}))
    observed = None
    if cell("observed"):
        observed = parse_csv_date(cell("observed"))
        if observed is None:
            report.problems.append(RowProblem(line, "bad_date", {"value": cell("observed")}))
        else:
            try:
                check_observed(observed, today=today)
            except AwardingError as error:
                report.problems.append(RowProblem(line, error.code, {"value": cell("observed")}))
    if len(report.problems) == before and client is not None and version is not None:
        report.rows.append({
            "line": line, "client": client.public_id, "version": version.public_id, "note": note,
            "observed": observed.isoformat() if observed else None, "photo": None,
        })


# --- revoking and notifications ---------------------------------------------------------------


def can_revoke(award: Award, user: User, roles: set[str]) -> bool:
    """Return True for an admin of the award's organisation, or the coach who issued it."""
    return "admin" in roles or ("coach" in roles and award.issued_by_id == user.id)


def revoke(
    session: Session, site: services.Site, award: Award, *, reason: str, actor: User, now: datetime
) -> Award:
    """Revoke an award, record who did it and tell the client in the UI."""
    reason = (reason or "").strip()
    if not reason:
        raise AwardingError("reason_required", "a reason is required")
    if len(reason) > MAX_REASON:
        raise AwardingError("reason_too_long", "the reason is too long", limit=MAX_REASON)
    services.revoke_award(session, site, award, reason=reason, now=now, actor=actor)
    award.revoked_by_id = actor.id
    session.add(Notification(user_id=award.recipient_id, kind=REVOKED, award_id=award.id, created_at=now))
    session.flush()
    return award


def unread_notifications(
    session: Session, user: User, *, kinds: Sequence[str] | None = None
) -> list[Notification]:
    """Return the person's unread notifications (of ``kinds``, if given), newest first."""
    stmt = select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if kinds is not None:
        stmt = stmt.where(Notification.kind.in_(kinds))
    return list(session.scalars(stmt.order_by(Notification.created_at.desc(), Notification.id.desc())))


def mark_read(
    session: Session, user: User, *, now: datetime, award_public_id: str | None = None,
    kinds: Sequence[str] | None = None,
) -> int:
    """Mark the person's notifications read (of ``kinds``; only one award's, if given); return how many."""
    notes = unread_notifications(session, user, kinds=kinds)
    if award_public_id:
        notes = [n for n in notes if n.award is not None and n.award.public_id == award_public_id]
    for note in notes:
        note.read_at = now
    session.flush()
    return len(notes)


# --- lists --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardFilter:
    """Filters of the organisation's award list (all optional)."""

    badge: str | None = None  #: achievement public id
    client: str | None = None  #: part of the recipient's name
    status: str | None = None  #: valid, revoked or expired
    start: date | None = None  #: issued on or after (Finnish date)
    end: date | None = None  #: issued on or before (Finnish date)
    issued_by: int | None = None
    job: Job | None = None


def day_start(day: date) -> datetime:
    """Return the UTC moment a Finnish calendar day starts."""
    return datetime.combine(day, time(0), tzinfo=HELSINKI).astimezone(UTC)


def awards_query(organisation: Organisation, filters: AwardFilter, *, now: datetime) -> Select[tuple[Award]]:
    """Return a query of the organisation's awards matching ``filters``, newest first."""
    stmt = select(Award).where(Award.organisation_id == organisation.id)
    if filters.job is not None:
        stmt = stmt.where(of_job(filters.job))
    if filters.badge:
        stmt = stmt.join(AchievementVersion, AchievementVersion.id == Award.achievement_version_id).join(
            Achievement, Achievement.id == AchievementVersion.achievement_id
        ).where(Achievement.public_id == filters.badge)
    if filters.client:
        pattern = "%" + filters.client.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.join(User, User.id == Award.recipient_id).where(User.display_name.ilike(pattern, escape="\\"))
    if filters.status == "revoked":
        stmt = stmt.where(Award.revoked_at.is_not(None))
    elif filters.status == "expired":
        stmt = stmt.where(Award.revoked_at.is_(None), Award.valid_until.is_not(None), Award.valid_until < now)
    elif filters.status == "valid":
        stmt = stmt.where(Award.revoked_at.is_(None), (Award.valid_until.is_(None)) | (Award.valid_until >= now))
    if filters.start:
        stmt = stmt.where(Award.issued_at >= day_start(filters.start))
    if filters.end:
        stmt = stmt.where(Award.issued_at < day_start(filters.end + timedelta(days=1)))
    if filters.issued_by:
        stmt = stmt.where(Award.issued_by_id == filters.issued_by)
    return stmt.order_by(Award.issued_at.desc(), Award.id.desc())


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit log (all optional)."""

    action: str | None = None
    actor: str | None = None  #: the actor's public id
    start: date | None = None
    end: date | None = None


def audit_query(session: Session, organisation: Organisation, filters: AuditFilter) -> Select[tuple[AuditEvent]]:
    """Return a query of the organisation's audit events matching ``filters``, newest first."""
    stmt = select(AuditEvent).where(AuditEvent.organisation_id == organisation.id)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.actor:
        actor_id = session.scalar(select(User.id).where(User.public_id == filters.actor))
        stmt = stmt.where(AuditEvent.actor_id == (actor_id or -1))
    if filters.start:
        stmt = stmt.where(AuditEvent.at >= day_start(filters.start))
    if filters.end:
        stmt = stmt.where(AuditEvent.at < day_start(filters.end + timedelta(days=1)))
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def audit_actions(session: Session, organisation: Organisation) -> list[str]:
    """Return the distinct actions in the organisation's audit log."""
    return sorted(session.scalars(
        select(AuditEvent.action).where(AuditEvent.organisation_id == organisation.id).distinct()
    ))


def audit_actors(session: Session, organisation: Organisation) -> list[User]:
    """Return the people who appear as actors in the organisation's audit log, by name."""
    ids = select(AuditEvent.actor_id).where(AuditEvent.organisation_id == organisation.id).distinct()
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.display_name)))


def count(session: Session, stmt: Select[Any]) -> int:
    """Return the number of rows ``stmt`` selects."""
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


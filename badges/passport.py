"""The client's passport: progress toward units, badge details, downloads and personal data.

Every function takes a SQLAlchemy ``Session`` and plain values, flushes and never commits;
nothing here imports Flask. Texts the holder reads (README, PDF pages) are rendered by the
web layer in the holder's language and passed in.
"""

import json
import re
import tempfile
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import Select, delete, or_, select, update
from sqlalchemy.orm import Session, contains_eager, defer, joinedload, selectinload

from badges import services
from badges.core.baking import bake_png, bake_svg
from badges.core.eperusteet import pick_text
from badges.core.errors import BadgesError
from badges.models import (
    AchievementVersion,
    ActivationCode,
    ApiToken,
    Award,
    BadgeApplication,
    EvidenceFile,
    IdempotentRequest,
    Invitation,
    Membership,
    Notification,
    Organisation,
    PasswordReset,
    Qualification,
    Requirement,
    Share,
    ShareAccess,
    StatusList,
    Unit,
    User,
    share_award,
)

#: What an erased account is called from then on (Finnish, the installation's first language).
ERASED_NAME = "Poistettu käyttäjä"
#: The reason written on badges withdrawn because their holder deleted the account.
HOLDER_REQUEST = "holder request"
#: A bundle beyond this many badges is refused (no real passport comes near it).
MAX_BUNDLE_AWARDS = 5000
#: The bundle is built in memory up to this size, then in a temporary file.
BUNDLE_MEMORY_BYTES = 16 * 1024 * 1024
#: Evidence photos are served under this path (see the coach blueprint).
EVIDENCE_PATH = "/evidence/"


class PassportError(BadgesError):
    """A passport request cannot be carried out; ``code`` says why."""

    code = "passport"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class PageAward:
    """An award as the passport page shows it: its own dates and state, its badge version and issuer.

    A read-only stand-in for :class:`~badges.models.Award` with the attributes pages use; the
    functions below accept either. It skips the ORM's per-object bookkeeping, which is most of
    the cost of a page of hundreds of badges, and carries no signed document or image.
    """

    id: int
    public_id: str
    issued_at: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    revocation_reason: str | None
    achievement_version_id: int
    achievement_version: AchievementVersion
    organisation: Organisation


#: An award as the functions of this module read it.
Shown = Award | PageAward


# --- state of an award --------------------------------------------------------------------------


def is_withdrawn(award: Shown) -> bool:
    """Return True when the issuer (or the holder) withdrew the award."""
    return award.revoked_at is not None


def is_expired(award: Shown, now: datetime) -> bool:
    """Return True when the award is past its ``validUntil`` (and not withdrawn)."""
    return award.revoked_at is None and award.valid_until is not None and award.valid_until <= now


def is_valid(award: Shown, now: datetime) -> bool:
    """Return True for an award that counts as an achievement today."""
    return award.revoked_at is None and (award.valid_until is None or award.valid_until > now)


#: The badge version and issuer of each award, loaded with the awards: one query per
#: relationship for the whole passport instead of one per badge.
_WITH_DETAILS = (selectinload(Award.achievement_version), selectinload(Award.organisation))


def _awards_of(holder: User) -> Select[tuple[Award]]:
    return select(Award).where(Award.recipient_id == holder.id).order_by(Award.issued_at.desc(), Award.id.desc())


def own_awards(session: Session, holder: User) -> list[Award]:
    """Return all of the holder's awards, newest first, with their badge versions and issuers."""
    return list(session.scalars(_awards_of(holder).options(*_WITH_DETAILS)))


def page_awards(session: Session, holder: User) -> list[PageAward]:
    """Return the holder's awards for the passport page, newest first, in three queries whatever their number.

    The badge versions and issuers are loaded once each, without their images (the page links
    to them); the signed documents are not read at all.
    """
    rows = session.execute(
        _awards_of(holder).with_only_columns(
            Award.id, Award.public_id, Award.issued_at, Award.valid_until, Award.revoked_at,
            Award.revocation_reason, Award.achievement_version_id, Award.organisation_id,
        )
    ).all()
    versions = {v.id: v for v in session.scalars(
        select(AchievementVersion).where(AchievementVersion.id.in_({r.achievement_version_id for r in rows}))
        .options(defer(AchievementVersion.image_png), defer(AchievementVersion.image_svg))
    )} if rows else {}
    issuers = {o.id: o for o in session.scalars(
        select(Organisation).where(Organisation.id.in_({r.organisation_id for r in rows}))
        .options(defer(Organisation.logo_png))
    )} if rows else {}
    return [
        PageAward(r.id, r.public_id, r.issued_at, r.valid_until, r.revoked_at, r.revocation_reason,
                  r.achievement_version_id, versions[r.achievement_version_id], issuers[r.organisation_id])
        for r in rows
    ]


def own_award(session: Session, holder: User, public_id: str) -> Award | None:
    """Return the holder's award with ``public_id``, or None (also for other people's awards)."""
    return session.scalar(select(Award).where(Award.public_id == public_id, Award.recipient_id == holder.id))


def aligned_codes(award: Shown) -> set[str]:
    """Return the alignment target codes of the award's badge version."""
    return {
        a["targetCode"] for a in award.achievement_version.alignments or []
        if isinstance(a, dict) and isinstance(a.get("targetCode"), str) and a["targetCode"]
    }


# --- texts in the reader's language -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Texts:
    """A badge version's texts in the reader's language when it has them, else in its own."""

    language: str
    name: str
    description: str
    criteria: str
    #: Plain Finnish (selkokieli): only for Finnish readers.
    plain_description: str | None


def texts_of(award: Shown, language: str) -> Texts:
    """Return the badge's texts for a reader of ``language``."""
    version = award.achievement_version
    plain = version.plain_description if language == "fi" and version.plain_description else None
    translated = (version.translations or {}).get(language) if language != version.language else None
    if isinstance(translated, dict) and translated.get("name"):
        return Texts(
            language=language, name=translated["name"],
            description=translated.get("description") or version.description,
            criteria=translated.get("criteria") or version.criteria_narrative, plain_description=plain,
        )
    return Texts(version.language, version.name, version.description, version.criteria_narrative, plain)


# --- progress toward units ----------------------------------------------------------------------


@dataclass
class UnitProgress:
    """How far the holder's valid badges reach into one unit (never what is missing)."""

    unit: Unit
    name: str
    #: Requirements in force of the unit.
    total: int
    #: Distinct requirements in force that at least one valid badge evidences.
    evidenced: int
    #: The valid badges that touch the unit (its code or one of its requirements).
    awards: list[Shown] = field(default_factory=list)


@dataclass
class QualificationProgress:
    """A qualification (or the osaamismerkit set) and the units the holder's badges touch."""

    qualification: Qualification
    name: str
    units: list[UnitProgress] = field(default_factory=list)

    @property
    def is_osaamismerkit(self) -> bool:
        """Return True for the national osaamismerkit set."""
        return self.qualification.source == "osaamismerkit"


def progress(session: Session, awards: Sequence[Shown], *, now: datetime, language: str) -> list[QualificationProgress]:
    """Group the valid ``awards`` by qualification → unit with the requirements evidenced.

    Revoked and expired awards do not count; withdrawn requirements count neither in the
    total nor as evidenced.
    """
    valid = [a for a in awards if is_valid(a, now)]
    by_version: dict[int, set[str]] = {}
    for award in valid:
        if award.achievement_version_id not in by_version:
            by_version[award.achievement_version_id] = aligned_codes(award)
    codes_of = {a.id: by_version[a.achievement_version_id] for a in valid}
    codes = set().union(*codes_of.values()) if codes_of else set()
    if not codes:
        return []
    touched_by_requirement = select(Requirement.unit_id).where(Requirement.key.in_(sorted(codes)))
    units = list(session.scalars(
        select(Unit).join(Unit.qualification).options(contains_eager(Unit.qualification))
        .where(or_(Unit.code.in_(sorted(codes)), Unit.id.in_(touched_by_requirement)))
        .order_by(Qualification.source, Qualification.id, Unit.position, Unit.id)
    ))
    if not units:
        return []
    requirements: dict[int, list[Requirement]] = defaultdict(list)
    for requirement in session.scalars(
        select(Requirement).where(Requirement.unit_id.in_([u.id for u in units]), Requirement.withdrawn_at.is_(None))
    ):
        requirements[requirement.unit_id].append(requirement)
    groups: dict[int, QualificationProgress] = {}
    for unit in units:
        keys = {r.key for r in requirements[unit.id]}
        unit_codes = keys | {unit.code}
        touching = [a for a in valid if codes_of[a.id] & unit_codes]
        evidenced = len({code for a in touching for code in codes_of[a.id]} & keys)
        qualification = unit.qualification
        group = groups.get(qualification.id)
        if group is None:
            group = groups[qualification.id] = QualificationProgress(
                qualification, pick_text(qualification.names, language)[0] or qualification.source_id
            )
        group.units.append(UnitProgress(
            unit, pick_text(unit.names, language)[0] or unit.code, len(keys), evidenced, touching
        ))
    # Vocational qualifications first, the osaamismerkit set after them.
    return sorted(groups.values(), key=lambda g: (g.is_osaamismerkit, g.name.casefold()))


@dataclass(frozen=True, slots=True)
class Month:
    """One month of the timeline with the badges earned in it."""

    year: int
    month: int
    awards: tuple[Shown, ...]

    @property
    def first_day(self) -> date:
        """Return the first day of the month (for formatting its name)."""
        return date(self.year, self.month, 1)


def timeline(awards: Iterable[Shown], *, now: datetime) -> list[Month]:
    """Return the valid awards by month of issue, newest month first."""
    months: dict[tuple[int, int], list[Award]] = defaultdict(list)
    for award in awards:
        if is_valid(award, now):
            months[(award.issued_at.year, award.issued_at.month)].append(award)
    return [Month(y, m, tuple(sorted(items, key=lambda a: a.issued_at, reverse=True)))
            for (y, m), items in sorted(months.items(), reverse=True)]


# --- alignments and evidence in plain language ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlignmentView:
    """An alignment explained: the requirement text, its unit and qualification, and a link."""

    name: str
    url: str | None
    code: str | None
    requirement: str | None
    unit: str | None
    qualification: str | None


def explain_alignments(session: Session, award: Shown, *, language: str) -> list[AlignmentView]:
    """Return the badge's alignments with the framework's own names where we have the data.

    A code names a requirement (the one in force, else the oldest) or, failing that, a unit;
    all of them are looked up in at most two queries.
    """
    alignments = [a for a in award.achievement_version.alignments or [] if isinstance(a, dict)]
    codes = sorted({a["targetCode"] for a in alignments if isinstance(a.get("targetCode"), str) and a["targetCode"]})
    requirements: dict[str, Requirement] = {}
    units: dict[str, Unit] = {}
    if codes:
        for requirement in session.scalars(
            select(Requirement).where(Requirement.key.in_(codes))
            .options(joinedload(Requirement.unit).joinedload(Unit.qualification))
            .order_by(Requirement.withdrawn_at.is_not(None), Requirement.id)
        ):
            requirements.setdefault(requirement.key, requirement)
        if missing := [code for code in codes if code not in requirements]:
            for unit in session.scalars(
                select(Unit).where(Unit.code.in_(missing)).options(joinedload(Unit.qualification)).order_by(Unit.id)
            ):
                units.setdefault(unit.code, unit)
    views = []
    for alignment in alignments:
        code = alignment.get("targetCode") if isinstance(alignment.get("targetCode"), str) else None
        url = alignment.get("targetUrl") if isinstance(alignment.get("targetUrl"), str) else None
        requirement_text = unit_name = qualification_name = None
        requirement = requirements.get(code) if code else None
        unit = requirement.unit if requirement is not None else units.get(code) if code else None
        if requirement is not None:
            requirement_text = pick_text(requirement.texts, language)[0] or None
        if unit is not None:
            unit_name = pick_text(unit.names, language)[0] or unit.code
            qualification_name = pick_text(unit.qualification.names, language)[0] or None
        views.append(AlignmentView(
            name=str(alignment.get("targetName") or requirement_text or unit_name or code or ""),
            url=url if url and url.startswith("https://") else None, code=code,
            requirement=requirement_text, unit=unit_name,
            qualification=qualification_name or (alignment.get("targetFramework") or None),
        ))
    return views


@dataclass(frozen=True, slots=True)
class EvidenceView:
    """One evidence item of the signed credential: a note, or a photo served at ``/evidence/<id>``."""

    name: str | None
    narrative: str | None
    photo_id: str | None


def evidence_of(site: services.Site, award: Award) -> list[EvidenceView]:
    """Return the evidence items written into the award's credential."""
    try:
        document = json.loads(award.document)
    except ValueError:
        return []
    prefix = site.url(EVIDENCE_PATH)
    items = []
    listed = document.get("evidence") if isinstance(document, dict) else None
    for item in listed if isinstance(listed, list) else []:
        if not isinstance(item, dict):
            continue
        ref = item.get("id")
        photo = ref[len(prefix):] if isinstance(ref, str) and ref.startswith(prefix) else None
        name = item.get("name") if isinstance(item.get("name"), str) else None
        narrative = item.get("narrative") if isinstance(item.get("narrative"), str) else None
        if photo or narrative:
            items.append(EvidenceView(name, narrative, photo))
    return items


def set_evidence_hidden(session: Session, award: Award, hidden: bool, *, now: datetime) -> Award:
    """Hide (or show again) the award's evidence in the passport and in shares.

    The signed credential is not changed: it cannot be without breaking its signature.
    """
    award.evidence_hidden = bool(hidden)
    session.flush()
    return award


# --- the bundle: verifiable without our site ---------------------------------------------------


def _slug(text: str, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].strip("-") or "badge"


def bundle_name(award: Award, now: datetime) -> str:
    """Return the file name stem of an award in the bundle: folder, date, badge name, short id."""
    folder = "withdrawn" if is_withdrawn(award) else "expired" if is_expired(award, now) else "badges"
    date = award.issued_at.date().isoformat()
    return f"{folder}/{date}-{_slug(award.achievement_version.name)}-{award.public_id[:8]}"


def write_bundle(
    session: Session, site: services.Site, holder: User, out: IO[bytes], *, now: datetime, readme: str,
) -> list[str]:
    """Write the holder's ZIP bundle to ``out``; return the names written.

    Each credential as signed JSON and baked PNG and SVG; each issuer's DID document and the
    current signed status lists, so that ``badges verify FILE --doc …`` works offline.
    """
    awards = own_awards(session, holder)
    if len(awards) > MAX_BUNDLE_AWARDS:
        raise PassportError("bundle_too_large", f"the passport has more than {MAX_BUNDLE_AWARDS} badges")
    names: list[str] = []
    organisations: dict[int, Organisation] = {}
    lists: dict[int, StatusList] = {}
    images: set[int] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        def put(name: str, data: bytes | str, *, compress: bool = True) -> None:
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)
            names.append(name)

        put("README.txt", readme)
        for award in awards:
            version = award.achievement_version
            stem = bundle_name(award, now)
            put(f"{stem}.json", award.document)
            put(f"{stem}.png", bake_png(version.image_png, award.document), compress=False)
            put(f"{stem}.svg", bake_svg(version.image_svg, award.document))
            organisations[award.organisation_id] = award.organisation
            lists[award.status_list_id] = award.status_list
            if version.id not in images:
                images.add(version.id)
                put(f"images/{version.public_id}.png", version.image_png, compress=False)
        for organisation in organisations.values():
            document = services.did_document(site, organisation)
            put(f"issuers/{organisation.slug}/did.json", json.dumps(document, ensure_ascii=False, indent=2))
        for status_list in lists.values():
            put(f"status/{status_list.public_id}.json", status_list.document)
    return names


def bundle_file(session: Session, site: services.Site, holder: User, *, now: datetime, readme: str) -> IO[bytes]:
    """Return the bundle as a file object at position 0 (in memory up to a cap, then on disk)."""
    out = tempfile.SpooledTemporaryFile(max_size=BUNDLE_MEMORY_BYTES)  # noqa: SIM115 - the caller closes it
    try:
        write_bundle(session, site, holder, out, now=now, readme=readme)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def bundle_facts(session: Session, site: services.Site, holder: User) -> dict[str, Any]:
    """Return what the README mentions: issuers' DID URLs and the live status list URLs."""
    awards = own_awards(session, holder)
    issuers = {a.organisation.slug: a.organisation.name for a in awards}
    lists = {a.status_list.public_id: a.status_list for a in awards}
    return {
        "issuers": sorted((slug, name, site.url(f"/issuers/{slug}/did.json")) for slug, name in issuers.items()),
        "status_lists": sorted((pid, site.status_url(pid), sl.updated_at) for pid, sl in lists.items()),
        "count": len(awards),
    }


# --- the printable PDF --------------------------------------------------------------------------


class PdfFetchRefused(Exception):  # noqa: N818 - a value recorded, not an error a user sees
    """Raised to WeasyPrint for any resource that is not a ``data:`` URI."""


def _import_weasyprint() -> Any:
    """Import WeasyPrint without letting it weaken Pillow for the rest of the process.

    WeasyPrint sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True`` on import, which would make
    the upload checks (:mod:`badges.core.images`) accept truncated photos and logos.
    """
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        import weasyprint
        import weasyprint.urls
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    return weasyprint


def data_only_fetcher(refused: list[str] | None = None) -> Any:
    """Return a WeasyPrint URL fetcher that serves ``data:`` URIs only and records the rest."""
    urls = _import_weasyprint().urls

    log = refused if refused is not None else []
    if hasattr(urls, "URLFetcher"):  # WeasyPrint ≥ 66: fetchers are objects
        class DataOnlyFetcher(urls.URLFetcher):
            def __init__(self) -> None:
                super().__init__(allowed_protocols=("data",), allow_redirects=False)
                self.refused = log

            def fetch(self, url: str, headers: Any = None) -> Any:
                if not url.startswith("data:"):
                    self.refused.append(url)
                    raise PdfFetchRefused(url)
                return super().fetch(url, headers)

        return DataOnlyFetcher()

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:  # older WeasyPrint: a function
        if not url.startswith("data:"):
            log.append(url)
            raise PdfFetchRefused(url)
        return urls.default_url_fetcher(url, *args, **kwargs)

    return fetch


def html_to_pdf(html: str, *, fetcher_factory: Callable[[], Any] = data_only_fetcher) -> bytes:
    """Render ``html`` as a PDF; nothing outside the HTML is ever fetched."""
    weasyprint = _import_weasyprint()
    return weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher_factory()).write_pdf()


def qr_svg(url: str) -> str:
    """Return an inline SVG QR code for ``url`` (no external references)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=3, border=2, omitsize=False)


def png_data_uri(data: bytes) -> str:
    """Return ``data`` as a ``data:image/png`` URI."""
    import base64

    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


# --- personal data: export and erasure ----------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def export_personal_data(session: Session, site: services.Site, person: User, *, now: datetime) -> dict[str, Any]:
    """Return everything stored about ``person`` as plain JSON values.

    Of other people only the names of issuers and of coaches who answered are included.
    """
    import base64

    awards = own_awards(session, person)
    shares = list(session.scalars(select(Share).where(Share.client_id == person.id).order_by(Share.created_at)))
    applications = list(session.scalars(
        select(BadgeApplication).where(BadgeApplication.client_id == person.id).order_by(BadgeApplication.created_at)
    ))
    notifications = list(session.scalars(
        select(Notification).where(Notification.user_id == person.id).order_by(Notification.created_at)
    ))
    photos = list(session.scalars(
        select(EvidenceFile).where(EvidenceFile.subject_id == person.id).order_by(EvidenceFile.created_at)
    ))
    return {
        "exported_at": now.isoformat(),
        "profile": {
            "id": person.public_id, "display_name": person.display_name, "email": person.email,
            "locale": person.locale, "created_at": _iso(person.created_at),
            "is_professional": person.is_professional,
            "professional_organisation": person.professional_organisation,
        },
        "memberships": [
            {"organisation": m.organisation.name, "role": m.role, "since": _iso(m.created_at)}
            for m in person.memberships
        ],
        "awards": [
            {
                "id": a.public_id, "badge": a.achievement_version.name, "issuer": a.organisation.name,
                "issued_at": _iso(a.issued_at), "valid_until": _iso(a.valid_until),
                "revoked_at": _iso(a.revoked_at), "revocation_reason": a.revocation_reason,
                "evidence_hidden": a.evidence_hidden, "verification_page": site.credential_url(a.public_id),
                "credential": _json_or_text(a.document),
            }
            for a in awards
        ],
        "evidence_photos": [
            {"id": p.public_id, "organisation": p.organisation_id and _organisation_name(session, p.organisation_id),
             "mimetype": p.mimetype, "created_at": _iso(p.created_at),
             "content_base64": base64.b64encode(p.content).decode("ascii")}
            for p in photos
        ],
        "shares": [
            {
                "id": s.public_id, "scope": s.scope, "recipient": s.recipient_label, "purpose": s.purpose,
                "include_evidence": s.include_evidence, "created_at": _iso(s.created_at),
                "expires_at": _iso(s.expires_at), "revoked_at": _iso(s.revoked_at),
                "awards": [a.public_id for a in s.awards],
                "accesses": [{"at": _iso(x.at), "device": x.device, "via": x.via} for x in s.accesses],
            }
            for s in shares
        ],
        "applications": [
            {
                "id": b.public_id, "organisation": b.organisation.name,
                "badge": b.achievement.current.name, "statement": b.statement, "status": b.status,
                "reply": b.reply, "answered_by": _user_name(session, b.decided_by_id),
                "created_at": _iso(b.created_at), "decided_at": _iso(b.decided_at),
                "award": b.award.public_id if b.award else None,
            }
            for b in applications
        ],
        "notifications": [
            {"kind": n.kind, "award": n.award.public_id if n.award else None,
             "created_at": _iso(n.created_at), "read_at": _iso(n.read_at)}
            for n in notifications
        ],
    }


def _organisation_name(session: Session, organisation_id: int) -> str | None:
    organisation = session.get(Organisation, organisation_id)
    return organisation.name if organisation else None


def _user_name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user else None


def delete_account(
    session: Session, site: services.Site, person: User, password: str, *, withdraw: bool, now: datetime,
) -> int:
    """Erase the person's personal data; withdraw their badges first if asked. Return badges withdrawn.

    Award rows stay (their signed documents hold only a salted hash of the identifier) and are
    left attached to the anonymised account; audit events keep only ids.
    """
    if not services.check_password(person, password or ""):
        raise PassportError("wrong_password", "the password is not right")
    withdrawn = 0
    if withdraw:
        for award in own_awards(session, person):
            if award.revoked_at is None:
                services.revoke_award(session, site, award, reason=HOLDER_REQUEST, now=now, actor=person)
                withdrawn += 1
    erase_personal_data(session, person, now=now)
    services.record(session, "account.delete", now=now, actor=person,
                    details={"withdrawn": withdrawn, "kept_valid": not withdraw})
    return withdrawn


def erase_personal_data(session: Session, person: User, *, now: datetime) -> None:
    """Remove or blank every row that says something about ``person`` beyond opaque ids."""
    share_ids = list(session.scalars(select(Share.id).where(Share.client_id == person.id)))
    if share_ids:
        session.execute(delete(ShareAccess).where(ShareAccess.share_id.in_(share_ids)))
        session.execute(delete(share_award).where(share_award.c.share_id.in_(share_ids)))
        session.execute(delete(Share).where(Share.id.in_(share_ids)))
    # Shares other clients made to this (professional) account end: nobody can open them now.
    session.execute(
        update(Share).where(Share.recipient_user_id == person.id, Share.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)
    )
    session.execute(
        update(Share).where(Share.recipient_user_id == person.id)
        .values(recipient_user_id=None).execution_options(synchronize_session=False)
    )
    application_photos = set(session.scalars(
        select(BadgeApplication.evidence_file_id).where(
            BadgeApplication.client_id == person.id, BadgeApplication.evidence_file_id.is_not(None)
        )
    ))
    session.execute(delete(BadgeApplication).where(BadgeApplication.client_id == person.id))
    photo_ids = set(session.scalars(select(EvidenceFile.id).where(EvidenceFile.subject_id == person.id)))
    photo_ids |= application_photos
    if photo_ids:
        # Another client's application never points at this person's photos; clear any link to be safe.
        session.execute(
            update(BadgeApplication).where(BadgeApplication.evidence_file_id.in_(photo_ids))
            .values(evidence_file_id=None).execution_options(synchronize_session=False)
        )
        session.execute(delete(EvidenceFile).where(EvidenceFile.id.in_(photo_ids)))
    session.execute(delete(Notification).where(Notification.user_id == person.id))
    session.execute(delete(ActivationCode).where(ActivationCode.user_id == person.id))
    session.execute(delete(PasswordReset).where(PasswordReset.user_id == person.id))
    # API tokens end with the account; stored API answers may quote what the person sent.
    session.execute(delete(ApiToken).where(ApiToken.user_id == person.id))
    session.execute(delete(IdempotentRequest).where(IdempotentRequest.user_id == person.id))
    if person.email:
        session.execute(delete(Invitation).where(Invitation.email == person.email))
    session.execute(delete(Membership).where(Membership.user_id == person.id))
    person.display_name = ERASED_NAME
    person.email = None
    person.password_hash = None
    person.locale = "fi"
    person.is_active = False
    person.is_professional = False
    person.professional_organisation = None
    session.flush()
    session.expire_all()


def write_json(data: Any) -> bytes:
    """Return ``data`` as pretty UTF-8 JSON bytes."""
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


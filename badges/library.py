"""Use cases of an organisation's badge library: read catalogues, adopt, create, edit, retire.

Functions take a ``Session`` and plain values, flush and never commit (the caller commits
once). Catalogue files are read from ``criteria/`` and cached per process by modification
time, so an edited catalogue is picked up without a restart.
"""

import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from badges import services
from badges.core import artwork
from badges.core.criteria import Catalogue, CatalogueCheck, Definition, check_catalogue_text
from badges.core.errors import BadgesError
from badges.models import Achievement, AchievementVersion, Award, Organisation, User

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CRITERIA_DIR = PROJECT_ROOT / "criteria"
SCHEMA_PATH = CRITERIA_DIR / "catalogue.schema.json"
LANGUAGES = ("fi", "sv", "en")
#: Keys of one language's texts in ``AchievementVersion.translations``.
TRANSLATED = ("name", "description", "criteria", "image_alt", "evidence_guidance")
MAX_ALIGNMENTS = 20
MAX_VALID_DAYS = 3650


class AlreadyAdoptedError(BadgesError):
    """The organisation has adopted this catalogue definition already."""

    code = "badge_already_adopted"
    status = 409


class UnknownAlignmentError(BadgesError):
    """Some alignment codes match no imported requirement, unit or osaamismerkki."""

    code = "alignment_unknown"

    def __init__(self, codes: Sequence[str]) -> None:
        super().__init__("unknown alignment codes: " + ", ".join(codes))
        self.codes = tuple(codes)


class TooManyAlignmentsError(BadgesError):
    """More alignment codes than a badge may carry."""

    code = "alignment_too_many"


# --- catalogues ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogueFile:
    """One file of ``criteria/`` and what checking it found."""

    path: Path
    check: CatalogueCheck

    @property
    def catalogue(self) -> Catalogue | None:
        """Return the catalogue, or None when the file has errors."""
        return self.check.catalogue


_cache: dict[Path, tuple[tuple[int, int], CatalogueFile]] = {}
_cache_lock = threading.Lock()
_schema_cache: dict[str, Any] = {}


def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """Return the catalogue JSON Schema (read once per process)."""
    key = str(path)
    if key not in _schema_cache:
        _schema_cache[key] = json.loads(path.read_text(encoding="utf-8"))
    return _schema_cache[key]


def check_file(path: Path, *, schema: Mapping[str, Any] | None = None) -> CatalogueCheck:
    """Check one catalogue file: schema, semantics and wording, with line numbers."""
    return check_catalogue_text(path.read_bytes(), schema=schema or load_schema())


def catalogue_files(directory: Path | None = None) -> list[CatalogueFile]:
    """Return every catalogue file of ``directory`` (``criteria/``) checked, cached while unchanged."""
    found = []
    for path in sorted((directory or CRITERIA_DIR).glob("*.json")):
        if path.name.endswith(".schema.json"):
            continue
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with _cache_lock:
            cached = _cache.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, CatalogueFile(path, check_file(path)))
            with _cache_lock:
                _cache[path] = cached
        found.append(cached[1])
    return found


def list_catalogues(directory: Path | None = None) -> list[Catalogue]:
    """Return the valid catalogues of ``directory`` (files with errors are left out)."""
    return [f.catalogue for f in catalogue_files(directory) if f.catalogue is not None]


def find_definition(
    catalogue_id: str, definition_id: str, *, directory: Path | None = None
) -> tuple[Catalogue, Definition]:
    """Return the catalogue and definition, or raise NotFoundError."""
    for catalogue in list_catalogues(directory):
        if catalogue.id == catalogue_id:
            definition = catalogue.definition(definition_id)
            if definition is not None:
                return catalogue, definition
    raise services.NotFoundError("no such catalogue definition")


def catalogue_ref(catalogue: Catalogue, definition: Definition) -> str:
    """Return the stable reference stored on an adopted badge: ``catalogue/definition@version``."""
    return f"{catalogue.id}/{definition.id}@{catalogue.version}"


def _ref_key(ref: str | None) -> str | None:
    """Return ``catalogue/definition`` of a stored reference (any version)."""
    return ref.split("@", 1)[0] if ref else None


def adopted(session: Session, organisation: Organisation) -> dict[str, Achievement]:
    """Return the organisation's badges adopted from catalogues by ``catalogue/definition``."""
    rows = session.scalars(
        select(Achievement).where(
            Achievement.organisation_id == organisation.id, Achievement.catalogue_ref.is_not(None)
        )
    )
    return {_ref_key(a.catalogue_ref): a for a in rows}  # type: ignore[misc]


def adopt(
    session: Session,
    organisation: Organisation,
    catalogue_id: str,
    definition_id: str,
    *,
    now: datetime,
    actor: User | None = None,
    directory: Path | None = None,
) -> Achievement:
    """Create a badge of ``organisation`` from a catalogue definition (once per definition).

    Raises:
        NotFoundError: no such catalogue or definition.
        AlreadyAdoptedError: the organisation has this definition already (also when retired).
    """
    catalogue, definition = find_definition(catalogue_id, definition_id, directory=directory)
    key = f"{catalogue.id}/{definition.id}"
    existing = session.scalar(
        select(Achievement.id).where(
            Achievement.organisation_id == organisation.id,
            or_(
                Achievement.catalogue_ref == key,
                Achievement.catalogue_ref.startswith(key + "@", autoescape=True),
            ),
        )
    )
    if existing is not None:
        raise AlreadyAdoptedError(
            "this badge has been adopted already; edit the existing one instead"
        )
    # The organisation's language when the definition is complete in it; Finnish always is.
    complete = [
        lang for lang in LANGUAGES if all(_field(definition, k).get(lang) for k in TRANSLATED[:4])
    ]
    language = organisation.language if organisation.language in complete else "fi"
    translations = {
        lang: {k: v for k in TRANSLATED if (v := _field(definition, k).get(lang))}
        for lang in LANGUAGES
        if lang != language and all(_field(definition, k).get(lang) for k in TRANSLATED[:4])
    }
    achievement = services.create_achievement(
        session,
        organisation,
        name=definition.name[language],
        description=definition.description[language],
        criteria=definition.criteria[language],
        image_alt=definition.image_alt[language],
        now=now,
        language=language,
        alignments=definition.alignments,
        valid_days=definition.valid_days,
        plain_description=definition.plain_fi,
        catalogue_ref=catalogue_ref(catalogue, definition),
        colour=definition.colour,
        translations=translations,
        evidence_guidance=definition.evidence_guidance.get(language),
    )
    services.record(
        session,
        "badge.adopt",
        now=now,
        actor=actor,
        organisation=organisation,
        target=achievement.public_id,
        details={
            "catalogue": catalogue.id,
            "definition": definition.id,
            "version": catalogue.version,
        },
    )
    return achievement


def _field(definition: Definition, name: str) -> Mapping[str, str]:
    return getattr(definition, name)


# --- alignments ------------------------------------------------------------------------------------

_CODE_SPLIT = re.compile(r"[\s,;]+")


def parse_codes(text: str | None) -> list[str]:
    """Split codes typed by a person (commas, semicolons, spaces, new lines), without repeats."""
    seen: dict[str, None] = {}
    for code in _CODE_SPLIT.split(text or ""):
        if code:
            seen.setdefault(code, None)
    return list(seen)


def resolve_alignments(
    session: Session,
    codes: Sequence[str],
    *,
    known: Sequence[Mapping[str, Any]] = (),
    language: str = "fi",
) -> list[dict[str, Any]]:
    """Return full alignment objects for requirement keys, unit codes or osaamismerkit codes.

    ``known`` are alignments a badge has already (e.g. from a catalogue): a code found there
    keeps its stored object, so editing never loses an alignment whose framework was not
    imported here.

    Raises:
        UnknownAlignmentError: some codes are not known (all of them are listed).
        TooManyAlignmentsError: more than ``MAX_ALIGNMENTS`` codes.
    """
    from badges import frameworks  # the importer's module; imported late to keep start-up light

    if len(codes) > MAX_ALIGNMENTS:
        raise TooManyAlignmentsError(f"at most {MAX_ALIGNMENTS} alignments")
    stored = {a.get("targetCode"): dict(a) for a in known if a.get("targetCode")}
    result, unknown = [], []
    for code in codes:
        alignment = stored.get(code) or frameworks.alignment_for(session, code, language=language)
        if alignment is None:
            unknown.append(code)
        else:
            result.append(dict(alignment))
    if unknown:
        raise UnknownAlignmentError(unknown)
    return result


# --- own badges -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadgeDraft:
    """What an admin typed for a badge: texts per language and the settings."""

    language: str  #: the primary language (required texts); the others go to translations
    texts: Mapping[
        str, Mapping[str, str]
    ]  #: {"fi": {"name", "description", "criteria", "image_alt", "evidence_guidance"}}
    plain_fi: str | None = None
    alignment_codes: Sequence[str] = ()
    valid_days: int | None = None
    #: A palette colour for a generated image; None keeps the current image (edit) or picks one.
    colour: str | None = None
    #: An already re-encoded upload (``badges.core.images.clean_image``); wins over ``colour``.
    image_png: bytes | None = None

    def primary(self, key: str) -> str:
        """Return a primary-language text ('' when missing)."""
        return (self.texts.get(self.language, {}).get(key) or "").strip()

    def translations(self) -> dict[str, dict[str, str]]:
        """Return the other languages' texts that have all four required fields."""
        result = {}
        for lang, texts in self.texts.items():
            if lang == self.language or lang not in LANGUAGES:
                continue
            clean = {k: v.strip() for k in TRANSLATED if (v := texts.get(k)) and v.strip()}
            if all(clean.get(k) for k in TRANSLATED[:4]):
                result[lang] = clean
        return result


def _check_draft(draft: BadgeDraft) -> None:
    if draft.language not in LANGUAGES:
        raise services.InvalidInputError("unknown language")
    if draft.valid_days is not None and not 1 <= draft.valid_days <= MAX_VALID_DAYS:
        raise services.InvalidInputError(f"the validity period must be 1–{MAX_VALID_DAYS} days")
    if draft.colour is not None and draft.colour not in artwork.PALETTE:
        raise services.InvalidInputError("unknown colour")


def create_own(
    session: Session,
    organisation: Organisation,
    draft: BadgeDraft,
    *,
    now: datetime,
    actor: User | None = None,
) -> Achievement:
    """Create the organisation's own badge (not from a catalogue) with its first version."""
    _check_draft(draft)
    alignments = resolve_alignments(session, draft.alignment_codes, language=draft.language)
    achievement = services.create_achievement(
        session,
        organisation,
        name=draft.primary("name"),
        description=draft.primary("description"),
        criteria=draft.primary("criteria"),
        image_alt=draft.primary("image_alt"),
        now=now,
        language=draft.language,
        alignments=alignments,
        valid_days=draft.valid_days,
        plain_description=(draft.plain_fi or "").strip() or None,
        colour=draft.colour,
        translations=draft.translations(),
        evidence_guidance=draft.primary("evidence_guidance") or None,
        image_png=draft.image_png,
    )
    services.record(
        session,
        "badge.create",
        now=now,
        actor=actor,
        organisation=organisation,
        target=achievement.public_id,
        details={"alignments": len(alignments)},
    )
    return achievement


def edit(
    session: Session,
    achievement: Achievement,
    draft: BadgeDraft,
    *,
    now: datetime,
    actor: User | None = None,
) -> AchievementVersion:
    """Save the badge as a new version; earlier awards keep the version they were issued under.

    The image stays as it is unless a new one was uploaded or a colour was chosen (which draws
    a new default image).
    """
    _check_draft(draft)
    current = achievement.current
    alignments = resolve_alignments(
        session, draft.alignment_codes, known=current.alignments, language=draft.language
    )
    # Alignments without a code cannot be typed in the form; keep them as they were.
    alignments += [dict(a) for a in current.alignments if not a.get("targetCode")]
    keep_image = draft.image_png is None and draft.colour is None
    version = services.add_version(
        session,
        achievement,
        name=draft.primary("name"),
        description=draft.primary("description"),
        criteria=draft.primary("criteria"),
        image_alt=draft.primary("image_alt"),
        now=now,
        language=draft.language,
        alignments=alignments,
        valid_days=draft.valid_days,
        plain_description=(draft.plain_fi or "").strip() or None,
        colour=draft.colour,
        translations=draft.translations(),
        evidence_guidance=draft.primary("evidence_guidance") or None,
        image_png=current.image_png if keep_image else draft.image_png,
    )
    if keep_image:
        version.image_svg = current.image_svg  # the exact same artwork, also for SVG baking
    services.record(
        session,
        "badge.edit",
        now=now,
        actor=actor,
        organisation=achievement.organisation,
        target=achievement.public_id,
        details={"version": version.number},
    )
    return version


def retire(
    session: Session, achievement: Achievement, *, now: datetime, actor: User | None = None
) -> Achievement:
    """Retire a badge: it issues nothing new; awarded badges stay valid (idempotent)."""
    if achievement.retired_at is None:
        achievement.retired_at = now
        session.flush()
        services.record(
            session,
            "badge.retire",
            now=now,
            actor=actor,
            organisation=achievement.organisation,
            target=achievement.public_id,
        )
    return achievement


def unretire(
    session: Session, achievement: Achievement, *, now: datetime, actor: User | None = None
) -> Achievement:
    """Bring a retired badge back into use (idempotent)."""
    if achievement.retired_at is not None:
        achievement.retired_at = None
        session.flush()
        services.record(
            session,
            "badge.unretire",
            now=now,
            actor=actor,
            organisation=achievement.organisation,
            target=achievement.public_id,
        )
    return achievement


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """A badge of the library with what the list shows about it."""

    achievement: Achievement
    awards: int

    @property
    def version(self) -> AchievementVersion:
        """Return the current version."""
        return self.achievement.current


def library_of(session: Session, organisation: Organisation) -> list[LibraryEntry]:
    """Return the organisation's badges (current and retired) with their award counts, by name."""
    achievements = list(
        session.scalars(
            select(Achievement)
            .where(Achievement.organisation_id == organisation.id)
            .options(selectinload(Achievement.versions))
        )
    )
    counts = dict(
        session.execute(
            select(AchievementVersion.achievement_id, func.count(Award.id))
            .join(Award, Award.achievement_version_id == AchievementVersion.id)
            .where(Award.organisation_id == organisation.id)
            .group_by(AchievementVersion.achievement_id)
        ).all()
    )
    entries = [LibraryEntry(a, counts.get(a.id, 0)) for a in achievements if a.versions]
    entries.sort(key=lambda e: e.version.name.casefold())
    return entries


def version_award_counts(session: Session, achievement: Achievement) -> dict[int, int]:
    """Return {version id: number of awards issued under it}."""
    return dict(
        session.execute(
            select(Award.achievement_version_id, func.count(Award.id))
            .join(AchievementVersion, Award.achievement_version_id == AchievementVersion.id)
            .where(AchievementVersion.achievement_id == achievement.id)
            .group_by(Award.achievement_version_id)
        ).all()
    )


def preview_png(name: str, colour: str | None) -> bytes:
    """Return the default badge image for ``name`` in ``colour`` (a palette colour, else picked)."""
    name = (name or "").strip()[:200] or "?"
    return artwork.default_badge_png(
        name, colour if colour in artwork.PALETTE else artwork.pick_colour(name)
    )

"""Qualification frameworks: import ePerusteet/osaamismerkit data, look it up, search it, fetch it.

Framework data is read-only reference data. Re-importing a newer version updates names, texts
and criteria in place (units matched by code, requirements by key), adds what is new and marks
requirements that disappeared as withdrawn; nothing is ever deleted, because badge alignments
point at requirement keys and unit codes.

Services take a Session and plain values, flush, and never commit. Nothing here imports Flask.
"""

import ipaddress
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit
from urllib.request import ProxyHandler, Request, build_opener

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from badges.core.eperusteet import (
    LANGUAGES,
    SINGLE_UNITS_ID,
    FrameworkFormatError,
    NotFrameworkError,
    ParsedFramework,
    ParsedUnit,
    parse_framework,
    pick_text,
)
from badges.core.errors import BadgesError
from badges.models import Qualification, Requirement, Unit

#: Public ePerusteet service (the documented base of ``/api/external/*``).
DEFAULT_BASE_URL = "https://eperusteet.opintopolku.fi/eperusteet-service"
#: Public ePerusteet web pages; unit pages use the peruste id and the unit's own id.
EPERUSTEET_UI = "https://eperusteet.opintopolku.fi/#/fi"
ALIGNMENT_TARGET_TYPE = "ext:ePerusteet"
MIN_QUERY = 2
MAX_QUERY = 100

_ROOT = Path(__file__).resolve().parent
_SHARED = _ROOT.parent.parent / "shared" / "data" / "eperusteet"
_DEMO_FILES = (
    (_SHARED / "peruste_3932281_puuteollisuuden-perustutkinto_subset.json",
     _ROOT / "demo_data" / "eperusteet_puuteollisuus_demo.json"),
    (_SHARED / "koodisto_osaamismerkit_koodit.json", _ROOT / "demo_data" / "osaamismerkit_koodit_demo.json"),
)


class FetchError(BadgesError):
    """ePerusteet could not be fetched from (not found, too slow, too large, not JSON, …)."""

    code = "framework_fetch"


# --- import ---------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What one import did to one qualification."""

    qualification: Qualification
    created: bool
    shape: str
    units_added: int = 0
    units_updated: int = 0
    requirements_added: int = 0
    requirements_updated: int = 0
    requirements_withdrawn: int = 0
    requirements_restored: int = 0
    warnings: tuple[str, ...] = field(default=())

    @property
    def status(self) -> str:
        """Return ``imported`` for a new qualification, else ``updated``."""
        return "imported" if self.created else "updated"

    def summary(self) -> str:
        """Return the counts as one short English line (for the command line)."""
        parts = [
            f"{self.units_added} units added" if self.units_added else "",
            f"{self.units_updated} units updated" if self.units_updated else "",
            f"{self.requirements_added} requirements added" if self.requirements_added else "",
            f"{self.requirements_updated} requirements updated" if self.requirements_updated else "",
            f"{self.requirements_withdrawn} requirements withdrawn" if self.requirements_withdrawn else "",
            f"{self.requirements_restored} requirements restored" if self.requirements_restored else "",
        ]
        return ", ".join(p for p in parts if p) or "no changes"


def read_framework_file(path: Path) -> Any:
    """Return the decoded JSON of ``path``.

    Raises:
        NotFrameworkError: the file is not JSON at all (a CSV index, notes, …).
        FrameworkFormatError: a ``.json`` file that is not valid JSON (place = line and column).
    """
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        if path.suffix.lower() != ".json":
            raise NotFrameworkError(f"not a JSON file ({path.suffix or 'no extension'})") from None
        if isinstance(error, UnicodeDecodeError):
            raise FrameworkFormatError(f"byte {error.start}", "not UTF-8 text") from None
        place = f"line {error.lineno} column {error.colno}"
        raise FrameworkFormatError(place, f"not valid JSON: {error.msg}") from None


def import_file(session: Session, path: Path, *, now: datetime) -> ImportReport:
    """Read, parse and import one framework file."""
    return import_framework(session, parse_framework(read_framework_file(path)), now=now)


def import_document(session: Session, data: Any, *, now: datetime) -> ImportReport:
    """Parse and import one decoded JSON document."""
    return import_framework(session, parse_framework(data), now=now)


def import_framework(session: Session, parsed: ParsedFramework, *, now: datetime) -> ImportReport:
    """Create or update the qualification, its units and requirements from parsed data."""
    qualification = session.scalar(
        select(Qualification).where(Qualification.source == parsed.source, Qualification.source_id == parsed.source_id)
    )
    created = qualification is None
    if qualification is None:
        qualification = Qualification(source=parsed.source, source_id=parsed.source_id, names={}, imported_at=now)
        session.add(qualification)
    qualification.names = dict(parsed.names)
    # A lone unit or a code list says nothing about the whole qualification: keep what is known.
    for name in ("diaarinumero", "kind", "format_generation"):
        value = getattr(parsed, name)
        if parsed.complete or value is not None:
            setattr(qualification, name, value)
    qualification.imported_at = now
    report = ImportReport(qualification=qualification, created=created, shape=parsed.shape,
                          warnings=parsed.warnings)

    units = {} if created else {u.code: u for u in qualification.units}
    stored = _requirements_by_unit(session, qualification) if not created else {}
    next_position = max((u.position for u in units.values()), default=-1) + 1
    for parsed_unit in parsed.units:
        unit = units.get(parsed_unit.code)
        if unit is None:
            position = parsed_unit.position if parsed.complete else next_position
            next_position += 1
            unit = Unit(qualification=qualification, code=parsed_unit.code, source_id=parsed_unit.source_id,
                        names=dict(parsed_unit.names), points=parsed_unit.points, position=position)
            session.add(unit)
            units[unit.code] = unit
            report.units_added += 1
        elif _update_unit(unit, parsed_unit, keep_position=not parsed.complete):
            report.units_updated += 1
        if parsed_unit.has_requirements:
            _sync_requirements(session, unit, parsed_unit, stored.get(unit.code, {}), report, now)
    if parsed.complete:
        present = {u.code for u in parsed.units}
        for code, requirements in stored.items():
            if code not in present:
                report.requirements_withdrawn += _withdraw(requirements.values(), now)
    session.flush()
    return report


def _requirements_by_unit(session: Session, qualification: Qualification) -> dict[str, dict[str, Requirement]]:
    """Load every requirement of the qualification in one query: {unit code: {key: requirement}}."""
    rows = session.execute(
        select(Unit.code, Requirement).join(Requirement.unit).where(Unit.qualification_id == qualification.id)
    )
    result: dict[str, dict[str, Requirement]] = {}
    for code, requirement in rows:
        result.setdefault(code, {})[requirement.key] = requirement
    return result


def _update_unit(unit: Unit, parsed: ParsedUnit, *, keep_position: bool) -> bool:
    values = {"names": dict(parsed.names), "points": parsed.points}
    if parsed.source_id is not None:
        values["source_id"] = parsed.source_id
    if not keep_position:
        values["position"] = parsed.position
    return _assign(unit, values)


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    """Set changed attributes only (JSON columns are replaced, never mutated); return whether any changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _sync_requirements(
    session: Session, unit: Unit, parsed: ParsedUnit, stored: dict[str, Requirement], report: ImportReport,
    now: datetime,
) -> None:
    for item in parsed.requirements:
        requirement = stored.get(item.key)
        if requirement is None:
            session.add(Requirement(unit=unit, key=item.key, texts=dict(item.texts), criteria=dict(item.criteria),
                                    position=item.position))
            report.requirements_added += 1
            continue
        if requirement.withdrawn_at is not None:
            requirement.withdrawn_at = None
            report.requirements_restored += 1
        values = {"texts": dict(item.texts), "criteria": dict(item.criteria), "position": item.position}
        if _assign(requirement, values):
            report.requirements_updated += 1
    present = {item.key for item in parsed.requirements}
    report.requirements_withdrawn += _withdraw((r for key, r in stored.items() if key not in present), now)


def _withdraw(requirements: Any, now: datetime) -> int:
    count = 0
    for requirement in requirements:
        if requirement.withdrawn_at is None:
            requirement.withdrawn_at = now
            count += 1
    return count


def import_demo(session: Session, now: datetime) -> list[ImportReport]:
    """Import the demo frameworks: puuteollisuus and the osaamismerkit code list (shared data, else shipped)."""
    reports = []
    for shared, shipped in _DEMO_FILES:
        reports.append(import_file(session, shared if shared.is_file() else shipped, now=now))
    return reports


# --- look-ups -------------------------------------------------------------------------------------


def list_qualifications(session: Session) -> list[tuple[Qualification, int]]:
    """Return every qualification with its number of units, ePerusteet first, by Finnish name."""
    rows = session.execute(
        select(Qualification, func.count(Unit.id))
        .outerjoin(Unit, Unit.qualification_id == Qualification.id)
        .group_by(Qualification.id)
    ).all()
    return sorted(((q, n) for q, n in rows),
                  key=lambda row: (row[0].source != "eperusteet", pick_text(row[0].names, "fi")[0].lower()))


def get_qualification(session: Session, source_id: str) -> Qualification | None:
    """Return the qualification with this ePerusteet peruste id (or ``osaamismerkit``), if imported."""
    return session.scalar(
        select(Qualification).where(Qualification.source_id == source_id).order_by(Qualification.id).limit(1)
    )


def get_unit(session: Session, qualification: Qualification, code: str) -> Unit | None:
    """Return the unit ``code`` of ``qualification``, if present."""
    return session.scalar(select(Unit).where(Unit.qualification_id == qualification.id, Unit.code == code))


def requirement_counts(session: Session, qualification: Qualification) -> dict[int, int]:
    """Return {unit id: number of requirements in force} for the units of ``qualification``."""
    rows = session.execute(
        select(Requirement.unit_id, func.count(Requirement.id))
        .join(Requirement.unit)
        .where(Unit.qualification_id == qualification.id, Requirement.withdrawn_at.is_(None))
        .group_by(Requirement.unit_id)
    )
    return {unit_id: count for unit_id, count in rows}


def target_url(unit: Unit) -> str:
    """Return the public ePerusteet address of a unit (best effort; see the notes below).

    Units of a peruste: ``…/#/fi/ammatillinen/<peruste id>/tutkinnonosat/<unit id>``.
    Osaamismerkit: ``…/#/fi/osaamismerkki/<code number>``. A unit imported on its own (no
    peruste known) points at the public API address of that unit.
    """
    qualification = unit.qualification
    if qualification.source == "osaamismerkit":
        return f"{EPERUSTEET_UI}/osaamismerkki/{quote(unit.code.rsplit('_', 1)[-1])}"
    if qualification.source_id == SINGLE_UNITS_ID or not unit.source_id:
        return f"{DEFAULT_BASE_URL}/api/external/peruste/tutkinnonosa/{quote(unit.code)}"
    return f"{EPERUSTEET_UI}/ammatillinen/{quote(qualification.source_id)}/tutkinnonosat/{quote(unit.source_id)}"


def qualification_label(qualification: Qualification, language: str = "fi") -> str:
    """Return "name (diaarinumero)", or the name alone."""
    name = pick_text(qualification.names, language)[0] or qualification.source_id
    return f"{name} ({qualification.diaarinumero})" if qualification.diaarinumero else name


def alignment_for(session: Session, key_or_code: str, *, language: str = "fi") -> dict[str, str] | None:
    """Return an OB 3.0 alignment (targetName, targetUrl, targetCode, targetFramework, targetType) or None.

    ``key_or_code`` is a requirement key (``ammattitaitovaatimukset_413``, ``tutkinnonosat_100754:k1:2``)
    or a unit code (``tutkinnonosat_105444``, ``osaamismerkit_1002``). A requirement in force wins over a
    withdrawn one, and the most recently imported qualification over older ones.
    """
    key = (key_or_code or "").strip()
    if not key:
        return None
    requirement = session.scalar(
        select(Requirement).join(Requirement.unit).join(Unit.qualification)
        .where(Requirement.key == key)
        .order_by(Requirement.withdrawn_at.is_not(None), Qualification.imported_at.desc(), Requirement.id)
        .limit(1)
    )
    if requirement is not None:
        unit = requirement.unit
        unit_name = pick_text(unit.names, language)[0]
        return {
            "targetName": pick_text(requirement.texts, language)[0],
            "targetUrl": target_url(unit),
            "targetCode": requirement.key,
            "targetFramework": f"{qualification_label(unit.qualification, language)}: {unit_name} ({unit.code})",
            "targetType": ALIGNMENT_TARGET_TYPE,
        }
    unit = session.scalar(
        select(Unit).join(Unit.qualification).where(Unit.code == key)
        .order_by(Qualification.imported_at.desc(), Unit.id).limit(1)
    )
    if unit is None:
        return None
    return {
        "targetName": pick_text(unit.names, language)[0],
        "targetUrl": target_url(unit),
        "targetCode": unit.code,
        "targetFramework": qualification_label(unit.qualification, language),
        "targetType": ALIGNMENT_TARGET_TYPE,
    }


# --- search ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    """A unit or requirement that matched a search."""

    unit: Unit
    requirement: Requirement | None = None

    @property
    def key(self) -> str:
        """Return what an alignment would use: the requirement key, else the unit code."""
        return self.requirement.key if self.requirement is not None else self.unit.code

    def summary(self, language: str) -> dict[str, str]:
        """Return the hit as plain JSON values in ``language`` (Finnish fallback)."""
        texts = self.requirement.texts if self.requirement is not None else self.unit.names
        return {
            "kind": "requirement" if self.requirement is not None else "unit",
            "key": self.key,
            "unit_code": self.unit.code,
            "text": pick_text(texts, language)[0],
            "unit_name": pick_text(self.unit.names, language)[0],
            "qualification_name": qualification_label(self.unit.qualification, language),
            "target_url": target_url(self.unit),
        }


def normalise_query(query: str | None) -> str:
    """Return the query with whitespace tidied (empty when too short to search)."""
    text = " ".join((query or "").split())
    return text if len(text) >= MIN_QUERY else ""


def _patterns(text: str) -> list[str]:
    # SQLite lowers ASCII only: also try the capitalised form so that "ääni" finds "Ääni…".
    lowered = text.lower()
    variants = dict.fromkeys([lowered, lowered[:1].upper() + lowered[1:]])
    escaped = (v.replace("!", "!!").replace("%", "!%").replace("_", "!_") for v in variants)
    return [f"%{v}%" for v in escaped]


def _matches(columns: Sequence[Any], patterns: list[str]) -> Any:
    return or_(*(column.ilike(p, escape="!") for column in columns for p in patterns))


def search(
    session: Session, query: str | None, *, limit: int = 50, include_withdrawn: bool = False
) -> list[SearchHit]:
    """Find units (by name or code) and requirements (by text or key) across all frameworks.

    Case-insensitive substring match; exact key or code matches come first, then units, then
    requirements. Withdrawn requirements are left out unless asked for.
    """
    text = normalise_query(query)[:MAX_QUERY]
    if not text:
        return []
    patterns = _patterns(text)
    unit_columns = [Unit.code, *(Unit.names[lang].as_string() for lang in LANGUAGES)]
    units = session.scalars(
        select(Unit).join(Unit.qualification).options(contains_eager(Unit.qualification))
        .where(_matches(unit_columns, patterns))
        .order_by(Qualification.source, Qualification.source_id, Unit.position).limit(limit)
    ).all()
    requirement_columns = [Requirement.key, *(Requirement.texts[lang].as_string() for lang in LANGUAGES)]
    condition = _matches(requirement_columns, patterns)
    if not include_withdrawn:
        condition = and_(condition, Requirement.withdrawn_at.is_(None))
    requirements = session.scalars(
        select(Requirement).join(Requirement.unit).join(Unit.qualification)
        .options(contains_eager(Requirement.unit).contains_eager(Unit.qualification)).where(condition)
        .order_by(Qualification.source, Qualification.source_id, Unit.position, Requirement.position).limit(limit)
    ).all()
    hits = [SearchHit(unit) for unit in units] + [SearchHit(r.unit, r) for r in requirements]
    exact = text.lower()
    hits.sort(key=lambda hit: hit.key.lower() != exact)  # stable: keeps units before requirements
    return hits[:limit]


# --- fetching from the ePerusteet public API -------------------------------------------------------


class RateLimiter:
    """Space calls at least ``1 / per_second`` seconds apart (monotonic clock)."""

    def __init__(
        self, per_second: float = 2.0, *, clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self.clock = clock
        self.sleep = sleep
        self._last: float | None = None

    def wait(self) -> None:
        """Sleep until the next call is allowed, then note the time of this one."""
        if self._last is not None:
            delay = self._last + self.interval - self.clock()
            if delay > 0:
                self.sleep(delay)
        self._last = self.clock()


@dataclass(frozen=True)
class Fetched:
    """One fetched (or cached) JSON document."""

    data: Any
    url: str
    from_cache: bool


def _user_agent() -> str:
    try:
        version = metadata.version("osaamispassi")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"Osaamispassi/{version} (qualification framework import; cached, at most 2 requests/s)"


class EperusteetClient:
    """A polite client of the ePerusteet public API: rate-limited, time-limited, size-capped, cached."""

    def __init__(
        self, *, base_url: str = DEFAULT_BASE_URL, cache_dir: Path | None = None, refresh: bool = False,
        timeout: float = 30.0, max_bytes: int = 64 * 1024 * 1024, limiter: RateLimiter | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"the base URL must be an http(s) address, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.cache_dir = cache_dir
        self.refresh = refresh
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.limiter = limiter or RateLimiter()
        self.requests = 0
        # Proxies from the environment apply, except for this machine's own addresses.
        self._opener = build_opener(ProxyHandler({})) if _is_loopback(parts.hostname) else build_opener()

    def peruste(self, peruste_id: int) -> Fetched:
        """Return the whole peruste ``peruste_id`` (``/api/external/peruste/{id}``)."""
        return self._get(f"/api/external/peruste/{int(peruste_id)}", f"peruste-{int(peruste_id)}.json",
                         f"peruste {int(peruste_id)}")

    def osaamismerkit(self) -> Fetched:
        """Return the published national osaamismerkit (``/api/external/osaamismerkit``)."""
        return self._get("/api/external/osaamismerkit", "osaamismerkit.json", "the osaamismerkit list")

    def _get(self, path: str, cache_name: str, what: str) -> Fetched:
        url = self.base_url + path
        cache_file = self.cache_dir / cache_name if self.cache_dir is not None else None
        if cache_file is not None and not self.refresh and cache_file.is_file():
            try:
                return Fetched(json.loads(cache_file.read_bytes()), url, from_cache=True)
            except (ValueError, OSError):
                pass  # a damaged cache file is fetched again
        body = self._download(url, what)
        try:
            data = json.loads(body)
        except ValueError:
            raise FetchError(f"{what}: the answer from {url} is not JSON") from None
        if cache_file is not None:
            _write_atomically(cache_file, body)
        return Fetched(data, url, from_cache=False)

    def _download(self, url: str, what: str) -> bytes:
        self.limiter.wait()
        self.requests += 1
        request = Request(url, headers={  # noqa: S310 - scheme checked in __init__
            "User-Agent": _user_agent(), "Accept": "application/json", "Accept-Encoding": "identity",
        })
        deadline = time.monotonic() + self.timeout
        limit_mb = f"{self.max_bytes / (1024 * 1024):g} MB"
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > self.max_bytes:
                    raise FetchError(f"{what}: the answer from {url} is larger than {limit_mb}")
                chunks, total = [], 0
                while chunk := response.read(64 * 1024):
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise FetchError(f"{what}: the answer from {url} is larger than {limit_mb}")
                    if time.monotonic() > deadline:
                        raise TimeoutError
                    chunks.append(chunk)
                return b"".join(chunks)
        except HTTPError as error:
            error.close()
            if error.code == 404:
                raise FetchError(f"{what} was not found at {url} (HTTP 404)") from None
            raise FetchError(f"{what}: {url} answered HTTP {error.code}") from None
        except TimeoutError:
            raise FetchError(f"{what}: no complete answer from {url} within {self.timeout:g} s") from None
        except URLError as error:
            if isinstance(error.reason, TimeoutError | socket.timeout):
                raise FetchError(f"{what}: no answer from {url} within {self.timeout:g} s") from None
            raise FetchError(f"{what}: could not reach {url} ({error.reason})") from None
        except OSError as error:
            raise FetchError(f"{what}: the connection to {url} failed ({error})") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _write_atomically(path: Path, body: bytes) -> None:
    """Write a cache file so that a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".fetch-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(body)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


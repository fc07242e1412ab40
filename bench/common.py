"""Shared pieces of the benchmark suite: statistics, throw-away databases, a realistic world.

The world is built through the same service functions the app uses (organisations with keys,
badge definitions aligned to ePerusteet requirements, clients, awards with a coach's note and
a photo as evidence), so what is measured is our own credential shape, not a toy document.
"""

import os
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, text  # noqa: E402 - after the path set-up above
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

POSTGRES_URL = os.environ.get("BADGES_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BASE_URL = "https://passi.example.test"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PASSWORD = "bench password that is long enough"  # noqa: S105 - a throw-away benchmark account
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - throw-away instance


# --- statistics -----------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """Return the median of ``values``."""
    return statistics.median(values)


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0–100) of ``values``, nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def time_calls(function, iterations: int, *, warmup: int = 5) -> list[float]:
    """Call ``function()`` ``warmup`` times, then ``iterations`` times; return each call's ms."""
    from time import perf_counter

    for _ in range(warmup):
        function()
    times = []
    for _ in range(iterations):
        start = perf_counter()
        function()
        times.append((perf_counter() - start) * 1000)
    return times


def peak_rss_mb() -> float:
    """Return this process's peak resident set size (VmHWM) in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    """Return the 1/5/15-minute load averages as text (what else ran while we measured)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# --- databases ----------------------------------------------------------------------------------------


def postgres_unavailable() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it can."""
    engine = create_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except (OperationalError, ImportError) as error:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable ({type(error).__name__})"
    finally:
        engine.dispose()
    return None


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """Yield the URL of a fresh empty database: an SQLite file, or a throw-away PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.sqlite'}"
        return
    schema = "bench_" + uuid.uuid4().hex[:12]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def make_app(database_url: str, instance: Path, *, base_url: str = BASE_URL, **config):  # noqa: ANN201 - Flask
    """Return an app on ``database_url`` with its schema created; jobs run inline."""
    from badges.core.keywrap import new_kek

    os.environ["BADGES_INSTANCE_PATH"] = str(instance)
    instance.mkdir(parents=True, exist_ok=True)
    from badges import create_app
    from badges.db import get_engine
    from badges.models import Base

    app = create_app({
        "SECRET_KEY": SECRET_KEY, "BADGES_KEK": config.pop("BADGES_KEK", None) or new_kek(),
        "BADGES_BASE_URL": base_url, "BADGES_DATABASE_URL": database_url, "BADGES_JOBS_INLINE": True, **config,
    })
    with app.app_context():
        Base.metadata.create_all(get_engine())
    return app


def temp_folder() -> tempfile.TemporaryDirectory:
    """Return a temporary folder for one benchmark's instance and database."""
    return tempfile.TemporaryDirectory(prefix="badges-bench-")


# --- the world -------------------------------------------------------------------------------------------


def alignment(number: int) -> list[dict[str, str]]:
    """Return two realistic ePerusteet alignments (a requirement and its unit) for badge ``number``."""
    return [
        {
            "targetName": f"Opiskelija käyttää puuteollisuuden materiaaleja ja jatkojalosteita ({number}).",
            "targetUrl": "https://eperusteet.opintopolku.fi/#/fi/ammatillinen/3932281/tutkinnonosat/3944378",
            "targetCode": f"ammattitaitovaatimukset_{400 + number}",
            "targetFramework": "Puuteollisuuden perustutkinto (OPH-2455-2017)",
        },
        {
            "targetName": "Puusepänteollisuuden tuotteiden valmistaminen",
            "targetUrl": "https://eperusteet.opintopolku.fi/#/fi/ammatillinen/3932281/tutkinnonosat/3944378",
            "targetCode": f"tutkinnonosat_{105400 + number % 6}",
            "targetFramework": "Puuteollisuuden perustutkinto (OPH-2455-2017)",
        },
    ]


def add_framework(session, badges: int) -> None:
    """Add a qualification whose units and requirements the badges' alignments point at."""
    from badges.models import Qualification, Requirement, Unit

    qualification = Qualification(
        source="eperusteet", source_id="3932281", diaarinumero="OPH-2455-2017",
        names={"fi": "Puuteollisuuden perustutkinto", "en": "Vocational qualification in wood industry"},
        imported_at=NOW,
    )
    session.add(qualification)
    units = [
        Unit(qualification=qualification, code=f"tutkinnonosat_{105400 + n}", names={"fi": f"Tutkinnon osa {n}"},
             points=15, position=n)
        for n in range(6)
    ]
    session.add_all(units)
    for number in range(badges):
        session.add(Requirement(unit=units[number % 6], key=f"ammattitaitovaatimukset_{400 + number}",
                                texts={"fi": f"Vaatimus {number}"}, position=number))
    session.flush()


def make_badges(session, organisation, count: int) -> list:
    """Create ``count`` badge definitions, each aligned to a requirement and its unit."""
    from badges import services

    return [
        services.create_achievement(
            session, organisation, name=f"Puumateriaalien tunnistaminen {number}",
            description="Osaa tunnistaa tavallisimmat puulajit ja niiden ominaisuudet.",
            criteria="Osaa nimetä viisi puulajia ja kertoa niiden käyttökohteet verstaalla.",
            image_alt="Sininen merkki, jossa puunlehti", now=NOW, alignments=alignment(number),
            plain_description="Tunnistat puulajit." if number % 3 == 0 else None,
        )
        for number in range(count)
    ]


def make_clients(session, organisation, count: int, *, prefix: str = "client") -> list:
    """Create ``count`` clients of ``organisation`` (no passwords: argon2 is not what we measure)."""
    from badges.models import Membership, User

    users = [
        User(display_name=f"Asiakas {prefix} {n}", email=f"{prefix}{n}@example.test", locale="fi", created_at=NOW)
        for n in range(count)
    ]
    session.add_all(users)
    session.flush()
    session.add_all(Membership(user=u, organisation=organisation, role="client", created_at=NOW) for u in users)
    session.flush()
    return users


def organisation_with_staff(session, site):  # noqa: ANN201 - (Organisation, coach User)
    """Create the organisation ``verstas`` with a coach."""
    from badges import services

    organisation = services.create_organisation(session, site, slug="verstas", name="Työpaja Verstas", now=NOW,
                                                url="https://verstas.example.test")
    coach = services.create_user(session, display_name="Kalle Valmentaja", email="coach@example.test", now=NOW)
    services.add_member(session, coach, organisation, "coach", now=NOW)
    return organisation, coach


def site_of(app):  # noqa: ANN201 - services.Site
    """Return the app's Site (origin and key-encryption key)."""
    from badges.core.keywrap import parse_kek
    from badges.services import Site

    return Site(base_url=app.config["BADGES_BASE_URL"], kek=parse_kek(app.config["BADGES_KEK"]))

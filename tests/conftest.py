"""Shared fixtures: a fresh app and database per test, factories, the JS verifier."""

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from badges import create_app, services
from badges.core.keywrap import new_kek, parse_kek
from badges.db import get_engine, get_session
from badges.models import Base

sys.path.insert(0, str(Path(__file__).resolve().parent / "interop"))
import jsverify  # noqa: E402 - lives beside the Node harness
from helpers import BASE_URL, FIXED_NOW, PASSWORD, in_ci  # noqa: E402

#: Databases every app-level test runs against; CI runs both (see the Makefile).
DATABASES = [name for name in os.environ.get("BADGES_TEST_DATABASES", "sqlite,postgresql").split(",") if name]
POSTGRES_URL = os.environ.get("BADGES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach another host (loopback stays allowed)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and self.family != socket.AF_UNIX:
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def js_verify() -> jsverify.JsVerifier:
    """The independent JavaScript verifier (skips locally without npm packages; fails in CI)."""
    return jsverify.require_verifier()


@pytest.fixture(scope="session")
def kek_text() -> str:
    """A key-encryption key for the test run."""
    return new_kek()


@cache
def _postgres_unavailable() -> str | None:
    engine = create_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError as error:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable ({error.orig.__class__.__name__})"
    finally:
        engine.dispose()
    return None


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a throw-away schema in PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
        return
    reason = _postgres_unavailable()
    if reason:
        if in_ci():
            pytest.fail(reason + " — CI must run the PostgreSQL tests (.ci/run starts the server)")
        pytest.skip(reason)
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def app(tmp_path: Path, kek_text: str, monkeypatch: pytest.MonkeyPatch, database_url: str):
    """Return an app with its own database (SQLite and PostgreSQL) and instance folder."""
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "BADGES_KEK": kek_text,
        "BADGES_BASE_URL": BASE_URL,
        "BADGES_DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
    })
    with app.app_context():
        Base.metadata.create_all(get_engine())
    yield app
    app.extensions["badges.engine"].dispose()  # release connections before the schema goes


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def session(app) -> Iterator[Session]:
    """The app's database session inside an app context."""
    with app.app_context():
        yield get_session()


@pytest.fixture
def site(kek_text: str) -> services.Site:
    """The installation's origin and key-encryption key."""
    return services.Site(base_url=BASE_URL, kek=parse_kek(kek_text))


@pytest.fixture
def make_org(session: Session, site: services.Site):
    """Return a factory of organisations (with a key)."""
    def _make(slug: str = "verstas", name: str = "Työpaja Verstas") -> services.Organisation:
        return services.create_organisation(session, site, slug=slug, name=name, now=FIXED_NOW)
    return _make


@pytest.fixture
def make_user(session: Session):
    """Return a factory of users, optionally with a role in an organisation."""
    def _make(email: str | None = "person@example.test", name: str = "Maija Meikäläinen", *,
              organisation=None, role: str | None = None, password: str | None = PASSWORD):
        user = services.create_user(session, display_name=name, email=email, password=password, now=FIXED_NOW)
        if organisation is not None and role:
            services.add_member(session, user, organisation, role, now=FIXED_NOW)
        return user
    return _make


@pytest.fixture
def make_badge(session: Session):
    """Return a factory of badge definitions aligned to an ePerusteet requirement."""
    def _make(organisation, name: str = "Puumateriaalien tunnistaminen", **fields):
        return services.create_achievement(
            session, organisation, name=name,
            description=fields.pop("description", "Osaa tunnistaa tavallisimmat puulajit."),
            criteria=fields.pop("criteria", "Osaa nimetä viisi puulajia ja niiden käyttökohteet."),
            image_alt=fields.pop("image_alt", "Sininen merkki"), now=FIXED_NOW,
            alignments=fields.pop("alignments", [{
                "targetName": "Opiskelija käyttää puuteollisuuden materiaaleja ja jatkojalosteita.",
                "targetUrl": "https://eperusteet.opintopolku.fi/#/fi/ammatillinen/3932281/tutkinnonosat/3944378",
                "targetCode": "ammattitaitovaatimukset_414",
                "targetFramework": "Puuteollisuuden perustutkinto (OPH-2455-2017)",
            }]),
            **fields,
        )
    return _make


@pytest.fixture
def issued(session: Session, site, make_org, make_user, make_badge):
    """One award issued to a client, committed: (award, organisation, recipient)."""
    organisation = make_org()
    coach = make_user("coach@example.test", "Kalle Valmentaja", organisation=organisation, role="coach")
    recipient = make_user("maija@example.test", "Maija Meikäläinen", organisation=organisation, role="client")
    badge = make_badge(organisation)
    award = services.issue_award(session, site, version=badge.current, recipient=recipient, issued_by=coach,
                                 now=FIXED_NOW, evidence_note="Tunnisti viisi puulajia.")
    session.commit()
    return award, organisation, recipient

"""Fixtures for the security tests: a small organisation, English test clients, an app with CSRF on."""

from functools import cache
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import BASE_URL, FIXED_NOW, PASSWORD
from security_helpers import ADMIN, CLIENT, COACH, People, db

from badges import create_app, services
from badges.db import get_engine
from badges.models import Base


@cache
def _password_hash() -> str:
    """Hash the test password once (argon2 is slow on purpose)."""
    return services.hash_password(PASSWORD)


@pytest.fixture
def people(app: Flask, site: services.Site) -> People:
    """Organisation ``verstas`` with an admin, a coach, a client with e-mail and one without, and an award."""
    with db(app) as session:
        org = services.create_organisation(session, site, slug="verstas", name="Työpaja Verstas", now=FIXED_NOW)

        def person(email: str | None, name: str, role: str, password: bool = True):  # noqa: ANN202
            user = services.create_user(session, display_name=name, email=email, now=FIXED_NOW)
            user.password_hash = _password_hash() if password else None
            services.add_member(session, user, org, role, now=FIXED_NOW)
            return user

        admin = person(ADMIN, "Aino Ylläpitäjä", "admin")
        coach = person(COACH, "Kalle Valmentaja", "coach")
        client = person(CLIENT, "Maija Meikäläinen", "client")
        paperless = person(None, "Ville Virtanen", "client", password=False)
        badge = services.create_achievement(session, org, name="Puulajien tunnistaminen", description="Osaa.",
                                            criteria="Osaa nimetä puulajit.", image_alt="Merkki", now=FIXED_NOW)
        award = services.issue_award(session, site, version=badge.current, recipient=client, issued_by=coach,
                                     now=FIXED_NOW)
        session.commit()
        return People(org=org.slug, admin=admin.public_id, coach=coach.public_id, client=client.public_id,
                      paperless=paperless.public_id, award=award.public_id)


@pytest.fixture
def browser(app: Flask):
    """Return a factory of test clients that read English pages."""
    def _make() -> FlaskClient:
        client = app.test_client()
        client.set_cookie("lang", "en")  # English msgids: stable whatever the catalogues say
        return client
    return _make


@pytest.fixture
def csrf_app(tmp_path: Path, kek_text: str, monkeypatch: pytest.MonkeyPatch, database_url: str):
    """An app as in production: CSRF protection on (the ``app`` fixture turns it off)."""
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path / "csrf-instance"))
    app = create_app({
        "TESTING": True, "SECRET_KEY": "csrf-test-secret-key-that-is-long-enough-0123",
        "BADGES_KEK": kek_text, "BADGES_BASE_URL": BASE_URL, "BADGES_DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": True,
    })
    with app.app_context():
        Base.metadata.create_all(get_engine())
    yield app
    app.extensions["badges.engine"].dispose()

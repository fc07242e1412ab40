"""Fixtures for the people pages: two organisations with staff and clients, per-person clients.

Data is made in its own app context and committed, and every assertion on the database opens
a fresh one (``db(app)``), so that each request runs in its own context as in production
(a shared context would share Flask-Login's cached user between test clients).
"""

from functools import cache

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import FIXED_NOW, PASSWORD, login
from people_helpers import ADMIN, ADMIN_B, CLIENT, COACH, COACH_B, World, db

from badges import services


@cache
def _password_hash() -> str:
    """Hash the test password once (argon2 is slow on purpose)."""
    return services.hash_password(PASSWORD)


@pytest.fixture
def world(app: Flask, site: services.Site) -> World:
    """Organisation A (admin, coach, two clients) and organisation B (admin, coach, a client)."""
    with db(app) as session:
        a = services.create_organisation(session, site, slug="verstas", name="Työpaja Verstas", now=FIXED_NOW)
        b = services.create_organisation(session, site, slug="puutarha", name="Puutarhasäätiö", now=FIXED_NOW)

        def person(email: str | None, name: str, org, role: str, password: bool = True):
            user = services.create_user(session, display_name=name, email=email, now=FIXED_NOW)
            user.password_hash = _password_hash() if password else None
            services.add_member(session, user, org, role, now=FIXED_NOW)
            return user

        admin = person(ADMIN, "Aino Ylläpitäjä", a, "admin")
        coach = person(COACH, "Kalle Valmentaja", a, "coach")
        client = person(CLIENT, "Maija Meikäläinen", a, "client")
        services.add_member(session, client, b, "client", now=FIXED_NOW)
        paperless = person(None, "Ville Virtanen", a, "client", password=False)
        person(ADMIN_B, "Bertta Muu", b, "admin")
        person(COACH_B, "Bruno Muu", b, "coach")
        client_b = person("only-b@example.test", "Olli Vain-B", b, "client")
        badge_a = services.create_achievement(session, a, name="Puulajien tunnistaminen", description="Osaa.",
                                              criteria="Osaa nimetä puulajit.", image_alt="Merkki", now=FIXED_NOW)
        badge_b = services.create_achievement(session, b, name="Nurmikon leikkaaminen", description="Osaa.",
                                              criteria="Osaa leikata nurmikon.", image_alt="Merkki", now=FIXED_NOW)
        award = services.issue_award(session, site, version=badge_a.current, recipient=client, issued_by=coach,
                                     now=FIXED_NOW)
        award_b = services.issue_award(session, site, version=badge_b.current, recipient=client, now=FIXED_NOW)
        session.commit()
        return World(org=a.slug, other=b.slug, admin=admin.public_id, coach=coach.public_id,
                     client=client.public_id, paperless=paperless.public_id, client_b=client_b.public_id,
                     award=award.public_id, award_b=award_b.public_id)


@pytest.fixture
def as_user(app: Flask):
    """Return a factory of test clients logged in as the given e-mail address (English pages)."""
    def _as(email: str | None, lang: str = "en") -> FlaskClient:
        client = app.test_client()
        client.set_cookie("lang", lang)  # English msgids: stable whatever the catalogues say
        if email is not None:
            response = login(client, email)
            assert response.status_code == 302, f"could not log in as {email}"
        return client
    return _as

"""Fixtures for the badge library: two organisations with staff, a client, badges and frameworks.

Data is made in its own app context and committed; assertions on the database open a fresh
one (``db(app)``) so that each request runs in its own context, as in production.
"""

import pytest
from flask import Flask
from helpers import FIXED_NOW, PASSWORD, login
from library_helpers import ADMIN, ADMIN_B, CLIENT, COACH, COACH_B, Lib, db

from badges import frameworks, services


@pytest.fixture
def lib(app: Flask, site: services.Site) -> Lib:
    """Organisation A (admin, coach, client, one awarded badge) and B (admin, coach, a badge)."""
    with db(app) as session:
        frameworks.import_demo(session, FIXED_NOW)
        a = services.create_organisation(
            session, site, slug="verstas", name="Työpaja Verstas", now=FIXED_NOW
        )
        b = services.create_organisation(
            session, site, slug="puutarha", name="Puutarhasäätiö", now=FIXED_NOW
        )

        def person(email: str, name: str, org, role: str):
            user = services.create_user(
                session, display_name=name, email=email, password=PASSWORD, now=FIXED_NOW
            )
            services.add_member(session, user, org, role, now=FIXED_NOW)
            return user

        person(ADMIN, "Aino Ylläpitäjä", a, "admin")
        coach = person(COACH, "Kalle Valmentaja", a, "coach")
        client = person(CLIENT, "Maija Meikäläinen", a, "client")
        person(ADMIN_B, "Bertta Muu", b, "admin")
        person(COACH_B, "Bruno Muu", b, "coach")
        badge = services.create_achievement(
            session,
            a,
            name="Puulajien tunnistaminen",
            description="Osaa tunnistaa puulajit.",
            criteria="Osaa nimetä viisi puulajia.",
            image_alt="Sininen merkki",
            now=FIXED_NOW,
            colour="#0b5394",
        )
        award = services.issue_award(
            session, site, version=badge.current, recipient=client, issued_by=coach, now=FIXED_NOW
        )
        badge_b = services.create_achievement(
            session,
            b,
            name="Nurmikon leikkaaminen",
            description="Osaa.",
            criteria="Osaa leikata nurmikon.",
            image_alt="Merkki",
            now=FIXED_NOW,
        )
        session.commit()
        return Lib(
            org=a.slug,
            other=b.slug,
            badge=badge.public_id,
            award=award.public_id,
            badge_b=badge_b.public_id,
        )


@pytest.fixture
def as_user(app: Flask):
    """Return a factory of logged-in test clients, one per person."""

    def _client(email: str | None):
        client = app.test_client()
        if email:
            assert login(client, email).status_code == 302
        return client

    return _client


@pytest.fixture
def admin(as_user, lib):
    """A's administrator."""
    return as_user(ADMIN)

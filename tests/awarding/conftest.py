"""Fixtures for the awarding tests: an organisation with staff, clients and badges."""

from dataclasses import dataclass

import pytest
from flask import g
from helpers import FIXED_NOW

from badges.models import Organisation, User
from awarding_helpers import anonymous, sign_in  # noqa: F401 - used by fixtures below


@pytest.fixture
def app(app):
    """The app running jobs inline (synchronously at enqueue)."""
    app.config["BADGES_JOBS_INLINE"] = True

    def fresh_request_globals() -> None:
        # The ``session`` fixture keeps one app context (and so one ``g``) open for the whole
        # test, and requests reuse it. Forget what Flask-Login and Flask-Babel cache on ``g``
        # per request, as a real request would, so each request sees its own user and language.
        for name in ("_login_user", "_flask_babel"):
            g.pop(name, None)

    app.before_request_funcs.setdefault(None, []).insert(0, fresh_request_globals)
    return app


@dataclass
class World:
    """Two organisations with their people and badges."""

    org: Organisation
    admin: User
    coach: User
    coach2: User
    clients: list[User]
    badge: object
    badge2: object
    other_org: Organisation
    other_coach: User
    other_client: User
    other_badge: object


@pytest.fixture
def world(session, make_org, make_user, make_badge) -> World:
    """Organisation ``verstas`` (admin, two coaches, three clients, two badges) and ``toinen``."""
    org = make_org("verstas", "Työpaja Verstas")
    admin = make_user("admin@example.test", "Aino Admin", organisation=org, role="admin", password=None)
    coach = make_user("coach@example.test", "Kalle Valmentaja", organisation=org, role="coach", password=None)
    coach2 = make_user("coach2@example.test", "Ville Valmentaja", organisation=org, role="coach", password=None)
    clients = [
        make_user("maija@example.test", "Maija Meikäläinen", organisation=org, role="client", password=None),
        make_user("matti@example.test", "Matti Virtanen", organisation=org, role="client", password=None),
        make_user(None, "Liisa Laine", organisation=org, role="client", password=None),
    ]
    badge = make_badge(org, evidence_guidance="Näytä viisi puulajia ja kerro niiden käyttö.")
    badge2 = make_badge(org, name="Turvallinen työskentely", catalogue_ref="perustaidot/turvallisuus")
    other = make_org("toinen", "Säätiö Toinen")
    other_coach = make_user("other.coach@example.test", "Olli Muu", organisation=other, role="coach", password=None)
    other_client = make_user("other.client@example.test", "Outi Muu", organisation=other, role="client",
                             password=None)
    other_badge = make_badge(other, name="Vieras merkki")
    session.commit()
    return World(org, admin, coach, coach2, clients, badge, badge2, other, other_coach, other_client, other_badge)


@pytest.fixture
def now() -> object:
    """The fixed clock of the fixtures."""
    return FIXED_NOW

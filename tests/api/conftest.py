"""Fixtures for the API tests: two organisations with staff, clients, badges and tokens."""

from dataclasses import dataclass
from datetime import timedelta

import flask_babel
import pytest
from api_helpers import ApiClient, Contract
from flask import g
from helpers import BASE_URL, FIXED_NOW, PASSWORD, login

from badges import api_spec, api_tokens, services
from badges.models import Achievement, Award, Organisation, Qualification, Requirement, Unit, User

REQUIREMENT = "ammattitaitovaatimukset_901"


@pytest.fixture
def app(app):
    """The app running jobs inline and forgetting per-request caches (user, language) per request."""
    app.config["BADGES_JOBS_INLINE"] = True

    def forget() -> None:
        # The ``session`` fixture keeps one app context open and requests reuse it.
        g.pop("_login_user", None)
        g.pop("api_token", None)
        flask_babel.refresh()

    app.before_request_funcs.setdefault(None, []).insert(0, forget)
    return app


@dataclass
class World:
    """Organisation ``verstas`` (admin, two coaches, clients, badges, one award) and ``toinen``."""

    org: Organisation
    admin: User
    coach: User
    coach2: User
    maija: User
    matti: User
    badge: Achievement
    badge2: Achievement
    retired: Achievement
    award: Award  #: Maija's award, issued by ``coach``
    other_org: Organisation
    other_coach: User
    other_client: User
    other_badge: Achievement
    other_award: Award  #: the other organisation's award to its client
    qualification: Qualification


@pytest.fixture
def world(session, site, make_org, make_user, make_badge) -> World:
    """Build the world and commit it."""
    org = make_org("verstas", "Työpaja Verstas")
    admin = make_user("admin@example.test", "Aino Admin", organisation=org, role="admin", password=None)
    coach = make_user("coach@example.test", "Kalle Valmentaja", organisation=org, role="coach", password=None)
    coach2 = make_user("coach2@example.test", "Ville Valmentaja", organisation=org, role="coach", password=None)
    maija = make_user("maija@example.test", "Maija Meikäläinen", organisation=org, role="client", password=None)
    matti = make_user("matti@example.test", "Matti Virtanen", organisation=org, role="client", password=None)
    aligned = [{"targetName": "Vaatimus 1", "targetCode": REQUIREMENT, "targetType": "ext:Requirement",
                "targetUrl": "https://eperusteet.opintopolku.fi/#/fi/ammatillinen/9000001/tutkinnonosat/900001",
                "targetFramework": "Puuteollisuuden perustutkinto"}]
    badge = make_badge(org, "Höylän käyttö", alignments=aligned)
    badge2 = make_badge(org, "Turvallinen työskentely", catalogue_ref="perustaidot/turvallisuus")
    retired = make_badge(org, "Vanha merkki")
    retired.retired_at = FIXED_NOW
    other = make_org("toinen", "Säätiö Toinen")
    other_coach = make_user("other.coach@example.test", "Olli Muu", organisation=other, role="coach", password=None)
    other_client = make_user("other.client@example.test", "Outi Muu", organisation=other, role="client", password=None)
    other_badge = make_badge(other, "Vieras merkki")

    qualification = Qualification(source="eperusteet", source_id="9000001", diaarinumero="OPH-1-2020",
                                  names={"fi": "Puuteollisuuden perustutkinto", "en": "Wood industry VQ"},
                                  imported_at=FIXED_NOW)
    unit = Unit(qualification=qualification, code="tutkinnonosat_900001",
                names={"fi": "Puusepänteollisuus", "en": "Joinery industry"}, points=45, position=0)
    for i in (1, 2, 3):
        Requirement(unit=unit, key=f"ammattitaitovaatimukset_90{i}", texts={"fi": f"Vaatimus {i}"}, position=i)
    session.add(qualification)
    session.flush()

    award = services.issue_award(session, site, version=badge.current, recipient=maija, issued_by=coach,
                                 now=FIXED_NOW, evidence_note="Höyläsi kymmenen lautaa.")
    other_award = services.issue_award(session, site, version=other_badge.current, recipient=other_client,
                                       issued_by=other_coach, now=FIXED_NOW)
    session.commit()
    return World(org, admin, coach, coach2, maija, matti, badge, badge2, retired, award, other, other_coach,
                 other_client, other_badge, other_award, qualification)


@pytest.fixture
def login_as(session):
    """Return ``login_as(client, user)``: give the user a password (argon2 is slow, so only here) and log in."""
    def _login(client, user: User):
        if user.password_hash is None:
            user.password_hash = services.hash_password(PASSWORD)
            session.commit()
        response = login(client, user.email)
        assert response.status_code == 302
        return response
    return _login


@pytest.fixture
def make_token(session):
    """Return a factory of committed tokens: ``make_token(user, scopes=None, expires_in=None)`` → text."""
    def _make(user: User, scopes=None, *, expires_in: timedelta | None = None, name: str = "test") -> str:
        now = web_now()
        chosen = list(scopes) if scopes is not None else api_tokens.allowed_scopes(session, user)
        _token, text = api_tokens.create_token(
            session, user, name=name, scopes=chosen, now=now,
            expires_at=now + expires_in if expires_in else None,
        )
        session.commit()
        return text
    return _make


def web_now():
    """Return the web layer's clock (tokens are checked against it)."""
    from badges.web import utcnow

    return utcnow()


@pytest.fixture
def contract(app) -> Contract:
    """The contract: the app's own OpenAPI document."""
    return Contract(api_spec.document(BASE_URL + api_spec.BASE_PATH))


@pytest.fixture
def api(app, contract) -> ApiClient:
    """An API client without a token; ``api.as_(token)`` sends one."""
    return ApiClient(app.test_client(), contract)


@pytest.fixture
def coach_api(api, world, make_token) -> ApiClient:
    """The coach ``coach@example.test`` with every staff scope."""
    return api.as_(make_token(world.coach))


@pytest.fixture
def admin_api(api, world, make_token) -> ApiClient:
    """The admin with every staff scope."""
    return api.as_(make_token(world.admin))


@pytest.fixture
def maija_api(api, world, make_token) -> ApiClient:
    """Client Maija with every client scope."""
    return api.as_(make_token(world.maija))

"""Fixtures for the passport tests: a client with badges, a tiny framework, another client."""

from dataclasses import dataclass
from datetime import timedelta

import flask_babel
import pytest
from flask import g
from helpers import FIXED_NOW
from passport_helpers import aligned

from badges import services
from badges.models import Award, Organisation, Qualification, Requirement, Unit, User

#: Long enough ago that a 30-day badge issued then has expired for the web layer's real clock.
LONG_AGO = FIXED_NOW - timedelta(days=400)


@pytest.fixture
def app(app):
    """The app, forgetting per-request caches (user, language) at the start of each request.

    The ``session`` fixture keeps an app context open and requests reuse it.
    """
    def forget() -> None:
        g.pop("_login_user", None)
        flask_babel.refresh()

    app.before_request_funcs.setdefault(None, []).insert(0, forget)
    return app


@dataclass
class World:
    """Client Maija (with a password) and her badges, client Pekka, a unit of three requirements."""

    org: Organisation
    coach: User
    maija: User
    pekka: User
    one: Award  #: aligned to requirement r1, with an evidence note
    two: Award  #: aligned to requirement r2, with plain Finnish and an English translation
    revoked: Award  #: aligned to r3, revoked
    expired: Award  #: aligned to r3, past its validity
    badge_of_osaamismerkki: Award  #: aligned to osaamismerkit_1002
    pekkas: Award  #: Pekka's, aligned to r3
    qualification: Qualification
    unit: Unit


@pytest.fixture
def world(session, site, make_org, make_user, make_badge) -> World:
    """Build the world and commit it."""
    org = make_org("verstas", "Työpaja Verstas")
    coach = make_user("coach@example.test", "Kalle Valmentaja", organisation=org, role="coach", password=None)
    maija = make_user("maija@example.test", "Maija Meikäläinen", organisation=org, role="client")
    pekka = make_user("pekka@example.test", "Pekka Toinen", organisation=org, role="client", password=None)

    qualification = Qualification(source="eperusteet", source_id="9000001", diaarinumero="OPH-1-2020",
                                  names={"fi": "Puuteollisuuden perustutkinto", "en": "Wood industry VQ"},
                                  imported_at=FIXED_NOW)
    unit = Unit(qualification=qualification, code="tutkinnonosat_900001", names={"fi": "Puusepänteollisuus",
                "en": "Joinery industry"}, points=45, position=0)
    for i in (1, 2, 3):
        Requirement(unit=unit, key=f"ammattitaitovaatimukset_90{i}", texts={"fi": f"Vaatimus {i}"}, position=i)
    Requirement(unit=unit, key="ammattitaitovaatimukset_999", texts={"fi": "Poistunut"}, position=9,
                withdrawn_at=FIXED_NOW)
    merkit = Qualification(source="osaamismerkit", source_id="osaamismerkit", names={"fi": "Osaamismerkit"},
                           imported_at=FIXED_NOW)
    Unit(qualification=merkit, code="osaamismerkit_1002", names={"fi": "Työturvallisuus", "en": "Safety at work"},
         position=0)
    session.add_all([qualification, merkit])
    session.flush()

    def issue(badge, recipient, *, now=FIXED_NOW, note=None):
        return services.issue_award(session, site, version=badge.current, recipient=recipient, issued_by=coach,
                                    now=now, evidence_note=note)

    one = issue(make_badge(org, "Höylän käyttö", alignments=aligned("ammattitaitovaatimukset_901")), maija,
                note="Höyläsi kymmenen lautaa tasaisiksi.")
    two = issue(make_badge(org, "Mittaaminen", alignments=aligned("ammattitaitovaatimukset_902"),
                           plain_description="Osaan mitata puun pituuden.",
                           translations={"en": {"name": "Measuring", "description": "Can measure wood.",
                                                "criteria": "Can measure to a millimetre."}}),
                maija, now=FIXED_NOW + timedelta(days=40))
    third = make_badge(org, "Liimaus", alignments=aligned("ammattitaitovaatimukset_903"))
    revoked = issue(third, maija)
    services.revoke_award(session, site, revoked, reason="Myönnetty vahingossa", now=FIXED_NOW)
    expired = issue(make_badge(org, "Trukki", alignments=aligned("ammattitaitovaatimukset_903"), valid_days=30),
                    maija, now=LONG_AGO)
    merkki = issue(make_badge(org, "Turvallisesti", alignments=aligned("osaamismerkit_1002")), maija)
    pekkas = issue(third, pekka, note="Pekka liimasi.")
    session.commit()
    return World(org, coach, maija, pekka, one, two, revoked, expired, merkki, pekkas, qualification, unit)

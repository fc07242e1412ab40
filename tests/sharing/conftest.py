"""Fixtures for the sharing tests: two clients with awards, a qualification, professionals."""

from dataclasses import dataclass

import flask_babel
import pytest
from flask import g
from helpers import FIXED_NOW
from sharing_helpers import png_bytes

from badges import awarding, services
from badges.core.credential import Evidence
from badges.models import Award, EvidenceFile, Organisation, Qualification, Requirement, Unit, User


def _professional(session, name: str, email: str, organisation: str) -> User:
    user = services.create_user(session, display_name=name, email=email, now=FIXED_NOW)
    user.is_professional = True
    user.professional_organisation = organisation
    return user


@pytest.fixture
def app(app):
    """The app, forgetting per-request caches at the start of each request.

    The ``session`` fixture keeps an app context open and requests reuse it, so ``g`` would
    carry the previous request's user and language into the next one.
    """
    def forget() -> None:
        g.pop("_login_user", None)
        flask_babel.refresh()

    app.before_request_funcs.setdefault(None, []).insert(0, forget)
    return app


@dataclass
class World:
    """Organisation ``verstas``, clients Maija and Pekka with badges, a qualification, professionals."""

    org: Organisation
    coach: User
    maija: User
    pekka: User
    wood: Award  #: Maija's, aligned to the qualification, with a note and a photo as evidence
    safety: Award  #: Maija's, aligned to an osaamismerkki only
    pekka_wood: Award  #: Pekka's, aligned to the qualification
    photo: EvidenceFile
    qualification: Qualification
    badges_of_osaamismerkit: Qualification
    pia: User  #: a professional
    olli: User  #: another professional


@pytest.fixture
def world(session, site, make_org, make_user, make_badge) -> World:
    """Build the world and commit it."""
    org = make_org("verstas", "Työpaja Verstas")
    # No passwords: the tests sign in through the session cookie, and argon2 would cost a
    # fifth of a second per person.
    coach = make_user("coach@example.test", "Kalle Valmentaja", organisation=org, role="coach", password=None)
    maija = make_user("maija@example.test", "Maija Meikäläinen", organisation=org, role="client", password=None)
    pekka = make_user("pekka@example.test", "Pekka Toinen", organisation=org, role="client", password=None)
    wood_badge = make_badge(org)  # aligned to ammattitaitovaatimukset_414
    safety_badge = make_badge(
        org, "Turvallinen työskentely", criteria="Osaa käyttää suojaimia.",
        alignments=[{"targetName": "Työturvallisuus", "targetUrl": "https://eperusteet.opintopolku.fi/x",
                     "targetCode": "osaamismerkit_1002", "targetFramework": "Osaamismerkit"}],
    )

    qualification = Qualification(source="eperusteet", source_id="3932281", diaarinumero="OPH-2455-2017",
                                  names={"fi": "Puuteollisuuden perustutkinto", "en": "Wood industry"},
                                  imported_at=FIXED_NOW)
    unit = Unit(qualification=qualification, code="tutkinnonosat_105444", names={"fi": "Puusepäntyöt"})
    session.add_all([qualification, unit, Requirement(unit=unit, key="ammattitaitovaatimukset_414",
                                                      texts={"fi": "Käyttää materiaaleja"})])
    merkit = Qualification(source="osaamismerkit", source_id="osaamismerkit", names={"fi": "Osaamismerkit"},
                           imported_at=FIXED_NOW)
    session.add_all([merkit, Unit(qualification=merkit, code="osaamismerkit_1002", names={"fi": "Turvallisuus"})])
    session.flush()

    photo = awarding.store_photo(session, org, subject=maija, uploaded_by=coach, data=png_bytes(), now=FIXED_NOW)
    wood = services.issue_award(
        session, site, version=wood_badge.current, recipient=maija, issued_by=coach, now=FIXED_NOW,
        evidence_note="Tunnisti viisi puulajia.",
        evidence=[Evidence(id=site.url(awarding.photo_path(photo)), name="Valokuva")],
    )
    safety = services.issue_award(session, site, version=safety_badge.current, recipient=maija, issued_by=coach,
                                  now=FIXED_NOW)
    pekka_wood = services.issue_award(session, site, version=wood_badge.current, recipient=pekka, issued_by=coach,
                                      now=FIXED_NOW, evidence_note="Pekan havainto.")
    pia = _professional(session, "Pia Ammattilainen", "pia@te.example.test", "TE-palvelut Oulu")
    olli = _professional(session, "Olli Opettaja", "olli@koulu.example.test", "Ammattiopisto")
    session.commit()
    return World(org, coach, maija, pekka, wood, safety, pekka_wood, photo, qualification, merkit, pia, olli)

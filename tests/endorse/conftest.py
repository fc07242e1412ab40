"""Fixtures for the endorsement tests: a workshop with a badge, a vocational school, a bystander."""

from dataclasses import dataclass

import pytest

from badges import frameworks, services
from badges.models import Achievement, Organisation, User
from helpers import FIXED_NOW

REQUIREMENT = "ammattitaitovaatimukset_414"


@dataclass
class World:
    """``verstas`` (a workshop) issues ``badge``; ``opisto`` (an education provider) may endorse it."""

    org: Organisation
    coach: User
    maija: User
    badge: Achievement
    school: Organisation
    teacher: User
    teacher_coach: User
    other: Organisation
    other_coach: User
    other_badge: Achievement


@pytest.fixture
def world(session, site, make_org, make_user, make_badge) -> World:
    """Three organisations with their staff and badges, and the ePerusteet data the badges align to."""
    frameworks.import_demo(session, FIXED_NOW)
    org = make_org("verstas", "Työpaja Verstas")
    coach = make_user("coach@example.test", "Kalle Valmentaja", organisation=org, role="coach")
    maija = make_user("maija@example.test", "Maija Meikäläinen", organisation=org, role="client")
    badge = make_badge(org)
    school = services.create_organisation(session, site, slug="opisto", name="Ammattiopisto Esimerkki",
                                          now=FIXED_NOW, kind="education_provider", email="opisto@example.test")
    teacher = make_user("teacher@example.test", "Outi Opettaja", organisation=school, role="admin")
    teacher_coach = make_user("ohjaaja@example.test", "Olli Ohjaaja", organisation=school, role="coach")
    other = make_org("toinen", "Säätiö Toinen")
    other_coach = make_user("other.coach@example.test", "Olli Muu", organisation=other, role="coach")
    other_badge = make_badge(other, name="Vieras merkki")
    session.commit()
    return World(org, coach, maija, badge, school, teacher, teacher_coach, other, other_coach, other_badge)


@pytest.fixture
def client(client):
    """A browser that chose English (the tests read English page texts)."""
    client.set_cookie("lang", "en")
    return client

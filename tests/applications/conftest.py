"""Fixtures for the application tests: two organisations, their staff, clients and badges."""

from dataclasses import dataclass

import pytest

from badges.models import Achievement, Organisation, User


@dataclass
class World:
    """Organisation ``verstas`` with staff, two clients and badges; ``toinen`` with its own."""

    org: Organisation
    admin: User
    coach: User
    maija: User
    matti: User
    badge: Achievement
    badge2: Achievement
    other_org: Organisation
    other_coach: User
    other_client: User
    other_badge: Achievement


@pytest.fixture
def world(session, make_org, make_user, make_badge) -> World:
    """Two organisations, committed."""
    org = make_org("verstas", "Työpaja Verstas")
    admin = make_user("admin@example.test", "Aino Admin", organisation=org, role="admin", password=None)
    coach = make_user("coach@example.test", "Kalle Valmentaja", organisation=org, role="coach", password=None)
    maija = make_user("maija@example.test", "Maija Meikäläinen", organisation=org, role="client", password=None)
    matti = make_user("matti@example.test", "Matti Virtanen", organisation=org, role="client", password=None)
    badge = make_badge(org, evidence_guidance="Näytä viisi puulajia ja kerro niiden käyttö.")
    badge2 = make_badge(org, name="Turvallinen työskentely", criteria="Osaa käyttää suojaimia oikein.")
    other = make_org("toinen", "Säätiö Toinen")
    other_coach = make_user("other.coach@example.test", "Olli Muu", organisation=other, role="coach", password=None)
    other_client = make_user("other.client@example.test", "Outi Muu", organisation=other, role="client",
                             password=None)
    other_badge = make_badge(other, name="Vieras merkki")
    session.commit()
    return World(org, admin, coach, maija, matti, badge, badge2, other, other_coach, other_client, other_badge)


@pytest.fixture
def client(client):
    """A browser that chose English (the tests read English page texts)."""
    client.set_cookie("lang", "en")
    return client

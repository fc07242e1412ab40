"""Fixtures for the performance-behaviour tests: a client with many badges and a share of them."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from helpers import FIXED_NOW

from badges import services
from badges.core.credential import Evidence
from badges.models import Award, Organisation, User


@dataclass
class Holder:
    """Client Maija of organisation ``verstas`` (with a password), her coach and her badge definitions."""

    org: Organisation
    coach: User
    maija: User
    badges: list
    awards: list[Award]

    def award(self, session, site, count: int) -> list[Award]:
        """Issue ``count`` more awards to Maija (a note, and a photo URL on every other), committed."""
        made = []
        for number in range(count):
            index = len(self.awards) + number
            made.append(services.issue_award(
                session, site, version=self.badges[index % len(self.badges)].current, recipient=self.maija,
                issued_by=self.coach, now=FIXED_NOW + timedelta(hours=index),
                evidence_note=f"Havainto {index}",
                evidence=[Evidence(id=site.url(f"/evidence/{index:032x}"), name="Valokuva")] if index % 2 else [],
            ))
        session.commit()
        self.awards.extend(made)
        return made


@pytest.fixture
def holder(session, make_org, make_user, make_badge) -> Holder:
    """Maija with no badges yet, and three badge definitions of her organisation."""
    org = make_org("verstas", "Työpaja Verstas")
    coach = make_user("coach@example.test", "Kalle Valmentaja", organisation=org, role="coach", password=None)
    maija = make_user("maija@example.test", "Maija Meikäläinen", organisation=org, role="client")
    badges = [make_badge(org, name=f"Merkki {n}") for n in range(3)]
    session.commit()
    return Holder(org, coach, maija, badges, [])

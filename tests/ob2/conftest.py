"""Fixtures for the Open Badges 2.0 export tests."""

import pytest

from badges import services
from helpers import FIXED_NOW


@pytest.fixture
def award_without_email(session, site, make_user, issued):
    """An award to a client who has no e-mail address (known by name), committed."""
    award, organisation, _ = issued
    person = make_user(None, "Aleksi Esimerkki", organisation=organisation, role="client", password=None)
    other = services.issue_award(session, site, version=award.achievement_version, recipient=person, now=FIXED_NOW)
    session.commit()
    return other


@pytest.fixture
def client(client):
    """A browser that chose English."""
    client.set_cookie("lang", "en")
    return client

"""Fixtures for the qualification framework tests: imported frameworks and staff logins."""

from typing import Any

import pytest
from frameworks_helpers import DATA, DEMO_DATA, load
from helpers import FIXED_NOW, login

from badges import frameworks


@pytest.fixture
def demo_peruste() -> dict[str, Any]:
    """The shipped reform-2018 demo peruste (two units of puuteollisuus), always present."""
    return load(DEMO_DATA / "eperusteet_puuteollisuus_demo.json")


@pytest.fixture
def imported(session, demo_peruste):
    """The demo peruste, the 2019 fixture and the demo osaamismerkit, imported and committed."""
    frameworks.import_document(session, demo_peruste, now=FIXED_NOW)
    frameworks.import_file(session, DATA / "peruste_2019.json", now=FIXED_NOW)
    frameworks.import_file(session, DEMO_DATA / "osaamismerkit_koodit_demo.json", now=FIXED_NOW)
    session.commit()


@pytest.fixture
def staff(make_org, make_user):
    """An organisation with a coach (coach@example.test); tests add the other roles they need."""
    organisation = make_org()
    make_user("coach@example.test", "Kalle Valmentaja", organisation=organisation, role="coach")
    return organisation


@pytest.fixture
def coach_client(client, session, staff, imported):
    """A test client logged in as a coach, with frameworks imported."""
    session.commit()
    assert login(client, "coach@example.test").status_code == 302
    return client

"""Every people route × every kind of person: only the right role in the right organisation gets in."""

import pytest
from helpers import FIXED_NOW
from people_helpers import ADMIN, ADMIN_B, CLIENT, COACH, COACH_B, db
from sqlalchemy import select

from badges import people
from badges.models import Organisation, User

ADMIN_ONLY = [
    ("get", "/org/{org}/settings"),
    ("post", "/org/{org}/settings"),
    ("post", "/org/{org}/settings/logo"),
    ("post", "/org/{org}/settings/logo/remove"),
    ("get", "/org/{org}/members"),
    ("post", "/org/{org}/members/invite"),
    ("post", "/org/{org}/members/{coach}/role"),
    ("post", "/org/{org}/members/{coach}/remove"),
    ("post", "/org/{org}/invitations/{ref}/revoke"),
    ("get", "/org/{org}/keys"),
    ("post", "/org/{org}/keys"),
]
STAFF = [
    ("get", "/org/{org}/clients"),
    ("get", "/org/{org}/clients/new"),
    ("post", "/org/{org}/clients/new"),
    ("get", "/org/{org}/clients/{client}"),
    ("post", "/org/{org}/clients/{paperless}/activation"),
]


@pytest.fixture
def ref(app, world):
    """The reference of a pending invitation of organisation A."""
    with db(app) as session:
        organisation = session.scalars(select(Organisation).where(Organisation.slug == world.org)).one()
        admin = session.scalars(select(User).where(User.public_id == world.admin)).one()
        invitation, _token = people.invite(session, organisation, email="new@example.test", role="coach",
                                           actor=admin, now=FIXED_NOW.replace(year=2099))
        session.commit()
        return people.invitation_ref(invitation)


def _call(client, method, path):  # noqa: ANN001, ANN202
    return getattr(client, method)(path, data={})


def _path(template, world, ref):  # noqa: ANN001, ANN202
    return template.format(org=world.org, coach=world.coach, client=world.client,
                           paperless=world.paperless, ref=ref)


@pytest.mark.parametrize(("method", "template"), ADMIN_ONLY + STAFF, ids=lambda v: v)
def test_route_lets_in_only_the_right_people(as_user, world, ref, method, template):
    path = _path(template, world, ref)
    admin_only = (method, template) in ADMIN_ONLY

    anonymous = _call(as_user(None), method, path)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")

    for outsider in (CLIENT, ADMIN_B, COACH_B) + ((COACH,) if admin_only else ()):
        assert _call(as_user(outsider), method, path).status_code == 404, outsider

    allowed = _call(as_user(ADMIN), method, path)
    assert allowed.status_code in (200, 302, 400), allowed.status_code
    assert not allowed.headers.get("Location", "").startswith("/login")
    if not admin_only:
        assert _call(as_user(COACH), method, path).status_code in (200, 302, 400)


def test_staff_of_another_organisation_cannot_reach_objects_through_their_own(as_user, world):
    admin_b = as_user(ADMIN_B)
    other = world.other
    assert admin_b.get(f"/org/{other}/clients/{world.paperless}").status_code == 404
    assert admin_b.post(f"/org/{other}/clients/{world.paperless}/activation").status_code == 404
    assert admin_b.post(f"/org/{other}/members/{world.coach}/role", data={"role": "admin"}).status_code == 404
    assert admin_b.post(f"/org/{other}/members/{world.coach}/remove").status_code == 404
    assert admin_b.get(f"/org/{other}/clients/{world.client_b}").status_code == 200  # their own: visible


def test_coach_sees_only_clients_of_their_own_organisation(as_user, world):
    coach = as_user(COACH)
    assert coach.get(f"/org/{world.org}/clients/{world.client_b}").status_code == 404
    assert coach.get(f"/org/{world.org}/clients/{world.coach}").status_code == 404  # staff is not a client
    assert coach.get(f"/org/{world.org}/clients/not-a-real-id").status_code == 404
    assert coach.get("/org/no-such-org/clients").status_code == 404


def test_unknown_invitation_reference_is_404(as_user, world):
    response = as_user(ADMIN).post(f"/org/{world.org}/invitations/{'0' * 32}/revoke")
    assert response.status_code == 404


def test_logo_is_public_but_only_when_there_is_one(as_user, world):
    assert as_user(None).get(f"/org/{world.org}/logo.png").status_code == 404
    assert as_user(None).get("/org/no-such-org/logo.png").status_code == 404

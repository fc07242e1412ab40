"""Members: change roles, remove people, and never lose the last administrator."""

from people_helpers import ADMIN, COACH, db, text
from sqlalchemy import select

from badges import services
from badges.models import AuditEvent, Organisation, User


def _roles(app, public_id: str, slug: str) -> set[str]:
    with db(app) as session:
        user = session.scalar(select(User).where(User.public_id == public_id))
        organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
        return services.roles_of(session, user, organisation)


def _events(app, action: str) -> list[AuditEvent]:
    with db(app) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_members_page_lists_staff_with_roles_but_not_clients(as_user, world):
    page = text(as_user(ADMIN).get(f"/org/{world.org}/members"))
    assert "Aino Ylläpitäjä" in page and "Kalle Valmentaja" in page
    assert "Maija Meikäläinen" not in page and "Ville Virtanen" not in page  # clients
    assert "Bertta Muu" not in page  # another organisation


def test_admin_makes_a_coach_an_admin_and_back(app, as_user, world):
    admin = as_user(ADMIN)
    response = admin.post(f"/org/{world.org}/members/{world.coach}/role", data={"role": "admin"})
    assert response.status_code == 302
    assert _roles(app, world.coach, world.org) == {"admin"}
    assert admin.post(f"/org/{world.org}/members/{world.coach}/role", data={"role": "coach"}).status_code == 302
    assert _roles(app, world.coach, world.org) == {"coach"}
    events = _events(app, "member.role")
    assert [event.details["role"] for event in events] == ["admin", "coach"]
    assert {event.target for event in events} == {world.coach}


def test_unknown_role_changes_nothing(app, as_user, world):
    response = as_user(ADMIN).post(f"/org/{world.org}/members/{world.coach}/role", data={"role": "client"},
                                   follow_redirects=True)
    assert "Choose a role from the list" in text(response)
    assert _roles(app, world.coach, world.org) == {"coach"}


def test_the_last_admin_cannot_demote_or_remove_themselves(app, as_user, world):
    admin = as_user(ADMIN)
    demoted = admin.post(f"/org/{world.org}/members/{world.admin}/role", data={"role": "coach"},
                         follow_redirects=True)
    assert "at least one administrator" in text(demoted)
    removed = admin.post(f"/org/{world.org}/members/{world.admin}/remove", follow_redirects=True)
    assert "at least one administrator" in text(removed)
    assert _roles(app, world.admin, world.org) == {"admin"}
    assert _events(app, "member.role") == [] and _events(app, "member.remove") == []


def test_with_a_second_admin_the_first_may_step_down(app, as_user, world):
    admin = as_user(ADMIN)
    admin.post(f"/org/{world.org}/members/{world.coach}/role", data={"role": "admin"})
    stepped_down = admin.post(f"/org/{world.org}/members/{world.admin}/role", data={"role": "coach"})
    assert stepped_down.status_code == 302 and stepped_down.headers["Location"] == "/"
    assert _roles(app, world.admin, world.org) == {"coach"}
    assert admin.get(f"/org/{world.org}/members").status_code == 404  # no longer an admin
    # …and now the other one is the last admin.
    coach_now_admin = as_user(COACH)
    coach_now_admin.post(f"/org/{world.org}/members/{world.coach}/remove")
    assert _roles(app, world.coach, world.org) == {"admin"}


def test_removing_a_coach_ends_their_access_but_keeps_the_account(app, as_user, world):
    coach = as_user(COACH)
    assert coach.get(f"/org/{world.org}/clients").status_code == 200
    response = as_user(ADMIN).post(f"/org/{world.org}/members/{world.coach}/remove")
    assert response.status_code == 302
    assert _roles(app, world.coach, world.org) == set()
    assert coach.get(f"/org/{world.org}/clients").status_code == 404
    assert [event.target for event in _events(app, "member.remove")] == [world.coach]
    with db(app) as session:
        assert session.scalar(select(User).where(User.public_id == world.coach)) is not None


def test_removing_staff_keeps_their_client_relationship(app, as_user, world):
    with db(app) as session:
        coach = session.scalar(select(User).where(User.public_id == world.coach))
        organisation = session.scalar(select(Organisation).where(Organisation.slug == world.org))
        services.add_member(session, coach, organisation, "client", now=organisation.created_at)
        session.commit()
    as_user(ADMIN).post(f"/org/{world.org}/members/{world.coach}/remove")
    assert _roles(app, world.coach, world.org) == {"client"}


def test_clients_cannot_be_handled_as_members(app, as_user, world):
    admin = as_user(ADMIN)
    assert admin.post(f"/org/{world.org}/members/{world.client}/role", data={"role": "admin"}).status_code == 404
    assert admin.post(f"/org/{world.org}/members/{world.client}/remove").status_code == 404
    assert _roles(app, world.client, world.org) == {"client"}

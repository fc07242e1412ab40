"""Clients: a coach lists, searches and adds them; existing accounts are invited, never attached."""

from people_helpers import ADMIN, COACH, COACH_B, db, invite_token, outbox, text
from sqlalchemy import select

from badges import services
from badges.models import AuditEvent, Invitation, Membership, Organisation, User


def _client_roles(app, email: str, slug: str) -> set[str]:
    with db(app) as session:
        user = session.scalar(select(User).where(User.email == email))
        organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
        return services.roles_of(session, user, organisation)


def _listed(response) -> str:  # noqa: ANN001
    """Return the client list part of a page (not the header with the viewer's own name)."""
    page = text(response)
    if 'class="client-list"' not in page:
        return ""
    start = page.index('class="client-list"')
    return page[start:page.index("</ul>", start)]


def test_list_shows_only_this_organisations_clients(as_user, world):
    page = _listed(as_user(COACH).get(f"/org/{world.org}/clients"))
    assert "Maija Meikäläinen" in page and "Ville Virtanen" in page
    assert "Olli Vain-B" not in page  # a client of B only
    assert "Kalle Valmentaja" not in page  # staff are not clients


def test_search_by_name(as_user, world):
    coach = as_user(COACH)
    page = _listed(coach.get(f"/org/{world.org}/clients?q=VIRT"))
    assert "Ville Virtanen" in page and "Maija Meikäläinen" not in page
    assert "No client's name contains" in text(coach.get(f"/org/{world.org}/clients?q=Olli"))
    for wildcard in ("%", "_", "\\"):
        response = coach.get(f"/org/{world.org}/clients", query_string={"q": wildcard})
        assert response.status_code == 200
        assert "Ville Virtanen" not in text(response)  # taken literally, not as a pattern


def test_coach_adds_a_client_without_e_mail(app, as_user, world):
    response = as_user(COACH).post(f"/org/{world.org}/clients/new", data={"name": "  Pekka Paperiton ", "email": "",
                                                                            "language": "sv"})
    assert response.status_code == 302
    with db(app) as session:
        user = session.scalar(select(User).where(User.display_name == "Pekka Paperiton"))
        assert user.email is None and user.password_hash is None and user.locale == "sv"
        assert response.headers["Location"] == f"/org/{world.org}/clients/{user.public_id}"
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "client.create")).one()
        assert event.target == user.public_id
    page = text(as_user(COACH).get(response.headers["Location"]))
    assert "Pekka Paperiton" in page and "svenska" in page


def test_coach_adds_a_client_with_a_new_e_mail_address(app, as_user, world):
    response = as_user(COACH).post(f"/org/{world.org}/clients/new", data={
        "name": "Sanna Sähköposti", "email": "Sanna@Example.test", "language": "fi",
    })
    assert response.status_code == 302
    assert _client_roles(app, "sanna@example.test", world.org) == {"client"}
    assert outbox(app) == []


def test_an_existing_account_is_invited_not_attached(app, as_user, world):
    coach = as_user(COACH)
    response = coach.post(f"/org/{world.org}/clients/new", data={
        "name": "Whatever The Coach Typed", "email": COACH_B, "language": "en",
    }, follow_redirects=True)
    assert "invitation was sent" in text(response)
    assert _client_roles(app, COACH_B, world.org) == set()  # not attached
    with db(app) as session:
        assert session.scalar(select(User).where(User.display_name == "Whatever The Coach Typed")) is None
        invitation = session.scalars(select(Invitation)).one()
        assert (invitation.email, invitation.role) == (COACH_B, "client")
    (mail,) = outbox(app)
    assert mail["To"] == COACH_B and "client" in mail.get_content()
    assert COACH_B in text(coach.get(f"/org/{world.org}/clients"))  # listed as waiting for consent

    # The person consents by accepting.
    person = as_user(COACH_B)
    token = invite_token(mail)
    assert person.post(f"/invite/{token}").status_code == 302
    assert _client_roles(app, COACH_B, world.org) == {"client"}


def test_client_invitation_mail_is_in_the_chosen_language(app, as_user, world):
    as_user(COACH, lang="fi").post(f"/org/{world.org}/clients/new", data={
        "name": "X", "email": COACH_B, "language": "sv",
    })
    (mail,) = outbox(app)
    assert any(month in mail.get_content() for month in ("januari", "februari", "mars", "april", "maj", "juni",
                                                         "juli", "augusti", "september", "oktober", "november",
                                                         "december"))


def test_a_current_client_cannot_be_added_twice(app, as_user, world):
    response = as_user(COACH).post(f"/org/{world.org}/clients/new", data={
        "name": "Maija", "email": "client@example.test", "language": "fi",
    })
    assert response.status_code == 400 and "already a client" in text(response)
    assert outbox(app) == []


def test_bad_client_input_is_refused(app, as_user, world):
    coach = as_user(COACH)
    for data, message in (
        ({"name": "", "email": "", "language": "fi"}, "This field is required"),
        ({"name": "A", "email": "nope", "language": "fi"}, "Check the e-mail address"),
        ({"name": "A", "email": "", "language": "de"}, "Not a valid choice"),
        ({"name": "A" * 201, "email": "", "language": "fi"}, "200"),
    ):
        response = coach.post(f"/org/{world.org}/clients/new", data=data)
        assert response.status_code == 400 and message in text(response)
    with db(app) as session:
        assert session.scalar(select(User).where(User.display_name == "A")) is None


def test_client_page_shows_only_this_organisations_awards(as_user, world):
    page = text(as_user(COACH).get(f"/org/{world.org}/clients/{world.client}"))
    assert "Maija Meikäläinen" in page
    assert f"/credentials/{world.award}" in page and "Puulajien tunnistaminen" in page
    assert f"/credentials/{world.award_b}" not in page and "Nurmikon" not in page
    page_b = text(as_user("admin-b@example.test").get(f"/org/{world.other}/clients/{world.client}"))
    assert f"/credentials/{world.award_b}" in page_b and f"/credentials/{world.award}" not in page_b


def test_a_client_of_two_organisations_is_in_both_lists(app, as_user, world):
    assert "Maija" in text(as_user(ADMIN).get(f"/org/{world.org}/clients"))
    assert "Maija" in text(as_user("admin-b@example.test").get(f"/org/{world.other}/clients"))
    with db(app) as session:
        user = session.scalar(select(User).where(User.public_id == world.client))
        memberships = session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
        assert sorted(m.role for m in memberships) == ["client", "client"]


def test_only_admins_see_the_cancel_button_for_client_invitations(as_user, world):
    as_user(COACH).post(f"/org/{world.org}/clients/new", data={"name": "X", "email": COACH_B, "language": "fi"})
    assert "Cancel the invitation" not in text(as_user(COACH).get(f"/org/{world.org}/clients"))
    assert "Cancel the invitation" in text(as_user(ADMIN).get(f"/org/{world.org}/clients"))

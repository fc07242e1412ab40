"""Who may see and do what: clients see only their own, coaches only their organisation's."""

from applications_helpers import applications, awards, notifications, photo_bytes, rows, send, sign_in
from flask import g
from helpers import FIXED_NOW

from badges import services
from badges.models import EvidenceFile


def _applied(client, session, world, user=None, badge=None):
    sign_in(client, user or world.maija)
    send(client, (badge or world.badge).public_id, photo=photo_bytes())
    return applications(session)[-1]


def test_a_coach_of_another_organisation_gets_404_everywhere(client, session, world):
    application = _applied(client, session, world)
    sign_in(client, world.other_coach)
    assert client.get("/org/verstas/applications").status_code == 404
    assert client.get(f"/org/verstas/applications/{application.public_id}").status_code == 404
    # Through their own organisation's address: the application is not theirs either.
    assert client.get("/org/toinen/applications").status_code == 200
    assert "Maija" not in client.get("/org/toinen/applications").get_data(as_text=True)
    assert client.get(f"/org/toinen/applications/{application.public_id}").status_code == 404
    for action, data in (("award", {}), ("answer", {"reply": "Hyvä!"})):
        assert client.post(f"/org/verstas/applications/{application.public_id}/{action}", data=data).status_code == 404
        assert client.post(f"/org/toinen/applications/{application.public_id}/{action}", data=data).status_code == 404
    [application] = applications(session)
    assert application.status == "submitted" and not awards(session) and not notifications(session)
    assert client.get(f"/evidence/{application.evidence_file.public_id}").status_code == 404


def test_a_client_sees_only_their_own_applications(client, session, world):
    application = _applied(client, session, world)
    sign_in(client, world.matti)
    assert client.get(f"/passport/applications/{application.public_id}").status_code == 404
    assert "Tunnistin" not in client.get("/passport/applications").get_data(as_text=True)
    assert client.get(f"/evidence/{application.evidence_file.public_id}").status_code == 404
    sign_in(client, world.maija)
    assert client.get(f"/passport/applications/{application.public_id}").status_code == 200
    assert client.get(f"/evidence/{application.evidence_file.public_id}").status_code == 200


def test_clients_cannot_reach_the_coach_pages(client, session, world):
    application = _applied(client, session, world)
    assert client.get("/org/verstas/applications").status_code == 404
    assert client.get(f"/org/verstas/applications/{application.public_id}").status_code == 404
    assert client.post(f"/org/verstas/applications/{application.public_id}/award").status_code == 404
    assert not awards(session)


def test_unknown_ids_are_404(client, world):
    sign_in(client, world.maija)
    assert client.get("/passport/applications/" + "0" * 32).status_code == 404
    assert client.get("/passport/applications/new?badge=" + "0" * 32).status_code == 404
    sign_in(client, world.coach)
    assert client.get("/org/verstas/applications/" + "0" * 32).status_code == 404


def test_anonymous_people_are_sent_to_log_in(app, world):
    g.pop("_login_user", None)
    anonymous = app.test_client()
    for path in ("/passport/applications", "/passport/applications/new", "/org/verstas/applications"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert anonymous.post("/passport/applications/new", data={"badge": "x", "statement": "x"}).status_code == 302


def test_a_tampered_form_cannot_apply_to_another_organisations_badge(client, session, world):
    sign_in(client, world.maija)
    assert client.get(f"/passport/applications/new?badge={world.other_badge.public_id}").status_code == 404
    response = send(client, world.other_badge.public_id, photo=photo_bytes())
    assert response.status_code == 404
    assert not applications(session) and not rows(session, EvidenceFile)


def test_staff_are_not_clients_of_their_own_organisation(client, session, world):
    sign_in(client, world.coach)
    page = client.get("/passport/applications/new").get_data(as_text=True)
    assert "Puumateriaalien tunnistaminen" not in page
    assert send(client, world.badge.public_id).status_code == 404
    assert not applications(session)


def test_a_client_of_two_organisations_sees_both_libraries(client, session, world):
    services.add_member(session, world.maija, world.other_org, "client", now=FIXED_NOW)
    session.commit()
    sign_in(client, world.maija)
    page = client.get("/passport/applications/new").get_data(as_text=True)
    assert "Vieras merkki" in page and "Puumateriaalien tunnistaminen" in page
    assert "Säätiö Toinen" in page and "Työpaja Verstas" in page
    assert send(client, world.other_badge.public_id).status_code == 302
    [application] = applications(session)
    assert application.organisation_id == world.other_org.id
    # … and the coaches of verstas do not see an application made to toinen.
    sign_in(client, world.coach)
    assert client.get(f"/org/verstas/applications/{application.public_id}").status_code == 404


def test_a_person_no_longer_a_client_cannot_be_awarded_from_an_old_application(client, session, world):
    from sqlalchemy import delete

    from badges.models import Membership

    application = _applied(client, session, world)
    session.execute(delete(Membership).where(Membership.user_id == world.maija.id))
    session.commit()
    sign_in(client, world.coach)
    response = client.post(f"/org/verstas/applications/{application.public_id}/award")
    assert response.status_code == 409
    assert not awards(session)


def test_a_coach_who_is_also_a_client_does_not_decide_their_own_application(client, session, world):
    services.add_member(session, world.coach, world.org, "client", now=FIXED_NOW)
    world.coach.locale = "en"
    session.commit()
    application = _applied(client, session, world, user=world.coach)
    response = client.post(f"/org/verstas/applications/{application.public_id}/award")
    assert response.status_code == 403 and "This is your own application." in response.get_data(as_text=True)
    response = client.post(f"/org/verstas/applications/{application.public_id}/answer", data={"reply": "Hyvä!"})
    assert response.status_code == 403
    assert not awards(session) and applications(session)[0].status == "submitted"
    sign_in(client, world.admin)
    assert client.post(f"/org/verstas/applications/{application.public_id}/award").status_code == 302

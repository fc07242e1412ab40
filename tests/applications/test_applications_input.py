"""Bad input gets a clear message in the user's language; nothing is saved."""

import io

import pytest
from applications_helpers import applications, awards, photo_bytes, rows, send, sign_in
from helpers import BASE_URL, FIXED_NOW

from badges import applications as application_service
from badges import create_app, services
from badges.models import EvidenceFile


def _english(session, *users):
    for user in users:
        user.locale = "en"
    session.commit()


@pytest.mark.parametrize(("data", "message"), [
    (b"this is not an image", "Tiedostoa ei voi lukea kuvana."),
    (b"", None),  # an empty file part counts as no photo
])
def test_a_bad_photo_is_refused_with_a_translated_message(client, session, world, data, message):
    sign_in(client, world.maija)
    response = client.post("/passport/applications/new?lang=fi", data={
        "badge": world.badge.public_id, "statement": "Tein hyllyn.",
        "photo": (io.BytesIO(data), "kuva.jpg" if data else "", "image/jpeg"),
    }, content_type="multipart/form-data")
    if message is None:
        assert response.status_code == 302
        assert applications(session)[0].evidence_file_id is None
        return
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert not applications(session) and not rows(session, EvidenceFile)


def test_an_svg_photo_is_refused(client, session, world):
    _english(session, world.maija)
    sign_in(client, world.maija)
    response = send(client, world.badge.public_id, photo=b'<svg xmlns="http://www.w3.org/2000/svg"></svg>',
                    filename="kuva.svg")
    assert response.status_code == 400
    assert "SVG files are not accepted" in response.get_data(as_text=True)
    assert not applications(session) and not rows(session, EvidenceFile)


@pytest.mark.parametrize(("statement", "message"), [
    ("", "Write what you did."),
    ("   \r\n  ", "Write what you did."),
    ("x" * 2001, "The text is too long (at most 2,000 characters)."),
])
def test_the_statement_is_required_and_at_most_2000_characters(client, session, world, statement, message):
    _english(session, world.maija)
    sign_in(client, world.maija)
    response = send(client, world.badge.public_id, statement, photo=photo_bytes())
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert "Please choose the photo again." in page  # the browser forgets a chosen file
    assert not applications(session) and not rows(session, EvidenceFile)


def test_line_breaks_count_as_one_character(client, session, world):
    sign_in(client, world.maija)
    statement = ("a" * 99 + "\r\n") * 20  # 2,000 characters as the browser counts them
    assert send(client, world.badge.public_id, statement).status_code == 302
    [application] = applications(session)
    assert application.statement == ("a" * 99 + "\n") * 19 + "a" * 99


def test_applying_twice_while_open_is_refused_kindly(client, session, world):
    _english(session, world.maija)
    sign_in(client, world.maija)
    assert send(client, world.badge.public_id, "Ensimmäinen kerta.").status_code == 302
    page = client.get(f"/passport/applications/new?badge={world.badge.public_id}").get_data(as_text=True)
    assert "You applied for this badge on" in page and 'name="statement"' not in page
    response = send(client, world.badge.public_id, "Toinen kerta.")
    assert response.status_code == 409
    assert "You applied for this badge on" in response.get_data(as_text=True)
    assert [a.statement for a in applications(session)] == ["Ensimmäinen kerta."]
    choose = client.get("/passport/applications/new").get_data(as_text=True)
    assert "Application sent" in choose


def test_the_same_text_sent_twice_makes_one_application(client, session, world):
    sign_in(client, world.maija)
    assert send(client, world.badge.public_id, "Sama teksti.").status_code == 302
    assert send(client, world.badge.public_id, "Sama teksti.").status_code == 302
    assert len(applications(session)) == 1


def test_a_badge_the_client_holds_cannot_be_applied_for(client, session, world, site):
    _english(session, world.maija)
    award = services.issue_award(session, site, version=world.badge.current, recipient=world.maija,
                                 issued_by=world.coach, now=FIXED_NOW)
    session.commit()
    sign_in(client, world.maija)
    page = client.get(f"/passport/applications/new?badge={world.badge.public_id}").get_data(as_text=True)
    assert "You already have this badge. Well done!" in page and 'name="statement"' not in page
    assert f"/credentials/{award.public_id}" in page
    response = send(client, world.badge.public_id)
    assert response.status_code == 409 and "You already have this badge" in response.get_data(as_text=True)
    assert not applications(session)
    assert "You have this badge" in client.get("/passport/applications/new").get_data(as_text=True)


def test_a_revoked_badge_may_be_applied_for_again(client, session, world, site):
    award = services.issue_award(session, site, version=world.badge.current, recipient=world.maija,
                                 issued_by=world.coach, now=FIXED_NOW)
    services.revoke_award(session, site, award, reason="Väärä henkilö.", now=FIXED_NOW, actor=world.coach)
    session.commit()
    sign_in(client, world.maija)
    assert send(client, world.badge.public_id).status_code == 302


def test_the_coach_cannot_award_what_the_client_got_meanwhile(client, session, world, site):
    _english(session, world.coach)
    sign_in(client, world.maija)
    send(client, world.badge.public_id)
    [application] = applications(session)
    services.issue_award(session, site, version=world.badge.current, recipient=world.maija,
                         issued_by=world.coach, now=FIXED_NOW)
    session.commit()
    sign_in(client, world.coach)
    detail = client.get(f"/org/verstas/applications/{application.public_id}").get_data(as_text=True)
    assert "The client already has this badge." in detail
    response = client.post(f"/org/verstas/applications/{application.public_id}/award")
    assert response.status_code == 409 and "already has this badge" in response.get_data(as_text=True)
    assert len(awards(session)) == 1


def test_a_retired_badge_cannot_be_applied_for(client, session, world):
    _english(session, world.maija)
    world.badge.retired_at = FIXED_NOW
    session.commit()
    sign_in(client, world.maija)
    assert "Puumateriaalien tunnistaminen" not in client.get("/passport/applications/new").get_data(as_text=True)
    page = client.get(f"/passport/applications/new?badge={world.badge.public_id}").get_data(as_text=True)
    assert "This badge is no longer in use" in page and 'name="statement"' not in page
    response = send(client, world.badge.public_id, photo=photo_bytes())
    assert response.status_code == 409 and "This badge is no longer in use" in response.get_data(as_text=True)
    assert not applications(session) and not rows(session, EvidenceFile)


def test_a_badge_retired_after_the_application_cannot_be_awarded_but_can_be_answered(client, session, world):
    _english(session, world.coach)
    sign_in(client, world.maija)
    send(client, world.badge.public_id)
    [application] = applications(session)
    world.badge.retired_at = FIXED_NOW
    session.commit()
    sign_in(client, world.coach)
    detail = client.get(f"/org/verstas/applications/{application.public_id}").get_data(as_text=True)
    assert "This badge is retired and cannot be awarded." in detail and "Award the badge</button>" not in detail
    response = client.post(f"/org/verstas/applications/{application.public_id}/award")
    assert response.status_code == 409 and "retired" in response.get_data(as_text=True)
    assert not awards(session)
    [application] = applications(session)
    assert application.status == "submitted"
    response = client.post(f"/org/verstas/applications/{application.public_id}/answer",
                           data={"reply": "Tämä merkki poistui käytöstä. Hae uutta merkkiä Puulajit 2."})
    assert response.status_code == 302


@pytest.mark.parametrize(("reply", "message"), [
    ("", "Write an answer to the client."),
    ("y" * 1001, "The answer is too long (at most 1,000 characters)."),
])
def test_the_reply_is_required_and_at_most_1000_characters(client, session, world, reply, message):
    _english(session, world.coach)
    sign_in(client, world.maija)
    send(client, world.badge.public_id)
    [application] = applications(session)
    sign_in(client, world.coach)
    response = client.post(f"/org/verstas/applications/{application.public_id}/answer", data={"reply": reply})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    [application] = applications(session)
    assert application.status == "submitted" and application.reply is None


def test_a_too_long_note_is_refused(client, session, world):
    _english(session, world.coach)
    sign_in(client, world.maija)
    send(client, world.badge.public_id)
    [application] = applications(session)
    sign_in(client, world.coach)
    response = client.post(f"/org/verstas/applications/{application.public_id}/award", data={"note": "n" * 1001})
    assert response.status_code == 400 and "The note is too long" in response.get_data(as_text=True)
    assert not awards(session)


def test_deficit_words_in_the_reply_are_flagged_before_sending(client, session, world):
    _english(session, world.coach)
    sign_in(client, world.maija)
    send(client, world.badge.public_id)
    [application] = applications(session)
    sign_in(client, world.coach)
    url = f"/org/verstas/applications/{application.public_id}/answer"
    reply = "Puulajien tunnistamisessa on vielä puutteita."
    response = client.post(url, data={"reply": reply})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Check the wording:" in page and "puutteita" in page
    assert applications(session)[0].status == "submitted"
    assert client.post(url, data={"reply": reply, "reply_confirmed": "y"}).status_code == 302
    assert applications(session)[0].status == "answered"


def test_the_coach_is_told_when_the_clients_text_has_words_about_health(client, session, world):
    _english(session, world.coach)
    sign_in(client, world.maija)
    send(client, world.badge.public_id, "Masennuksesta huolimatta tunnistin viisi puulajia.")
    [application] = applications(session)
    sign_in(client, world.coach)
    page = client.get(f"/org/verstas/applications/{application.public_id}").get_data(as_text=True)
    assert "The client's text becomes part of the badge." in page and "Masennuksesta" in page


def test_csrf_is_enforced_on_the_application_and_decision_forms(world, database_url, kek_text, session):

    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "BADGES_KEK": kek_text, "BADGES_BASE_URL": BASE_URL,
        "BADGES_DATABASE_URL": database_url, "WTF_CSRF_ENABLED": True,
    })
    client = app.test_client()
    sign_in(client, world.maija)
    page = client.get(f"/passport/applications/new?badge={world.badge.public_id}").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    response = client.post("/passport/applications/new", data={"badge": world.badge.public_id, "statement": "Tein."})
    assert response.status_code == 400
    assert not applications(session)

    made = application_service.submit(session, client=world.maija, badge_id=world.badge.public_id,
                                      statement="Tein.", photo=None, now=FIXED_NOW)
    session.commit()
    sign_in(client, world.coach)
    assert client.post(f"/org/verstas/applications/{made.public_id}/award").status_code == 400
    assert client.post(f"/org/verstas/applications/{made.public_id}/answer", data={"reply": "Hyvä!"}).status_code == 400
    assert not awards(session) and applications(session)[0].status == "submitted"
    app.extensions["badges.engine"].dispose()

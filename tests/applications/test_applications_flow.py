"""A client applies for a badge in their own words; a coach awards it or answers with encouragement."""

import io
from datetime import UTC, datetime

from applications_helpers import (
    applications,
    awards,
    credential,
    notifications,
    photo_bytes,
    rows,
    send,
    sign_in,
)
from helpers import BASE_URL, FIXED_NOW
from PIL import Image

from badges import services
from badges.models import AuditEvent, EvidenceFile

STATEMENT = "Tunnistin koivun, männyn, kuusen, tammen ja haavan.\nKerroin, mihin kutakin käytetään."


def _english(session, *users):
    for user in users:
        user.locale = "en"
    session.commit()


def test_full_flow_from_application_with_photo_to_awarded_badge(client, session, world, site):
    _english(session, world.maija, world.coach)
    maija = world.maija
    sign_in(client, maija)

    choose = client.get("/passport/applications/new").get_data(as_text=True)
    assert "Puumateriaalien tunnistaminen" in choose and "Turvallinen työskentely" in choose
    assert "Osaa nimetä viisi puulajia" in choose  # what to show
    assert "Vieras merkki" not in choose  # a badge of an organisation where Maija is no client

    form = client.get(f"/passport/applications/new?badge={world.badge.public_id}").get_data(as_text=True)
    assert "Osaa tunnistaa tavallisimmat puulajit." in form  # description
    assert "Näytä viisi puulajia ja kerro niiden käyttö." in form  # evidence guidance
    assert 'accept="image/*"' in form and 'capture="environment"' in form
    assert 'maxlength="2000"' in form

    response = send(client, world.badge.public_id, STATEMENT, photo=photo_bytes())
    assert response.status_code == 302 and response.headers["Location"].endswith("/passport/applications")
    [application] = applications(session)
    assert application.client_id == maija.id and application.organisation_id == world.org.id
    assert application.status == "submitted" and application.statement == STATEMENT
    photo = application.evidence_file
    assert photo.subject_id == maija.id and photo.uploaded_by_id == maija.id
    assert photo.organisation_id == world.org.id
    assert b"SecretCamera" not in photo.content  # re-encoded without its metadata
    assert Image.open(io.BytesIO(photo.content)).format == "JPEG"

    listing = client.get("/passport/applications").get_data(as_text=True)
    assert "Puumateriaalien tunnistaminen" in listing
    assert "A coach will look at your application and answer you." in listing

    sign_in(client, world.coach)
    queue = client.get("/org/verstas/applications").get_data(as_text=True)
    assert "Maija Meikäläinen" in queue and "Puumateriaalien tunnistaminen" in queue
    assert "Tunnistin koivun" in queue and "with a photo" in queue
    detail = client.get(f"/org/verstas/applications/{application.public_id}").get_data(as_text=True)
    assert "Kerroin, mihin kutakin käytetään." in detail  # the statement
    assert f'src="/evidence/{photo.public_id}"' in detail
    assert "Osaa nimetä viisi puulajia ja niiden käyttökohteet." in detail  # the criteria
    image = client.get(f"/evidence/{photo.public_id}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"

    response = client.post(f"/org/verstas/applications/{application.public_id}/award",
                           data={"note": "Näin itse, kun hän lajitteli puut."})
    assert response.status_code == 302
    assert "Maija Meikäläinen" in client.get(response.headers["Location"]).get_data(as_text=True)

    [award] = awards(session)
    assert award.recipient_id == maija.id and award.issued_by_id == world.coach.id
    assert award.idempotency_key == f"application:{application.public_id}"
    assert award.achievement_version_id == world.badge.current.id
    evidence = credential(award)["evidence"]
    assert evidence[0]["narrative"] == STATEMENT  # the client's own words
    assert {"narrative": "Näin itse, kun hän lajitteli puut."}.items() <= evidence[1].items()
    assert evidence[2]["id"] == f"{BASE_URL}/evidence/{photo.public_id}" and evidence[2]["genre"] == "Photo"
    result = services.verify_document(session, site, credential(award), now=datetime.now(UTC))
    assert result.verified, result.checks

    [application] = applications(session)
    assert application.status == "awarded" and application.award_id == award.id
    assert application.decided_by_id == world.coach.id and application.decided_at is not None
    [note] = notifications(session, user_id=maija.id)
    assert note.kind == "application.awarded" and note.award_id == award.id and note.read_at is None
    actions = {event.action for event in rows(session, AuditEvent)}
    assert {"application.award", "award.issue"} <= actions

    sign_in(client, maija)
    listing = client.get("/passport/applications").get_data(as_text=True)
    assert "Badge awarded" in listing and f'href="/credentials/{award.public_id}"' in listing
    assert "New" in listing  # the decision is new to her the first time
    [note] = notifications(session, user_id=maija.id)
    assert note.read_at is not None  # seeing the list marks it read
    assert "New</span>" not in client.get("/passport/applications").get_data(as_text=True)


def test_answer_flow_encourages_and_lets_the_client_apply_again(client, session, world):
    _english(session, world.maija, world.coach)
    sign_in(client, world.maija)
    send(client, world.badge.public_id, "Tunnistin koivun.")
    [application] = applications(session)

    sign_in(client, world.coach)
    reply = "Hyvä alku! Näytä seuraavaksi vielä neljä muuta puulajia ja kerro, mihin niitä käytetään."
    response = client.post(f"/org/verstas/applications/{application.public_id}/answer", data={"reply": reply})
    assert response.status_code == 302
    [application] = applications(session)
    assert application.status == "answered" and application.reply == reply
    assert application.decided_by_id == world.coach.id and application.award_id is None
    assert not awards(session)
    [note] = notifications(session, user_id=world.maija.id)
    assert note.kind == "application.answered" and note.award_id is None
    assert rows(session, AuditEvent, action="application.answer")
    detail = client.get(f"/org/verstas/applications/{application.public_id}").get_data(as_text=True)
    assert reply in detail and "Award the badge</button>" not in detail  # decided: no more actions

    sign_in(client, world.maija)
    listing = client.get("/passport/applications").get_data(as_text=True)
    assert "The coach answered" in listing and reply in listing
    assert f"/passport/applications/new?badge={world.badge.public_id}" in listing  # apply again
    own = client.get(f"/passport/applications/{application.public_id}").get_data(as_text=True)
    assert reply in own and "Tunnistin koivun." in own

    response = send(client, world.badge.public_id, "Tunnistin nyt viisi puulajia.")
    assert response.status_code == 302
    assert len(applications(session, client_id=world.maija.id)) == 2


def test_an_admin_may_decide_too(client, session, world):
    sign_in(client, world.maija)
    send(client, world.badge.public_id)
    [application] = applications(session)
    sign_in(client, world.admin)
    assert client.post(f"/org/verstas/applications/{application.public_id}/award").status_code == 302
    assert len(awards(session, issued_by_id=world.admin.id)) == 1


def test_coach_list_shows_open_applications_first_then_decided(client, session, world):
    _english(session, world.coach)
    sign_in(client, world.maija)
    send(client, world.badge.public_id, "Maijan hakemus puulajeista.")
    sign_in(client, world.matti)
    send(client, world.badge.public_id, "Matin hakemus puulajeista.")
    send(client, world.badge2.public_id, "Matin hakemus suojaimista.")
    first = applications(session, statement="Maijan hakemus puulajeista.")[0]
    sign_in(client, world.coach)
    client.post(f"/org/verstas/applications/{first.public_id}/answer", data={"reply": "Hienoa, jatka samaan malliin!"})
    page = client.get("/org/verstas/applications").get_data(as_text=True)
    waiting, decided = page.split('id="decided-title"')
    assert "Matin hakemus puulajeista." in waiting and "Matin hakemus suojaimista." in waiting
    assert "Maijan hakemus" not in waiting and "Maijan hakemus puulajeista." in decided
    assert "Waiting for an answer</h2>" not in page  # the count is part of the heading
    assert "Waiting for an answer (2)" in page


def test_a_double_click_on_award_issues_once(client, session, world):
    sign_in(client, world.maija)
    send(client, world.badge.public_id, photo=photo_bytes())
    [application] = applications(session)
    sign_in(client, world.coach)
    url = f"/org/verstas/applications/{application.public_id}/award"
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    assert len(awards(session)) == 1
    assert len(notifications(session, user_id=world.maija.id)) == 1
    assert len(rows(session, AuditEvent, action="application.award")) == 1
    assert len(rows(session, EvidenceFile)) == 1


def test_a_double_click_on_answer_sends_once(client, session, world):
    sign_in(client, world.maija)
    send(client, world.badge.public_id)
    [application] = applications(session)
    sign_in(client, world.coach)
    url = f"/org/verstas/applications/{application.public_id}/answer"
    assert client.post(url, data={"reply": "Hyvä! Näytä vielä yksi puulaji."}).status_code == 302
    assert client.post(url, data={"reply": "Hyvä! Näytä vielä yksi puulaji."}).status_code == 302
    assert len(notifications(session, user_id=world.maija.id)) == 1
    assert len(rows(session, AuditEvent, action="application.answer")) == 1


def test_an_answered_application_cannot_be_awarded_and_an_awarded_one_not_answered(client, session, world):
    _english(session, world.coach)
    sign_in(client, world.maija)
    send(client, world.badge.public_id, "Ensimmäinen.")
    send(client, world.badge2.public_id, "Toinen.")
    first = applications(session, statement="Ensimmäinen.")[0]
    second = applications(session, statement="Toinen.")[0]
    sign_in(client, world.coach)
    client.post(f"/org/verstas/applications/{first.public_id}/answer", data={"reply": "Hyvä alku!"})
    refused = client.post(f"/org/verstas/applications/{first.public_id}/award")
    assert refused.status_code == 409 and "answered already" in refused.get_data(as_text=True)
    assert not awards(session)

    client.post(f"/org/verstas/applications/{second.public_id}/award")
    refused = client.post(f"/org/verstas/applications/{second.public_id}/answer", data={"reply": "Hyvä!"})
    assert refused.status_code == 409
    [second] = applications(session, statement="Toinen.")
    assert second.status == "awarded" and second.reply is None


def test_viewing_the_list_marks_only_application_notices_read(client, session, world, site):
    from badges import awarding

    award = services.issue_award(session, site, version=world.badge2.current, recipient=world.maija,
                                 issued_by=world.coach, now=FIXED_NOW)
    awarding.revoke(session, site, award, reason="Väärä henkilö.", actor=world.coach, now=FIXED_NOW)
    session.commit()
    sign_in(client, world.maija)
    send(client, world.badge.public_id)
    [application] = applications(session)
    sign_in(client, world.coach)
    client.post(f"/org/verstas/applications/{application.public_id}/answer", data={"reply": "Hyvä alku!"})
    sign_in(client, world.maija)
    client.get("/passport/applications")
    notes = {note.kind: note for note in notifications(session, user_id=world.maija.id)}
    assert notes["application.answered"].read_at is not None
    assert notes["award.revoked"].read_at is None  # the home page's business

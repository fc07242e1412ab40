"""Awarding from the phone: choose, preview, confirm; photos as evidence; access checks."""

import io
import json
from datetime import timedelta

import pytest
from awarding_helpers import confirm, confirm_fields, photo_bytes, preview, today
from awarding_helpers import anonymous as anonymous_client
from awarding_helpers import sign_in
from helpers import BASE_URL, FIXED_NOW
from PIL import Image
from sqlalchemy import func, select

from badges import create_app
from badges.models import AuditEvent, Award, EvidenceFile, Job


def _awards(session, **where):
    session.expire_all()
    stmt = select(Award)
    for name, value in where.items():
        stmt = stmt.where(getattr(Award, name) == value)
    return list(session.scalars(stmt))


def test_form_lists_current_badges_with_guidance_and_the_organisations_clients(client, world):
    sign_in(client, world.coach)
    page = client.get(f"/org/verstas/award?client={world.clients[1].public_id}").get_data(as_text=True)
    assert "Puumateriaalien tunnistaminen" in page and "Turvallinen työskentely" in page
    assert "Näytä viisi puulajia" in page  # evidence guidance
    assert "Vieras merkki" not in page and "Outi Muu" not in page  # nothing of the other organisation
    assert f'value="{world.clients[1].public_id}"\n                   checked' in page
    assert 'capture="environment"' in page and 'accept="image/*"' in page


def test_retired_badges_are_not_offered(client, session, world):
    world.badge2.retired_at = FIXED_NOW
    session.commit()
    sign_in(client, world.coach)
    assert "Turvallinen työskentely" not in client.get("/org/verstas/award").get_data(as_text=True)


def test_one_client_with_note_photo_and_date(client, session, world):
    sign_in(client, world.coach)
    maija = world.clients[0]
    observed = today() - timedelta(days=3)
    response = preview(client, "verstas", badge=world.badge.public_id, clients=[maija.public_id],
                       note="Tunnisti koivun, männyn ja kuusen.", observed=observed, photo=photo_bytes())
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Puumateriaalien tunnistaminen" in page and "Tunnisti koivun" in page and "Maija Meikäläinen" in page
    assert "Osaa nimetä viisi puulajia" in page  # the criteria the client will receive
    assert not _awards(session)  # nothing issued at the preview

    action, fields = confirm_fields(page)
    response = confirm(client, action, fields)
    assert response.status_code == 302 and "/org/verstas/award/done/" in response.headers["Location"]
    done = client.get(response.headers["Location"]).get_data(as_text=True)

    [award] = _awards(session)
    assert f"/credentials/{award.public_id}" in done
    assert award.issued_by_id == world.coach.id and award.recipient_id == maija.id
    document = json.loads(award.document)
    [photo] = session.scalars(select(EvidenceFile)).all()
    evidence = document["evidence"]
    assert evidence[0]["narrative"] == "Tunnisti koivun, männyn ja kuusen."
    assert evidence[1]["id"] == f"{BASE_URL}/evidence/{photo.public_id}"
    assert document["credentialSubject"]["activityEndDate"].startswith(observed.isoformat())
    assert photo.subject_id == maija.id and photo.organisation_id == world.org.id
    assert session.scalar(
        select(AuditEvent).where(AuditEvent.action == "award.issue", AuditEvent.target == award.public_id)
    )

    sign_in(client, maija)  # the client sees it at once
    assert "Puumateriaalien tunnistaminen" in client.get("/").get_data(as_text=True)


def test_photo_is_cleaned_and_served_only_to_staff_and_its_client(client, session, world, app):
    sign_in(client, world.coach)
    page = preview(client, "verstas", badge=world.badge.public_id, clients=[world.clients[0].public_id],
                   photo=photo_bytes()).get_data(as_text=True)
    confirm(client, *confirm_fields(page))
    [photo] = session.scalars(select(EvidenceFile)).all()
    url = f"/evidence/{photo.public_id}"

    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "no-store" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
    assert b"SecretCamera" not in response.data and b"Artist Name" not in response.data
    assert not Image.open(io.BytesIO(response.data)).getexif()

    for person, status in ((world.admin, 200), (world.coach2, 200), (world.clients[0], 200),
                           (world.clients[1], 404), (world.other_coach, 404), (world.other_client, 404)):
        sign_in(client, person)
        assert client.get(url).status_code == status, person.display_name
    anonymous = anonymous_client(app)
    assert anonymous.get(url).status_code == 302  # to the login page, whatever the id
    sign_in(client, world.coach)
    assert client.get("/evidence/" + "0" * 32).status_code == 404


def test_several_clients_each_get_their_own_copy_of_the_photo(client, session, world):
    sign_in(client, world.coach)
    ids = [c.public_id for c in world.clients]
    page = preview(client, "verstas", badge=world.badge2.public_id, clients=ids, note="Ryhmä toimi hyvin.",
                   photo=photo_bytes()).get_data(as_text=True)
    assert "Recipients (3)" in page or "Vastaanottajat" in page or page.count("Laine") >= 1
    response = confirm(client, *confirm_fields(page))
    assert response.status_code == 302
    awards = _awards(session)
    assert sorted(a.recipient_id for a in awards) == sorted(c.id for c in world.clients)
    photos = {p.subject_id: p for p in session.scalars(select(EvidenceFile))}
    assert set(photos) == {c.id for c in world.clients}
    for award in awards:
        evidence = json.loads(award.document)["evidence"]
        assert evidence[1]["id"].endswith(photos[award.recipient_id].public_id)
    # each client sees their own copy only
    sign_in(client, world.clients[1])
    assert client.get(f"/evidence/{photos[world.clients[1].id].public_id}").status_code == 200
    assert client.get(f"/evidence/{photos[world.clients[0].id].public_id}").status_code == 404


def test_double_confirm_issues_once(client, session, world):
    sign_in(client, world.coach)
    ids = [world.clients[0].public_id, world.clients[1].public_id]
    action, fields = confirm_fields(preview(client, "verstas", badge=world.badge.public_id, clients=ids,
                                            photo=photo_bytes()).get_data(as_text=True))
    first = confirm(client, action, fields)
    second = confirm(client, action, fields)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_awards(session)) == 2
    assert session.scalar(select(func.count()).select_from(EvidenceFile)) == 2  # no extra copies either


def test_retired_between_preview_and_confirm_is_refused(client, session, world):
    sign_in(client, world.coach)
    client.get("/?lang=en")  # remembered in a cookie: the flashed message is English too
    action, fields = confirm_fields(preview(client, "verstas", badge=world.badge.public_id,
                                            clients=[world.clients[0].public_id]).get_data(as_text=True))
    world.badge.retired_at = FIXED_NOW
    session.commit()
    response = confirm(client, action, fields)
    assert response.status_code == 302 and response.headers["Location"].endswith("/org/verstas/award")
    assert not _awards(session)
    assert "This badge is retired and cannot be awarded." in client.get("/org/verstas/award").get_data(as_text=True)


def test_retired_badge_cannot_be_previewed(client, session, world):
    world.badge.retired_at = FIXED_NOW
    session.commit()
    sign_in(client, world.coach)
    response = preview(client, "verstas", badge=world.badge.public_id, clients=[world.clients[0].public_id])
    assert response.status_code == 400 and "/award/confirm" not in response.get_data(as_text=True)


@pytest.mark.parametrize("tamper", ["other_client", "other_badge", "other_photo", "bad_nonce", "no_clients"])
def test_tampered_confirm_issues_nothing(client, session, world, tamper):
    # A photo of the other organisation, stored as if through its own preview.
    other_photo = EvidenceFile(organisation_id=world.other_org.id, subject_id=world.other_client.id,
                               mimetype="image/jpeg", content=b"x", created_at=FIXED_NOW)
    session.add(other_photo)
    session.commit()
    sign_in(client, world.coach)
    action, fields = confirm_fields(preview(client, "verstas", badge=world.badge.public_id,
                                            clients=[world.clients[0].public_id]).get_data(as_text=True))
    changes = {
        "other_client": {"clients": [world.clients[0].public_id, world.other_client.public_id]},
        "other_badge": {"badge": world.other_badge.public_id},
        "other_photo": {"photo_id": other_photo.public_id},
        "bad_nonce": {"nonce": "x"},
        "no_clients": {"clients": []},
    }[tamper]
    response = confirm(client, action, fields, **changes)
    assert response.status_code == 302 and response.headers["Location"].endswith("/org/verstas/award")
    assert not _awards(session)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"observed": "future"}, "cannot be in the future"),
        ({"observed": "old"}, "at most a year back"),
        ({"note": "x" * 1001}, "1000"),
        ({"badge": ""}, "Choose a badge"),
        ({"clients": []}, "Choose at least one client"),
        ({"photo": b"not an image at all"}, "not a readable image"),
        ({"photo": b"<svg onload='alert(1)'></svg>"}, "SVG files are not accepted"),
    ],
)
def test_bad_step_one_input_is_explained(client, session, world, data, message):
    sign_in(client, world.coach)
    form = {"badge": world.badge.public_id, "clients": [world.clients[0].public_id], "note": "",
            "observed": today().isoformat()}
    data = dict(data)  # the parameter is shared by the SQLite and PostgreSQL runs
    if data.get("observed") == "future":
        data = {"observed": (today() + timedelta(days=1)).isoformat()}
    elif data.get("observed") == "old":
        data = {"observed": (today() - timedelta(days=400)).isoformat()}
    photo = data.pop("photo", None)
    form.update(data)
    if photo is not None:
        form["photo"] = (io.BytesIO(photo), "upload.jpg", "image/jpeg")
    response = client.post("/org/verstas/award?lang=en", data=form, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page, page[:2000]
    assert session.scalar(select(func.count()).select_from(EvidenceFile)) == 0
    assert not _awards(session)


def test_change_keeps_the_choices_and_the_photo(client, session, world):
    sign_in(client, world.coach)
    page = preview(client, "verstas", badge=world.badge.public_id, clients=[world.clients[0].public_id],
                   note="Hyvä havainto", photo=photo_bytes()).get_data(as_text=True)
    _action, fields = confirm_fields(page)
    data: dict[str, list[str]] = {"step": ["edit"]}
    for name, value in fields:
        if name != "nonce":
            data.setdefault(name, []).append(value)
    edit = client.post("/org/verstas/award", data=data).get_data(as_text=True)
    photo = session.scalars(select(EvidenceFile)).one()
    assert "Hyvä havainto" in edit and f"/evidence/{photo.public_id}" in edit
    # choose another client instead: the unconfirmed photo moves with the choice
    data["clients"] = [world.clients[1].public_id]
    del data["step"]
    page = client.post("/org/verstas/award", data=data).get_data(as_text=True)
    confirm(client, *confirm_fields(page))
    [award] = _awards(session)
    session.refresh(photo)
    assert award.recipient_id == world.clients[1].id and photo.subject_id == world.clients[1].id


def test_many_clients_run_as_a_job_once(client, session, world, app):
    app.config["BADGES_GROUP_JOB_THRESHOLD"] = 2
    sign_in(client, world.coach)
    ids = [c.public_id for c in world.clients]
    page = preview(client, "verstas", badge=world.badge.public_id, clients=ids,
                   photo=photo_bytes()).get_data(as_text=True)
    action, fields = confirm_fields(page)
    first = confirm(client, action, fields)
    second = confirm(client, action, fields)
    assert "/org/verstas/jobs/" in first.headers["Location"]
    assert first.headers["Location"] == second.headers["Location"]
    assert session.scalar(select(func.count()).select_from(Job)) == 1
    awards = _awards(session)
    assert len(awards) == 3 and all(a.issued_by_id == world.coach.id for a in awards)
    page = client.get(first.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "3 of 3" in page and "Finished" in page


def test_other_organisations_staff_and_clients_get_404(client, session, world, app):
    sign_in(client, world.coach)
    action, fields = confirm_fields(preview(client, "verstas", badge=world.badge.public_id,
                                            clients=[world.clients[0].public_id]).get_data(as_text=True))
    confirm(client, action, fields)
    [award] = _awards(session)
    pages = ["/org/verstas/", "/org/verstas/award", "/org/verstas/bulk", "/org/verstas/awards",
             f"/org/verstas/awards/{award.public_id}", "/org/verstas/audit", "/org/verstas/audit.csv",
             "/org/verstas/bulk/template.csv"]
    for person in (world.other_coach, world.clients[0]):
        sign_in(client, person)
        for path in pages:
            assert client.get(path).status_code == 404, (person.display_name, path)
        assert confirm(client, action, fields).status_code == 404
        assert client.post(f"/org/verstas/awards/{award.public_id}/revoke", data={"reason": "x"}).status_code == 404
    assert len(_awards(session)) == 1
    anonymous = anonymous_client(app)
    assert anonymous.get("/org/verstas/award").status_code == 302


def test_staff_of_two_organisations_only_award_within_each(client, session, world):
    from badges import services

    services.add_member(session, world.coach, world.other_org, "coach", now=FIXED_NOW)
    session.commit()
    sign_in(client, world.coach)
    page = preview(client, "toinen", badge=world.other_badge.public_id,
                   clients=[world.clients[0].public_id])  # a client of verstas, not of toinen
    assert page.status_code == 400
    assert not _awards(session)


def test_csrf_is_enforced_on_confirm(world, database_url, kek_text):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "BADGES_KEK": kek_text, "BADGES_BASE_URL": BASE_URL,
        "BADGES_DATABASE_URL": database_url, "WTF_CSRF_ENABLED": True,
    })
    client = app.test_client()
    try:
        sign_in(client, world.coach)
        response = client.post("/org/verstas/award/confirm", data={
            "badge": world.badge.public_id, "clients": [world.clients[0].public_id], "nonce": "a" * 22,
        })
        assert response.status_code == 400
        assert 'name="csrf_token"' in client.get("/org/verstas/award").get_data(as_text=True)
    finally:
        app.extensions["badges.engine"].dispose()

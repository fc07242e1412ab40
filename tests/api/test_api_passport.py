"""Client operations: the passport with progress, own credentials, and shares with their access log."""

from datetime import timedelta

from sqlalchemy import func, select

from badges import sharing
from badges.models import Share
from badges.web import utcnow


def test_passport_lists_the_badges_and_the_progress(maija_api, world):
    body = maija_api.get("/me/passport").json
    assert body["holder"] == {"id": world.maija.public_id, "name": "Maija Meikäläinen"}
    assert [a["id"] for a in body["awards"]] == [world.award.public_id]
    award = body["awards"][0]
    assert award["issuer"] == {"slug": "verstas", "name": "Työpaja Verstas"} and award["status"] == "valid"
    (group,) = body["progress"]
    assert group["qualification"]["key"] == "eperusteet:9000001"
    assert group["qualification"]["name"] == "Wood industry VQ"  # Accept-Language: en
    (unit,) = group["units"]
    assert (unit["code"], unit["requirements"], unit["evidenced"], unit["awards"]) == (
        "tutkinnonosat_900001", 3, 1, [world.award.public_id])


def test_passport_names_follow_the_language(maija_api):
    body = maija_api.get("/me/passport", headers={"Accept-Language": "fi"}).json
    assert body["progress"][0]["qualification"]["name"] == "Puuteollisuuden perustutkinto"


def test_a_revoked_badge_shows_as_revoked_and_counts_for_nothing(maija_api, session, site, world):
    from badges import services

    services.revoke_award(session, site, world.award, reason="Virhe.", now=utcnow())
    session.commit()
    body = maija_api.get("/me/passport").json
    assert body["awards"][0]["status"] == "revoked" and body["awards"][0]["revocation_reason"] == "Virhe."
    assert body["progress"] == []


def test_own_award_comes_with_its_credential(maija_api, world):
    body = maija_api.get(f"/me/awards/{world.award.public_id}").json
    assert body["credential"]["id"].endswith(world.award.public_id)


def test_a_share_gives_a_working_link_once_and_logs_each_opening(app, maija_api, session, world):
    response = maija_api.post("/me/shares", json={
        "scope": "passport", "purpose": "Seuraavan askeleen suunnitteluun", "recipient": "TE-palvelut, N.N.",
    })
    assert response.status_code == 201
    share = response.json
    assert share["status"] == "active" and share["accesses"] == 0 and share["recipient_account"] is False
    assert share["url"].startswith("https://passi.example.test/s/")
    token = share["url"].rsplit("/", 1)[-1]
    stored = session.scalar(select(Share).where(Share.public_id == share["id"]))
    assert stored.token_hash == sharing.hash_token(token)  # only the hash is kept

    visitor = app.test_client()
    assert visitor.get(f"/s/{token}", headers={"User-Agent": "Mozilla/5.0 (iPhone; Mobile)"}).status_code == 200
    accesses = maija_api.get(f"/me/shares/{share['id']}/accesses").json["items"]
    assert [(a["device"], a["via"]) for a in accesses] == [("phone", "link")]

    listed = maija_api.get("/me/shares").json["items"]
    assert [(s["id"], s["accesses"]) for s in listed] == [(share["id"], 1)]
    assert "url" not in listed[0]  # the link is never shown again

    stopped = maija_api.delete(f"/me/shares/{share['id']}")
    assert stopped.status_code == 200 and stopped.json["status"] == "revoked"
    assert visitor.get(f"/s/{token}").status_code == 404
    assert maija_api.delete(f"/me/shares/{share['id']}").json["revoked_at"] == stopped.json["revoked_at"]


def test_sharing_chosen_badges_or_a_qualification(maija_api, world):
    chosen = maija_api.post("/me/shares", json={
        "scope": "badges", "awards": [world.award.public_id], "purpose": "Työhakemus", "recipient": "Oy X",
        "include_evidence": True, "expires_on": (utcnow().date() + timedelta(days=10)).isoformat(),
    })
    assert chosen.status_code == 201 and chosen.json["awards"] == [world.award.public_id]
    qualification = maija_api.post("/me/shares", json={
        "scope": "qualification", "qualification": "eperusteet:9000001", "purpose": "Tunnustaminen",
        "recipient": "Ammattiopisto",
    })
    assert qualification.status_code == 201 and qualification.json["qualification"] == "eperusteet:9000001"


def test_sharing_with_a_professional_account(maija_api, session, world, make_user):
    professional = make_user("ohjaaja@te.example", "Olga Ohjaaja", password=None)
    professional.is_professional = True
    professional.professional_organisation = "TE-palvelut"
    session.commit()
    response = maija_api.post("/me/shares", json={
        "scope": "passport", "purpose": "Suunnitelma", "recipient_email": "OHJAAJA@te.example"})
    assert response.status_code == 201
    assert response.json["recipient_account"] is True and response.json["recipient"] == "Olga Ohjaaja, TE-palvelut"


def test_share_refuses_what_cannot_be_shared(maija_api, session, world):
    late = (utcnow().date() + timedelta(days=400)).isoformat()
    cases = [
        ({"scope": "badges", "purpose": "x", "recipient": "y"}, "share_no_badges"),
        ({"scope": "badges", "awards": [world.other_award.public_id], "purpose": "x", "recipient": "y"},
         "share_unknown_badge"),
        ({"scope": "qualification", "purpose": "x", "recipient": "y"}, "share_no_qualification"),
        ({"scope": "qualification", "qualification": "eperusteet:1", "purpose": "x", "recipient": "y"},
         "share_unknown_qualification"),
        ({"scope": "passport", "purpose": "x"}, "share_recipient_missing"),
        ({"scope": "passport", "purpose": "x", "recipient_email": "nobody@example.test"}, "share_no_professional"),
        ({"scope": "passport", "purpose": "x", "recipient": "y", "expires_on": late}, "share_expiry_too_late"),
        ({"scope": "passport", "purpose": "x", "recipient": "y", "recipient_email": "a@b.fi"}, "validation_failed"),
        ({"scope": "everything", "purpose": "x", "recipient": "y"}, "validation_failed"),
        ({"scope": "passport", "purpose": "x", "recipient": "y", "public": True}, "validation_failed"),
    ]
    for body, code in cases:
        response = maija_api.post("/me/shares", json=body)
        assert (response.status_code, response.json["code"]) == (422, code), body
    assert session.scalar(select(func.count(Share.id))) == 0

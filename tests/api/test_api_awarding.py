"""Staff operations: badge and client lists, awarding (with idempotency), listing, revoking, bulk jobs."""

import json
from datetime import timedelta

from sqlalchemy import func, select

from badges import awarding
from badges.models import AuditEvent, Award, IdempotentRequest, Job, Notification
from badges.web import utcnow


def _award_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Award.id)))


def _today():
    return awarding.finnish_today(utcnow())


# --- lists ---------------------------------------------------------------------------------------------------


def test_badge_list_shows_the_organisations_awardable_badges(coach_api, world):
    body = coach_api.get("/orgs/verstas/badges").json
    names = [b["name"] for b in body["items"]]
    assert names == ["Höylän käyttö", "Turvallinen työskentely"]  # not the retired one, nor another's
    first = next(b for b in body["items"] if b["id"] == world.badge.public_id)
    assert first["version_id"] == world.badge.current.public_id
    assert first["alignments"][0]["targetCode"] == "ammattitaitovaatimukset_901"
    assert first["achievement_url"].endswith(f"/achievements/{world.badge.current.public_id}")
    with_retired = coach_api.get("/orgs/verstas/badges", query={"include_retired": "true"}).json["items"]
    assert {b["name"]: b["retired"] for b in with_retired}["Vanha merkki"] is True


def test_client_list_pages_through_every_client_once(coach_api, world, make_user, session):
    for n in range(5):
        make_user(f"c{n}@example.test", f"Asiakas {n}", organisation=world.org, role="client", password=None)
    session.commit()
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = coach_api.get("/orgs/verstas/clients", query=query).json
        seen += [c["id"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7 and pages == 4
    assert world.other_client.public_id not in seen


def test_client_list_finds_a_client_by_email(coach_api, world):
    body = coach_api.get("/orgs/verstas/clients", query={"email": "MAIJA@example.test"}).json
    assert [c["id"] for c in body["items"]] == [world.maija.public_id]
    assert body["items"][0]["name"] == "Maija Meikäläinen"
    assert coach_api.get("/orgs/verstas/clients", query={"email": "other.client@example.test"}).json["items"] == []


# --- awarding one --------------------------------------------------------------------------------------------


def test_award_issues_a_signed_credential(coach_api, session, world):
    today = _today()
    response = coach_api.post("/awards", json={
        "badge": world.badge2.public_id, "client": world.matti.public_id,
        "narrative": "Käytti suojaimia koko päivän.", "observed_on": today.isoformat(),
    })
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == body["url"] == f"/api/v1/awards/{body['id']}"
    assert (body["badge"], body["client"], body["issued_by"], body["status"]) == (
        world.badge2.public_id, world.matti.public_id, world.coach.public_id, "valid")
    detail = coach_api.get(body["url"]).json
    credential = detail["credential"]
    assert credential["id"] == body["credential_url"]
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["evidence"][0]["narrative"] == "Käytti suojaimia koko päivän."
    assert credential["credentialSubject"]["activityEndDate"].startswith(today.isoformat()[:4])
    event = session.scalar(select(AuditEvent).where(AuditEvent.target == body["id"]))
    assert event.action == "award.issue" and event.actor_id == world.coach.id


def test_a_retry_with_the_same_key_returns_the_same_answer_and_awards_once(coach_api, session, world):
    request = {"badge": world.badge2.public_id, "client": world.matti.public_id, "narrative": "Hyvin tehty."}
    before = _award_count(session)
    first = coach_api.post("/awards", json=request, headers={"Idempotency-Key": "case-42-award-1"})
    again = coach_api.post("/awards", json=dict(reversed(list(request.items()))),
                           headers={"Idempotency-Key": "case-42-award-1"})
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert _award_count(session) == before + 1


def test_the_same_key_with_another_body_is_refused_and_awards_nothing(coach_api, session, world):
    coach_api.post("/awards", json={"badge": world.badge2.public_id, "client": world.matti.public_id},
                   headers={"Idempotency-Key": "k1"})
    before = _award_count(session)
    response = coach_api.post("/awards", json={"badge": world.badge2.public_id, "client": world.maija.public_id},
                              headers={"Idempotency-Key": "k1"})
    assert response.status_code == 422
    assert response.json["code"] == "idempotency_key_reused"
    assert _award_count(session) == before


def test_keys_are_per_person(api, session, world, make_token):
    request = {"badge": world.badge2.public_id, "client": world.matti.public_id}
    coach = api.as_(make_token(world.coach))
    coach2 = api.as_(make_token(world.coach2))
    a = coach.post("/awards", json=request, headers={"Idempotency-Key": "same"})
    b = coach2.post("/awards", json=request, headers={"Idempotency-Key": "same"})
    assert a.status_code == b.status_code == 201 and a.json["id"] != b.json["id"]


def test_without_a_key_each_request_awards(coach_api, session, world):
    request = {"badge": world.badge2.public_id, "client": world.matti.public_id}
    before = _award_count(session)
    assert coach_api.post("/awards", json=request).status_code == 201
    assert coach_api.post("/awards", json=request).status_code == 201
    assert _award_count(session) == before + 2


def test_a_failed_request_stores_no_answer_so_a_corrected_retry_works(coach_api, session, world):
    future = (_today() + timedelta(days=2)).isoformat()
    request = {"badge": world.badge2.public_id, "client": world.matti.public_id, "observed_on": future}
    refused = coach_api.post("/awards", json=request, headers={"Idempotency-Key": "k2"})
    assert refused.status_code == 422 and refused.json["code"] == "observed_future"
    assert session.scalar(select(func.count(IdempotentRequest.id))) == 0
    again = coach_api.post("/awards", json=request, headers={"Idempotency-Key": "k2"})
    assert again.status_code == 422  # the same mistake is still a mistake, nothing was stored


def test_award_refuses_what_cannot_be_awarded(coach_api, session, world):
    before = _award_count(session)
    cases = [
        ({"badge": world.retired.public_id, "client": world.matti.public_id}, 409, "badge_retired"),
        ({"badge": world.other_badge.public_id, "client": world.matti.public_id}, 422, "unknown_badge"),
        ({"badge": "0" * 32, "client": world.matti.public_id}, 422, "unknown_badge"),
        ({"badge": world.badge.public_id, "client": world.other_client.public_id}, 422, "unknown_client"),
        ({"badge": world.badge.public_id, "client": world.coach2.public_id}, 422, "unknown_client"),
        ({"badge": world.badge.public_id, "client": world.matti.public_id,
          "observed_on": (_today() - timedelta(days=400)).isoformat()}, 422, "observed_too_old"),
    ]
    for request, status, code in cases:
        response = coach_api.post("/awards", json=request)
        assert (response.status_code, response.json["code"]) == (status, code), request
    assert _award_count(session) == before


# --- listing and reading ---------------------------------------------------------------------------------------


def test_award_list_filters_and_pages_newest_first(coach_api, world):
    made = [coach_api.post("/awards", json={"badge": world.badge2.public_id, "client": c.public_id}).json["id"]
            for c in (world.matti, world.maija, world.matti)]
    everything = coach_api.get("/awards").json
    ids = [a["id"] for a in everything["items"]]
    assert ids[:3] == list(reversed(made)) and world.award.public_id in ids
    assert world.other_award.public_id not in ids
    by_client = coach_api.get("/awards", query={"client": world.matti.public_id}).json["items"]
    assert {a["id"] for a in by_client} == {made[0], made[2]}
    by_badge = coach_api.get("/awards", query={"badge": world.badge.public_id}).json["items"]
    assert [a["id"] for a in by_badge] == [world.award.public_id]
    assert coach_api.get("/awards", query={"status": "revoked"}).json["items"] == []
    assert coach_api.get("/awards", query={"organisation": "toinen"}).json["items"] == []
    today = _today().isoformat()
    assert {a["id"] for a in coach_api.get("/awards", query={"issued_from": today}).json["items"]} == set(made)
    paged, cursor = [], None
    while True:
        body = coach_api.get("/awards", query={"limit": 1, **({"cursor": cursor} if cursor else {})}).json
        paged += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert paged == ids


def test_award_detail_carries_the_credential_exactly_as_signed(coach_api, world):
    body = coach_api.get(f"/awards/{world.award.public_id}").json
    assert body["credential"] == json.loads(world.award.document)
    assert body["client"] == world.maija.public_id
    assert "Maija" not in json.dumps({k: v for k, v in body.items() if k != "credential"})


# --- revoking ------------------------------------------------------------------------------------------------------


def test_the_issuing_coach_revokes_and_the_client_is_told(coach_api, session, world):
    response = coach_api.post(f"/awards/{world.award.public_id}/revoke", json={"reason": "Väärä henkilö."})
    assert response.status_code == 200
    assert response.json["status"] == "revoked" and response.json["revocation_reason"] == "Väärä henkilö."
    session.expire_all()
    award = session.get(Award, world.award.id)
    assert award.revoked_at is not None and award.revoked_by_id == world.coach.id
    assert session.scalar(select(Notification).where(Notification.award_id == award.id)) is not None
    again = coach_api.post(f"/awards/{world.award.public_id}/revoke", json={"reason": "Uudestaan."})
    assert again.status_code == 409 and again.json["code"] == "already_revoked"


def test_a_retried_revoke_with_its_key_answers_as_before(coach_api, world):
    path = f"/awards/{world.award.public_id}/revoke"
    first = coach_api.post(path, json={"reason": "Virhe."}, headers={"Idempotency-Key": "r1"})
    again = coach_api.post(path, json={"reason": "Virhe."}, headers={"Idempotency-Key": "r1"})
    assert first.status_code == again.status_code == 200 and first.json == again.json


def test_another_coach_may_not_revoke_but_an_admin_may(api, world, make_token):
    path = f"/awards/{world.award.public_id}/revoke"
    refused = api.as_(make_token(world.coach2)).post(path, json={"reason": "En minä."})
    assert refused.status_code == 403 and refused.json["code"] == "not_allowed"
    assert api.as_(make_token(world.admin)).post(path, json={"reason": "Ylläpito."}).status_code == 200


def test_revoke_needs_a_reason(coach_api, world):
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        response = coach_api.post(f"/awards/{world.award.public_id}/revoke", json=body)
        assert response.status_code == 422 and response.json["code"] == "validation_failed", body


# --- bulk --------------------------------------------------------------------------------------------------------


def test_bulk_award_runs_as_a_job_with_progress(coach_api, session, world):
    items = [{"badge": world.badge2.public_id, "client": c.public_id, "narrative": f"Rivi {i}"}
             for i, c in enumerate((world.maija, world.matti))]
    response = coach_api.post("/awards/bulk", json={"organisation": "verstas", "awards": items})
    assert response.status_code == 202
    job = response.json
    assert response.headers["Location"] == job["url"] and job["total"] == 2
    progress = coach_api.get(job["url"]).json
    assert (progress["status"], progress["done"], progress["error"]) == ("done", 2, None)
    made = coach_api.get(progress["awards_url"]).json["items"]
    assert {a["client"] for a in made} == {world.maija.public_id, world.matti.public_id}
    assert {a["badge"] for a in made} == {world.badge2.public_id}


def test_bulk_with_a_bad_item_queues_nothing_and_names_every_problem(coach_api, session, world):
    items = [
        {"badge": world.badge2.public_id, "client": world.maija.public_id},
        {"badge": world.other_badge.public_id, "client": world.other_client.public_id},
        {"badge": world.retired.public_id, "client": world.matti.public_id,
         "observed_on": (_today() + timedelta(days=1)).isoformat()},
    ]
    response = coach_api.post("/awards/bulk", json={"organisation": "verstas", "awards": items})
    assert response.status_code == 422
    assert {(d["path"], d["code"]) for d in response.json["details"]} == {
        ("/awards/1/badge", "unknown_badge"), ("/awards/1/client", "unknown_client"),
        ("/awards/2/badge", "badge_retired"), ("/awards/2/observed_on", "observed_future"),
    }
    assert session.scalar(select(func.count(Job.id))) == 0


def test_bulk_for_an_organisation_where_one_is_not_staff_is_404(coach_api, world):
    items = [{"badge": world.other_badge.public_id, "client": world.other_client.public_id}]
    response = coach_api.post("/awards/bulk", json={"organisation": "toinen", "awards": items})
    assert response.status_code == 404


def test_bulk_retry_with_the_key_queues_one_job(coach_api, session, world):
    body = {"organisation": "verstas", "awards": [{"badge": world.badge2.public_id, "client": world.matti.public_id}]}
    first = coach_api.post("/awards/bulk", json=body, headers={"Idempotency-Key": "bulk-1"})
    again = coach_api.post("/awards/bulk", json=body, headers={"Idempotency-Key": "bulk-1"})
    assert first.json["id"] == again.json["id"] and again.status_code == 202
    assert session.scalar(select(func.count(Job.id))) == 1


def test_a_stored_answer_is_kept_a_day_and_an_old_key_still_never_awards_twice(coach_api, session, world):
    request = {"badge": world.badge2.public_id, "client": world.matti.public_id}
    first = coach_api.post("/awards", json=request, headers={"Idempotency-Key": "old"}).json
    stored = session.scalar(select(IdempotentRequest))
    stored.created_at -= timedelta(hours=25)
    session.commit()
    before = _award_count(session)
    again = coach_api.post("/awards", json=request, headers={"Idempotency-Key": "old"})
    assert again.status_code == 201 and again.json["id"] == first["id"]  # found by the award's own key
    assert "Idempotent-Replayed" not in again.headers
    other = coach_api.post("/awards", json={**request, "client": world.maija.public_id},
                           headers={"Idempotency-Key": "old"})
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    assert _award_count(session) == before
    session.expire_all()
    assert all(r.created_at > utcnow() - timedelta(hours=1) for r in session.scalars(select(IdempotentRequest)))

"""No endpoint returns another organisation's or another client's data: 404, never a hint."""

import pytest
from badges import services, sharing
from badges.models import Award
from badges.web import utcnow


@pytest.fixture
def other_job(session, world):
    """A finished bulk job of the other organisation."""
    from badges import awarding

    job = awarding.create_job(session, world.other_org, rows=[], created_by=world.other_coach, now=utcnow(),
                              source="api")
    job.status = "done"
    session.commit()
    return job


@pytest.fixture
def other_share(session, world):
    """A share of another client (Matti)."""
    share, _token = sharing.create_share(session, client=world.matti, scope="passport", purpose="x",
                                         recipient_label="y", now=utcnow())
    session.commit()
    return share


def test_staff_objects_of_another_organisation_are_404(coach_api, session, world, other_job):
    other = world.other_award.public_id
    for method, path, body in (
        ("GET", "/orgs/toinen/badges", None),
        ("GET", "/orgs/toinen/clients", None),
        ("GET", "/orgs/no-such-org/badges", None),
        ("GET", f"/awards/{other}", None),
        ("POST", f"/awards/{other}/revoke", {"reason": "Ei meidän."}),
        ("GET", f"/jobs/{other_job.public_id}", None),
        ("GET", f"/awards/{'0' * 32}", None),
    ):
        response = coach_api.request(method, path, json=body)
        assert response.status_code == 404, path
        assert response.json["code"] == "not_found"
    session.expire_all()
    assert session.get(Award, world.other_award.id).revoked_at is None
    # Unknown and foreign objects answer the same, so guessing reveals nothing.
    foreign = coach_api.get(f"/awards/{other}").json
    missing = coach_api.get(f"/awards/{'0' * 32}").json
    assert foreign == missing


def test_lists_never_include_another_organisation(coach_api, world, other_job):
    assert world.other_award.public_id not in {a["id"] for a in coach_api.get("/awards").json["items"]}
    assert coach_api.get("/awards", query={"job": other_job.public_id}).json["items"] == []
    assert coach_api.get("/awards", query={"client": world.other_client.public_id}).json["items"] == []
    assert coach_api.get("/awards", query={"badge": world.other_badge.public_id}).json["items"] == []


def test_awarding_another_organisations_badge_or_client_is_refused_alike(coach_api, world):
    foreign_badge = coach_api.post("/awards", json={"badge": world.other_badge.public_id,
                                                    "client": world.maija.public_id}).json
    missing_badge = coach_api.post("/awards", json={"badge": "1" * 32, "client": world.maija.public_id}).json
    assert foreign_badge == missing_badge


def test_client_objects_of_another_person_are_404(maija_api, session, site, world, other_share):
    matti_award = services.issue_award(session, site, version=world.badge.current, recipient=world.matti,
                                       now=utcnow())
    session.commit()
    for method, path in (
        ("GET", f"/me/awards/{matti_award.public_id}"),
        ("GET", f"/me/awards/{world.other_award.public_id}"),
        ("GET", f"/me/shares/{other_share.public_id}/accesses"),
        ("DELETE", f"/me/shares/{other_share.public_id}"),
    ):
        response = maija_api.request(method, path)
        assert response.status_code == 404, path
    session.expire_all()
    assert session.get(type(other_share), other_share.id).revoked_at is None
    assert other_share.public_id not in {s["id"] for s in maija_api.get("/me/shares").json["items"]}
    assert matti_award.public_id not in {a["id"] for a in maija_api.get("/me/passport").json["awards"]}


def test_a_job_is_followed_only_by_staff_of_its_organisation(api, world, make_token, other_job):
    other = api.as_(make_token(world.other_coach))
    assert other.get(f"/jobs/{other_job.public_id}").status_code == 200
    assert api.as_(make_token(world.coach)).get(f"/jobs/{other_job.public_id}").status_code == 404
    assert other.get("/awards", query={"job": other_job.public_id}).status_code == 200

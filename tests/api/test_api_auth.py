"""Who may call the API: tokens only (never the cookie), live tokens only, the right scope and role."""

from datetime import timedelta

from sqlalchemy import delete, select

from badges import api_tokens
from badges.models import ApiToken, Membership


def test_no_token_is_401_with_a_json_error_and_a_bearer_challenge(api, world):
    response = api.get("/awards")
    assert response.status_code == 401
    assert response.json["code"] == "token_missing"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_header_without_a_bearer_token_is_401(api, world):
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "op_abc", "Token op_x"):
        response = api.get("/me", headers={"Authorization": header})
        assert (response.status_code, response.json["code"]) == (401, "token_missing"), header


def test_an_unknown_or_malformed_token_is_401(api, world):
    for token in ("op_" + "A" * 43, "op_short", "x" * 5000, "op_" + "é" * 43):
        response = api.as_(token).get("/me")
        assert (response.status_code, response.json["code"]) == (401, "token_invalid"), token


def test_a_revoked_token_is_401(api, session, world, make_token):
    text = make_token(world.coach)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(text)))
    api_tokens.revoke_token(session, token, now=token.created_at)
    session.commit()
    response = api.as_(text).get("/me")
    assert response.status_code == 401
    assert response.json["code"] == "token_revoked"


def test_an_expired_token_is_401(api, session, world, make_token):
    text = make_token(world.coach, expires_in=timedelta(days=1))
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(text)))
    token.expires_at = token.created_at - timedelta(seconds=1)
    session.commit()
    response = api.as_(text).get("/me")
    assert response.status_code == 401
    assert response.json["code"] == "token_expired"


def test_the_token_of_a_deactivated_account_is_401(api, session, world, make_token):
    text = make_token(world.coach)
    world.coach.is_active = False
    session.commit()
    assert api.as_(text).get("/me").status_code == 401


def test_the_session_cookie_alone_never_authenticates(app, api, world, login_as):
    login_as(api.client, world.coach)
    assert api.client.get("/").status_code == 200  # the cookie works for pages …
    for method, path in (("GET", "/me"), ("GET", "/awards"),
                         ("POST", "/awards")):
        response = api.request(method, path, json={"badge": world.badge.public_id, "client": world.maija.public_id}
                               if method == "POST" else None)
        assert response.status_code == 401, path  # … but not for the API
        assert response.json["code"] == "token_missing"


def test_the_api_is_exempt_from_csrf_only_because_the_cookie_does_not_count(app, world, make_token, contract):
    from api_helpers import ApiClient

    app.config["WTF_CSRF_ENABLED"] = True
    api = ApiClient(app.test_client(), contract, make_token(world.coach))
    response = api.post("/awards", json={"badge": world.badge.public_id, "client": world.maija.public_id})
    assert response.status_code == 201


def test_a_token_without_the_scope_is_403(api, world, make_token):
    reader = api.as_(make_token(world.coach, ["awards:read"]))
    response = reader.post("/awards", json={"badge": world.badge.public_id, "client": world.maija.public_id})
    assert response.status_code == 403
    assert response.json["code"] == "insufficient_scope"
    assert reader.get("/awards").status_code == 200


def test_a_client_token_reaches_no_staff_operation(maija_api, world):
    assert maija_api.get(f"/orgs/{world.org.slug}/badges").json["code"] == "insufficient_scope"
    assert maija_api.get("/awards").status_code == 403
    assert maija_api.get(f"/awards/{world.award.public_id}").status_code == 403


def test_a_staff_token_reaches_no_client_operation(coach_api):
    assert coach_api.get("/me/passport").status_code == 403
    assert coach_api.get("/me/shares").status_code == 403


def test_a_token_loses_its_power_with_the_role(api, session, world, make_token):
    text = make_token(world.coach)
    coach = api.as_(text)
    assert coach.get(f"/orgs/{world.org.slug}/badges").status_code == 200
    session.execute(delete(Membership).where(Membership.user_id == world.coach.id))
    session.commit()
    response = coach.get(f"/orgs/{world.org.slug}/badges")
    assert response.status_code == 403
    assert response.json["code"] == "role_required"
    assert coach.get("/me").json["scopes"] == []


def test_a_coach_who_leaves_one_organisation_loses_it_but_keeps_the_other(api, session, world, make_token):
    from badges import services

    services.add_member(session, world.coach, world.other_org, "coach", now=world.org.created_at)
    session.commit()
    coach = api.as_(make_token(world.coach))
    assert coach.get("/orgs/toinen/badges").status_code == 200
    session.execute(delete(Membership).where(Membership.user_id == world.coach.id,
                                             Membership.organisation_id == world.other_org.id))
    session.commit()
    assert coach.get("/orgs/toinen/badges").status_code == 404
    assert coach.get(f"/awards/{world.other_award.public_id}").status_code == 404
    assert coach.get("/orgs/verstas/badges").status_code == 200


def test_use_is_recorded_as_last_used(api, session, world, make_token):
    text = make_token(world.coach)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(text)))
    assert token.last_used_at is None
    api.as_(text).get("/me")
    session.expire_all()
    assert session.get(ApiToken, token.id).last_used_at is not None


def test_me_tells_the_person_scopes_and_roles(coach_api, world):
    body = coach_api.get("/me").json
    assert body["id"] == world.coach.public_id
    assert body["scopes"] == list(api_tokens.STAFF_SCOPES)
    assert body["organisations"] == [{"slug": "verstas", "name": "Työpaja Verstas", "roles": ["coach"]}]


def test_errors_speak_the_request_language(coach_api, world):
    request = {"badge": world.retired.public_id, "client": world.maija.public_id}
    english = coach_api.post("/awards", json=request, headers={"Accept-Language": "en"})
    finnish = coach_api.post("/awards", json=request, headers={"Accept-Language": "fi"})
    swedish = coach_api.post("/awards", json=request, headers={"Accept-Language": "sv-FI,sv;q=0.9"})
    assert english.status_code == finnish.status_code == swedish.status_code == 409
    assert english.json["code"] == finnish.json["code"] == "badge_retired"
    assert english.json["message"] == "This badge is retired and cannot be awarded."
    assert finnish.json["message"] == "Tämä merkki on poistettu käytöstä, eikä sitä voi myöntää."
    assert swedish.json["message"].startswith("Det här märket")

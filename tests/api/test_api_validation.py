"""Bad input gets a clear JSON error with a stable code and the right status, and changes nothing."""

import json

from sqlalchemy import func, select

from badges.models import Award


def _awards(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Award.id)))


def test_a_body_that_is_not_json_is_415(coach_api, world):
    response = coach_api.post("/awards", data="badge=x&client=y", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json["code"] == "unsupported_media_type"
    assert coach_api.post("/awards").status_code == 415  # no body at all


def test_malformed_json_is_400(coach_api, world):
    for raw in (b"{", b"\xff\xfe", b'{"badge": NaN}', b"", b"[" * 100000):
        response = coach_api.post("/awards", data=raw, content_type="application/json")
        assert (response.status_code, response.json["code"]) == (400, "invalid_json"), raw[:10]


def test_schema_violations_are_422_with_every_problem_by_path(coach_api, session, world):
    before = _awards(session)
    response = coach_api.post("/awards", json={
        "badge": "not-an-id", "narrative": "x" * 1001, "observed_on": "2.3.2026", "extra": 1,
    })
    assert response.status_code == 422 and response.json["code"] == "validation_failed"
    paths = {d["path"] for d in response.json["details"]}
    assert paths == {"/", "/badge", "/narrative", "/observed_on"}  # "/": the missing client and the extra field
    messages = " ".join(d["message"] for d in response.json["details"])
    assert "client" in messages and "extra" in messages
    assert _awards(session) == before


def test_a_body_of_the_wrong_shape_is_422(coach_api, world):
    for body in ([], "x", 1, None, {"badge": 1, "client": True}):
        response = coach_api.post("/awards", data=json.dumps(body), content_type="application/json")
        assert (response.status_code, response.json["code"]) == (422, "validation_failed"), body


def test_a_body_larger_than_the_limit_is_413(coach_api, world):
    response = coach_api.post("/awards", data=b'{"narrative": "' + b"x" * (5 * 1024 * 1024) + b'"}',
                              content_type="application/json")
    assert response.status_code == 413 and response.json["code"] == "payload_too_large"


def test_bulk_refuses_too_many_items(coach_api, world):
    items = [{"badge": world.badge.public_id, "client": world.maija.public_id}] * 1001
    response = coach_api.post("/awards/bulk", json={"organisation": "verstas", "awards": items})
    assert response.status_code == 422 and response.json["details"][0]["path"] == "/awards"


BAD_QUERIES = [
    ({"colour": "blue"}, "unknown_parameter"),
    ({"limit": "0"}, "invalid_parameter"),
    ({"limit": "201"}, "invalid_parameter"),
    ({"limit": "ten"}, "invalid_parameter"),
    ({"status": "lost"}, "invalid_parameter"),
    ({"issued_from": "2026-13-01"}, "invalid_parameter"),
    ({"client": "Maija"}, "invalid_parameter"),
    ({"cursor": "bm90IGEgY3Vyc29y"}, "invalid_cursor"),
    ({"cursor": "!!!"}, "invalid_cursor"),
    ({"cursor": "WyJ4IiwgInkiXQ"}, "invalid_cursor"),  # ["x", "y"]: the right size, not a time
]


def test_bad_query_parameters_are_400(coach_api, world):
    for query, code in BAD_QUERIES:
        response = coach_api.get("/awards", query=query)
        assert (response.status_code, response.json["code"]) == (400, code), query


def test_a_repeated_query_parameter_is_400(coach_api, world):
    response = coach_api.get("/awards?limit=1&limit=2")
    assert response.status_code == 400 and response.json["code"] == "invalid_parameter"


def test_a_malformed_path_id_is_400_and_an_unknown_one_404(coach_api, world):
    assert coach_api.get("/awards/NOT-AN-ID").json["code"] == "invalid_parameter"
    assert coach_api.get("/awards/" + "a" * 32).status_code == 404


def test_a_bad_idempotency_key_is_400(coach_api, session, world):
    before = _awards(session)
    for key in ("", "x" * 201, "tab\there", "ä"):
        response = coach_api.post("/awards", json={"badge": world.badge.public_id, "client": world.maija.public_id},
                                  headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")})
        assert (response.status_code, response.json["code"]) == (400, "invalid_idempotency_key"), key
    assert _awards(session) == before


def test_unknown_paths_and_methods_answer_in_json(coach_api, world):
    assert coach_api.get("/nothing/here").json["code"] == "not_found"
    assert coach_api.get("/").json["code"] == "not_found"
    wrong = coach_api.request("PUT", "/awards")
    assert wrong.status_code == 405 and wrong.json["code"] == "method_not_allowed"
    assert set(wrong.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_the_rate_limit_is_per_token(app, api, world, make_token):
    app.config["BADGES_API_RATE_LIMIT"] = "3 per minute"
    first, second = api.as_(make_token(world.coach)), api.as_(make_token(world.coach))
    assert [first.get("/me").status_code for _ in range(3)] == [200, 200, 200]
    limited = first.get("/me")
    assert limited.status_code == 429 and limited.json["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert second.get("/me").status_code == 200  # another token has its own budget


def test_answers_are_never_cached(coach_api, world):
    assert coach_api.get("/me").headers["Cache-Control"] == "no-store"
    assert coach_api.get("/awards/" + "a" * 32).headers["Cache-Control"] == "no-store"

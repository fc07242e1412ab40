"""CSRF: every state-changing route outside the bearer-token API refuses a request without a token.

The routes come from the app's URL map, so a new form is covered the day it is added.
"""

import pytest
from helpers import PASSWORD
from security_helpers import ADMIN, csrf_token, text

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: Only the JSON API is exempt, and only because it authenticates by bearer token, never by cookie.
EXEMPT_PREFIX = "/api/v1"


def _routes(app) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """Return (method, rule, url with sample values) for every state-changing route."""
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods & STATE_CHANGING)
        if not methods or rule.rule.startswith(EXEMPT_PREFIX):
            continue
        values = {name: "verstas" if name == "slug" else "0123456789abcdef0123456789abcdef" for name in rule.arguments}
        url = adapter.build(rule.endpoint, values, method=methods[0])
        routes.extend((method, rule.rule, url) for method in methods)
    return routes


def _assert_refused(response, method: str, rule: str) -> None:  # noqa: ANN001
    assert response.status_code == 400, f"{method} {rule} answered {response.status_code} without a CSRF token"
    assert response.get_json() == {"error": "csrf", "message": response.get_json()["message"]}, f"{method} {rule}"


def test_the_url_map_has_state_changing_routes(csrf_app):
    routes = _routes(csrf_app)
    assert len(routes) > 30
    assert ("POST", "/login", "/login") in routes


def test_every_state_changing_route_refuses_an_anonymous_request_without_a_token(csrf_app):
    client = csrf_app.test_client()
    for method, rule, url in _routes(csrf_app):
        response = client.open(url, method=method, data={"x": "1"}, headers={"Accept": "application/json"})
        _assert_refused(response, method, rule)


def test_every_state_changing_route_refuses_a_logged_in_admin_without_a_token(csrf_app, people):
    client = csrf_app.test_client()
    token = csrf_token(text(client.get("/login")))
    assert client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token}).status_code == 302
    for method, rule, url in _routes(csrf_app):
        response = client.open(url, method=method, data={"x": "1"}, headers={"Accept": "application/json"})
        _assert_refused(response, method, rule)
    assert client.get(f"/org/{people.org}/members").status_code == 200  # still logged in: nothing happened


@pytest.mark.parametrize("bad", ["", "not-a-token", "IjAxMjMi.aaaa.bbbb"])
def test_a_wrong_token_is_refused_like_a_missing_one(csrf_app, bad):
    response = csrf_app.test_client().post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": bad},
                                           headers={"Accept": "application/json"})
    _assert_refused(response, "POST", "/login")


def test_another_browsers_token_is_refused(csrf_app, people):
    mine, theirs = csrf_app.test_client(), csrf_app.test_client()
    their_token = csrf_token(text(theirs.get("/login")))
    mine.get("/login")
    response = mine.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": their_token},
                         headers={"Accept": "application/json"})
    _assert_refused(response, "POST", "/login")


def test_the_refusal_page_explains_in_plain_words(csrf_app):
    response = csrf_app.test_client().post("/login?lang=en", data={})
    assert response.status_code == 400 and "The form expired. Reload the page and try again." in text(response)


def _api_routes(app) -> list[tuple[str, str, str]]:  # noqa: ANN001
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods & STATE_CHANGING)
        if methods and rule.rule.startswith(EXEMPT_PREFIX):
            values = {name: "0123456789abcdef0123456789abcdef" for name in rule.arguments}
            routes.extend((method, rule.rule, adapter.build(rule.endpoint, values, method=methods[0]))
                          for method in methods)
    return routes


def test_a_session_cookie_gives_the_csrf_exempt_api_nothing_more_than_anonymity(csrf_app, people):
    """The API is exempt from CSRF only because a cookie never authenticates it (bearer tokens only)."""
    routes = _api_routes(csrf_app)
    if not routes:
        pytest.skip("no state-changing /api/v1 routes in this build")
    logged_in = csrf_app.test_client()
    token = csrf_token(text(logged_in.get("/login")))
    assert logged_in.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token}).status_code == 302
    anonymous = csrf_app.test_client()
    for method, rule, url in routes:
        body = {"json": {}, "headers": {"Accept": "application/json"}}
        as_nobody = anonymous.open(url, method=method, **body)
        with_cookie = logged_in.open(url, method=method, **body)
        assert with_cookie.status_code == as_nobody.status_code, f"{method} {rule}: the cookie changed the answer"

"""Request logs: one JSON line per request with the route template; no tokens, codes, addresses or names."""

import json
import logging
from datetime import UTC, datetime

import pytest
from helpers import PASSWORD, login
from security_helpers import CLIENT, COACH, db, outbox, reset_token
from sqlalchemy import select

from badges import people as people_service
from badges import sharing
from badges.models import Organisation, User
from badges.weblog import REQUEST_ID_HEADER


def _lines(caplog) -> list[dict]:  # noqa: ANN001
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "badges.request"]


@pytest.fixture
def secrets_in_urls(app, people) -> dict[str, str]:
    """A live share token, a live activation code and a live reset token."""
    with db(app) as session:
        client = session.scalar(select(User).where(User.email == CLIENT))
        coach = session.scalar(select(User).where(User.email == COACH))
        paperless = session.scalar(select(User).where(User.public_id == people.paperless))
        organisation = session.scalar(select(Organisation))
        now = datetime.now(UTC)
        _, share = sharing.create_share(session, client=client, scope="passport", purpose="Työhaku",
                                        recipient_label="Työnantaja Oy", now=now)
        _, code = people_service.create_activation_code(session, organisation, paperless, actor=coach, now=now)
        session.commit()
    response = app.test_client().post("/forgot", data={"email": CLIENT})
    response.close()
    return {"share": share, "code": code, "reset": reset_token(outbox(app)[0])}


def test_each_request_leaves_one_json_line_with_the_route_not_the_path(browser, people, caplog):
    client = browser()
    with caplog.at_level(logging.DEBUG):
        response = client.get(f"/credentials/{people.award}?utm=campaign")
    [line] = _lines(caplog)
    assert set(line) == {"time", "method", "path", "status", "duration_ms", "request_id"}
    assert line["method"] == "GET" and line["status"] == 200
    assert line["path"] == "/credentials/<public_id>"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == response.headers[REQUEST_ID_HEADER]
    assert datetime.fromisoformat(line["time"]).tzinfo is not None


def test_secrets_in_addresses_and_headers_never_reach_the_logs(app, browser, people, secrets_in_urls, caplog):
    client = browser()
    bearer = "opaque-api-token-" + "x" * 30
    with caplog.at_level(logging.DEBUG):
        assert client.get(f"/s/{secrets_in_urls['share']}").status_code == 200
        assert client.get(f"/activate?code={secrets_in_urls['code']}").status_code == 200
        assert client.get(f"/reset/{secrets_in_urls['reset']}").status_code == 200
        client.get("/api/v1/awards", headers={"Authorization": f"Bearer {bearer}"})
        client.get("/s/not-a-live-token-but-still-secret")
        client.get("/no/such/page/with-a-token-in-it")
        login(client, CLIENT, PASSWORD)
        client.get("/passport", headers={"X-Forwarded-For": "203.0.113.7", "User-Agent": "Agent/1.0"})
    lines = _lines(caplog)
    paths = [line["path"] for line in lines]
    assert "/s/<token>" in paths and "/activate" in paths and "/reset/<token>" in paths
    assert "<unmatched>" in paths
    logged = caplog.text + "\n".join(json.dumps(line) for line in lines)
    for secret in (*secrets_in_urls.values(), bearer, "not-a-live-token", "with-a-token-in-it", CLIENT, PASSWORD,
                   "Maija", "127.0.0.1", "203.0.113.7", "Agent/1.0", "?code", "code="):
        assert secret not in logged, secret


def test_an_unexpected_error_is_logged_by_route_and_kind_only(app, browser, people, caplog, monkeypatch):
    from badges.web import errors

    app.config["TESTING"] = False  # production behaviour: the catch-all handler answers 500
    app.register_error_handler(Exception, errors.handle_unexpected)
    monkeypatch.setattr(sharing, "resolve_token", lambda *a, **k: 1 / 0)
    with caplog.at_level(logging.DEBUG):
        response = browser().get("/s/secret-share-token-value")
    assert response.status_code == 500
    assert "secret-share-token-value" not in caplog.text
    assert "/s/<token>" in caplog.text and "ZeroDivisionError" in caplog.text
    assert _lines(caplog)[-1]["status"] == 500


def test_healthz_checks_the_database_and_says_so(app, browser):
    response = browser().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_503_when_the_database_is_gone(app, browser, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("SELECT 1", {}, Exception("password=hunter2 host=db"))

    monkeypatch.setattr(Session, "execute", broken)
    with caplog.at_level(logging.DEBUG):
        response = browser().get("/healthz")
    assert response.status_code == 503 and response.get_json() == {"status": "error", "database": "unreachable"}
    assert "hunter2" not in caplog.text and "OperationalError" in caplog.text

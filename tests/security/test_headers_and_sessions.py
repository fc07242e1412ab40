"""Strict headers on every answer; cookies Secure/HttpOnly/SameSite; fresh sessions at login."""

import re

from helpers import BASE_URL, FIXED_NOW, PASSWORD, REPO_ROOT, login
from security_helpers import CLIENT, db
from sqlalchemy import select

from badges import create_app, services
from badges.models import User


def _csp(response) -> dict[str, str]:  # noqa: ANN001
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in response.headers["Content-Security-Policy"].split(";")) if part
    }


def test_every_answer_carries_the_strict_headers(browser, people):
    for path in ("/", "/login", "/no-such-page", "/healthz", "/forgot", f"/credentials/{people.award}.json"):
        _assert_strict(browser().get(path))


def _assert_strict(response) -> None:  # noqa: ANN001
    csp = _csp(response)
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_credentials_carry_the_headers_too(browser, people):
    for suffix in ("", ".json", ".png", ".svg"):
        response = browser().get(f"/credentials/{people.award}{suffix}")
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_without_https_there_is_no_hsts_and_cookies_are_not_secure(app):
    plain = create_app({**app.config, "BADGES_BASE_URL": "http://127.0.0.1:5000"})
    try:
        assert plain.config["SESSION_COOKIE_SECURE"] is False and plain.config["REMEMBER_COOKIE_SECURE"] is False
        response = plain.test_client().get("/login?lang=sv")
        assert "Strict-Transport-Security" not in response.headers
        assert "Secure" not in response.headers["Set-Cookie"]
    finally:
        plain.extensions["badges.engine"].dispose()


def test_behind_https_every_cookie_is_secure_httponly_and_samesite_lax(app, browser, people):
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    client = browser()
    language = client.get("/login?lang=sv").headers.getlist("Set-Cookie")
    logged_in = login(client, CLIENT).headers.getlist("Set-Cookie")
    cookies = {cookie.split("=", 1)[0]: cookie for cookie in language + logged_in}
    assert set(cookies) >= {"lang", "session"}
    for name, cookie in cookies.items():
        assert "; Secure" in cookie, name
        assert "; HttpOnly" in cookie, name
        assert "; SameSite=Lax" in cookie, name


def test_no_template_has_inline_scripts_styles_or_event_handlers():
    """The CSP forbids inline code; a template that had some would break in the browser."""
    offenders = []
    for path in sorted((REPO_ROOT / "templates").rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\sstyle\s*=", r"\son[a-z]+\s*=\s*[\"']", r"javascript:"):
            offenders += [f"{path.relative_to(REPO_ROOT)}: {m.group()}" for m in re.finditer(pattern, source)]
    assert offenders == []


def test_a_session_value_from_before_the_login_does_not_survive_it(browser, people):
    client = browser()
    client.get("/login")
    with client.session_transaction() as planted:
        planted["planted"] = "by someone else"
        planted["_user_id"] = people.admin  # even a planted identity is dropped
    before = client.get_cookie("session").value
    assert login(client, CLIENT).status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == people.client
    assert client.get(f"/org/{people.org}/members").status_code in (403, 404)  # not the admin


def test_logging_out_empties_the_session(browser, people):
    client = browser()
    login(client, CLIENT)
    with client.session_transaction() as session:
        session["leftover"] = "x"
    client.post("/logout")
    with client.session_transaction() as session:
        assert dict(session).keys() <= {"_flashes"}


def test_a_copied_session_cookie_dies_when_the_password_changes(app, browser, people):
    """A cookie stolen (or left on a shared computer) stops working once the person sets a new password."""
    from badges import accounts

    original = browser()
    login(original, CLIENT)
    stolen = browser()
    stolen.set_cookie("session", original.get_cookie("session").value)
    assert stolen.get("/passport").status_code == 200
    with db(app) as session:
        person = session.scalar(select(User).where(User.email == CLIENT))
        accounts.set_password(session, person, "a completely new passphrase", now=FIXED_NOW)
        session.commit()
    for client in (stolen, original):
        ended = client.get("/passport")
        assert ended.status_code == 302 and ended.headers["Location"].startswith("/login")


def test_every_login_attempt_costs_one_argon2_computation(app, browser, people, monkeypatch):
    """Unknown, known, inactive and password-less accounts take the same work: no enumeration by time."""
    with db(app) as session:
        inactive = services.create_user(session, display_name="Poissa", email="gone@example.test",
                                        password=PASSWORD, now=FIXED_NOW)
        inactive.is_active = False
        session.commit()
    calls: list[str] = []
    real = services._hasher  # noqa: SLF001 - counting the argon2 calls

    class Counting:
        def hash(self, password: str) -> str:
            calls.append("hash")
            return real.hash(password)

        def verify(self, stored: str, password: str) -> bool:
            calls.append("verify")
            return real.verify(stored, password)

    monkeypatch.setattr(services, "_hasher", Counting())
    for who in (CLIENT, "nobody@example.test", "gone@example.test", "not a name"):
        calls.clear()
        assert login(browser(), who, "wrong password").status_code == 400
        assert len(calls) == 1, who
    with db(app) as session:
        paperless = session.scalar(select(User).where(User.public_id == people.paperless))
        assert paperless.password_hash is None
    calls.clear()
    login(browser(), people.paperless[:12], "wrong password")
    assert len(calls) == 1


def test_base_url_of_the_tests_is_https():
    assert BASE_URL.startswith("https://")

"""Guessing is slowed down: failed logins and activations are rate-limited; sessions expire."""

import time
from datetime import UTC, datetime, timedelta

from helpers import PASSWORD, login
from itsdangerous import TimestampSigner
from people_helpers import ADMIN, COACH, text

from badges.web import auth, limits


def _activate(client, code: str = "AAAA-BBBB-CCCC"):  # noqa: ANN001, ANN202
    return client.post("/activate", data={"code": code, "password": PASSWORD, "confirm": PASSWORD})


def test_the_production_limits_are_the_defaults(app):
    assert app.config["BADGES_RATE_LIMIT_PER_ADDRESS"] == limits.PER_ADDRESS == "10 per minute"
    assert app.config["BADGES_RATE_LIMIT_PER_ACCOUNT"] == limits.PER_ACCOUNT == "5 per minute"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_failed_logins_for_one_account_are_limited(as_user, world):
    client = as_user(None)
    for attempt in range(5):
        assert login(client, ADMIN if attempt % 2 else f" {ADMIN.upper()}", "wrong password").status_code == 400
    blocked = login(client, ADMIN, "wrong password")
    assert blocked.status_code == 429
    assert "Too many attempts" in text(blocked)
    assert login(client, ADMIN, PASSWORD).status_code == 429  # even the right password waits
    # Another account from the same address is not blocked before the address limit …
    assert login(client, COACH, "wrong password").status_code == 400
    assert login(client, COACH, PASSWORD).status_code == 302


def test_the_address_limit_covers_all_accounts_and_the_activation_form(as_user, world):
    client = as_user(None)
    for number in range(5):
        assert login(client, f"guess{number}@example.test", "wrong password").status_code == 400
    for _ in range(5):
        assert _activate(client).status_code == 400
    assert login(client, "someone.new@example.test", "wrong password").status_code == 429
    assert _activate(client).status_code == 429


def test_the_429_page_speaks_the_users_language(as_user, world):
    client = as_user(None, lang="fi")
    for _ in range(10):
        _activate(client)
    blocked = _activate(client)
    assert blocked.status_code == 429 and "Liian monta yritystä" in text(blocked)


def test_successful_logins_do_not_use_up_the_limit(as_user, world):
    client = as_user(None)
    for _ in range(11):
        assert login(client, COACH, PASSWORD).status_code == 302


def test_each_app_starts_with_fresh_counters(app, as_user, world):
    for _ in range(6):
        login(as_user(None), ADMIN, "wrong password")
    assert login(as_user(None), ADMIN, PASSWORD).status_code == 429
    limits.init_app(app)  # what every new app instance does: a new, empty store
    assert login(as_user(None), ADMIN, PASSWORD).status_code == 302


def test_login_and_activation_make_an_expiring_session(as_user, world):
    response = login(as_user(None), COACH)
    cookie = response.headers["Set-Cookie"]
    assert "session=" in cookie and "Expires=" in cookie and "HttpOnly" in cookie


def _later(monkeypatch, seconds: int) -> None:  # noqa: ANN001
    """Move the clocks that sessions depend on ``seconds`` ahead."""
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) + seconds)
    monkeypatch.setattr(auth, "utcnow", lambda: datetime.now(UTC) + timedelta(seconds=seconds))


def test_an_idle_session_expires_after_eight_hours(app, as_user, world, monkeypatch):
    assert app.permanent_session_lifetime == timedelta(hours=8)
    client = as_user(COACH)
    clients_page = f"/org/{world.org}/clients"
    assert client.get(clients_page).status_code == 200
    _later(monkeypatch, 8 * 3600 + 60)
    expired = client.get(clients_page)
    assert expired.status_code == 302 and expired.headers["Location"].startswith("/login")


def test_a_busy_session_still_ends_eight_hours_after_login(as_user, world, monkeypatch):
    client = as_user(COACH)
    clients_page = f"/org/{world.org}/clients"
    _later(monkeypatch, 4 * 3600)
    assert client.get(clients_page).status_code == 200  # in use: the cookie is renewed
    _later(monkeypatch, 8 * 3600 - 60)
    assert client.get(clients_page).status_code == 200
    _later(monkeypatch, 8 * 3600 + 60)
    expired = client.get(clients_page)
    assert expired.status_code == 302 and expired.headers["Location"].startswith("/login")


def test_a_short_configured_lifetime_is_honoured(app, as_user, world, monkeypatch):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=5)
    client = as_user(COACH)
    monkeypatch.setattr(auth, "utcnow", lambda: datetime.now(UTC) + timedelta(minutes=6))
    assert client.get(f"/org/{world.org}/clients").status_code == 302

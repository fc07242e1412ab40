"""Password reset: a one-time link by e-mail, valid for an hour, same answer for every address."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from helpers import FIXED_NOW, PASSWORD, login
from security_helpers import CLIENT, NEW_PASSWORD, csrf_token, db, outbox, reset_token, text
from sqlalchemy import func, select

from badges import accounts, passport
from badges import outbox as mail
from badges.people import InvalidLinkError, activate, create_activation_code, login_name
from badges.models import PasswordReset, User
from badges.web import auth


def _ask(client, email: str):  # noqa: ANN001, ANN202
    """Ask for a reset link and let the answer finish (the mail goes out after it)."""
    response = client.post("/forgot", data={"email": email})
    response.close()
    return response


def _reset(client, token: str, password: str = NEW_PASSWORD):  # noqa: ANN001, ANN202
    return client.post(f"/reset/{token}", data={"password": password, "confirm": password})


def _resets(app) -> list[PasswordReset]:  # noqa: ANN001
    with db(app) as session:
        return list(session.scalars(select(PasswordReset).order_by(PasswordReset.id)))


def test_the_login_page_offers_a_reset_and_explains_the_way_without_email(browser):
    client = browser()
    login_page = text(client.get("/login"))
    assert 'href="/forgot"' in login_page
    forgot = text(client.get("/forgot"))
    assert "ask your coach for a new sheet" in forgot


def test_a_reset_link_arrives_in_the_persons_language_and_sets_a_new_password(app, browser, people):
    with db(app) as session:
        session.scalar(select(User).where(User.email == CLIENT)).locale = "sv"
        session.commit()
    client = browser()
    answer = client.post("/forgot", data={"email": " Client@Example.test "})
    assert answer.status_code == 200 and "If an account has this e-mail address" in text(answer)
    assert outbox(app) == []  # the mail leaves only after the answer has gone out …
    answer.close()
    [message] = outbox(app)  # … so the answer takes as long for an unknown address
    assert message["To"] == CLIENT
    assert message.get_content().startswith("Hej,")  # Swedish, whatever the asker's page spoke
    token = reset_token(message)

    form = client.get(f"/reset/{token}")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    done = _reset(client, token)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert client.get("/passport").status_code == 200  # logged in with the new password's session

    assert login(browser(), CLIENT, PASSWORD).status_code == 400
    assert login(browser(), CLIENT, NEW_PASSWORD).status_code == 302


def test_unknown_and_known_addresses_get_the_same_answer(app, browser, people):
    client = browser()
    known = _ask(client, CLIENT)
    unknown = _ask(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 200
    assert text(known) == text(unknown)
    assert len(outbox(app)) == 1
    assert len(_resets(app)) == 1


def test_a_link_works_once(app, browser, people):
    _ask(browser(), CLIENT)
    token = reset_token(outbox(app)[0])
    assert _reset(browser(), token).status_code == 302
    again = _reset(browser(), token, "yet another passphrase 99")
    assert again.status_code == 404 and "This link does not work any more" in text(again)
    assert browser().get(f"/reset/{token}").status_code == 404
    assert login(browser(), CLIENT, "yet another passphrase 99").status_code == 400


def test_a_link_expires_after_an_hour(app, browser, people, monkeypatch):
    _ask(browser(), CLIENT)
    token = reset_token(outbox(app)[0])
    monkeypatch.setattr(auth, "utcnow", lambda: datetime.now(UTC) + timedelta(minutes=61))
    assert _reset(browser(), token).status_code == 404
    assert login(browser(), CLIENT, PASSWORD).status_code == 302


def test_the_service_honours_the_hour_to_the_second(app, people):
    with db(app) as session:
        _, token = accounts.request_reset(session, CLIENT, now=FIXED_NOW)
        accounts.find_reset(session, token, now=FIXED_NOW + timedelta(minutes=59, seconds=59))
        with pytest.raises(InvalidLinkError):
            accounts.find_reset(session, token, now=FIXED_NOW + accounts.RESET_LIFETIME)


def test_only_the_newest_link_works_and_a_reset_ends_every_other_link(app, browser, people):
    _ask(browser(), CLIENT)
    _ask(browser(), CLIENT)
    first, second = (reset_token(message) for message in outbox(app))
    assert browser().get(f"/reset/{first}").status_code == 404
    assert _reset(browser(), second).status_code == 302
    assert all(reset.used_at is not None for reset in _resets(app))


def test_setting_a_password_with_an_activation_code_ends_reset_links(app, browser, people, site):
    _ask(browser(), CLIENT)
    token = reset_token(outbox(app)[0])
    with db(app) as session:
        client = session.scalar(select(User).where(User.email == CLIENT))
        coach = session.scalar(select(User).where(User.email == "coach@example.test"))
        organisation = client.memberships[0].organisation
        _, code = create_activation_code(session, organisation, client, actor=coach, now=datetime.now(UTC))
        activate(session, code, "activated passphrase 11", now=datetime.now(UTC))
        session.commit()
    assert browser().get(f"/reset/{token}").status_code == 404


def test_a_reset_ends_the_persons_other_sessions(app, browser, people):
    elsewhere = browser()
    assert login(elsewhere, CLIENT).status_code == 302
    assert elsewhere.get("/passport").status_code == 200
    _ask(browser(), CLIENT)
    assert _reset(browser(), reset_token(outbox(app)[0])).status_code == 302
    ended = elsewhere.get("/passport")
    assert ended.status_code == 302 and ended.headers["Location"].startswith("/login")


def test_a_too_short_password_is_refused_and_the_link_still_works(app, browser, people):
    _ask(browser(), CLIENT)
    token = reset_token(outbox(app)[0])
    short = _reset(browser(), token, "short")
    assert short.status_code == 400 and "Use at least 10 characters." in text(short)
    mismatch = browser().post(f"/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400 and "The passwords are not the same." in text(mismatch)
    assert _reset(browser(), token).status_code == 302


@pytest.mark.parametrize("token", ["x", "A" * 43, "A" * 500, "..", "ä" * 10])
def test_unknown_or_odd_tokens_get_the_same_dead_link_page(browser, people, token):
    response = browser().get(f"/reset/{token}")
    assert response.status_code == 404 and "This link does not work any more" in text(response)


def test_a_nul_in_the_token_is_refused_without_a_crash(browser, people):
    assert browser().get("/reset/%00").status_code in (400, 404)


def test_requests_are_rate_limited_whether_or_not_the_address_has_an_account(app, browser, people):
    client = browser()
    for _ in range(3):
        assert _ask(client, CLIENT).status_code == 200
        assert _ask(client, "nobody@example.test").status_code == 200
    assert _ask(client, CLIENT).status_code == 429
    assert _ask(client, "nobody@example.test").status_code == 429
    assert len(outbox(app)) == 3
    for number in range(4):  # the address limit: 10 an hour, over all addresses
        _ask(client, f"someone{number}@example.test")
    assert _ask(client, "someone.else@example.test").status_code == 429


def test_a_user_name_without_email_is_pointed_to_the_coach(app, browser, people):
    response = _ask(browser(), people_login_name(app, people.paperless))
    assert response.status_code == 400 and "ask your coach for a new activation sheet" in text(response)
    assert outbox(app) == [] and _resets(app) == []


def people_login_name(app, public_id: str) -> str:  # noqa: ANN001
    """Return the login name of a person without e-mail."""
    with db(app) as session:
        return login_name(session.scalar(select(User).where(User.public_id == public_id)))


def test_a_mail_failure_gives_the_same_answer_and_a_log_line_without_the_address(
    app, browser, people, monkeypatch, caplog
):
    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise mail.MailError("the mail server did not accept the message (SMTPException)")

    monkeypatch.setattr(mail, "send", refuse)
    with caplog.at_level(logging.WARNING, logger="badges.mail"):
        failed = _ask(browser(), CLIENT)
    assert failed.status_code == 200 and "If an account has this e-mail address" in text(failed)
    assert "password reset mail not sent: mail_failed" in caplog.text
    assert CLIENT not in caplog.text


def test_deleting_the_account_removes_its_reset_links(app, browser, people):
    _ask(browser(), CLIENT)
    with db(app) as session:
        person = session.scalar(select(User).where(User.email == CLIENT))
        passport.erase_personal_data(session, person, now=datetime.now(UTC))
        session.commit()
        assert session.scalar(select(func.count()).select_from(PasswordReset)) == 0
    _ask(browser(), CLIENT)
    assert _resets(app) == []  # the address belongs to nobody now


def test_the_reset_form_refuses_a_post_without_a_csrf_token(csrf_app, site):
    from helpers import FIXED_NOW as now

    from badges import services

    with db(csrf_app) as session:
        services.create_user(session, display_name="Maija", email=CLIENT, password=PASSWORD, now=now)
        session.commit()
    client = csrf_app.test_client()
    assert client.post("/forgot", data={"email": CLIENT}).status_code == 400
    assert outbox(csrf_app) == []
    token = csrf_token(text(client.get("/forgot")))
    client.post("/forgot", data={"email": CLIENT, "csrf_token": token}).close()
    assert len(outbox(csrf_app)) == 1

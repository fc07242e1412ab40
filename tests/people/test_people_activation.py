"""Activation sheets: a one-time code (and QR code) lets a client without e-mail set a password."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

from helpers import BASE_URL, PASSWORD, login
from people_helpers import ADMIN_B, COACH, db, text
from sqlalchemy import select

from badges import people, services
from badges.models import ActivationCode, AuditEvent, Organisation, User

CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\b")
NEW_PASSWORD = "uusi salasana 2026"  # noqa: S105 - test password


def _sheet(as_user, world, public_id=None):  # noqa: ANN001, ANN202
    return as_user(COACH).post(f"/org/{world.org}/clients/{public_id or world.paperless}/activation")


def _code(response) -> str:  # noqa: ANN001
    match = CODE.search(text(response))
    assert match, "no activation code on the sheet"
    return match.group(1)


def _activate(client, code: str, password: str = NEW_PASSWORD, confirm: str | None = None):  # noqa: ANN001, ANN202
    return client.post("/activate", data={"code": code, "password": password,
                                          "confirm": password if confirm is None else confirm})


def test_sheet_has_the_code_a_qr_code_and_instructions(app, as_user, world):
    response = _sheet(as_user, world)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = text(response)
    code = _code(response)
    assert all(ch in people.CODE_ALPHABET for ch in code.replace("-", ""))
    assert "Työpaja Verstas" in page and "Ville Virtanen" in page
    assert f"{BASE_URL}/activate" in page
    qr = re.search(r'<img src="(data:image/svg\+xml[^"]+)"[^>]*alt="([^"]+)"', page)
    assert qr and qr.group(2).strip()
    assert "%3Csvg" in qr.group(1) or "<svg" in qr.group(1)
    # A person without e-mail gets a user name to log in with later.
    assert people.format_code(world.paperless[:12]) in page
    with db(app) as session:
        row = session.scalars(select(ActivationCode)).one()
        normal = code.replace("-", "")
        assert row.code_hash == hashlib.sha256(normal.encode()).hexdigest()
        assert row.expires_at - row.created_at == timedelta(days=30)
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "client.activation")).one()
        assert event.target == world.paperless and code not in str(event.details)


def test_sheet_speaks_the_clients_language(app, as_user, world):
    with db(app) as session:
        session.scalar(select(User).where(User.public_id == world.paperless)).locale = "sv"
        session.commit()
    page = text(_sheet(as_user, world))
    assert 'lang="sv"' in page
    assert re.search(r"(januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december)",
                     page)


def test_the_code_is_not_stored_in_clear(app, as_user, world):
    code = _code(_sheet(as_user, world))
    with db(app) as session:
        stored = [value for row in session.execute(select(ActivationCode)).scalars() for value in vars(row).values()]
    for variant in (code, code.replace("-", ""), code.lower()):
        assert not any(isinstance(value, str) and variant in value for value in stored)


def test_code_works_once_and_logs_the_person_in(app, as_user, world):
    code = _code(_sheet(as_user, world))
    visitor = as_user(None)
    prefilled = visitor.get(f"/activate?code={code}")
    assert f'value="{code}"' in text(prefilled) and prefilled.headers["Cache-Control"] == "no-store"

    # Typed sloppily: lower case, spaces instead of hyphens.
    response = _activate(visitor, code.lower().replace("-", " "))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = text(visitor.get("/"))
    assert "Ville Virtanen" in home and "user name" in home
    with db(app) as session:
        user = session.scalar(select(User).where(User.public_id == world.paperless))
        assert services.check_password(user, NEW_PASSWORD)
        assert session.scalars(select(ActivationCode)).one().used_at is not None

    again = _activate(as_user(None), code)
    assert again.status_code == 400 and "This code does not work" in text(again)

    # From now on the user name and the password log in.
    later = as_user(None)
    assert login(later, people.login_name(user), NEW_PASSWORD).status_code == 302
    assert "Ville Virtanen" in text(later.get("/"))


def test_wrong_and_expired_codes_get_the_same_answer(app, as_user, world):
    with db(app) as session:
        organisation = session.scalar(select(Organisation).where(Organisation.slug == world.org))
        user = session.scalar(select(User).where(User.public_id == world.paperless))
        coach = session.scalar(select(User).where(User.email == COACH))
        _row, expired = people.create_activation_code(session, organisation, user, actor=coach,
                                                      now=datetime.now(UTC) - timedelta(days=31))
        session.commit()
    visitor = as_user(None)
    answers = [_activate(visitor, code) for code in (expired, "AAAA-BBBB-CCCC", "0000-1111-OOOO", "x" * 40)]
    assert {answer.status_code for answer in answers} == {400}
    assert all("This code does not work" in text(answer) for answer in answers)
    with db(app) as session:
        assert session.scalar(select(User).where(User.public_id == world.paperless)).password_hash is None


def test_a_new_sheet_cancels_the_earlier_code(as_user, world):
    first = _code(_sheet(as_user, world))
    second = _code(_sheet(as_user, world))
    assert first != second
    assert _activate(as_user(None), first).status_code == 400
    assert _activate(as_user(None), second).status_code == 302


def test_password_rules_on_activation(app, as_user, world):
    code = _code(_sheet(as_user, world))
    visitor = as_user(None)
    short = _activate(visitor, code, "lyhyt")
    assert short.status_code == 400 and "at least 10 characters" in text(short)
    mismatch = _activate(visitor, code, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert mismatch.status_code == 400 and "not the same" in text(mismatch)
    assert _activate(visitor, code).status_code == 302  # the code was not used up by the mistakes


def test_staff_accounts_cannot_be_taken_over_with_a_code(app, as_user, world):
    with db(app) as session:
        organisation = session.scalar(select(Organisation).where(Organisation.slug == world.org))
        admin_b = session.scalar(select(User).where(User.email == ADMIN_B))
        services.add_member(session, admin_b, organisation, "client", now=organisation.created_at)
        session.commit()
        public_id = admin_b.public_id
    response = as_user(COACH).post(f"/org/{world.org}/clients/{public_id}/activation", follow_redirects=True)
    assert "cannot be made" in text(response)
    assert CODE.search(text(response)) is None
    with db(app) as session:
        assert session.scalars(select(ActivationCode)).all() == []
    assert login(as_user(None), ADMIN_B, PASSWORD).status_code == 302  # their password is untouched


def test_client_with_e_mail_can_be_activated_too_and_logs_in_by_e_mail(app, as_user, world):
    with db(app) as session:
        client = session.scalar(select(User).where(User.public_id == world.client))
        client.password_hash = None
        client.locale = "en"  # the sheet speaks the client's language
        session.commit()
    response = _sheet(as_user, world, world.client)
    assert "log in with your e-mail address" in text(response)
    assert _activate(as_user(None), _code(response)).status_code == 302
    assert login(as_user(None), "client@example.test", NEW_PASSWORD).status_code == 302

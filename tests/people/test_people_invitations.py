"""Invitations: one-time links by e-mail, accepted with a new or an existing account."""

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import BASE_URL, PASSWORD
from people_helpers import ADMIN, CLIENT, COACH, COACH_B, db, invite_token, outbox, text
from sqlalchemy import select

from badges import create_app, people, services
from badges.db import get_engine
from badges.models import AuditEvent, Base, Invitation, Organisation, User

NEW = "uusi.valmentaja@example.test"


def _invite(admin_client, org: str, email: str = NEW, role: str = "coach"):  # noqa: ANN202
    return admin_client.post(f"/org/{org}/members/invite", data={"email": email, "role": role})


def _roles(app, email: str, slug: str) -> set[str]:
    with db(app) as session:
        user = session.scalar(select(User).where(User.email == email))
        organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
        return people.roles_of(session, user, organisation) if user else set()


def _actions(app) -> list[str]:
    with db(app) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_invitation_lifecycle_new_account(app, as_user, world):
    response = _invite(as_user(ADMIN), world.org)
    assert response.status_code == 302
    messages = outbox(app)
    assert len(messages) == 1
    mail = messages[0]
    assert mail["To"] == NEW
    assert "Työpaja Verstas" in mail["Subject"]
    assert mail["Message-ID"] and mail["Date"]
    token = invite_token(mail)
    assert f"{BASE_URL}/invite/{token}" in mail.get_content()

    # Only the hash of the token is stored.
    with db(app) as session:
        invitation = session.scalars(select(Invitation).where(Invitation.email == NEW)).one()
        assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert invitation.expires_at - invitation.created_at == timedelta(days=7)

    visitor = as_user(None)
    page = visitor.get(f"/invite/{token}")
    assert page.status_code == 200
    assert "Työpaja Verstas" in text(page) and "Coach" in text(page)
    assert page.headers["Cache-Control"] == "no-store"

    accepted = visitor.post(f"/invite/{token}", data={
        "display_name": "Uusi Valmentaja", "password": PASSWORD, "confirm": PASSWORD,
    })
    assert accepted.status_code == 302
    assert "Uusi Valmentaja" in text(visitor.get("/"))  # logged in
    assert _roles(app, NEW, world.org) == {"coach"}
    assert visitor.get(f"/org/{world.org}/clients").status_code == 200  # works as a coach now
    assert {"member.invite", "invite.accept"} <= set(_actions(app))

    # The link works once.
    again = as_user(None).get(f"/invite/{token}")
    assert again.status_code == 404
    assert "This link is no longer valid" in text(again)


def test_expired_used_unknown_and_revoked_links_look_the_same(app, as_user, world):
    with db(app) as session:
        organisation = session.scalar(select(Organisation).where(Organisation.slug == world.org))
        admin = session.scalar(select(User).where(User.public_id == world.admin))
        long_ago = datetime.now(UTC) - timedelta(days=8)
        _expired, expired_token = people.invite(session, organisation, email="old@example.test", role="coach",
                                                actor=admin, now=long_ago)
        session.commit()
    _invite(as_user(ADMIN), world.org)
    revoked_token = invite_token(outbox(app)[0])
    admin = as_user(ADMIN)
    members_page = text(admin.get(f"/org/{world.org}/members"))
    assert NEW in members_page
    with db(app) as session:
        invitation = session.scalars(select(Invitation).where(Invitation.email == NEW)).one()
        ref = people.invitation_ref(invitation)
    assert ref in members_page and invitation.token_hash not in members_page
    assert admin.post(f"/org/{world.org}/invitations/{ref}/revoke").status_code == 302
    after = text(admin.get(f"/org/{world.org}/members"))
    assert "was cancelled" in after and ref not in after

    visitor = as_user(None)
    answers = [visitor.get(f"/invite/{token}") for token in (expired_token, revoked_token, "wrong-token", "x" * 500)]
    assert {answer.status_code for answer in answers} == {404}
    # The same page, apart from the address itself (in the language links).
    tokens = (expired_token, revoked_token, "wrong-token", "x" * 500)
    bodies = {text(answer).replace(token, "TOKEN") for answer, token in zip(answers, tokens, strict=True)}
    assert len(bodies) == 1 and "This link is no longer valid" in bodies.pop()
    posted = visitor.post(f"/invite/{expired_token}", data={
        "display_name": "Late", "password": PASSWORD, "confirm": PASSWORD,
    })
    assert posted.status_code == 404
    with db(app) as session:
        assert session.scalar(select(User).where(User.email == "old@example.test")) is None


def test_existing_account_logs_in_and_accepts(app, as_user, world):
    _invite(as_user(ADMIN), world.org, email=COACH_B)
    token = invite_token(outbox(app)[0])

    anonymous = as_user(None).get(f"/invite/{token}")
    assert anonymous.status_code == 200
    assert f"/login?next=/invite/{token}" in text(anonymous)
    assert "display_name" not in text(anonymous)  # no second account for the same address

    someone_else = as_user(COACH)
    assert "another e-mail address" in text(someone_else.get(f"/invite/{token}"))
    assert someone_else.post(f"/invite/{token}").status_code == 400
    assert _roles(app, COACH_B, world.org) == set()

    invitee = as_user(None)
    logged_in = invitee.post(f"/login?next=/invite/{token}", data={"email": COACH_B, "password": PASSWORD})
    assert logged_in.headers["Location"] == f"/invite/{token}"
    assert "Accept the invitation" in text(invitee.get(f"/invite/{token}"))
    assert invitee.post(f"/invite/{token}").status_code == 302
    assert _roles(app, COACH_B, world.org) == {"coach"}
    assert _roles(app, COACH_B, world.other) == {"coach"}  # still works in B too
    assert invitee.post(f"/invite/{token}").status_code == 404  # used


def test_new_account_needs_a_long_enough_password_and_the_same_twice(app, as_user, world):
    _invite(as_user(ADMIN), world.org)
    token = invite_token(outbox(app)[0])
    visitor = as_user(None)
    short = visitor.post(f"/invite/{token}", data={"display_name": "A", "password": "lyhyt", "confirm": "lyhyt"})
    assert short.status_code == 400 and "at least 10 characters" in text(short)
    mismatch = visitor.post(f"/invite/{token}", data={
        "display_name": "A", "password": PASSWORD, "confirm": PASSWORD + "x",
    })
    assert mismatch.status_code == 400 and "not the same" in text(mismatch)
    assert _roles(app, NEW, world.org) == set()
    assert visitor.get(f"/invite/{token}").status_code == 200  # still usable


@pytest.mark.parametrize("address", ["not-an-address", "a@b", "nimi@example.test\r\nBcc: x@example.test", ""])
def test_invalid_addresses_are_refused_and_nothing_is_sent(app, as_user, world, address):
    response = _invite(as_user(ADMIN), world.org, email=address)
    assert response.status_code == 400
    assert outbox(app) == []
    with db(app) as session:
        assert session.scalars(select(Invitation)).all() == []


def test_inviting_someone_who_already_works_here_is_refused(app, as_user, world):
    response = _invite(as_user(ADMIN), world.org, email=COACH.upper())
    assert response.status_code == 400
    assert "already works in the organisation" in text(response)
    assert outbox(app) == []


def test_a_new_invitation_replaces_the_earlier_link(app, as_user, world):
    admin = as_user(ADMIN)
    _invite(admin, world.org)
    _invite(admin, world.org, role="admin")
    _invite(admin, world.org)
    first, _second, third = (invite_token(m) for m in outbox(app))
    assert as_user(None).get(f"/invite/{first}").status_code == 404
    assert as_user(None).get(f"/invite/{third}").status_code == 200


def test_invitation_mail_speaks_the_inviters_language(app, as_user, world):
    _invite(as_user(ADMIN, lang="sv"), world.org)
    _invite(as_user(ADMIN, lang="fi"), world.org, email="toinen@example.test")
    by_address = {message["To"]: message for message in outbox(app)}
    swedish, finnish = by_address[NEW], by_address["toinen@example.test"]
    # Dates come from CLDR, so they show the language even before the texts are translated.
    assert any(month in swedish.get_content() for month in ("januari", "februari", "mars", "april", "maj", "juni",
                                                             "juli", "augusti", "september", "oktober",
                                                             "november", "december"))
    assert "kuuta" in finnish.get_content()


def test_mail_server_failure_saves_nothing(app, as_user, world):
    app.config["BADGES_SMTP_HOST"] = "127.0.0.1"
    app.config["BADGES_SMTP_PORT"] = 9  # discard port: nothing listens, the connection is refused
    response = _invite(as_user(ADMIN), world.org)
    assert response.status_code == 400
    assert "could not be sent" in text(response)
    with db(app) as session:
        assert session.scalars(select(Invitation)).all() == []


def test_csrf_is_enforced_on_the_invitation_form(tmp_path: Path, kek_text, monkeypatch, database_url, site):
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path / "csrf-instance"))
    app = create_app({
        "TESTING": True, "SECRET_KEY": "csrf-test-secret-key-that-is-long-enough-0123",
        "BADGES_KEK": kek_text, "BADGES_BASE_URL": BASE_URL, "BADGES_DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": True,
    })
    with app.app_context():
        Base.metadata.create_all(get_engine())
    try:
        with db(app) as session:
            organisation = services.create_organisation(session, site, slug="csrf", name="CSRF",
                                                               now=datetime.now(UTC))
            admin = services.create_user(session, display_name="Admin", email=ADMIN, password=PASSWORD,
                                       now=datetime.now(UTC))
            services.add_member(session, admin, organisation, "admin", now=datetime.now(UTC))
            session.commit()
        client = app.test_client()
        login_page = client.get("/login")
        token = _csrf(text(login_page))
        logged_in = client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token})
        assert logged_in.status_code == 302

        without = client.post("/org/csrf/members/invite", data={"email": NEW, "role": "coach"})
        assert without.status_code == 400
        assert outbox(app) == []
        form_token = _csrf(text(client.get("/org/csrf/members")))
        with_token = client.post("/org/csrf/members/invite",
                                 data={"email": NEW, "role": "coach", "csrf_token": form_token})
        assert with_token.status_code == 302
        assert len(outbox(app)) == 1
    finally:
        app.extensions["badges.engine"].dispose()


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_client_role_cannot_be_used_to_take_over_staff_through_the_invite_form(app, as_user, world):
    response = _invite(as_user(ADMIN), world.org, email=CLIENT, role="client")
    assert response.status_code == 400  # only coach or admin can be chosen here
    assert outbox(app) == []

"""The client's rights: download all personal data, delete the account (erasure, status list)."""

import json
from datetime import timedelta

import pytest
from passport_helpers import sign_in
from helpers import BASE_URL, FIXED_NOW, PASSWORD, login
from sqlalchemy import LargeBinary, select

from badges import create_app, passport
from badges.core.statuslist import decode_list, get_bit
from badges.models import (
    ActivationCode,
    AuditEvent,
    Award,
    BadgeApplication,
    Base,
    EvidenceFile,
    Invitation,
    Membership,
    Notification,
    Share,
    ShareAccess,
    User,
    share_award,
)

MAIJA_TRACES = ("Maija", "Meikäläinen", "maija@example.test", "Työvoimapalvelut, rouva N", "Tein hyllyn itse")


@pytest.fixture
def personal(session, world):
    """Give Maija a share with two accesses, an application with a photo, notices, a code, an invitation."""
    share = Share(client=world.maija, token_hash="a" * 64, scope="badges", recipient_label="Työvoimapalvelut, rouva N",
                  purpose="Seuraavan askeleen suunnittelu", created_at=FIXED_NOW,
                  expires_at=FIXED_NOW + timedelta(days=30), awards=[world.one, world.two])
    share.accesses = [ShareAccess(at=FIXED_NOW, device="phone", via="link"),
                      ShareAccess(at=FIXED_NOW + timedelta(hours=1), device="computer", via="link")]
    photo = EvidenceFile(organisation_id=world.org.id, subject_id=world.maija.id, uploaded_by_id=world.maija.id,
                         mimetype="image/jpeg", content=b"\xff\xd8 photo", created_at=FIXED_NOW)
    application = BadgeApplication(client=world.maija, organisation=world.org,
                                   achievement=world.one.achievement_version.achievement,
                                   statement="Tein hyllyn itse.", evidence_file=photo, created_at=FIXED_NOW,
                                   status="answered", reply="Hienoa!", decided_by_id=world.coach.id,
                                   decided_at=FIXED_NOW)
    notice = Notification(user_id=world.maija.id, kind="award.revoked", award=world.revoked, created_at=FIXED_NOW)
    code = ActivationCode(user_id=world.maija.id, code_hash="b" * 64, created_at=FIXED_NOW,
                          expires_at=FIXED_NOW + timedelta(days=7))
    invitation = Invitation(organisation=world.org, email="maija@example.test", role="coach", token_hash="c" * 64,
                            created_at=FIXED_NOW, expires_at=FIXED_NOW + timedelta(days=7))
    session.add_all([share, photo, application, notice, code, invitation])
    session.commit()
    return share


# --- export ---------------------------------------------------------------------------------------


def test_data_page_offers_the_download_and_the_deletion(client, world):
    sign_in(client, world.maija)
    html = client.get("/passport/data?lang=en").get_data(as_text=True)
    assert 'href="/passport/data.json"' in html
    assert 'action="/passport/delete"' in html
    assert 'value="withdraw"' in html and 'value="keep"' in html


def test_the_export_holds_everything_about_the_person_and_nothing_of_others(client, world, personal):
    sign_in(client, world.maija)
    response = client.get("/passport/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.data)
    assert data["profile"]["email"] == "maija@example.test"
    assert data["profile"]["display_name"] == "Maija Meikäläinen"
    assert data["memberships"] == [{"organisation": "Työpaja Verstas", "role": "client", "since": FIXED_NOW.isoformat()}]
    by_id = {a["id"]: a for a in data["awards"]}
    assert set(by_id) == {a.public_id for a in (world.one, world.two, world.revoked, world.expired,
                                                world.badge_of_osaamismerkki)}
    assert by_id[world.one.public_id]["credential"] == json.loads(world.one.document)
    assert by_id[world.revoked.public_id]["revocation_reason"] == "Myönnetty vahingossa"
    (share,) = data["shares"]
    assert share["recipient"] == "Työvoimapalvelut, rouva N"
    assert [a["device"] for a in share["accesses"]] == ["phone", "computer"]
    assert sorted(share["awards"]) == sorted([world.one.public_id, world.two.public_id])
    (application,) = data["applications"]
    assert application["statement"] == "Tein hyllyn itse." and application["answered_by"] == "Kalle Valmentaja"
    assert data["notifications"][0]["award"] == world.revoked.public_id
    assert len(data["evidence_photos"]) == 1
    text = response.get_data(as_text=True)
    assert "Pekka" not in text and "pekka@example.test" not in text and world.pekkas.public_id not in text
    assert "a" * 64 not in text  # no token hashes


# --- deletion -------------------------------------------------------------------------------------


def _delete(client, choice: str, password: str = PASSWORD):
    return client.post("/passport/delete?lang=en", data={"badges": choice, "password": password})


def _all_text(session) -> str:
    """Return every text value of every table, JSON columns included."""
    parts = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if not isinstance(c.type, LargeBinary)]
        for row in session.execute(select(*columns)):
            for value in row:
                if isinstance(value, str):
                    parts.append(value)
                elif isinstance(value, dict | list):
                    parts.append(json.dumps(value, ensure_ascii=False))
    return "\n".join(parts)


def test_a_wrong_password_deletes_nothing(client, session, world, personal):
    login(client, "maija@example.test")
    response = _delete(client, "withdraw", "wrong password")
    assert response.status_code == 400
    assert "The password is not right" in response.get_data(as_text=True)
    session.expire_all()
    maija = session.get(User, world.maija.id)
    assert maija.is_active and maija.email == "maija@example.test"
    assert session.get(Award, world.one.id).revoked_at is None
    assert session.scalar(select(Share).where(Share.client_id == maija.id)) is not None


@pytest.mark.parametrize("data", [{"password": PASSWORD}, {"badges": "both", "password": PASSWORD},
                                  {"badges": "keep", "password": ""}])
def test_an_incomplete_deletion_form_deletes_nothing(client, session, world, data):
    sign_in(client, world.maija)
    assert client.post("/passport/delete", data=data).status_code == 400
    session.expire_all()
    assert session.get(User, world.maija.id).is_active


def test_deleting_with_withdrawal_erases_the_person_and_revokes_every_badge(client, session, world, personal):
    before = _all_text(session)
    assert all(trace in before for trace in MAIJA_TRACES)  # the search below would find them
    login(client, "maija@example.test")
    response = _delete(client, "withdraw")
    assert response.status_code == 302
    session.expire_all()

    after = _all_text(session)
    for trace in MAIJA_TRACES:
        assert trace not in after, trace
    assert "Pekka Toinen" in after and "Kalle Valmentaja" in after  # other people are untouched

    maija = session.get(User, world.maija.id)
    assert maija.display_name == passport.ERASED_NAME
    assert (maija.email, maija.password_hash, maija.is_active) == (None, None, False)
    assert session.scalars(select(Membership).where(Membership.user_id == maija.id)).all() == []
    for model, column in ((Share, Share.client_id), (BadgeApplication, BadgeApplication.client_id),
                          (Notification, Notification.user_id), (EvidenceFile, EvidenceFile.subject_id),
                          (ActivationCode, ActivationCode.user_id)):
        assert session.scalars(select(model).where(column == maija.id)).all() == [], model
    assert session.scalars(select(ShareAccess)).all() == []
    assert session.execute(select(share_award)).all() == []
    assert session.scalars(select(Invitation)).all() == []

    # Award rows stay, each withdrawn for the holder, and the signed status list says so.
    awards = session.scalars(select(Award).where(Award.recipient_id == maija.id)).all()
    assert len(awards) == 5
    for award in awards:
        assert award.revoked_at is not None
        assert get_bit(award.status_list.bits, award.status_index)
        signed = json.loads(award.status_list.document)
        assert get_bit(decode_list(signed["credentialSubject"]["encodedList"]), award.status_index)
    assert {a.revocation_reason for a in awards if a.id != world.revoked.id} == {passport.HOLDER_REQUEST}
    pekkas = session.get(Award, world.pekkas.id)
    assert pekkas.revoked_at is None and not get_bit(pekkas.status_list.bits, pekkas.status_index)

    # The audit trail keeps ids only.
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "account.delete"))
    assert event.actor_id == maija.id and event.details == {"withdrawn": 4, "kept_valid": False}

    # Logged out, and the old password opens nothing.
    assert client.get("/passport").status_code == 302
    assert login(client, "maija@example.test").status_code == 400


def test_deleting_and_keeping_the_badges_leaves_them_valid(client, session, world, personal):
    login(client, "maija@example.test")
    assert _delete(client, "keep").status_code == 302
    session.expire_all()
    assert session.get(Award, world.one.id).revoked_at is None
    one = session.get(Award, world.one.id)
    assert not get_bit(one.status_list.bits, one.status_index)
    assert "maija@example.test" not in _all_text(session)
    assert session.get(User, world.maija.id).is_active is False


def test_deletion_needs_the_form_token_when_csrf_is_on(session, world, kek_text, database_url, tmp_path,
                                                       monkeypatch):
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path / "csrf-instance"))
    csrf_app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "BADGES_KEK": kek_text, "BADGES_BASE_URL": BASE_URL, "BADGES_DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": True,
    })
    try:
        client = csrf_app.test_client()
        sign_in(client, world.maija)
        response = client.post("/passport/delete", data={"badges": "withdraw", "password": PASSWORD})
        assert response.status_code == 400
        response = client.post(f"/passport/badges/{world.one.public_id}/evidence", data={"hidden": "1"})
        assert response.status_code == 400
        session.expire_all()
        assert session.get(User, world.maija.id).is_active
        assert session.get(Award, world.one.id).evidence_hidden is False
    finally:
        csrf_app.extensions["badges.engine"].dispose()

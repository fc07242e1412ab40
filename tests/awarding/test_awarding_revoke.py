"""Revoking (who may, with a reason the client sees), notifications, and the audit log."""

import csv
import html
import io
from datetime import UTC, datetime, timedelta

import pytest
from awarding_helpers import sign_in
from helpers import FIXED_NOW
from sqlalchemy import func, select

from badges import awarding, services
from badges.core.statuslist import get_bit
from badges.models import AuditEvent, Notification


@pytest.fixture
def awards(session, site, world):
    """Two awards to Maija: one by Kalle (coach), one by Ville (coach2)."""
    maija = world.clients[0]
    by_kalle = awarding.award_one(session, site, world.org, version=world.badge.current, recipient=maija,
                                  key="a1", now=FIXED_NOW, issued_by=world.coach, note="Hyvin tehty.")
    by_ville = awarding.award_one(session, site, world.org, version=world.badge2.current, recipient=maija,
                                  key="a2", now=FIXED_NOW, issued_by=world.coach2)
    session.commit()
    return by_kalle, by_ville


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def revoke(client, award, reason="Merkki myönnettiin väärälle henkilölle.", action="revoke"):
    return client.post(f"/org/verstas/awards/{award.public_id}/{action}?lang=en", data={"reason": reason})


def test_coach_revokes_own_award_and_the_client_is_told(client, session, world, awards):
    by_kalle, _ = awards
    sign_in(client, world.coach)
    response = revoke(client, by_kalle)
    assert response.status_code == 302
    session.refresh(by_kalle)
    assert by_kalle.revoked_at is not None and by_kalle.revoked_by_id == world.coach.id
    assert by_kalle.revocation_reason == "Merkki myönnettiin väärälle henkilölle."
    session.refresh(by_kalle.status_list)
    assert get_bit(by_kalle.status_list.bits, by_kalle.status_index)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "award.revoke",
                                                   AuditEvent.actor_id == world.coach.id))
    [note] = session.scalars(select(Notification)).all()
    assert note.user_id == world.clients[0].id and note.kind == "award.revoked" and note.read_at is None

    sign_in(client, world.clients[0])
    page = text(client.get("/?lang=en"))
    assert "The badge Puumateriaalien tunnistaminen was withdrawn by Kalle Valmentaja" in page
    assert "Reason: Merkki myönnettiin väärälle henkilölle." in page
    withdrawn = page.split('id="withdrawn-title"')[1]
    achievements = page.split('id="my-badges-title"')[1].split('id="withdrawn-title"')[0]
    assert "Puumateriaalien tunnistaminen" in withdrawn
    assert "Puumateriaalien tunnistaminen" not in achievements and "Turvallinen työskentely" in achievements

    assert client.post("/notifications/read", data={"award": by_kalle.public_id}).status_code == 302
    session.refresh(note)
    assert note.read_at is not None
    page = text(client.get("/?lang=en"))
    assert "was withdrawn by" not in page and 'id="withdrawn-title"' in page


def test_a_person_can_only_mark_their_own_notifications(client, session, world, awards, site):
    by_kalle, _ = awards
    awarding.revoke(session, site, by_kalle, reason="Virhe", actor=world.coach, now=FIXED_NOW)
    session.commit()
    sign_in(client, world.clients[1])
    client.post("/notifications/read", data={"award": by_kalle.public_id})
    client.post("/notifications/read", data={})
    assert session.scalar(select(Notification)).read_at is None


def test_another_coach_may_see_but_not_revoke(client, session, world, awards):
    by_kalle, _ = awards
    sign_in(client, world.coach2)
    page = text(client.get(f"/org/verstas/awards/{by_kalle.public_id}?lang=en"))
    assert "Hyvin tehty." in page and "Revoke the badge" not in page
    assert revoke(client, by_kalle).status_code == 403
    assert revoke(client, by_kalle, action="reissue").status_code == 403
    session.refresh(by_kalle)
    assert by_kalle.revoked_at is None and session.scalar(select(func.count()).select_from(Notification)) == 0


def test_admin_may_revoke_any_award_of_the_organisation(client, session, world, awards):
    _, by_ville = awards
    sign_in(client, world.admin)
    assert "Revoke the badge" in text(client.get(f"/org/verstas/awards/{by_ville.public_id}?lang=en"))
    assert revoke(client, by_ville).status_code == 302
    session.refresh(by_ville)
    assert by_ville.revoked_by_id == world.admin.id


@pytest.mark.parametrize(("reason", "message"), [("", "Write the reason for revoking."),
                                                 ("   ", "Write the reason for revoking."),
                                                 ("x" * 501, "500")])
def test_a_reason_is_required(client, session, world, awards, reason, message):
    by_kalle, _ = awards
    sign_in(client, world.coach)
    response = revoke(client, by_kalle, reason=reason)
    assert response.status_code == 400 and message in text(response)
    session.refresh(by_kalle)
    assert by_kalle.revoked_at is None


def test_revoking_twice_is_refused(client, session, world, awards):
    by_kalle, _ = awards
    sign_in(client, world.coach)
    revoke(client, by_kalle)
    response = revoke(client, by_kalle)
    assert response.status_code in (403, 409)
    assert session.scalar(select(func.count()).select_from(Notification)) == 1


def test_reissue_revokes_and_opens_the_form_with_the_same_badge_and_client(client, session, world, awards):
    by_kalle, _ = awards
    sign_in(client, world.coach)
    response = revoke(client, by_kalle, reason="Väärä merkki", action="reissue")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert world.clients[0].public_id in location and world.badge.public_id in location
    session.refresh(by_kalle)
    assert by_kalle.revoked_at is not None
    page = client.get(location).get_data(as_text=True)
    assert f'value="{world.badge.public_id}"\n                   checked' in page
    assert f'value="{world.clients[0].public_id}"\n                   checked' in page


def test_award_list_filters_and_pages(client, session, world, site, awards):
    awarding.revoke(session, site, awards[1], reason="Virhe", actor=world.admin, now=FIXED_NOW)
    for n in range(55):
        awarding.award_one(session, site, world.org, version=world.badge.current, recipient=world.clients[1],
                           key=f"p{n}", now=FIXED_NOW - timedelta(days=40), issued_by=world.coach2)
    session.commit()
    sign_in(client, world.coach)
    page = text(client.get("/org/verstas/awards?lang=en"))
    assert "57 awards" in page and "Page 1 of 2" in page and 'rel="next"' in page
    assert text(client.get("/org/verstas/awards?lang=en&page=2")).count("/org/verstas/awards/") == 7
    assert "1 award" in text(client.get("/org/verstas/awards?lang=en&status=revoked"))
    assert "56 awards" in text(client.get("/org/verstas/awards?lang=en&status=valid"))
    assert "55 awards" in text(client.get("/org/verstas/awards?lang=en&client=matti"))
    assert "1 award" in text(client.get(f"/org/verstas/awards?lang=en&badge={world.badge2.public_id}"))
    day = FIXED_NOW.date().isoformat()
    assert "2 awards" in text(client.get(f"/org/verstas/awards?lang=en&start={day}&end={day}"))
    assert "1 award" in text(client.get("/org/verstas/awards?lang=en&mine=y"))
    assert "57 awards" in text(client.get("/org/verstas/awards?lang=en&start=not-a-date"))


# --- audit log ----------------------------------------------------------------------------------


def test_audit_log_is_for_admins_only(client, world):
    for person in (world.coach, world.clients[0], world.other_coach):
        sign_in(client, person)
        assert client.get("/org/verstas/audit").status_code == 404
        assert client.get("/org/verstas/audit.csv").status_code == 404


def test_audit_log_shows_plain_words_names_links_and_filters(client, session, world, awards, site):
    by_kalle, _ = awards
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # already 3 March in Finland
    awarding.revoke(session, site, by_kalle, reason="Virhe", actor=world.admin, now=late)
    services.record(session, "award.issue", now=FIXED_NOW, actor=world.other_coach, organisation=world.other_org,
                    target="elsewhere")
    session.commit()
    sign_in(client, world.admin)
    page = text(client.get("/org/verstas/audit?lang=en"))
    assert "Awarded a badge" in page and "Revoked a badge" in page
    assert "Kalle Valmentaja" in page and "Aino Admin" in page and "Olli Muu" not in page
    assert f"/org/verstas/awards/{by_kalle.public_id}" in page
    assert "3 events" in page

    only_revokes = text(client.get("/org/verstas/audit?lang=en&action=award.revoke"))
    assert "1 event" in only_revokes and "Awarded a badge</td>" not in only_revokes
    by_ville = text(client.get(f"/org/verstas/audit?lang=en&actor={world.coach2.public_id}"))
    assert "1 event" in by_ville
    finnish_day = text(client.get("/org/verstas/audit?lang=en&start=2026-03-03&end=2026-03-03"))
    assert "1 event" in finnish_day and "Revoked a badge" in finnish_day
    assert "2 events" in text(client.get("/org/verstas/audit?lang=en&end=2026-03-02"))


def test_audit_csv_exports_the_filtered_events_safely(client, session, world, site):
    world.coach.display_name = "=HYPERLINK(\"http://evil.example\")"
    for n in range(3):
        awarding.award_one(session, site, world.org, version=world.badge.current, recipient=world.clients[0],
                           key=f"c{n}", now=FIXED_NOW, issued_by=world.coach)
    services.record(session, "key.rotate", now=FIXED_NOW, actor=world.admin, organisation=world.org)
    session.commit()
    sign_in(client, world.admin)
    response = client.get("/org/verstas/audit.csv?lang=en&action=award.issue")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["Time", "Person", "Action", "Action code"]
    assert len(rows) == 4 and all(row[3] == "award.issue" for row in rows[1:])
    assert rows[1][0] == "2026-03-02T11:30:00+02:00"  # Finnish time
    assert rows[1][1].startswith("'=HYPERLINK")  # never a formula in a spreadsheet
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.export"))


def test_audit_log_pages(client, session, world):
    for n in range(60):
        services.record(session, "key.rotate", now=FIXED_NOW + timedelta(minutes=n), actor=world.admin,
                        organisation=world.org)
    session.commit()
    sign_in(client, world.admin)
    first = text(client.get("/org/verstas/audit?lang=en&action=key.rotate"))
    assert "60 events" in first and "Page 1 of 2" in first and first.count("<tr>") == 51
    second = text(client.get("/org/verstas/audit?lang=en&action=key.rotate&page=2"))
    assert second.count("<tr>") == 11 and 'rel="prev"' in second


def test_organisation_home_shows_actions_and_latest_awards(client, world, awards):
    sign_in(client, world.coach)
    page = text(client.get("/org/verstas/?lang=en"))
    assert "/org/verstas/award" in page and "/org/verstas/bulk" in page and "/org/verstas/clients" in page
    assert "/org/verstas/badges/" in page and "Puumateriaalien tunnistaminen" in page
    assert "/org/verstas/audit" not in page  # admins only
    sign_in(client, world.admin)
    assert "/org/verstas/audit" in text(client.get("/org/verstas/?lang=en"))


def test_dashboard_leaves_other_kinds_of_notifications_alone(client, session, world, awards, site):
    by_kalle, by_ville = awards
    awarding.revoke(session, site, by_kalle, reason="Virhe", actor=world.coach, now=FIXED_NOW)
    other = Notification(user_id=world.clients[0].id, kind="application.awarded", award_id=by_ville.id,
                         created_at=FIXED_NOW)
    session.add(other)
    session.commit()
    sign_in(client, world.clients[0])
    page = text(client.get("/?lang=en"))
    assert page.count('class="notice"') == 1
    client.post("/notifications/read", data={})
    session.refresh(other)
    assert other.read_at is None  # shown (and marked) by the page that owns that kind
    assert session.scalar(select(Notification).where(Notification.kind == "award.revoked")).read_at is not None

"""The application use cases without the web layer: texts, states, concurrency, photo lifetime."""

import threading
from datetime import timedelta

import pytest
from applications_helpers import applications, awards, notifications, photo_bytes, rows, sign_in
from helpers import FIXED_NOW

from badges import applications as service
from badges import awarding, services
from badges.applications import ApplicationError
from badges.models import AuditEvent, EvidenceFile, User

SV = {"sv": {"name": "Att känna igen träslag", "description": "Kan känna igen de vanligaste träslagen.",
             "criteria": "Kan namnge fem träslag.", "image_alt": "Blått märke",
             "evidence_guidance": "Visa fem träslag."}}


def test_badge_texts_follow_the_reader_and_fall_back_to_the_badge_language(session, world, make_badge):
    badge = make_badge(world.org, name="Puulajit", translations=SV, plain_description="Tunnet puut.")
    version = badge.current
    swedish = service.badge_texts(version, "sv")
    assert (swedish.language, swedish.name, swedish.criteria, swedish.evidence_guidance) == (
        "sv", "Att känna igen träslag", "Kan namnge fem träslag.", "Visa fem träslag.")
    assert swedish.plain_description is None
    english = service.badge_texts(version, "en")  # no English texts: the badge's own
    assert english.language == "fi" and english.name == "Puulajit"
    assert service.badge_texts(version, "fi").plain_description == "Tunnet puut."


def test_the_apply_page_speaks_the_readers_language(client, session, world, make_badge):
    badge = make_badge(world.org, name="Puulajit", translations=SV)
    world.maija.locale = "sv"
    session.commit()
    client.delete_cookie("lang")  # no explicit choice: the person's own language applies
    sign_in(client, world.maija)
    page = client.get(f"/passport/applications/new?badge={badge.public_id}").get_data(as_text=True)
    assert '<h1 lang="sv">Att känna igen träslag</h1>' in page and "Visa fem träslag." in page
    assert "Att känna igen träslag" in client.get("/passport/applications/new").get_data(as_text=True)


def test_applicable_badges_are_those_of_the_clients_organisations_in_use(session, world):
    world.badge2.retired_at = FIXED_NOW
    session.commit()
    assert [a.id for a in service.applicable_badges(session, world.maija)] == [world.badge.id]
    assert service.applicable_badges(session, world.coach) == []  # staff, not a client


def test_an_expired_award_may_be_renewed_by_applying(session, world, site, make_badge):
    badge = make_badge(world.org, name="Ensiapu", valid_days=30)
    services.issue_award(session, site, version=badge.current, recipient=world.maija, now=FIXED_NOW)
    assert not service.badge_state(session, world.maija, badge, now=FIXED_NOW + timedelta(days=1)).can_apply
    assert service.badge_state(session, world.maija, badge, now=FIXED_NOW + timedelta(days=31)).can_apply


def test_nothing_is_written_when_a_check_fails(session, world):
    for kwargs, code in (
        ({"badge_id": world.other_badge.public_id, "statement": "x"}, "application_unknown_badge"),
        ({"badge_id": world.badge.public_id, "statement": "  "}, "statement_required"),
        ({"badge_id": world.badge.public_id, "statement": "x" * 2001}, "statement_too_long"),
    ):
        with pytest.raises(ApplicationError) as caught:
            service.submit(session, client=world.maija, photo=photo_bytes(), now=FIXED_NOW, **kwargs)
        assert caught.value.code == code
    session.rollback()
    assert not applications(session) and not rows(session, EvidenceFile)


def test_the_evidence_items_are_named_in_the_badges_language(session, world, site, make_badge):
    badge = make_badge(world.org, name="Wood species", language="en")
    application = service.submit(session, client=world.maija, badge_id=badge.public_id, statement="I named five.",
                                 photo=photo_bytes(), now=FIXED_NOW)
    award = service.award(session, site, application, coach=world.coach, now=FIXED_NOW, note="Saw it.")
    import json

    evidence = json.loads(award.document)["evidence"]
    assert [item.get("name") for item in evidence] == ["Applicant's own statement", "Observation", "Photo"]


def test_concurrent_award_clicks_issue_one_badge(app, session, world, site):
    application = service.submit(session, client=world.maija, badge_id=world.badge.public_id, statement="Tein.",
                                 photo=None, now=FIXED_NOW)
    session.commit()
    maker = app.extensions["badges.sessionmaker"]
    start = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def click() -> None:
        from badges.models import BadgeApplication

        try:
            with maker() as own:
                mine = own.get(BadgeApplication, application.id)
                coach = own.get(User, world.coach.id)
                start.wait()
                award = service.award(own, site, mine, coach=coach, now=FIXED_NOW)
                own.commit()
                results.append(award.public_id)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(set(results)) == 1
    assert len(awards(session)) == 1
    assert len(notifications(session, user_id=world.maija.id)) == 1
    assert len(rows(session, AuditEvent, action="application.award")) == 1


def test_the_photo_clean_up_keeps_the_photos_of_applications(session, world):
    application = service.submit(session, client=world.maija, badge_id=world.badge.public_id, statement="Tein.",
                                 photo=photo_bytes(), now=FIXED_NOW)
    session.commit()
    awarding.delete_orphans(session, now=FIXED_NOW + timedelta(days=30))
    session.commit()
    assert applications(session)[0].evidence_file_id == application.evidence_file_id
    assert rows(session, EvidenceFile)

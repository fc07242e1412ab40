"""The passport page, progress toward units, badge detail, hidden evidence and access control."""

import re

import pytest
from passport_helpers import sign_in
from helpers import FIXED_NOW

from badges import passport
from badges.models import Award


def _text(response) -> str:
    """Return the page's visible text with tags removed and white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# --- progress (service) ---------------------------------------------------------------------------


def test_progress_counts_distinct_requirements_of_valid_awards_only(session, world):
    groups = passport.progress(session, passport.own_awards(session, world.maija), now=FIXED_NOW, language="en")
    vocational = next(g for g in groups if not g.is_osaamismerkit)
    (unit,) = vocational.units
    # r1 and r2 by valid badges; r3 only by a revoked and an expired one; the withdrawn requirement not at all.
    assert (unit.evidenced, unit.total) == (2, 3)
    assert {a.id for a in unit.awards} == {world.one.id, world.two.id}
    assert unit.name == "Joinery industry"


def test_the_same_requirement_evidenced_twice_counts_once(session, world, site, make_badge):
    from badges import services

    badge = make_badge(world.org, "Höylän käyttö 2", alignments=[{"targetName": "x", "targetUrl": "https://e/x",
                                                                  "targetCode": "ammattitaitovaatimukset_901"}])
    services.issue_award(session, site, version=badge.current, recipient=world.maija, now=FIXED_NOW)
    groups = passport.progress(session, passport.own_awards(session, world.maija), now=FIXED_NOW, language="fi")
    unit = next(g for g in groups if not g.is_osaamismerkit).units[0]
    assert (unit.evidenced, unit.total) == (2, 3)
    assert len(unit.awards) == 3


def test_osaamismerkit_touched_come_after_qualifications(session, world):
    groups = passport.progress(session, passport.own_awards(session, world.maija), now=FIXED_NOW, language="fi")
    assert [g.is_osaamismerkit for g in groups] == [False, True]
    assert [a.id for a in groups[1].units[0].awards] == [world.badge_of_osaamismerkki.id]


def test_a_person_without_aligned_badges_has_no_progress(session, world, make_user):
    assert passport.progress(session, [], now=FIXED_NOW, language="fi") == []


def test_timeline_groups_valid_badges_by_month_newest_first(session, world):
    months = passport.timeline(passport.own_awards(session, world.maija), now=FIXED_NOW + passport_delta())
    assert [(m.year, m.month) for m in months] == [(2026, 4), (2026, 3)]
    assert world.revoked not in months[1].awards and world.expired not in months[1].awards


def passport_delta():
    """Return a step of a few days: everything issued in the fixture is in the past."""
    from datetime import timedelta

    return timedelta(days=45)


# --- the passport page ------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login(client, world):
    for path in ("/passport", f"/passport/badges/{world.one.public_id}", "/passport/bundle.zip",
                 "/passport/passport.pdf", "/passport/data", "/passport/data.json"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]
    for path in ("/passport/delete", f"/passport/badges/{world.one.public_id}/evidence"):
        assert client.post(path, data={}).status_code == 302


def test_passport_shows_progress_as_an_accessible_progress_bar(client, world):
    sign_in(client, world.maija)
    response = client.get("/passport?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = _text(response)
    assert "2 of 3 requirements evidenced" in text
    assert re.search(r'<progress max="3" value="2" aria-labelledby="[^"]+" aria-describedby="[^"]+-text"', html)
    assert "missing" not in text.lower()
    assert "Safety at work" in text  # the osaamismerkki touched


def test_passport_lists_valid_badges_newest_first_and_withdrawn_apart(client, world):
    sign_in(client, world.maija)
    html = client.get("/passport?lang=en").get_data(as_text=True)
    mine, _, rest = html.partition('id="progress-title"')
    assert mine.index("Measuring") < mine.index("Höylän käyttö")  # newest first, in English when translated
    withdrawn = html.split('id="withdrawn-title"')[1]
    assert "Liimaus" in withdrawn and "Myönnetty vahingossa" in withdrawn
    assert "Liimaus" not in mine
    earlier = html.split('id="expired-title"')[1].split('id="withdrawn-title"')[0]
    assert "Trukki" in earlier and "valid until" in earlier
    assert "Trukki" not in mine


def test_the_passport_shows_only_the_persons_own_badges(client, world):
    sign_in(client, world.pekka)
    text = _text(client.get("/passport?lang=en"))
    assert "Höylän käyttö" not in text and "Mittaaminen" not in text and "Measuring" not in text
    assert "Liimaus" in text


def test_plain_finnish_is_offered_to_finnish_readers_only(client, world):
    sign_in(client, world.maija)
    fi = client.get("/passport?lang=fi").get_data(as_text=True)
    assert "Osaan mitata puun pituuden." in fi
    en = client.get("/passport?lang=en").get_data(as_text=True)
    assert "Osaan mitata puun pituuden." not in en
    detail = client.get(f"/passport/badges/{world.two.public_id}?lang=fi").get_data(as_text=True)
    assert "Osaan mitata puun pituuden." in detail
    assert 'lang="fi"' in detail


def test_the_links_to_share_apply_and_download_are_there(client, world):
    sign_in(client, world.maija)
    html = client.get("/passport").get_data(as_text=True)
    for href in ("/passport/shares/new", "/passport/applications/new", "/passport/passport.pdf",
                 "/passport/bundle.zip", "/passport/data"):
        assert f'href="{href}"' in html


# --- badge detail --------------------------------------------------------------------------------


def test_badge_detail_shows_criteria_issuer_alignment_evidence_and_downloads(client, world):
    sign_in(client, world.maija)
    response = client.get(f"/passport/badges/{world.one.public_id}?lang=en")
    assert response.status_code == 200
    text = _text(response)
    html = response.get_data(as_text=True)
    assert "Työpaja Verstas" in text
    assert "Osaa nimetä viisi puulajia" in text  # criteria
    assert "Vaatimus 1" in text and "Joinery industry" in text and "Wood industry VQ" in text
    assert "https://eperusteet.opintopolku.fi/" in html
    assert "Höyläsi kymmenen lautaa tasaisiksi." in text
    for suffix in (".png", ".svg", ".json"):
        assert f'href="/credentials/{world.one.public_id}{suffix}"' in html


def test_another_persons_award_is_not_found(client, world):
    sign_in(client, world.maija)
    assert client.get(f"/passport/badges/{world.pekkas.public_id}").status_code == 404
    assert client.get("/passport/badges/not-a-real-id").status_code == 404
    response = client.post(f"/passport/badges/{world.pekkas.public_id}/evidence", data={"hidden": "1"})
    assert response.status_code == 404


def test_hiding_the_evidence_keeps_it_off_the_page_and_says_the_file_cannot_change(client, session, world):
    sign_in(client, world.maija)
    url = f"/passport/badges/{world.one.public_id}"
    document_before = world.one.document
    response = client.post(f"{url}/evidence?lang=en", data={"hidden": "1"})
    assert response.status_code == 302
    session.expire_all()
    award = session.get(Award, world.one.id)
    assert award.evidence_hidden is True
    assert award.document == document_before  # the signed credential is untouched
    text = _text(client.get(f"{url}?lang=en"))
    assert "Höyläsi kymmenen lautaa" not in text
    assert "cannot change" in text
    assert "Show the evidence again" in text
    client.post(f"{url}/evidence", data={"hidden": "0"})
    session.expire_all()
    assert session.get(Award, world.one.id).evidence_hidden is False


@pytest.mark.parametrize("value", ["", "2", "yes", "1; drop table"])
def test_a_bad_visibility_value_changes_nothing(client, session, world, value):
    sign_in(client, world.maija)
    response = client.post(f"/passport/badges/{world.one.public_id}/evidence", data={"hidden": value})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Award, world.one.id).evidence_hidden is False


def test_a_withdrawn_badge_detail_shows_the_reason(client, world):
    sign_in(client, world.maija)
    text = _text(client.get(f"/passport/badges/{world.revoked.public_id}?lang=en"))
    assert "withdrawn" in text and "Myönnetty vahingossa" in text

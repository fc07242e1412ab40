"""Pages stay cheap at any size: proofs are checked once and recorded, queries do not grow per badge."""

import json
import re

import pytest
from helpers import FIXED_NOW, login
from perf_helpers import count_calls, counted_statements, make_share, refuse
from sqlalchemy import select

from badges import services, sharing
from badges.core import signing, verification
from badges.db import get_engine
from badges.models import Award


def _forbid_proof_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every way into proof verification fail the test."""
    monkeypatch.setattr(services, "verify_document", refuse)
    monkeypatch.setattr(sharing.services, "verify_document", refuse)
    monkeypatch.setattr(signing, "verify_proof", refuse)
    monkeypatch.setattr(verification, "verify_proof", refuse)


def _badge_links(page: str) -> set[str]:
    return set(re.findall(r'href="/passport/badges/([0-9a-f]{32})"', page))


# --- proofs are checked once ----------------------------------------------------------------------


def test_a_new_award_records_that_its_proof_verifies(session, site, holder):
    award = holder.award(session, site, 1)[0]
    assert award.verified_at == FIXED_NOW
    # … and the record is true: our own verifier agrees with every signature check.
    result = services.verify_document(session, site, json.loads(award.document), now=FIXED_NOW)
    assert all(result.check(name).outcome == "passed" for name in ("structure", "contexts", "issuer_key", "proof"))


def test_the_passport_page_never_verifies_proofs(client, session, site, holder, monkeypatch):
    holder.award(session, site, 4)
    login(client, "maija@example.test")
    _forbid_proof_checks(monkeypatch)
    page = client.get("/passport?lang=en")
    assert page.status_code == 200
    assert _badge_links(page.get_data(as_text=True)) == {a.public_id for a in holder.awards}


def test_the_share_page_shows_status_without_verifying_proofs(client, session, site, holder, monkeypatch):
    awards = holder.award(session, site, 3)
    services.revoke_award(session, site, awards[0], reason="Väärä henkilö", now=FIXED_NOW)
    session.commit()
    _, token = make_share(session, holder.maija, awards[1:])
    services.revoke_award(session, site, awards[1], reason="Virhe", now=FIXED_NOW)  # after sharing: stays, marked
    session.commit()
    _forbid_proof_checks(monkeypatch)
    page = client.get(f"/s/{token}?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.count('class="tag tag-valid">Valid<') == 1 and text.count('class="tag tag-revoked">Revoked<') == 1
    assert "Not verified" not in text


def test_an_award_from_before_the_record_is_verified_on_its_first_view_only(client, session, site, holder,
                                                                            monkeypatch):
    awards = holder.award(session, site, 2)
    for award in awards:
        award.verified_at = None  # as awards issued before the column existed
    session.commit()
    _, token = make_share(session, holder.maija, awards)
    calls = count_calls(monkeypatch, sharing.services, "verify_document")
    first = client.get(f"/s/{token}?lang=en").get_data(as_text=True)
    assert first.count('class="tag tag-valid">Valid<') == 2 and len(calls) == 2
    session.expire_all()
    assert all(a.verified_at is not None for a in session.scalars(select(Award)))  # committed by the page
    client.get(f"/s/{token}?lang=en")
    assert len(calls) == 2


def test_a_tampered_old_award_is_shown_as_not_verified(client, session, site, holder):
    award = holder.award(session, site, 1)[0]
    award.verified_at = None
    award.document = award.document.replace("Merkki", "Väärennetty merkki")
    session.commit()
    _, token = make_share(session, holder.maija, [award])
    text = client.get(f"/s/{token}?lang=en").get_data(as_text=True)
    assert "Not verified" in text and 'tag-valid">Valid<' not in text
    session.expire_all()
    assert session.get(Award, award.id).verified_at is None


# --- queries do not grow with the number of badges ------------------------------------------------------


def _statements(client, url: str) -> int:
    client.get(url)  # the first request warms what is cached per process
    with counted_statements(get_engine()) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_the_passport_page_runs_as_many_queries_for_30_badges_as_for_3(client, session, site, holder, make_badge):
    holder.award(session, site, 3)
    login(client, "maija@example.test")
    few = _statements(client, "/passport?lang=en")
    holder.badges.extend(make_badge(holder.org, name=f"Uusi merkki {n}") for n in range(27))
    session.commit()
    holder.award(session, site, 27)  # 30 badges of 30 different definitions
    many = _statements(client, "/passport?lang=en")
    assert many == few
    assert len(_badge_links(client.get("/passport?lang=en").get_data(as_text=True))) == 30


def test_the_share_page_runs_as_many_queries_for_30_badges_as_for_3(client, session, site, holder, make_badge):
    holder.badges.extend(make_badge(holder.org, name=f"Uusi merkki {n}") for n in range(27))
    session.commit()
    awards = holder.award(session, site, 30)
    _, few_token = make_share(session, holder.maija, awards[:3])
    _, many_token = make_share(session, holder.maija, awards)
    few = _statements(client, f"/s/{few_token}?lang=en")
    many = _statements(client, f"/s/{many_token}?lang=en")
    assert many == few
    text = client.get(f"/s/{many_token}?lang=en").get_data(as_text=True)
    assert text.count('class="tag tag-valid">Valid<') == 30

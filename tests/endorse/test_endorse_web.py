"""The endorsement pages: who may endorse, the form, withdrawal, and where endorsements show."""

import json
from datetime import timedelta

from sqlalchemy import select

from badges import sharing
from badges.models import Endorsement, Organisation
from endorse_helpers import COMMENT, count, endorse, issue, sign_in, text
from helpers import FIXED_NOW


def _endorse_url(world) -> str:
    return f"/org/opisto/endorsements/badges/{world.badge.public_id}"


def test_a_teacher_finds_other_organisations_badges(client, world):
    sign_in(client, world.teacher_coach)
    page = text(client.get("/org/opisto/endorsements/badges"))
    assert "Puumateriaalien tunnistaminen" in page and "Vieras merkki" in page and "Työpaja Verstas" in page
    searched = text(client.get("/org/opisto/endorsements/badges?q=vieras"))
    assert "Vieras merkki" in searched and "Puumateriaalien" not in searched
    assert client.get("/org/opisto/endorsements/badges?page=abc").status_code == 200


def test_the_form_is_filled_with_the_badges_alignments(client, world):
    sign_in(client, world.teacher)
    page = text(client.get(_endorse_url(world)))
    assert "ammattitaitovaatimukset_414" in page
    assert "Osaa nimetä viisi puulajia" in page  # the criteria the teacher endorses


def test_endorsing_through_the_form_publishes_the_endorsement(client, session, world):
    sign_in(client, world.teacher)
    response = client.post(_endorse_url(world), data={"codes": "ammattitaitovaatimukset_414",
                                                      "comment": COMMENT})
    assert response.status_code == 302
    endorsement = session.scalar(select(Endorsement))
    assert response.headers["Location"].endswith(f"/endorsements/{endorsement.public_id}")
    assert endorsement.created_by_id == world.teacher.id
    page = text(client.get(response.headers["Location"]))
    assert "Ammattiopisto Esimerkki" in page and COMMENT in page and "In force" in page
    served = client.get(f"/endorsements/{endorsement.public_id}.json")
    assert served.mimetype == "application/vc+ld+json"
    assert json.loads(served.data) == json.loads(endorsement.document)
    # the credential's id itself answers a verifier that asks for JSON
    negotiated = client.get(f"/endorsements/{endorsement.public_id}", headers={"Accept": "application/ld+json"})
    assert json.loads(negotiated.data)["id"].endswith(f"/endorsements/{endorsement.public_id}")


def test_bad_input_shows_a_message_and_stores_nothing(client, session, world):
    sign_in(client, world.teacher)
    for data, message in (
        ({"codes": "ammattitaitovaatimukset_414", "comment": ""}, "Write what the badge shows in your view."),
        ({"codes": "", "comment": COMMENT}, "Name at least one qualification requirement or unit"),
        ({"codes": "eiole_1", "comment": COMMENT}, "Some alignment codes are not known"),
        ({"codes": "ammattitaitovaatimukset_414", "comment": "x" * 2001}, "at most 2,000 characters"),
    ):
        response = client.post(_endorse_url(world), data=data)
        assert response.status_code == 400
        assert message in text(response), message
    assert count(session) == 0


def test_a_second_endorsement_is_refused_kindly(client, session, site, world):
    endorse(session, site, world)
    sign_in(client, world.teacher)
    assert "has endorsed this badge already" in text(client.get(_endorse_url(world)))
    response = client.post(_endorse_url(world), data={"codes": "ammattitaitovaatimukset_414", "comment": COMMENT})
    assert response.status_code == 400
    assert "Withdraw that endorsement first" in text(response)
    assert count(session) == 1


def test_organisations_that_are_not_education_providers_cannot_endorse(client, session, world):
    sign_in(client, world.other_coach)
    assert client.get("/org/toinen/endorsements/badges").status_code == 404
    assert client.get(f"/org/toinen/endorsements/badges/{world.badge.public_id}").status_code == 404
    response = client.post(f"/org/toinen/endorsements/badges/{world.badge.public_id}",
                           data={"codes": "ammattitaitovaatimukset_414", "comment": COMMENT})
    assert response.status_code == 404
    # nor through the school's address, where they have no role
    assert client.post(_endorse_url(world), data={"codes": "ammattitaitovaatimukset_414",
                                                  "comment": COMMENT}).status_code == 404
    overview = client.get("/org/toinen/endorsements")
    assert overview.status_code == 200 and "Find badges to endorse" not in text(overview)
    assert count(session) == 0


def test_clients_and_visitors_cannot_reach_the_staff_pages(client, world):
    assert client.get("/org/opisto/endorsements/badges").headers["Location"].startswith("/login")
    sign_in(client, world.maija)
    for url in ("/org/opisto/endorsements", "/org/opisto/endorsements/badges", _endorse_url(world)):
        assert client.get(url).status_code == 404


def test_own_retired_and_unknown_badges_are_404(client, session, world, make_badge):
    own = make_badge(world.school, name="Koulun oma merkki")
    world.other_badge.retired_at = FIXED_NOW
    session.commit()
    sign_in(client, world.teacher)
    for public_id in (own.public_id, world.other_badge.public_id, "0" * 32, "../x"):
        assert client.get(f"/org/opisto/endorsements/badges/{public_id}").status_code == 404


def test_withdrawing_through_the_page(client, session, site, world):
    endorsement = endorse(session, site, world)
    sign_in(client, world.teacher_coach)
    assert "Withdraw" in text(client.get("/org/opisto/endorsements"))
    response = client.post(f"/org/opisto/endorsements/{endorsement.public_id}/withdraw",
                           data={"reason": "Perusteet uudistuivat."})
    assert response.status_code == 302
    session.expire_all()
    assert endorsement.revoked_at is not None and endorsement.revocation_reason == "Perusteet uudistuivat."
    page = text(client.get(f"/endorsements/{endorsement.public_id}"))
    assert "Withdrawn" in page and "Perusteet uudistuivat." in page
    again = client.post(f"/org/opisto/endorsements/{endorsement.public_id}/withdraw", data={"reason": ""})
    assert again.status_code == 409 and "This endorsement was withdrawn already." in text(again)


def test_nobody_else_withdraws_an_endorsement(client, session, site, world):
    endorsement = endorse(session, site, world)
    for user, slug in ((world.coach, "verstas"), (world.other_coach, "toinen"), (world.coach, "opisto")):
        sign_in(client, user)
        assert client.post(f"/org/{slug}/endorsements/{endorsement.public_id}/withdraw",
                           data={"reason": ""}).status_code == 404
    session.expire_all()
    assert endorsement.revoked_at is None


def test_the_endorsed_organisation_sees_its_endorsements(client, session, site, world):
    endorse(session, site, world)
    sign_in(client, world.coach)
    overview = text(client.get("/org/verstas/endorsements"))
    assert "Ammattiopisto Esimerkki" in overview and COMMENT in overview
    library_page = text(client.get(f"/org/verstas/badges/{world.badge.public_id}"))
    assert "Endorsements" in library_page and COMMENT in library_page


def test_public_badge_and_credential_pages_show_endorsements(client, session, site, world):
    endorsement = endorse(session, site, world)
    award = issue(session, site, world)
    for url in (f"/achievements/{world.badge.current.public_id}", f"/credentials/{award.public_id}"):
        page = text(client.get(url))
        assert "Ammattiopisto Esimerkki" in page and COMMENT in page, url
        assert "ammattitaitovaatimukset_414" in page
        assert f"/endorsements/{endorsement.public_id}" in page


def test_the_share_page_shows_endorsements_and_marks_withdrawn_ones(client, session, site, world, monkeypatch):
    from badges import endorsements
    from badges.web import sharing as sharing_views

    monkeypatch.setattr(sharing_views, "utcnow", lambda: FIXED_NOW + timedelta(days=2))  # the share is open
    endorsement = endorse(session, site, world)
    award = issue(session, site, world)
    _, token = sharing.create_share(session, client=world.maija, scope="badges", award_ids=[award.public_id],
                                    recipient_label="Ammattiopisto", purpose="osaamisen tunnustaminen",
                                    now=FIXED_NOW)
    session.commit()
    page = text(client.get(f"/s/{token}"))
    assert "Ammattiopisto Esimerkki" in page and COMMENT in page and "Endorsed on" in page
    endorsements.withdraw_endorsement(session, site, endorsement, reason=None, actor=world.teacher,
                                      now=FIXED_NOW + timedelta(days=1))
    session.commit()
    page = text(client.get(f"/s/{token}"))
    assert "Withdrawn on" in page and "no longer counts" in page


def test_an_endorsement_for_an_earlier_version_says_so(client, session, site, world):
    from badges import services

    endorse(session, site, world)
    newer = services.add_version(session, world.badge, name="Puumateriaalit", description="Uusi kuvaus.",
                                 criteria="Osaa nimetä kymmenen puulajia.", image_alt="Merkki", now=FIXED_NOW,
                                 language="fi")
    session.commit()
    page = text(client.get(f"/achievements/{newer.public_id}"))
    assert "given for another version of the badge" in page


def test_unknown_endorsements_are_404(client, world):
    assert client.get("/endorsements/" + "0" * 32).status_code == 404
    assert client.get("/endorsements/%00%27").status_code in (400, 404)  # NUL: refused before any lookup
    sign_in(client, world.teacher)
    assert client.get("/org/opisto/endorsements/badges/%00").status_code in (400, 404)
    assert client.post("/org/opisto/endorsements/%00/withdraw").status_code in (400, 404)
    response = client.get("/endorsements/" + "0" * 32 + ".json")
    assert response.status_code == 404 and response.is_json


def test_an_admin_marks_the_organisation_an_education_provider(client, session, world, make_user):
    admin = make_user("admin@example.test", "Aino Admin", organisation=world.other, role="admin")
    session.commit()
    sign_in(client, admin)
    assert "Endorse badges" not in text(client.get("/org/toinen/endorsements"))
    response = client.post("/org/toinen/settings", data={
        "name": "Säätiö Toinen", "url": "", "email": "", "description": "", "language": "fi",
        "kind": "education_provider",
    })
    assert response.status_code == 302
    assert session.scalar(select(Organisation.kind).where(Organisation.slug == "toinen")) == "education_provider"
    home = text(client.get("/org/toinen/endorsements"))
    assert "Endorse badges" in home and "Find badges to endorse" in home
    assert client.get("/org/toinen/endorsements/badges").status_code == 200


def test_demo_data_has_a_school_that_endorsed_a_demo_badge(session, site):
    from badges import demo
    from badges.models import Award

    demo.load(session, site, now=FIXED_NOW)
    session.commit()
    school = session.scalar(select(Organisation).where(Organisation.slug == demo.SCHOOL_SLUG))
    assert school.kind == "education_provider"
    endorsement = session.scalar(select(Endorsement))
    assert endorsement.endorser_id == school.id
    embedded = [a for a in session.scalars(select(Award))
                if json.loads(a.document)["credentialSubject"]["achievement"].get("endorsement")]
    assert embedded  # demo awards of the endorsed badge carry it

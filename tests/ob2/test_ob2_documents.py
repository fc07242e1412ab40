"""The OB 2.0 export follows the Open Badges 2.0 rules, bakes, revokes and keeps private data private."""

import json

import pytest

from badges import services
from badges.core.baking import LEGACY_PNG_KEYWORD, PNG_KEYWORD, find_png_keywords, unbake_png
from helpers import BASE_URL, FIXED_NOW
from ob2_helpers import (
    check_assertion,
    check_badge_class,
    check_hosted_links,
    check_issuer,
    identity_verifies,
)


def _path(url: str) -> str:
    assert url.startswith(BASE_URL)
    return url[len(BASE_URL):]


def _fetch(client, url: str):
    response = client.get(_path(url))
    assert response.status_code == 200, (url, response.status_code)
    assert response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return json.loads(response.data)


@pytest.fixture
def with_email(session, issued):
    """The award, its organisation (which has a contact e-mail address) and recipient."""
    award, organisation, recipient = issued
    organisation.email = "verstas@example.test"
    organisation.url = "https://verstas.example.test"
    session.commit()
    return award, organisation, recipient


def test_assertion_badge_class_and_issuer_follow_the_ob2_rules(client, with_email):
    award, _, recipient = with_email
    assertion_url = f"{BASE_URL}/ob2/assertions/{award.public_id}"
    assertion = _fetch(client, assertion_url)
    badge = _fetch(client, assertion["badge"])
    issuer = _fetch(client, badge["issuer"])
    assert check_assertion(assertion, served_at=assertion_url) == []
    assert check_badge_class(badge, served_at=assertion["badge"]) == []
    assert check_issuer(issuer, served_at=badge["issuer"]) == []
    assert check_hosted_links(assertion, badge, issuer) == []
    assert assertion["recipient"]["type"] == "email"
    assert identity_verifies(assertion["recipient"], recipient.email)
    assert not identity_verifies(assertion["recipient"], "someone.else@example.test")
    assert assertion["issuedOn"] == "2026-03-02T09:30:00Z"
    assert issuer["email"] == "verstas@example.test" and issuer["url"] == "https://verstas.example.test"


def test_badge_class_carries_image_criteria_and_eperusteet_alignment(client, with_email):
    award, _, _ = with_email
    version = award.achievement_version
    badge = _fetch(client, f"{BASE_URL}/ob2/badges/{version.public_id}")
    assert badge["name"] == version.name and badge["description"] == version.description
    assert badge["criteria"] == {"id": f"{BASE_URL}/achievements/{version.public_id}",
                                 "narrative": version.criteria_narrative}
    image = client.get(_path(badge["image"]))
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert badge["alignment"] == [{
        "targetName": "Opiskelija käyttää puuteollisuuden materiaaleja ja jatkojalosteita.",
        "targetUrl": "https://eperusteet.opintopolku.fi/#/fi/ammatillinen/3932281/tutkinnonosat/3944378",
        "targetFramework": "Puuteollisuuden perustutkinto (OPH-2455-2017)",
        "targetCode": "ammattitaitovaatimukset_414",
    }]


def test_the_baked_png_unbakes_to_the_same_assertion(client, with_email):
    award, _, _ = with_email
    response = client.get(f"/ob2/assertions/{award.public_id}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert find_png_keywords(response.data) == [LEGACY_PNG_KEYWORD]  # not the OB 3.0 keyword
    assert PNG_KEYWORD not in find_png_keywords(response.data)
    baked = json.loads(unbake_png(response.data, keyword=LEGACY_PNG_KEYWORD))
    served = json.loads(client.get(f"/ob2/assertions/{award.public_id}").data)
    assert baked == served
    assert served["image"] == f"{BASE_URL}/ob2/assertions/{award.public_id}.png"


def test_the_assertion_is_the_same_at_every_request(client, with_email):
    award, _, _ = with_email
    first = client.get(f"/ob2/assertions/{award.public_id}").data
    assert client.get(f"/ob2/assertions/{award.public_id}").data == first


def test_a_client_without_email_is_a_hashed_url_and_no_name_appears(client, award_without_email):
    award = award_without_email
    response = client.get(f"/ob2/assertions/{award.public_id}")
    assertion = json.loads(response.data)
    assert check_assertion(assertion, served_at=f"{BASE_URL}/ob2/assertions/{award.public_id}") == []
    assert assertion["recipient"]["type"] == "url"
    assert identity_verifies(assertion["recipient"], f"{BASE_URL}/credentials/{award.public_id}")
    body = response.get_data(as_text=True).lower()
    assert "aleksi" not in body and "esimerkki" not in body


def test_no_name_or_email_in_clear_in_any_document(client, with_email):
    award, _, recipient = with_email
    assertion = client.get(f"/ob2/assertions/{award.public_id}").get_data(as_text=True)
    baked = unbake_png(client.get(f"/ob2/assertions/{award.public_id}.png").data, keyword=LEGACY_PNG_KEYWORD)
    badge = client.get(f"/ob2/badges/{award.achievement_version.public_id}").get_data(as_text=True)
    for text in (assertion, baked, badge):
        assert recipient.email not in text and "Maija" not in text and "Meikäläinen" not in text


def test_hidden_evidence_is_left_out(client, session, with_email):
    award, _, _ = with_email
    shown = json.loads(client.get(f"/ob2/assertions/{award.public_id}").data)
    assert shown["evidence"] == [{"name": "Havainto", "narrative": "Tunnisti viisi puulajia."}]
    award.evidence_hidden = True
    session.commit()
    assert "evidence" not in json.loads(client.get(f"/ob2/assertions/{award.public_id}").data)


def test_a_revoked_award_answers_revoked_with_a_neutral_reason(client, session, site, with_email):
    award, organisation, _ = with_email
    services.revoke_award(session, site, award, reason="Myönnetty väärälle henkilölle (Maija).", now=FIXED_NOW)
    session.commit()
    response = client.get(f"/ob2/assertions/{award.public_id}")
    assert response.status_code == 410
    assertion = json.loads(response.data)
    assert assertion["revoked"] is True
    assert assertion["id"] == f"{BASE_URL}/ob2/assertions/{award.public_id}"
    assert assertion["revocationReason"] == "Myöntäjä on perunut tämän merkin."
    assert "Maija" not in response.get_data(as_text=True) and "recipient" not in assertion
    png = client.get(f"/ob2/assertions/{award.public_id}.png")
    assert png.status_code == 410 and json.loads(png.data)["revoked"] is True
    revocations = _fetch(client, f"{BASE_URL}/ob2/issuers/{organisation.slug}/revocations")
    assert revocations["type"] == "RevocationList"
    assert revocations["revokedAssertions"] == [{"id": assertion["id"], "revoked": True,
                                                 "revocationReason": assertion["revocationReason"]}]
    issuer = _fetch(client, f"{BASE_URL}/ob2/issuers/{organisation.slug}")
    assert issuer["revocationList"] == revocations["id"]


@pytest.mark.parametrize("path", [
    "/ob2/assertions/" + "0" * 32,
    "/ob2/assertions/" + "0" * 32 + ".png",
    "/ob2/badges/" + "0" * 32,
    "/ob2/issuers/ei-ole",
    "/ob2/issuers/ei-ole/revocations",
    "/ob2/assertions/%27%22",  # (a NUL is refused app-wide: tests/web/test_nul_characters.py)
])
def test_unknown_ids_answer_404_json(client, issued, path):
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.is_json or response.mimetype == "application/ld+json"
    body = json.loads(response.data)
    assert body["error"] == "not_found" and body["message"]


def test_plain_json_is_served_to_a_client_that_asks_only_for_it(client, issued):
    award, _, _ = issued
    response = client.get(f"/ob2/assertions/{award.public_id}", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    assert client.get(f"/ob2/assertions/{award.public_id}").mimetype == "application/ld+json"


def test_an_ids_of_other_kinds_do_not_cross(client, issued):
    award, _, _ = issued
    # an award id is not a badge id and a version id is not an assertion id
    assert client.get(f"/ob2/badges/{award.public_id}").status_code == 404
    assert client.get(f"/ob2/assertions/{award.achievement_version.public_id}").status_code == 404


def test_the_passport_badge_page_links_the_ob2_download(client, issued):
    from helpers import login

    award, _, recipient = issued
    login(client, recipient.email)
    page = client.get(f"/passport/badges/{award.public_id}").get_data(as_text=True)
    assert f"/ob2/assertions/{award.public_id}.png" in page
    assert "Download for Open Badge Passport / other OB 2.0 backpacks" in page

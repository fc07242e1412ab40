"""The public, stable URLs written into credentials: issuer documents, achievements, credentials, status."""

import json

from badges import services
from badges.core.baking import unbake_png, unbake_svg
from badges.core.statuslist import decode_list, get_bit
from helpers import FIXED_NOW


def test_did_document_lists_the_issuers_key_as_multikey(client, issued):
    award, organisation, _ = issued
    response = client.get(f"/issuers/{organisation.slug}/did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/did+json"
    did = response.get_json()
    assert did["id"] == "did:web:passi.example.test:issuers:verstas"
    method = did["verificationMethod"][0]
    assert method["type"] == "Multikey" and method["controller"] == did["id"]
    assert method["publicKeyMultibase"].startswith("z6Mk")
    assert did["assertionMethod"] == [method["id"]]
    assert json.loads(award.document)["proof"]["verificationMethod"] == method["id"]


def test_issuer_profile_is_json_ld_by_content_negotiation_and_html_otherwise(client, issued):
    _, organisation, _ = issued
    profile = client.get("/issuers/verstas", headers={"Accept": "application/ld+json"})
    assert profile.mimetype == "application/ld+json"
    assert profile.get_json()["type"] == ["Profile"]
    assert profile.get_json()["name"] == "Työpaja Verstas"
    page = client.get("/issuers/verstas", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html"
    assert "Työpaja Verstas" in page.get_data(as_text=True)


def test_credential_json_is_served_exactly_as_signed(client, issued):
    award, _, _ = issued
    response = client.get(f"/credentials/{award.public_id}.json")
    assert response.status_code == 200
    assert response.mimetype == "application/vc+ld+json"
    assert response.get_data(as_text=True) == award.document
    assert response.headers["X-Robots-Tag"].startswith("noindex")


def test_baked_png_and_svg_carry_the_credential(client, issued):
    award, _, _ = issued
    png = client.get(f"/credentials/{award.public_id}.png")
    svg = client.get(f"/credentials/{award.public_id}.svg")
    assert png.mimetype == "image/png" and svg.mimetype == "image/svg+xml"
    assert unbake_png(png.data) == award.document
    assert json.loads(unbake_svg(svg.data)) == json.loads(award.document)


def test_credential_page_shows_badge_issuer_and_validity(client, issued):
    award, _, _ = issued
    page = client.get(f"/credentials/{award.public_id}", headers={"Accept": "text/html"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Puumateriaalien tunnistaminen" in text and "Työpaja Verstas" in text
    assert 'name="robots"' in text


def test_evidence_is_shown_only_to_the_holder(client, issued):
    award, _, _ = issued
    page = client.get(f"/credentials/{award.public_id}").get_data(as_text=True)
    assert "Tunnisti viisi puulajia." not in page
    client.post("/login", data={"email": "maija@example.test", "password": "correct horse battery staple"})
    page = client.get(f"/credentials/{award.public_id}").get_data(as_text=True)
    assert "Tunnisti viisi puulajia." in page


def test_achievement_document_and_image(client, issued):
    award, _, _ = issued
    version = award.achievement_version
    document = client.get(f"/achievements/{version.public_id}", headers={"Accept": "application/ld+json"}).get_json()
    assert document["id"] == json.loads(award.document)["credentialSubject"]["achievement"]["id"]
    assert document["alignment"][0]["targetCode"] == "ammattitaitovaatimukset_414"
    image = client.get(f"/achievements/{version.public_id}/image.png")
    assert image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")


def test_status_list_is_signed_and_reflects_revocation(app, client, session, site, issued):
    award, _, _ = issued
    credential = json.loads(award.document)
    index = int(credential["credentialStatus"]["statusListIndex"])
    path = "/status/" + award.status_list.public_id
    before = json.loads(client.get(path).data)
    assert before["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert before["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert not get_bit(decode_list(before["credentialSubject"]["encodedList"]), index)
    services.revoke_award(session, site, session.merge(award), reason="Väärä henkilö", now=FIXED_NOW)
    session.commit()
    after = client.get(path)
    assert after.headers["Cache-Control"] == "public, max-age=60"
    assert get_bit(decode_list(json.loads(after.data)["credentialSubject"]["encodedList"]), index)


def test_unknown_ids_are_404_in_json_and_html(client, issued):
    assert client.get("/credentials/" + "0" * 32 + ".json").status_code == 404
    assert client.get("/credentials/nope").status_code == 404
    assert client.get("/issuers/nope/did.json").get_json()["error"] == "not_found"
    assert client.get("/status/nope").status_code == 404
    assert client.get("/achievements/nope").status_code == 404


def test_security_headers_on_every_page(client, issued):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_issuer_profile_and_new_credentials_carry_the_logo(client, session, site, issued, make_user, make_badge):
    from badges.core.artwork import default_badge_png

    _, organisation, recipient = issued
    organisation = session.merge(organisation)
    organisation.logo_png = default_badge_png("Logo", "#0b5394")
    session.commit()
    profile = client.get("/issuers/verstas", headers={"Accept": "application/ld+json"}).get_json()
    assert profile["image"]["id"] == "https://passi.example.test/org/verstas/logo.png"
    award = services.issue_award(session, site, version=make_badge(organisation, name="Toinen").current,
                                 recipient=session.merge(recipient), now=FIXED_NOW)
    assert json.loads(award.document)["issuer"]["image"]["id"].endswith("/org/verstas/logo.png")

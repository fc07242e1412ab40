"""The /verify page: upload, paste, ?url=, identity, revoked and expired badges, other issuers."""

import io
import json
import re
import ssl
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import FIXED_NOW
from verify_helpers import (
    KEY_B,
    DocumentServer,
    WEB_DID,
    WEB_VM,
    baked_png,
    baked_svg,
    credential,
    did_document,
    jwt_of,
    self_signed_localhost,
    sign,
    unsigned,
)

from badges import services, verifier
from badges.core.jwt import sign_jwt
from badges.fetcher import Fetcher


def upload(client, data: bytes, name: str, **fields):
    """POST the form with a file (in English)."""
    form = {"badge_file": (io.BytesIO(data), name), **fields}
    return client.post("/verify?lang=en", data=form, content_type="multipart/form-data")


def headline(response) -> str:
    """Return the verdict heading of a result page."""
    match = re.search(r'<h2 id="verdict-title"[^>]*>\s*(.*?)\s*</h2>', response.get_data(as_text=True), re.S)
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


def test_the_form_needs_no_account_and_has_a_file_a_text_and_a_name_field(client):
    page = client.get("/verify?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    for name in ("badge_file", "pasted", "identity"):
        assert f'name="{name}"' in html
    assert 'href="/verify"' in client.get("/?lang=en").get_data(as_text=True)  # in the public menu


@pytest.mark.parametrize("kind", ["png", "svg", "json", "jwt"])
def test_our_badge_in_every_file_kind_is_genuine_with_issuer_date_and_requirements(client, site, issued, kind):
    award, organisation, _ = issued
    document = json.loads(award.document)
    if kind == "png":
        data = client.get(f"/credentials/{award.public_id}.png").data
    elif kind == "svg":
        data = client.get(f"/credentials/{award.public_id}.svg").data
    elif kind == "json":
        data = client.get(f"/credentials/{award.public_id}.json").data
    else:  # the VC-JWT form of the same credential, signed with the organisation's key
        key = services.active_key(organisation)
        data = sign_jwt(
            {k: v for k, v in document.items() if k != "proof"}, services._private_key(site, key),
            kid=services.verification_method_id(document["issuer"]["id"], key.public_key_multibase),
        ).encode()
    response = upload(client, data, f"badge.{kind}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    assert headline(response) == "Genuine and in force"
    assert organisation.name in html
    assert "Puumateriaalien tunnistaminen" in html  # what the badge is
    assert "Osaa nimetä viisi puulajia" in html  # its criteria
    assert "https://eperusteet.opintopolku.fi/#/fi/ammatillinen/3932281/tutkinnonosat/3944378" in html
    assert f"/credentials/{award.public_id}" in html  # a link to the badge's own page
    assert "<details" in html and "Digital signature" in html


def test_pasted_json_and_the_name_that_matches(client, issued):
    award, _, recipient = issued
    response = client.post("/verify?lang=en", data={"pasted": award.document, "identity": " MAIJA@example.test "})
    assert headline(response) == "Genuine and in force"
    assert "matches the person the badge was awarded to" in response.get_data(as_text=True)


def test_a_name_that_does_not_match_is_said_plainly(client, issued):
    award, _, _ = issued
    response = client.post("/verify?lang=en", data={"pasted": award.document, "identity": "Matti Meikäläinen"})
    assert headline(response) == "Genuine, but the name does not match"
    assert "does not match the person" in response.get_data(as_text=True)


def test_our_credential_address_is_checked_from_the_database(client, issued, site, monkeypatch):
    award, _, _ = issued
    url = site.credential_url(award.public_id)
    response = client.get("/verify", query_string={"url": url, "lang": "en"})
    assert headline(response) == "Genuine and in force"
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    # and the name can be checked from the same page without uploading anything
    assert 'name="identity"' in response.get_data(as_text=True)
    again = client.get("/verify", query_string={"url": url, "identity": "maija@example.test", "lang": "en"})
    assert "matches the person the badge was awarded to" in again.get_data(as_text=True)


def test_the_credential_page_links_to_its_verification(client, issued, site):
    award, _, _ = issued
    html = client.get(f"/credentials/{award.public_id}?lang=en").get_data(as_text=True)
    link = re.search(r'href="(/verify\?url=[^"]+)"', html)
    assert link, "no verify link on the credential page"
    query = parse_qs(urlsplit(unescape(link.group(1))).query)
    assert query["url"] == [site.credential_url(award.public_id)]
    assert headline(client.get(unescape(link.group(1)) + "&lang=en")) == "Genuine and in force"


def test_another_sites_address_is_not_fetched(client):
    response = client.get("/verify", query_string={"url": "https://elsewhere.example/credentials/" + "a" * 32,
                                                   "lang": "en"})
    assert response.status_code == 422
    assert "Only addresses of badges issued by this service" in response.get_data(as_text=True)


def test_an_unknown_credential_address_of_ours(client, site):
    response = client.get("/verify", query_string={"url": site.credential_url("0" * 32), "lang": "en"})
    assert response.status_code == 422
    assert "No badge with this address was found here" in response.get_data(as_text=True)


def test_a_revoked_badge_is_genuine_but_revoked(client, session, site, issued):
    award, _, _ = issued
    services.revoke_award(session, site, session.merge(award), reason="Väärä henkilö", now=FIXED_NOW)
    session.commit()
    response = upload(client, client.get(f"/credentials/{award.public_id}.png").data, "badge.png")
    assert headline(response) == "Genuine, but revoked"
    assert "Väärä henkilö" not in response.get_data(as_text=True)  # the reason is the holder's business


def test_an_expired_badge_says_until_when(client, session, site, make_org, make_user, make_badge):
    organisation = make_org()
    holder = make_user("holder@example.test", organisation=organisation, role="client")
    badge = make_badge(organisation, valid_days=30)
    award = services.issue_award(session, site, version=badge.current, recipient=holder,
                                 now=FIXED_NOW.replace(year=2024))
    session.commit()
    response = client.post("/verify?lang=en", data={"pasted": award.document})
    assert headline(response) == "Genuine, but expired"
    assert "valid only until" in response.get_data(as_text=True)


def test_a_tampered_badge_is_not_genuine(client, issued):
    award, _, _ = issued
    document = json.loads(award.document)
    document["credentialSubject"]["achievement"]["name"] = "Hitsaaja"
    response = client.post("/verify?lang=en", data={"pasted": json.dumps(document)})
    assert headline(response) == "Not genuine"
    assert "have not been confirmed" in response.get_data(as_text=True)


def test_another_issuers_did_key_badge_is_verified_offline(client):
    response = upload(client, baked_svg(credential()), "other.svg")
    assert headline(response) == "Genuine and in force"
    html = response.get_data(as_text=True)
    assert "Kumppanisäätiö" in html and "Trukin turvallinen käyttö" in html
    assert "ammattitaitovaatimukset_414" in html


def test_a_did_web_badge_of_a_host_not_on_the_list_could_not_be_checked(client):
    document = sign(unsigned(issuer=WEB_DID), KEY_B, WEB_VM)
    response = upload(client, baked_png(document), "web.png")
    assert headline(response) == "Could not be checked"
    html = response.get_data(as_text=True)
    assert "This does not mean that it is fake" in html
    assert "badges.partner.example, which is not on this service&#39;s list of trusted hosts" in html
    assert "Not genuine" not in html


def test_a_jwt_upload_of_another_issuer(client):
    response = upload(client, jwt_of(unsigned()).encode(), "badge.jwt")
    assert headline(response) == "Genuine and in force"


def test_the_result_speaks_finnish_and_swedish(client, issued):
    award, _, _ = issued
    for lang in ("fi", "sv"):
        response = client.post(f"/verify?lang={lang}", data={"pasted": award.document})
        assert response.status_code == 200
        assert f'<html lang="{lang}">' in response.get_data(as_text=True)


def test_the_form_refuses_a_post_without_its_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/verify?lang=en", data={"pasted": "{}"})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)


def test_checks_are_rate_limited_per_address(app, client, issued):
    award, _, _ = issued
    app.config["BADGES_RATE_LIMIT_VERIFY"] = "2 per minute"
    assert client.post("/verify?lang=en", data={"pasted": award.document}).status_code == 200
    assert client.get("/verify?lang=en").status_code == 200  # the empty form costs nothing
    assert client.post("/api/v1/verify", json={"credential": award.document}).status_code == 200
    refused = client.post("/verify?lang=en", data={"pasted": award.document})
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)


@pytest.fixture
def partner_server(tmp_path):
    """Another issuer's HTTPS host on 127.0.0.1 ("localhost"), and an SSL context that trusts it."""
    cert, key = self_signed_localhost(tmp_path)
    server = DocumentServer(cert, key)
    yield server, ssl.create_default_context(cafile=cert)
    server.close()


def test_a_did_web_badge_of_an_allow_listed_host_is_fetched_and_verified(app, client, session, partner_server):
    server, trusted = partner_server
    did = f"did:web:localhost%3A{server.port}:issuers:kumppani"
    server.documents["/issuers/kumppani/did.json"] = did_document(did, KEY_B)
    badge = baked_png(sign(unsigned(issuer=did), KEY_B, f"{did}#key-1"))
    # the production fetcher, except that it may talk to this machine and trusts the test certificate
    app.extensions["badges.verify_fetcher"] = lambda s: Fetcher(
        [h.host for h in verifier.trusted_hosts(s)], ssl_context=trusted, allow_loopback_for_tests=True)

    assert headline(upload(client, badge, "partner.png")) == "Could not be checked"
    assert server.requested == []  # not on the list: not even asked

    verifier.add_trusted_host(session, f"localhost:{server.port}", now=FIXED_NOW, note="Kumppani")
    session.commit()
    assert headline(upload(client, badge, "partner.png")) == "Genuine and in force"
    assert server.requested == ["/issuers/kumppani/did.json"]

    del app.extensions["badges.verify_fetcher"]  # the real fetcher refuses this machine's addresses
    response = upload(client, badge, "partner.png")
    assert headline(response) == "Could not be checked"
    assert "could not be fetched from localhost" in response.get_data(as_text=True)

"""Credentials issued by the app verify with the independent JavaScript VC stack.

Every output kind (JSON, baked PNG, baked SVG) is checked by ``@digitalbazaar/vc`` with the
eddsa-rdfc-2022 cryptosuite, and by our own verifier; tampered copies fail in both.
"""

import json

from badges import services
from badges.core.baking import unbake_png, unbake_svg
from helpers import FIXED_NOW

NOW_ISO = "2026-03-03T00:00:00Z"


def _documents(client, award, organisation) -> dict:
    did_doc = client.get(f"/issuers/{organisation.slug}/did.json").get_json()
    credential = json.loads(award.document)
    status_url = credential["credentialStatus"]["statusListCredential"]
    status_path = status_url.split("passi.example.test", 1)[1]
    return {did_doc["id"]: did_doc, status_url: json.loads(client.get(status_path).data)}


def test_json_png_and_svg_downloads_verify_in_the_js_stack(client, issued, js_verify):
    award, organisation, _ = issued
    documents = _documents(client, award, organisation)
    as_json = json.loads(client.get(f"/credentials/{award.public_id}.json").data)
    as_png = json.loads(unbake_png(client.get(f"/credentials/{award.public_id}.png").data))
    as_svg = json.loads(unbake_svg(client.get(f"/credentials/{award.public_id}.svg").data))
    assert as_json == as_png == as_svg == json.loads(award.document)
    results = js_verify.batch([(c, documents) for c in (as_json, as_png, as_svg)])
    for result in results:
        assert result["verified"], result["errors"]
        assert result["statusRevoked"] is False


def test_tampered_copies_fail_in_the_js_stack(client, issued, js_verify):
    award, organisation, _ = issued
    documents = _documents(client, award, organisation)
    original = json.loads(award.document)
    tampered = []
    for mutate in (
        lambda c: c["credentialSubject"]["achievement"].__setitem__("name", "Hitsaaja"),
        lambda c: c.__setitem__("validFrom", "2020-01-01T00:00:00Z"),
        lambda c: c["credentialSubject"]["identifier"][0].__setitem__("identityHash", "sha256$" + "0" * 64),
        lambda c: c["issuer"].__setitem__("name", "Toinen säätiö"),
        lambda c: c["credentialStatus"].__setitem__("statusListIndex", "1"),
    ):
        copy = json.loads(award.document)
        mutate(copy)
        assert copy != original
        tampered.append((copy, documents))
    for result in js_verify.batch(tampered):
        assert not result["verified"]


def test_revocation_is_seen_by_the_js_stack(app, client, session, site, issued, js_verify):
    award, organisation, _ = issued
    with app.app_context():
        services.revoke_award(session, site, session.merge(award), reason="Väärä henkilö", now=FIXED_NOW)
        session.commit()
    result = js_verify(json.loads(award.document), _documents(client, award, organisation))
    assert result["statusRevoked"] is True


def test_badges_signed_before_a_key_rotation_still_verify(app, client, session, site, issued, js_verify):
    award, organisation, _ = issued
    services.rotate_key(session, site, session.merge(organisation), now=FIXED_NOW)
    session.commit()
    documents = _documents(client, award, organisation)
    assert len(next(iter(documents.values()))["verificationMethod"]) == 2
    result = js_verify(json.loads(award.document), documents)
    assert result["verified"], result["errors"]
    assert result["statusRevoked"] is False  # the status list was re-signed with the new key


def test_a_key_removed_from_the_did_document_fails(client, issued, js_verify):
    award, organisation, _ = issued
    documents = _documents(client, award, organisation)
    did_doc = next(d for d in documents.values() if "verificationMethod" in d)
    did_doc["verificationMethod"] = []
    did_doc["assertionMethod"] = []
    assert not js_verify(json.loads(award.document), documents)["verified"]

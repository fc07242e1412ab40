"""POST /api/v1/verify: the same report as the page, as JSON; no token, no session, JSON errors."""

import io
import json

import jsonschema
import pytest
from verify_helpers import KEY_B, WEB_DID, WEB_VM, baked_png, credential, jwt_of, sign, unsigned

from badges import verifier

REPORT = jsonschema.Draft202012Validator(verifier.REPORT_JSON_SCHEMA)


def valid_report(body: dict) -> dict:
    """Assert the body matches REPORT_JSON_SCHEMA (what the OpenAPI document promises)."""
    errors = list(REPORT.iter_errors(body))
    assert not errors, [e.message for e in errors]
    return body


def test_the_schemas_are_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(verifier.REPORT_JSON_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(verifier.REQUEST_JSON_SCHEMA)


def test_a_credential_object(client, issued):
    award, organisation, _ = issued
    response = client.post("/api/v1/verify", json={"credential": json.loads(award.document),
                                                   "identity": "maija@example.test"})
    assert response.status_code == 200
    body = valid_report(response.get_json())
    assert body["verified"] is True and body["verdict"] == "valid" and body["kind"] == "ob3"
    assert body["issuer"] == {"id": f"did:web:passi.example.test:issuers:{organisation.slug}",
                              "name": organisation.name, "url": f"https://passi.example.test/issuers/{organisation.slug}",
                              "ours": True}
    assert body["recipient"] == {"checked": True, "match": True}
    assert body["achievement"]["alignments"][0]["code"] == "ammattitaitovaatimukset_414"
    assert {c["name"] for c in body["checks"]} >= {"structure", "proof", "status", "dates", "recipient"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # no session is used


def test_the_same_report_as_the_page(client, issued, site):
    award, _, _ = issued
    from_text = client.post("/api/v1/verify", json={"credential": award.document}).get_json()
    from_url = client.post("/api/v1/verify", json={"url": site.credential_url(award.public_id)}).get_json()
    assert {k: v for k, v in from_text.items() if k != "source"} == {k: v for k, v in from_url.items() if k != "source"}


def test_a_jwt_string_and_a_file(client):
    assert client.post("/api/v1/verify", json={"credential": jwt_of(unsigned())}).get_json()["kind"] == "ob3-jwt"
    response = client.post("/api/v1/verify", data={"file": (io.BytesIO(baked_png(credential())), "b.png"),
                                                   "identity": "nobody@example.fi"},
                           content_type="multipart/form-data")
    body = valid_report(response.get_json())
    assert (body["source"], body["verdict"], body["genuine"]) == ("png", "recipient_mismatch", True)


def test_a_forged_badge_is_a_normal_report(client):
    document = credential()
    document["credentialSubject"]["achievement"]["name"] = "Hitsaaja"
    response = client.post("/api/v1/verify", json={"credential": document})
    assert response.status_code == 200
    assert valid_report(response.get_json())["verdict"] == "invalid"


def test_an_unreachable_issuer_is_unverifiable(client):
    body = client.post("/api/v1/verify", json={"credential": sign(unsigned(issuer=WEB_DID), KEY_B, WEB_VM)}).get_json()
    assert (body["verified"], body["verdict"]) == (False, "unverifiable")
    assert next(c for c in body["checks"] if c["name"] == "issuer_key")["code"] == "host_not_trusted"


def test_messages_follow_the_language(client, issued):
    award, _, _ = issued
    english = client.post("/api/v1/verify?lang=en", json={"credential": award.document}).get_json()
    finnish = client.post("/api/v1/verify?lang=fi", json={"credential": award.document}).get_json()
    assert [c["code"] for c in english["checks"]] == [c["code"] for c in finnish["checks"]]


@pytest.mark.parametrize(("body", "content_type", "status", "code"), [
    (b"{not json", "application/json", 400, "invalid_json"),
    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json", 400, "invalid_json"),
    (b"\xff\xfe{}", "application/json", 400, "invalid_json"),
    (b"[]", "application/json", 422, "validation_failed"),
    (b'{"credential": 5}', "application/json", 422, "validation_failed"),
    (b'{"credential": "x", "identity": 7}', "application/json", 422, "validation_failed"),
    (b'{"credential": "x", "extra": 1}', "application/json", 422, "validation_failed"),
    (b"{}", "application/json", 422, "validation_failed"),
    (b'{"credential": "{"}', "application/json", 422, "verify_bad_json"),
    (b'{"credential": {"hello": "world"}}', "application/json", 422, "verify_not_badge"),
    (b'{"url": "https://elsewhere.example/credentials/1"}', "application/json", 422, "verify_url_not_ours"),
    (b'{"credential": "x", "url": "https://passi.example.test/credentials/1"}', "application/json", 422,
     "verify_several"),
    (b"credential=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b"hello", "text/plain", 415, "unsupported_media_type"),
])
def test_bad_requests_get_json_errors(client, body, content_type, status, code):
    response = client.post("/api/v1/verify", data=body, content_type=content_type)
    assert response.status_code == status
    error = response.get_json()
    assert error["code"] == code and error["message"]


def test_a_multipart_request_without_a_file(client):
    response = client.post("/api/v1/verify", data={"identity": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400 and response.get_json()["code"] == "bad_request"


def test_too_large_a_body(client):
    body = json.dumps({"credential": "x" * (verifier.MAX_TEXT_BYTES + 100 * 1024)}).encode()
    response = client.post("/api/v1/verify", data=body, content_type="application/json")
    assert response.status_code == 413 and response.get_json()["code"] == "payload_too_large"


def test_no_csrf_token_is_needed(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/api/v1/verify", json={"credential": credential()})
    assert response.status_code == 200


def test_rate_limited_with_a_json_error(app, client):
    app.config["BADGES_RATE_LIMIT_VERIFY"] = "1 per minute"
    assert client.post("/api/v1/verify", json={"credential": credential()}).status_code == 200
    refused = client.post("/api/v1/verify", json={"credential": credential()})
    assert refused.status_code == 429
    assert refused.get_json()["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0


def test_only_post(client):
    assert client.get("/api/v1/verify").status_code == 405

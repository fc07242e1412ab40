"""The contract: the OpenAPI document, the routes, the docs page, and schemathesis against the app.

schemathesis generates requests from the app's own document and calls the app in-process
(WSGI, no network) with a token that has every scope; every answer must be documented, match
its schema, and no input may cause a server error. The example count is kept modest so that
the run stays well under a minute per database.
"""

import json
import re

import pytest
import schemathesis
from schemathesis import GenerationMode
from helpers import BASE_URL
from hypothesis import HealthCheck, Phase, given, settings
from jsonschema import Draft202012Validator

from badges import api_spec, api_tokens, services
from badges.web import utcnow

#: Examples per operation and generation mode (positive and negative data).
EXAMPLES = 20
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


def test_the_document_is_openapi_3_1_with_bearer_security_and_an_error_schema(api):
    document = api.client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": BASE_URL + "/api/v1", "description": "This installation"}]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "op_ token", "description": "A personal access token."}
    assert document["security"] == [{"bearer": []}]
    Draft202012Validator.check_schema(document["components"]["schemas"]["Error"])
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert operation["summary"] and operation["operationId"], (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}, (method, path, status)
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)


def test_every_documented_operation_is_a_route_and_every_route_is_documented(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in ("api.unknown", "api.unknown_root"):
            continue
        if rule.endpoint in ("api.openapi", "api.docs", "api.verify") or rule.rule == "/api/v1/verify":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method, path))
    documented = {(op.method, op.path) for op in api_spec.OPERATIONS}
    assert routes == documented


def test_the_docs_page_lists_every_operation_without_outside_resources(api):
    response = api.client.get("/api/v1/docs", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for operation in api_spec.OPERATIONS:
        assert f'id="{operation.operation_id}"' in page
        assert f"{operation.method} /api/v1{operation.path}" in page
    for name in api_spec.SCHEMAS:
        assert f'id="schema-{name}"' in page
    assert "badges tokens create" in page and "Authorization: Bearer" in page
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', page)  # no CDN
    assert "<script" not in page
    headings = [int(level) for level in re.findall(r"<h([1-6])", page)]
    assert headings[0] == 1 and all(b - a <= 1 for a, b in zip(headings, headings[1:], strict=False))


def test_the_verify_operation_is_documented_from_the_verifier_schemas():
    found = api_spec.verifier_schemas()
    if found is None:
        pytest.skip("badges.verifier does not publish REQUEST_JSON_SCHEMA / REPORT_JSON_SCHEMA yet")
    document = api_spec.document()
    assert document["paths"]["/verify"]["post"]["security"] == []
    request_schema = document["components"]["schemas"]["VerifyRequest"]
    assert {k: v for k, v in request_schema.items()} == api_spec._embedded(found[0])


# --- schemathesis ------------------------------------------------------------------------------------------------


@pytest.fixture
def everything_token(app, session, site, world):
    """A token of a person who is admin and client at once: every scope, with real data around."""
    person = services.create_user(session, display_name="Kaikki Oikeudet", email="all@example.test",
                                  password=None, now=utcnow())
    services.add_member(session, person, world.org, "admin", now=utcnow())
    services.add_member(session, person, world.org, "client", now=utcnow())
    services.issue_award(session, site, version=world.badge.current, recipient=person, issued_by=world.coach,
                         now=utcnow())
    _token, text = api_tokens.create_token(session, person, name="schemathesis", scopes=api_tokens.SCOPES,
                                           now=utcnow())
    session.commit()
    app.config["BADGES_API_RATE_LIMIT"] = "100000 per minute"
    return text


def test_generated_requests_never_fail_the_contract(app, everything_token):
    # The app's own document, loaded through the app (WSGI, in-process); /verify belongs to the
    # verifier's own tests. (schemathesis' pytest loader does not run under this pytest, so the
    # operations are driven with Hypothesis here.)
    api_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).exclude(path="/verify")
    headers = {"Authorization": f"Bearer {everything_token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == len(api_spec.OPERATIONS)
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def run(case) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            run()



def test_the_verify_answer_matches_the_documented_report(api, world):
    if api_spec.verifier_schemas() is None:
        pytest.skip("badges.verifier does not publish its JSON Schemas yet")
    response = api.post("/verify", json={"credential": json.loads(world.award.document)})
    assert response.status_code == 200 and response.json["verified"] is True
    refused = api.post("/verify", json={"nothing": 1})
    assert refused.status_code == 422

"""POST /api/v1/verify against its OpenAPI description: schemathesis-generated requests, in-process.

Every answer must be a documented status with a body matching its schema (the report, or the
Error object), and no generated input may cause a server error.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from badges import api_spec

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def unlimited(app):
    """The app without the verification rate limit (the generated requests come from one address)."""
    app.config["BADGES_RATE_LIMIT_VERIFY"] = "100000 per minute"
    return app


def test_the_verify_operation_is_in_the_api_document():
    document = api_spec.document()
    operation = document["paths"]["/verify"]["post"]
    assert operation["security"] == []
    assert document["components"]["schemas"]["VerificationReport"]["title"] == "VerificationReport"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_never_break_the_contract(unlimited, mode):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", unlimited).include(path="/verify")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 1

    @given(case=operations[0].as_strategy(generation_mode=mode))
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case) -> None:
        case.call_and_validate(checks=CHECKS)

    run()

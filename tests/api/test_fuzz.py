"""The API fuzzed from its own OpenAPI document (SECURITY.md promise 16):
schemathesis generates valid and invalid requests for every operation and
checks that none is a 500 and every reply matches the document (status code,
content type, headers, body schema). Requests carry a valid token of a town's
CAD client, so they reach the validation and the services, not only the 401.

Bounded and repeatable: 30 examples per operation, derandomised.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.api.conftest import bearer

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance]


@pytest.fixture()
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture()
def fuzz_token(agencies, make_token):
    from clinician_app.extensions import db
    from tests.calls.factories import make_call

    token = make_token(agencies["A"])
    make_call(agencies["A"].id)  # something for the list to return
    db.session.commit()
    return token


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_every_operation_answers_as_documented(case, fuzz_token):
    case.call_and_validate(headers=bearer(fuzz_token), checks=CHECKS)

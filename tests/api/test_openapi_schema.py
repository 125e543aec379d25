"""schemathesis against the app's own OpenAPI schema, in-process (ASGI): whatever a client sends that
the schema allows, or nearly allows, the API answers without a server error, with a documented status
and a body of the documented shape."""

from __future__ import annotations

import pytest
import schemathesis
from api_venue import DOMAIN, GENEROUS, GENESIS, Clock, open_service, submit
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks

from offchain.api.app import create_app


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    service = open_service(tmp_path_factory.mktemp("schema") / "journal.db", Clock())
    for wire in GENESIS:
        submit(service, **wire)
    app = create_app(service, domain=DOMAIN, rate_limit=GENEROUS, static_dir=None)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    app.state.close()
    app.state.nonces.close()
    service.runner.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_request_in_its_schema_without_a_server_error(case):
    # Every other check stays on (no 5xx, documented statuses, content types and bodies, invalid
    # data refused). Not positive_data_acceptance: a well-formed request may still be refused for
    # what it means -- a random signature (401), an engine rejection (400), a cancel whose signed
    # oid is not the one in its path (422) -- which no schema can express.
    case.call_and_validate(excluded_checks=[checks.positive_data_acceptance])

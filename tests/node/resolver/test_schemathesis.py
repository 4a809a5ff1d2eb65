"""Every operation of the OpenAPI document, fuzzed by schemathesis (derandomised, bounded):
no server error, and every answer conforms to the document."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance

from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import MemoryIndexStore
from idfuse_node.resolver import create_app
from tests.node.resolver.indexdata import populate

_store = MemoryIndexStore()
populate(_store, other_resolver="http://127.0.0.1:9")
_app = create_app(IndexReader(_store))
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case):
    response = case.call()
    assert response.status_code < 500, response.text
    # The document cannot express the identifier rules (a handle is prefix/suffix, labels,
    # byte limits), so a schema-valid request may still be a 400 with Handle code 102 or 4.
    # PUT/POST/DELETE on a handle are documented only to say they are refused (405, code 5), so
    # Allow lists GET alone while the document names those operations.
    case.validate_response(response, excluded_checks=[positive_data_acceptance, allow_header_conformance])

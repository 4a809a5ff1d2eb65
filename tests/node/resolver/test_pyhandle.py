"""Acceptance: pyhandle, unchanged, resolves our handles over HTTP."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pyhandle's imports warn on Python 3.11 (not ours to fix)
    from pyhandle.client.resthandleclient import RESTHandleClient


def test_pyhandle_reads_values_not_found_and_values_not_found(served):
    server, _ = served
    client = RESTHandleClient.instantiate_for_read_access(server.url, HTTPS_verify=False)
    record = client.retrieve_handle_record_json("88.200/PN-0001")
    assert record["responseCode"] == 1
    assert client.get_value_from_handle("88.200/PN-0001", "URL") == "https://example.com/pn-0001"
    simple = client.retrieve_handle_record("88.200/PN-0001")
    assert simple["EMAIL"] == "ops@example.com"
    assert "HS_ADMIN" in simple
    assert client.retrieve_handle_record_json("88.200/missing") is None
    assert client.retrieve_handle_record("88.200/DEL") is None
    empty = client.retrieve_handle_record_json("88.200/PN-0001", type="NOPE")
    assert empty["responseCode"] == 200
    assert empty["values"] == []

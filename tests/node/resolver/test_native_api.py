"""The native /v1 API, /health and /metrics over real HTTP."""

from __future__ import annotations

import httpx

from idfuse_node.indexer import schema
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import MemoryIndexStore
from idfuse_node.resolver import ResolverServer, create_app
from idfuse_node.resolver.codes import RC_ERROR
from idfuse_sdk.merkle import verify
from tests.node.resolver.indexdata import OTHER_OWNER, OWNER, populate


def test_identifier_and_its_history(client):
    body = client.get("/v1/identifiers/88.200/PN-0001").json()
    identifier = body["identifier"]
    assert identifier["handle"] == "88.200/PN-0001"
    assert {value["index"] for value in identifier["values"]} == {1, 2, 3, 4, 5, 6}
    assert identifier["values"][4]["permissions"] == 12
    assert body["prefix_owner"] == OWNER
    assert body["provenance"]["block_number"] == 2
    assert not {"deleted", "event", "timestamp"} & set(identifier)  # stored, not answered
    history = client.get("/v1/identifiers/88.200/PN-0001/history").json()
    assert [entry["event"] for entry in history["entries"]] == ["IdentifierCreated"]
    assert history["next"] is None
    assert client.get("/v1/identifiers/88.200/DEL").status_code == 404
    deleted_history = client.get("/v1/identifiers/88.200/DEL/history?limit=1").json()
    assert deleted_history["entries"][0]["provenance"]["block_number"] == 3
    assert deleted_history["next"] == "3.1.0"
    assert client.get("/v1/identifiers/88.200/DEL/history?after=3.1.0").json()["entries"] == []
    assert client.get("/v1/identifiers/88.200/nothing/history").status_code == 404
    assert client.get("/v1/identifiers/88.200/x/history?after=1.2").status_code == 400


def test_prefix_routes(client):
    body = client.get("/v1/prefixes/88.100.1").json()
    assert body["prefix"]["effective_status"] == "suspended"
    assert body["prefix"]["effective_from"] == "88.100"
    assert client.get("/v1/prefixes/88.200.5").json()["prefix"]["expired"] is True
    assert client.get("/v1/prefixes/88.200").json()["handle_count"] == 7
    children = client.get("/v1/prefixes/88/children").json()["prefixes"]
    assert sorted(child["prefix"] for child in children) == ["88.100", "88.200", "88.300"]
    page = client.get("/v1/prefixes/88.200/identifiers?limit=2").json()
    assert [item["handle"] for item in page["identifiers"]] == ["88.200/B-0", "88.200/B-1"]
    following = client.get(f"/v1/prefixes/88.200/identifiers?limit=2&after={page['next']}").json()
    assert following["identifiers"][0]["handle"] == "88.200/B-2"
    history = client.get("/v1/prefixes/88.200/history").json()
    assert history["entries"][0]["event"] == "PrefixRegistered"
    templates = client.get("/v1/prefixes/88.200/templates").json()["templates"]
    assert templates[0]["name"] == "part"
    assert client.get("/v1/prefixes/77").status_code == 404
    assert client.get("/v1/prefixes/bad_prefix").status_code == 400


def test_owner_template_batch_and_proof(client, served):
    _, built = served
    owned = client.get(f"/v1/owners/{OTHER_OWNER}/prefixes").json()["prefixes"]
    assert [record["prefix"] for record in owned] == ["89"]
    assert client.get("/v1/owners/0x1234/prefixes").status_code == 400
    template = client.get(f"/v1/templates/{built.template_id}").json()["template"]
    assert template["fields"][0]["value_type"] == "URL"
    assert client.get("/v1/templates/0x" + "00" * 32).status_code == 404
    batch = client.get("/v1/batches/1").json()["batch"]
    assert batch["count"] == 3
    for index in range(3):
        proof = client.get(f"/v1/batches/1/proof/{index}").json()
        assert bytes.fromhex(proof["leaf"][2:]) == built.leaves[index]
        assert verify(
            bytes.fromhex(proof["leaf"][2:]),
            [bytes.fromhex(node[2:]) for node in proof["proof"]],
            bytes.fromhex(proof["root"][2:]),
        )
    assert client.get("/v1/batches/1/proof/3").status_code == 404
    assert client.get("/v1/batches/2").status_code == 404
    assert client.get("/v1/batches/01").status_code == 400


def test_checkpoint_health_and_metrics(client):
    body = client.get("/v1/checkpoint").json()
    assert body["checkpoint"]["block_number"] == 3
    assert body["head"] == 10
    assert body["lag"] == 7
    assert body["chain"]["chain_id"] == 1337
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["checkpoint"]["block_number"] == 3
    client.get("/api/handles/88.200/PN-0001")
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = metrics.text
    assert "idfuse_resolver_indexed_block 3" in text
    assert "idfuse_resolver_lag_blocks 7" in text
    assert 'idfuse_resolver_requests_total{route="/api/handles/{handle}",method="GET",status="200"}' in text
    assert 'idfuse_resolver_request_duration_seconds_bucket{route="/v1/checkpoint",le="+Inf"}' in text


def test_a_missing_leaf_is_a_damaged_index_not_a_missing_record():
    # batch 1 has 3 records: record 2's proof reads only level 1, so with level 0 cut to its
    # first two leaves the proof is found and the leaf is not: a damaged index (503), where a
    # 404 would tell an auditor the record does not exist
    store = MemoryIndexStore()
    populate(store)
    key = schema.bnode_key(1, 0, 0)
    level0 = store.get(key)
    assert level0 is not None
    assert len(level0) == 3 * 32
    store.write({key: level0[:64]}, ())
    server = ResolverServer(create_app(IndexReader(store)))
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get("/v1/batches/1/proof/1").status_code == 200
            answer = http.get("/v1/batches/1/proof/2")
            assert answer.status_code == 503
            assert answer.json()["responseCode"] == RC_ERROR
    finally:
        server.stop()

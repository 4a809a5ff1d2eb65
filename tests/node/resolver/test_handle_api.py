"""The Handle REST API over real HTTP: values, filters, codes, listing, write refusal, edge checks."""

from __future__ import annotations

import base64

import pytest

from tests.node.resolver.indexdata import OWNER


def test_resolves_values_with_derived_admin_and_provenance(client):
    response = client.get("/api/handles/88.200/PN-0001")
    assert response.status_code == 200
    body = response.json()
    assert body["responseCode"] == 1
    assert body["handle"] == "88.200/PN-0001"
    by_index = {value["index"]: value for value in body["values"]}
    assert sorted(by_index) == [1, 2, 3, 4, 6, 100]  # 5 is not publicly readable
    assert by_index[1]["data"] == {"format": "string", "value": "https://example.com/pn-0001"}
    assert by_index[3]["data"] == {
        "format": "base64",
        "value": base64.b64encode(b"\x00\x01\xfe\xff").decode(),
    }
    assert by_index[4]["data"] == {"format": "hex", "value": "deadbeef"}
    assert by_index[1]["timestamp"] == "2023-11-14T22:13:22Z"
    assert by_index[1]["provenance"]["block_number"] == 2
    admin = by_index[100]
    assert admin["type"] == "HS_ADMIN"
    assert admin["data"]["format"] == "admin"
    assert admin["data"]["value"] == {
        "handle": "0.NA/88.200",
        "index": 200,
        "permissions": "011111110011",
        "owner": OWNER,
    }
    assert body["provenance"]["tx_hash"].startswith("0x")
    assert body["checkpoint"]["block_number"] == 3


@pytest.mark.parametrize(
    ("query", "indexes"),
    [
        ("type=URL", [1]),
        ("type=url", [1]),
        ("type=URL.", [1, 6]),
        ("index=2&index=4", [2, 4]),
        ("type=EMAIL&index=4", [2, 4]),
        ("type=HS_ADMIN", [100]),
    ],
)
def test_type_and_index_filters(client, query, indexes):
    body = client.get(f"/api/handles/88.200/PN-0001?{query}").json()
    assert body["responseCode"] == 1
    assert [value["index"] for value in body["values"]] == indexes


def test_values_not_found_is_200_with_code_200(client):
    response = client.get("/api/handles/88.200/PN-0001?type=NOPE")
    assert response.status_code == 200
    assert response.json()["responseCode"] == 200
    assert response.json()["values"] == []


@pytest.mark.parametrize(
    ("handle", "reason"),
    [
        ("88.200/missing", "handle not found"),
        ("88.200/DEL", "handle was deleted"),
        ("88.100.1/X", "suspended (its ancestor 88.100 is suspended)"),
        ("88.200.5/Y", "expired"),
        ("99/none", "not registered"),
    ],
)
def test_not_found_says_why(client, handle, reason):
    response = client.get(f"/api/handles/{handle}")
    assert response.status_code == 404
    body = response.json()
    assert body["responseCode"] == 100
    assert body["handle"] == handle
    assert reason in body["message"]


def test_site_value_from_a_local_service_record(client):
    body = client.get("/api/handles/88.300/S?index=101").json()
    assert body["values"][0]["type"] == "HS_SITE"
    assert body["values"][0]["data"]["value"]["chain_id"] == 1337


def test_percent_encoding_is_decoded_exactly_once(client):
    assert client.get("/api/handles/88.200/a%2Fb").json()["handle"] == "88.200/a/b"
    assert client.get("/api/handles/88.200/a/b").json()["responseCode"] == 1
    encoded = "%E9%9B%B6%E4%BB%B6%20%E7%94%B2"
    assert client.get(f"/api/handles/88.200/{encoded}").json()["handle"] == "88.200/零件 甲"
    double = client.get("/api/handles/88.200/a%252Fb")  # stays "a%2Fb": not found, not "a/b"
    assert double.status_code == 404
    assert double.json()["handle"] == "88.200/a%2Fb"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/handles/88.200/%zz", 400, 4),
        ("/api/handles/88.200/%C3", 400, 4),
        ("/api/handles/no-slash", 400, 102),
        ("/api/handles/bad_prefix!/x", 400, 102),
        ("/api/handles/88.200/" + "x" * 256, 400, 102),
        ("/api/handles/88.200/%01", 400, 102),
        ("/api/handles/88.200/PN-0001?index=abc", 400, 4),
        ("/api/handles/88.200/PN-0001?index=-1", 400, 4),
        ("/api/handles/88.200/PN-0001?" + "&".join(["type=A"] * 40), 400, 4),
        ("/api/handles/88.200/" + "x" * 3000, 400, 4),
        ("/api/handles/88.200/PN-0001?publicOnly=false", 401, 402),
    ],
)
def test_bad_input_is_refused_at_the_edge(client, path, status, code):
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["responseCode"] == code


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_writes_are_refused_pointing_to_the_chain(client, method):
    response = client.request(method, "/api/handles/88.200/PN-0001", json={"values": []})
    assert response.status_code == 405
    assert response.json()["responseCode"] == 5
    assert "on chain" in response.json()["message"]


def test_list_handles_paged_with_string_total(client):
    body = client.get("/api/handles?prefix=88.200&page=0&pageSize=2").json()
    assert body["totalCount"] == "7"
    assert body["handles"] == ["88.200/B-0", "88.200/B-1"]
    tail = client.get("/api/handles?prefix=88.200&page=3&pageSize=2").json()
    assert tail["handles"] == ["88.200/零件 甲"]
    assert client.get("/api/handles?prefix=88.200&pageSize=0").status_code == 400
    assert client.get("/api/handles?prefix=88.200&pageSize=100000").status_code == 400
    assert client.get("/api/handles").json()["responseCode"] == 4
    assert client.get("/api/handles?prefix=88.100.1").status_code == 404


def test_list_prefixes(client):
    body = client.get("/api/prefixes?pageSize=3&page=1").json()
    assert body["totalCount"] == "9"
    assert body["prefixes"] == ["88.100", "88.100.1", "88.200"]


def test_referral_to_another_resolver_and_to_another_chain(client):
    response = client.get("/api/handles/86/R?type=URL")
    assert response.status_code == 307
    assert response.headers["location"] == "http://127.0.0.1:9/api/handles/86/R?type=URL"
    assert response.json()["responseCode"] == 302
    other = client.get("/api/handles/87/Z")
    assert other.status_code == 400
    assert other.json()["responseCode"] == 301
    assert other.json()["referral"]["chain_id"] == 99


def test_unknown_route_is_json(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["responseCode"] == 100

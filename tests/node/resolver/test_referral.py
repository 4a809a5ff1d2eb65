"""Referrals between two real resolvers over two indexes: follow, hop limit, loop detection."""

from __future__ import annotations

import socket

import httpx

from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.store import MemoryIndexStore
from idfuse_node.resolver import ResolverServer, ResolverSettings, create_app
from tests.node.resolver.indexdata import populate


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(store, port, **settings) -> ResolverServer:
    server = ResolverServer(create_app(IndexReader(store), settings=ResolverSettings(**settings)), port=port)
    server.start()
    return server


def test_follow_loop_and_hop_limit_across_two_resolvers():
    port_a, port_b = _free_port(), _free_port()
    url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    store_a, store_b = MemoryIndexStore(), MemoryIndexStore()
    populate(store_a, other_resolver=url_b)  # A refers prefix 86 to B
    populate(store_b, other_resolver=url_a, local_resolver=url_b)  # B refers 86 back to A: a loop
    server_a, server_b = _serve(store_a, port_a), _serve(store_b, port_b, max_hops=4)
    try:
        with httpx.Client(timeout=10) as http:
            plain = http.get(f"{url_a}/api/handles/86/R")
            assert plain.status_code == 307
            assert plain.headers["location"] == f"{url_b}/api/handles/86/R"

            # A follows to B; B would follow back to A, which finds itself in Via: 508
            looped = http.get(f"{url_a}/api/handles/86/R?follow=true")
            assert looped.status_code == 508
            assert looped.json()["responseCode"] == 6
            assert "loop" in looped.json()["message"]

            # a handle both serve locally answers through the referral's target too
            local = http.get(f"{url_a}/api/handles/88.200/PN-0001?follow=true")
            assert local.json()["responseCode"] == 1

            too_many = http.get(f"{url_a}/api/handles/86/R?follow=true", headers={"X-Idfuse-Hops": "4"})
            assert too_many.status_code == 508
            assert "at most 4" in too_many.json()["message"]

            bad_hops = http.get(f"{url_a}/api/handles/86/R?follow=true", headers={"X-Idfuse-Hops": "x"})
            assert bad_hops.status_code == 400
    finally:
        server_a.stop()
        server_b.stop()


def test_follow_relays_the_other_resolvers_answer():
    port_a, port_b = _free_port(), _free_port()
    url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    store_a, store_b = MemoryIndexStore(), MemoryIndexStore()
    populate(store_a, other_resolver=url_b)
    populate(store_b, other_resolver=url_b)  # B names itself for 86: it serves 86 locally
    server_a, server_b = _serve(store_a, port_a), _serve(store_b, port_b)
    try:
        with httpx.Client(timeout=10) as http:
            answer = http.get(f"{url_a}/api/handles/86/R?follow=true&type=URL")
            assert answer.status_code == 200
            assert answer.json()["responseCode"] == 1
            assert answer.json()["values"][0]["data"]["value"] == "https://example.com/r"
            native = http.get(f"{url_a}/v1/identifiers/86/R?follow=true")
            assert native.status_code == 200
            assert native.json()["identifier"]["handle"] == "86/R"
            unreachable_port = _free_port()
            store_c = MemoryIndexStore()
            populate(store_c, other_resolver=f"http://127.0.0.1:{unreachable_port}")
            server_c = _serve(store_c, _free_port(), referral_timeout=2.0)
            try:
                down = http.get(f"{server_c.url}/api/handles/86/R?follow=true")
                assert down.status_code == 502
                assert down.json()["responseCode"] == 2
            finally:
                server_c.stop()
    finally:
        server_a.stop()
        server_b.stop()

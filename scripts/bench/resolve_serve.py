"""One server for ``scripts/bench/resolve``, run in its own process with the same uvicorn settings
for every kind: 127.0.0.1, an ephemeral port (printed as ``port N`` on stdout once bound), one
worker, access log off; the resolver with its limits as ``ResolverServer`` serves it (request
head and connection caps) and a rate limit no run reaches.

Usage: resolve_serve.py resolver INDEX_DIR [ANSWER_CACHE_ENTRIES]
       resolve_serve.py ceiling INDEX_DIR
       resolve_serve.py flat TABLE_DIR      (resolve_flat.py's table, for scripts/bench/flatstore)
       resolve_serve.py ledger LEDGER_DIR SENDERS
"""

from __future__ import annotations

import dataclasses
import importlib.machinery
import importlib.util
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

HERE = Path(__file__).resolve().parent


def bench_ledger() -> Any:
    """``scripts/bench/ledger`` as a module (it builds the ledger the eth_call target serves)."""
    loader = importlib.machinery.SourceFileLoader("bench_ledger", str(HERE / "ledger"))
    spec = importlib.util.spec_from_loader("bench_ledger", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def ledger_app(directory: str, senders: int) -> Any:
    from eth_account import Account
    from eth_utils import to_wei

    from idfuse_node.ledger.chain import Ledger
    from idfuse_node.ledger.genesis import GenesisConfig
    from idfuse_node.rpc import RpcContext
    from idfuse_node.rpc.server import make_app

    bench = bench_ledger()
    accounts = [Account.from_key(bytes([0x40 + i]) * 32) for i in range(senders)]
    alloc = {bench.VALIDATOR: to_wei(1000, "ether")}
    alloc.update({bytes.fromhex(a.address[2:]): to_wei(1000, "ether") for a in accounts})
    genesis = GenesisConfig(chain_id=bench.CHAIN_ID, validators=(bench.VALIDATOR,), alloc=alloc)
    return make_app(RpcContext(Ledger.open(Path(directory), genesis, bench.VALIDATOR_KEY)))


def main() -> None:
    kind, path = sys.argv[1], sys.argv[2]
    # proto IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets (else 40 ms delayed-ACK stalls)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app: Any
    options: dict[str, Any] = {}
    if kind == "resolver":
        from idfuse_node.indexer.reader import IndexReader
        from idfuse_node.indexer.store import LevelDBIndexStore
        from idfuse_node.resolver.app import create_app
        from idfuse_node.resolver.protocol import uvicorn_options
        from idfuse_node.resolver.settings import ResolverSettings

        # every request comes from 127.0.0.1: a rate no run reaches, so the limiter runs (its
        # cost is measured) and never refuses; the head and connection limits as served
        settings = ResolverSettings(rate_limit=1e9, rate_burst=10**9)
        if len(sys.argv) > 3:  # the answer cache's size, when a bench sets it
            settings = dataclasses.replace(settings, cache_entries=int(sys.argv[3]))
        app = create_app(IndexReader(LevelDBIndexStore(path, create=False)), settings=settings)
        app.set_resolver_url(f"http://127.0.0.1:{port}")
        options = uvicorn_options(settings, app.metrics.reject)
    elif kind == "ceiling":
        sys.path.insert(0, str(HERE))
        from resolve_ceiling import make_app

        app = make_app(path)
    elif kind == "flat":
        sys.path.insert(0, str(HERE))
        import resolve_flat

        app = resolve_flat.make_app(path)
    elif kind == "ledger":
        app = ledger_app(path, int(sys.argv[3]))
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", ws="none", workers=1, **options
    )
    print(f"port {port}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()

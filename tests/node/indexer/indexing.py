"""Helpers for the indexer tests: build an index of a chain with the real Indexer, dump it."""

from __future__ import annotations

from idfuse_node.indexer import schema
from idfuse_node.indexer.follower import Indexer
from idfuse_node.indexer.records import ChainBinding
from idfuse_node.indexer.source import ChainSource

CONTRACTS = ("Consortium", "PrefixRegistry", "IdentifierRegistry")


def binding_of(url: str, contracts: dict[str, str]) -> ChainBinding:
    with ChainSource(url, retries=0) as source:
        return ChainBinding(source.chain_id(), dict(contracts))


def chain_binding(chain) -> ChainBinding:
    """The binding of a chainfixture RegistryChain."""
    return binding_of(chain.url, {name: chain.address_of(name) for name in CONTRACTS})


def index_chain(url: str, store, binding: ChainBinding, **options) -> Indexer:
    """Index ``url`` into ``store`` up to its head (one pass); the Indexer (its source closed)."""
    with ChainSource(url, retries=0) as source:
        indexer = Indexer(source, store, binding, **options)
        indexer.sync_once()
    return indexer


def dump(store, *, bookkeeping: bool = False) -> list[tuple[bytes, bytes]]:
    """Every entry of the index; without undo logs unless ``bookkeeping`` (whether a block was
    committed as final, with no undo log, depends on when it was indexed, not on the chain)."""
    return [
        (key, value)
        for key, value in store.iterate(schema.KEY_PREFIX)
        if bookkeeping or not key.startswith(schema.UNDO_PREFIX)
    ]

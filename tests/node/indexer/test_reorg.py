"""Reorganisations on Hardhat (an external EVM, registries deployed with the SDK): the follower
rolls back through its undo logs and ends with the index built from scratch on the final chain;
a reorganisation of blocks it committed as final is an IndexConsistencyError."""

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from idfuse_node.exceptions import IndexConsistencyError
from idfuse_node.indexer.follower import Indexer
from idfuse_node.indexer.reader import IndexReader
from idfuse_node.indexer.source import ChainSource
from idfuse_node.indexer.store import MemoryIndexStore
from idfuse_sdk.deploy import deploy_registries
from idfuse_sdk.encoding import HandleValue, encode_values
from idfuse_sdk.identifiers import prefix_node
from tests.hardhat import DEV_KEYS, hardhat_node_fixture
from tests.node.indexer.indexing import CONTRACTS, binding_of, dump, index_chain

hardhat = hardhat_node_fixture(scope="module")
DEPLOYER = Account.from_key(DEV_KEYS[0])
V1 = HandleValue(index=1, type="URL", data=b"https://example.org/1")
V2 = HandleValue(index=1, type="URL", data=b"https://example.org/2")


class Registry:
    """The registries on Hardhat, written through its unlocked development account."""

    def __init__(self, url: str, label: str) -> None:
        self.url = url
        self.w3 = Web3(Web3.HTTPProvider(url))
        self.contracts = deploy_registries(url, DEPLOYER).contracts
        self.binding = binding_of(url, {name: self.contracts[name] for name in CONTRACTS})
        self.node = prefix_node(label)
        self._send(
            "Consortium",
            "bootstrapAllocatePrefix(string,address,uint64)",
            ["string", "address", "uint64"],
            [label, DEPLOYER.address, 0],
        )

    def _send(self, contract, signature, types, args):
        data = function_signature_to_4byte_selector(signature) + encode(types, args)
        tx = self.w3.eth.send_transaction(
            {"from": DEPLOYER.address, "to": self.contracts[contract], "data": data, "gas": 3_000_000}
        )
        assert self.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

    def create(self, suffix, value):
        self._send(
            "IdentifierRegistry",
            "createIdentifier(bytes32,string,bytes32,bytes)",
            ["bytes32", "string", "bytes32", "bytes"],
            [self.node, suffix, bytes(32), encode_values([value])],
        )


def test_a_reorg_rolls_back_to_the_index_of_the_final_chain(hardhat):
    # Hardhat answers the "finalized" tag with its head, so only the depth can leave blocks
    # open to the reorganisations evm_revert makes.
    registry = Registry(hardhat.url, "70")
    options = {"finality_depth": 10, "use_finalized_tag": False}
    registry.create("kept", V1)
    store = MemoryIndexStore()
    with ChainSource(hardhat.url, retries=0) as source:
        indexer = Indexer(source, store, registry.binding, **options)
        indexer.sync_once()
        snapshot = hardhat.snapshot()
        registry.create("dropped", V1)
        registry.create("changed", V1)
        first = indexer.sync_once()
        assert IndexReader(store).handle_by_name("70/dropped") is not None
        hardhat.revert(snapshot)
        registry.create("changed", V2)
        hardhat.mine(4)  # the new branch is longer
        second = indexer.sync_once()
    assert second.rolled_back_to is not None
    assert second.rolled_back_to < first.checkpoint.number
    reader = IndexReader(store)
    name = "70"
    assert reader.handle_by_name(f"{name}/dropped") is None
    assert reader.handle_by_name(f"{name}/changed").values[0].data == "0x" + V2.data.hex()
    scratch = MemoryIndexStore()
    index_chain(hardhat.url, scratch, registry.binding, **options)
    assert dump(store) == dump(scratch)


def test_a_reorg_of_final_blocks_is_an_alarm(hardhat):
    registry = Registry(hardhat.url, "79")
    store = MemoryIndexStore()
    with ChainSource(hardhat.url, retries=0) as source:
        indexer = Indexer(source, store, registry.binding, finality_depth=0, use_finalized_tag=False)
        snapshot = hardhat.snapshot()
        registry.create("a", V1)
        indexer.sync_once()  # every block is final at once: no undo logs
        before = dump(store)
        hardhat.revert(snapshot)
        registry.create("a", V2)
        hardhat.mine(2)
        with pytest.raises(IndexConsistencyError, match="reorganised below a final block"):
            indexer.sync_once()
    assert dump(store) == before  # nothing was rolled back or written

"""A real ledger with the registries bootstrapped, a block producer and the JSON-RPC server, for
indexer tests; and helpers that send signed registry transactions and wait for their receipts.

Use :func:`running_chain` (a context manager) or the ``registry_chain`` fixture (import it into a
test module or conftest). Accounts: ``ADMIN`` (validator, bootstrap admin), ``OWNER`` and
``OTHER`` (Consortium members, funded).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from idfuse_node.ledger.bootstrap import bootstrap_registries
from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.producer import BlockProducer
from idfuse_node.ledger.txpool import TxPool
from idfuse_node.rpc import RpcContext, RpcServer
from idfuse_sdk.encoding import BatchRecord, HandleValue, TemplateField, encode_batch, encode_values
from idfuse_sdk.identifiers import prefix_node
from tests.node.devchain import FUNDS, T0, VALIDATOR_KEY, address, make_genesis, raw_tx

ADMIN = Account.from_key(VALIDATOR_KEY.to_bytes())
OWNER = Account.from_key(b"\x01" * 32)
OTHER = Account.from_key(b"\x02" * 32)
GENESIS = make_genesis({address(a): FUNDS for a in (ADMIN, OWNER, OTHER)})
GAS = 3_000_000
ZERO32 = bytes(32)


class TxFailedError(AssertionError):
    """A registry transaction reverted or got no receipt."""


@dataclass
class RegistryChain:
    ledger: Ledger
    context: RpcContext
    pool: TxPool
    producer: BlockProducer
    server: RpcServer
    contracts: dict[str, bytes]

    @property
    def url(self) -> str:
        return self.server.url

    def address_of(self, name: str) -> str:
        return to_checksum_address(self.contracts[name])

    def transact(self, account, contract: str, signature: str, types: Sequence[str], args: Sequence) -> bytes:
        """Send ``signature(args)`` to ``contract`` from ``account``; wait for success; the tx hash."""
        data = function_signature_to_4byte_selector(signature) + encode(list(types), list(args))
        return self.send_raw(account, self.contracts[contract], data)

    def send_raw(self, account, to: bytes, data: bytes, *, gas: int = GAS) -> bytes:
        nonce = self.pool.pending_nonce(address(account))
        tx_hash = self.pool.add(raw_tx(account, nonce, to=to, data=data, gas=gas, value=0))
        receipt = self.producer.wait_for_receipt(tx_hash, timeout=60)
        if receipt is None:
            raise TxFailedError(f"no receipt for {signature_of(data)}")
        if receipt.state_root != b"\x01":
            raise TxFailedError(f"{signature_of(data)} reverted")
        return tx_hash

    # --- registry helpers

    def allocate(self, label: str, owner=OWNER, expiry: int = 0) -> bytes:
        self.transact(
            ADMIN,
            "Consortium",
            "bootstrapAllocatePrefix(string,address,uint64)",
            ["string", "address", "uint64"],
            [label, owner.address, expiry],
        )
        return prefix_node(label)

    def register_child(
        self, parent_name: str, label: str, owner=OWNER, sender=OWNER, expiry: int = 0
    ) -> bytes:
        self.transact(
            sender,
            "PrefixRegistry",
            "registerChild(bytes32,string,address,uint64)",
            ["bytes32", "string", "address", "uint64"],
            [prefix_node(parent_name), label, owner.address, expiry],
        )
        return prefix_node(f"{parent_name}.{label}")

    def create(self, node: bytes, suffix: str, values: Sequence[HandleValue], template=ZERO32, sender=OWNER):
        return self.transact(
            sender,
            "IdentifierRegistry",
            "createIdentifier(bytes32,string,bytes32,bytes)",
            ["bytes32", "string", "bytes32", "bytes"],
            [node, suffix, template, encode_values(values)],
        )

    def update(
        self,
        node: bytes,
        suffix: str,
        current: Sequence[HandleValue],
        upserts: Sequence[HandleValue],
        removals: Sequence[int] = (),
        template=ZERO32,
        sender=OWNER,
    ):
        return self.transact(
            sender,
            "IdentifierRegistry",
            "updateIdentifier(bytes32,string,bytes32,bytes,bytes,uint32[])",
            ["bytes32", "string", "bytes32", "bytes", "bytes", "uint32[]"],
            [node, suffix, template, encode_values(current), encode_values(upserts), list(removals)],
        )

    def delete(self, node: bytes, suffix: str, sender=OWNER):
        return self.transact(
            sender,
            "IdentifierRegistry",
            "deleteIdentifier(bytes32,string)",
            ["bytes32", "string"],
            [node, suffix],
        )

    def register_batch(self, node: bytes, records: Sequence[BatchRecord], sender=OWNER):
        return self.transact(
            sender,
            "IdentifierRegistry",
            "registerBatch(bytes32,bytes)",
            ["bytes32", "bytes"],
            [node, encode_batch(node, records)],
        )

    def register_template(
        self, node: bytes, name: str, version: int, fields: Sequence[TemplateField], sender=OWNER
    ):
        return self.transact(
            sender,
            "IdentifierRegistry",
            "registerTemplate(bytes32,string,uint32,(string,uint8,bool,uint16,uint16)[])",
            ["bytes32", "string", "uint32", "(string,uint8,bool,uint16,uint16)[]"],
            [node, name, version, [f.to_abi() for f in fields]],
        )

    def prefix_call(self, sender, signature: str, types: Sequence[str], args: Sequence):
        return self.transact(sender, "PrefixRegistry", signature, types, args)


def signature_of(data: bytes) -> str:
    return "0x" + data[:4].hex()


@contextmanager
def running_chain(directory, *, max_log_results: int | None = None, port: int = 0) -> Iterator[RegistryChain]:
    """A ledger in ``directory`` with the registries, a producer thread and a JSON-RPC server."""
    with Ledger.open(directory, GENESIS, VALIDATOR_KEY) as ledger:
        contracts = bootstrap_registries(
            ledger, VALIDATOR_KEY, [address(OWNER), address(OTHER)], timestamp=T0 + 1
        )
        context = RpcContext(ledger)
        if max_log_results is not None:
            context.max_log_results = max_log_results
        pool = TxPool(ledger, contracts["Consortium"])
        context.pool = pool
        producer = BlockProducer(ledger, pool, period_seconds=0.01, lock=context.lock)
        server = RpcServer(context, port=port)
        server.start()
        producer.start()
        try:
            yield RegistryChain(
                ledger, context, pool, producer, server, {k: bytes(v) for k, v in contracts.items()}
            )
        finally:
            producer.stop(10)
            server.stop()


@pytest.fixture
def registry_chain(tmp_path) -> Iterator[RegistryChain]:
    with running_chain(tmp_path) as chain:
        yield chain

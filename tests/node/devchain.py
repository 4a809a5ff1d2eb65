"""The development chain the node tests share: keys, genesis, signed transactions, a ledger fixture.

One validator (key 0x07…), funded senders, chain id 1337, genesis at ``T0``. Transactions are
signed by eth-account as a wallet signs them; ``signed_tx`` decodes them with the ledger's VM.
"""

from collections.abc import Iterator, Mapping

import pytest
from eth_account import Account
from eth_keys import keys
from eth_utils import to_checksum_address, to_wei

from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.genesis import GenesisConfig

CHAIN_ID = 1337
T0 = 1_700_000_000
FUNDS = to_wei(1000, "ether")
VALIDATOR_KEY = keys.PrivateKey(b"\x07" * 32)
VALIDATOR = VALIDATOR_KEY.public_key.to_canonical_address()
SENDER_KEY = keys.PrivateKey(b"\x01" * 32)
SENDER = SENDER_KEY.public_key.to_canonical_address()


def make_genesis(alloc: Mapping[bytes, int], **kwargs) -> GenesisConfig:
    """A one-validator genesis at ``T0`` with ``alloc`` funded; ``kwargs`` override the rest."""
    return GenesisConfig(
        **{"chain_id": CHAIN_ID, "validators": (VALIDATOR,), "alloc": dict(alloc), "timestamp": T0, **kwargs}
    )


GENESIS = make_genesis({SENDER: FUNDS})


def address(account) -> bytes:
    """The canonical address of an eth-account account."""
    return bytes.fromhex(account.address[2:])


def _key_bytes(key) -> bytes:
    return key.to_bytes() if isinstance(key, keys.PrivateKey) else bytes(key.key)


def raw_tx(
    key,
    nonce,
    *,
    to=None,
    value=0,
    data=b"",
    gas=21_000,
    tip=2,
    fee_cap=10**10,
    chain_id=CHAIN_ID,
    kind=2,
) -> bytes:
    """A raw transaction signed by ``key`` (an eth-keys key or an eth-account account).

    ``kind`` 0 is legacy (gas price ``fee_cap``), 1 EIP-2930, 2 EIP-1559; ``to`` None or empty
    creates a contract.
    """
    tx = {"chainId": chain_id, "nonce": nonce, "gas": gas, "value": value, "data": data}
    if to:
        tx["to"] = to if isinstance(to, str) else to_checksum_address(to)
    if kind == 0:
        tx["gasPrice"] = fee_cap
    elif kind == 1:
        tx.update(type=1, gasPrice=fee_cap, accessList=[])
    else:
        tx.update(type=2, maxFeePerGas=fee_cap, maxPriorityFeePerGas=tip)
    return bytes(Account.sign_transaction(tx, _key_bytes(key)).raw_transaction)


def signed_tx(ledger, key, nonce, **fields):
    """``raw_tx(key, nonce, **fields)`` decoded by the ledger's VM, ready for ``build_block``."""
    return ledger.chain.get_vm().get_transaction_builder().decode(raw_tx(key, nonce, **fields))


def ledger_fixture(genesis: GenesisConfig = GENESIS):
    """A function-scoped ``ledger`` fixture: ``genesis`` opened on LevelDB in ``tmp_path``."""

    @pytest.fixture
    def ledger(tmp_path) -> Iterator[Ledger]:
        with Ledger.open(tmp_path, genesis, VALIDATOR_KEY) as opened:
            yield opened

    return ledger

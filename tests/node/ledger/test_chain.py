"""A py-evm chain on LevelDB persists its blocks and state, and reopens at the same head."""

from eth import constants
from eth.chains.base import MiningChain
from eth.consensus.noproof import NoProofConsensus
from eth.vm.forks.london import LondonVM
from eth_keys import keys
from eth_utils import to_wei

from idfuse_node.ledger.leveldb import LevelDB

SENDER_KEY = keys.PrivateKey(b"\x01" * 32)
SENDER = SENDER_KEY.public_key.to_canonical_address()
RECIPIENT = b"\x22" * 20
CHAIN_ID = 1337

NoSealLondonVM = LondonVM.configure(__name__="NoSealLondonVM", consensus_class=NoProofConsensus)
LedgerChain = MiningChain.configure(
    __name__="LedgerChain",
    vm_configuration=((constants.GENESIS_BLOCK_NUMBER, NoSealLondonVM),),
    chain_id=CHAIN_ID,
)

GENESIS_PARAMS = {
    "difficulty": 1,
    "gas_limit": 30_000_000,
    "timestamp": 1_700_000_000,
    "coinbase": constants.ZERO_ADDRESS,
}
GENESIS_STATE = {SENDER: {"balance": to_wei(100, "ether"), "nonce": 0, "code": b"", "storage": {}}}


def transfer(chain, nonce, value):
    vm = chain.get_vm()
    tx = vm.get_transaction_builder().new_unsigned_dynamic_fee_transaction(
        chain_id=CHAIN_ID,
        nonce=nonce,
        max_priority_fee_per_gas=1,
        max_fee_per_gas=10**10,
        gas=21_000,
        to=RECIPIENT,
        value=value,
        data=b"",
        access_list=(),
    )
    return tx.as_signed_transaction(SENDER_KEY)


def test_chain_on_leveldb_reopens_at_the_same_head(tmp_path):
    path = tmp_path / "chain"
    with LevelDB(path) as db:
        chain = LedgerChain.from_genesis(db, GENESIS_PARAMS, GENESIS_STATE)
        for nonce in range(3):
            chain.set_header_timestamp(GENESIS_PARAMS["timestamp"] + nonce + 1)
            imported, receipts, _ = chain.mine_all([transfer(chain, nonce, 1000 + nonce)])
            assert imported.imported_block.number == nonce + 1
            assert receipts[0].gas_used == 21_000
        head = chain.get_canonical_head()
        assert head.block_number == 3
        state_root = head.state_root

    with LevelDB(path) as db:
        reopened = LedgerChain(db)
        assert reopened.get_canonical_head() == head
        assert reopened.get_canonical_head().state_root == state_root
        block = reopened.get_canonical_block_by_number(2)
        assert block.transactions[0].value == 1001
        assert reopened.get_vm().state.get_balance(RECIPIENT) == 1000 + 1001 + 1002
        assert reopened.get_vm().state.get_nonce(SENDER) == 3
        # The reopened chain keeps going.
        reopened.set_header_timestamp(GENESIS_PARAMS["timestamp"] + 10)
        reopened.mine_all([transfer(reopened, 3, 5)])
        assert reopened.get_canonical_head().block_number == 4

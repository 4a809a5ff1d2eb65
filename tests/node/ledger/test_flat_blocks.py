"""Each stored block's transactions and receipts are also kept flat, one RLP list per block, and
read from there; a block stored without them is read from its tries and gets them then."""

import rlp
from eth.db.chain import ChainDB

from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.chaindb import RECEIPTS_PREFIX, TRANSACTIONS_PREFIX
from tests.node.devchain import GENESIS, SENDER_KEY, T0, VALIDATOR_KEY, signed_tx

RECIPIENT = b"\x22" * 20


def trie_items(ledger, root):
    return [bytes(item) for item in ChainDB._get_block_data_from_root_hash(ledger._db, root)]


def build(ledger, count, timestamp):
    transfers = [signed_tx(ledger, SENDER_KEY, n, to=RECIPIENT, value=1, tip=2) for n in range(count)]
    return ledger.build_block(transfers, timestamp=timestamp)


def test_a_built_block_stores_its_transactions_and_receipts_flat(tmp_path):
    with Ledger.open(tmp_path, GENESIS, VALIDATOR_KEY) as ledger:
        block, receipts = build(ledger, 3, T0 + 1)
        header = block.header
        flat_txs = rlp.decode(ledger._db[TRANSACTIONS_PREFIX + header.transaction_root])
        flat_receipts = rlp.decode(ledger._db[RECEIPTS_PREFIX + header.receipt_root])
        assert flat_txs == [tx.encode() for tx in block.transactions]
        assert flat_txs == trie_items(ledger, header.transaction_root)
        assert flat_receipts == trie_items(ledger, header.receipt_root)
        assert ledger.encoded_receipts(header) == flat_receipts
        stored = ledger.block_by_number(1)
        assert [tx.hash for tx in stored.transactions] == [tx.hash for tx in block.transactions]
        assert ledger.chain.chaindb.get_receipts(header, block.receipt_builder) == receipts


def test_an_imported_block_stores_them_too(tmp_path):
    with (
        Ledger.open(tmp_path / "a", GENESIS, VALIDATOR_KEY) as builder,
        Ledger.open(tmp_path / "b", GENESIS, VALIDATOR_KEY) as importer,
    ):
        block, _ = build(builder, 2, T0 + 1)
        importer.import_block(block)
        header = block.header
        assert importer._db[TRANSACTIONS_PREFIX + header.transaction_root] == rlp.encode(
            [tx.encode() for tx in block.transactions]
        )
        assert rlp.decode(importer._db[RECEIPTS_PREFIX + header.receipt_root]) == trie_items(
            importer, header.receipt_root
        )


def test_a_block_stored_without_flat_lists_is_read_from_its_tries_and_gets_them(tmp_path):
    with Ledger.open(tmp_path, GENESIS, VALIDATOR_KEY) as ledger:
        block, receipts = build(ledger, 2, T0 + 1)
        header = block.header
        expected_txs = ledger._db[TRANSACTIONS_PREFIX + header.transaction_root]
        expected_receipts = ledger._db[RECEIPTS_PREFIX + header.receipt_root]
        # As a chain written before the flat lists existed.
        del ledger._db[TRANSACTIONS_PREFIX + header.transaction_root]
        del ledger._db[RECEIPTS_PREFIX + header.receipt_root]
    with Ledger.open(tmp_path, GENESIS, VALIDATOR_KEY) as ledger:
        assert ledger.chain.chaindb.get_receipts(header, block.receipt_builder) == receipts
        assert [tx.hash for tx in ledger.block_by_number(1).transactions] == [
            tx.hash for tx in block.transactions
        ]
        assert ledger._db[TRANSACTIONS_PREFIX + header.transaction_root] == expected_txs
        assert ledger._db[RECEIPTS_PREFIX + header.receipt_root] == expected_receipts

"""The ledger: py-evm blocks, sealed the QBFT way, stored in LevelDB.

:class:`Ledger` opens a data directory, writes the genesis on first open and resumes from
the canonical head afterwards. :meth:`Ledger.build_block` runs one QBFT height as the only
validator: it executes the transactions with one ``apply_all_transactions``, finalises the
state root, goes through :class:`~idfuse_node.ledger.consensus.QbftRound` (proposal, prepare,
commit) and stores the sealed block after the QBFT checks any imported block gets, without
executing it twice. :meth:`Ledger.import_block` takes a sealed block from elsewhere and
re-executes it with the same VM class. QBFT blocks are final, so ``latest``, ``safe`` and ``finalized``
are all the head.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from eth import constants
from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
)
from eth.chains.base import Chain
from eth.exceptions import CanonicalHeadNotFound
from eth.vm.forks.london.transactions import LondonTransactionBuilder
from eth.vm.spoof import SpoofTransaction
from eth_keys.datatypes import PrivateKey
from eth_typing import Address, BlockNumber, Hash32

from idfuse_node.abc import BlockTag, LedgerAPI
from idfuse_node.exceptions import ConsensusError, GenesisError, StorageUnavailableError
from idfuse_node.ledger.chaindb import QbftChainDB
from idfuse_node.ledger.consensus import QbftRound
from idfuse_node.ledger.genesis import GenesisConfig
from idfuse_node.ledger.leveldb import LevelDB
from idfuse_node.ledger.vm import QbftLondonVM
from idfuse_sdk.qbft import VANITY_LENGTH, QbftExtraData, block_hash, verify_header

CHAIN_DIRECTORY = "chain"
"""The LevelDB directory inside a ledger's data directory."""


def validators_after(header: BlockHeaderAPI) -> tuple[bytes, ...]:
    """The validator set that must commit ``header``'s child (no votes yet: the set in
    ``header``'s extraData)."""
    return QbftExtraData.decode(header.extra_data).validators


class Ledger(LedgerAPI):
    """One validator's chain. Open it with :meth:`open`; close it (or use ``with``) to
    release the LevelDB lock."""

    def __init__(self, db: LevelDB, chain: Chain, genesis: GenesisConfig, validator_key: PrivateKey) -> None:
        self._db = db
        self.chain = chain
        self.genesis = genesis
        self.validator_key = validator_key
        self.address = Address(validator_key.public_key.to_canonical_address())

    @classmethod
    def open(cls, data_dir: Path, genesis: GenesisConfig, validator_key: PrivateKey) -> Ledger:
        """Open the ledger in ``data_dir``, creating its genesis block on first open.

        :raises GenesisError: ``data_dir`` holds a chain with another genesis block.
        :raises ConsensusError: ``validator_key`` is not one of the genesis validators.
        :raises StorageError: ``data_dir`` cannot be created or LevelDB cannot be opened (see
            :class:`~idfuse_node.ledger.leveldb.LevelDB`).
        """
        address = validator_key.public_key.to_canonical_address()
        if address not in genesis.validators:
            raise ConsensusError(f"key of 0x{address.hex()} is not a validator in the genesis")
        chain_class = Chain.configure(
            __name__="QbftLedgerChain",
            vm_configuration=((constants.GENESIS_BLOCK_NUMBER, QbftLondonVM),),
            chain_id=genesis.chain_id,
            chaindb_class=QbftChainDB,
        )
        try:
            Path(data_dir).mkdir(exist_ok=True)
        except OSError as error:
            raise StorageUnavailableError(f"cannot create the data directory {data_dir}: {error}") from error
        db = LevelDB(Path(data_dir) / CHAIN_DIRECTORY)
        try:
            chain = cls._open_chain(chain_class, db, genesis)
        except BaseException:
            db.close()
            raise
        return cls(db, chain, genesis, validator_key)

    @staticmethod
    def _open_chain(chain_class: type[Chain], db: LevelDB, genesis: GenesisConfig) -> Chain:
        expected = QbftLondonVM.create_genesis_header(**genesis.genesis_params())
        try:
            chain = chain_class(db)
            chain.get_canonical_head()
        except CanonicalHeadNotFound:
            created = chain_class.from_genesis(db, genesis.genesis_params(), genesis.genesis_state())
            return cast(Chain, created)
        stored = chain.get_canonical_block_header_by_number(constants.GENESIS_BLOCK_NUMBER)
        # The state root is left out: the stored one covers the alloc, the expected one is empty.
        if stored.copy(state_root=expected.state_root) != expected:
            raise GenesisError(f"the chain in {db.path} was created from another genesis")
        return chain

    def close(self) -> None:
        """Release the database."""
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # Blocks
    def build_block(
        self, transactions: Sequence[SignedTransactionAPI], *, timestamp: int | None = None
    ) -> tuple[BlockAPI, tuple[ReceiptAPI, ...]]:
        """Execute ``transactions`` in a new block, seal it and store it.

        :param timestamp: The block's timestamp; by default now, but at least one block period
            after the parent.
        :raises eth.exceptions.ValidationError: A transaction is invalid (nonce, balance,
            signature, gas above the block's limit); nothing is stored.
        """
        parent = self.head()
        period = self.genesis.block_period_seconds
        if timestamp is None:
            timestamp = max(int(time.time()), parent.timestamp + period)
        validators = validators_after(parent)
        height = parent.block_number + 1
        qbft_round = QbftRound(validators, height)
        extra = QbftExtraData(bytes(VANITY_LENGTH), validators, None, qbft_round.round)
        base_header = QbftLondonVM.create_header_from_parent(
            parent,
            coinbase=self.address,
            timestamp=timestamp,
            gas_limit=parent.gas_limit,
            extra_data=extra.encode(),
        )
        vm = self.chain.get_vm(base_header)
        new_header, receipts, _ = vm.apply_all_transactions(transactions, base_header)
        filled = vm.set_block_transactions_and_withdrawals(vm.get_block(), new_header, transactions, receipts)
        packed = vm.pack_block(filled, extra_data=extra.encode())
        unsealed = vm.finalize_block(packed).block

        qbft_round.accept_proposal(qbft_round.propose(unsealed, self.address))
        qbft_round.accept_prepare(qbft_round.prepare(self.validator_key))
        qbft_round.accept_commit(qbft_round.commit(self.validator_key))
        sealed = qbft_round.finalize()
        self._store_own_block(sealed)
        return sealed, receipts

    def import_block(self, block: BlockAPI) -> None:
        """Check a sealed block from elsewhere (a peer, a backup) and make it the head.

        Its header must be a final QBFT header of the validators after the head; py-evm then
        re-executes its transactions with the same configured VM and refuses it unless the
        state root, receipts, gas and bloom come out as the header says.

        :raises ConsensusError: ``block`` is not the head's child.
        :raises idfuse_sdk.exceptions.QbftError: Its header is not a final QBFT header of the
            validators after the head.
        :raises eth.exceptions.ValidationError: Re-execution or py-evm's header rules refuse it.
        """
        self._check_sealed_child(block)
        self.chain.import_block(block)

    def _check_sealed_child(self, block: BlockAPI) -> None:
        parent = self.head()
        if block.header.parent_hash != block_hash(parent) or block.number != parent.block_number + 1:
            raise ConsensusError(f"block {block.number} does not extend the head {parent.block_number}")
        verify_header(block.header, validators_after(parent))

    def _store_own_block(self, block: BlockAPI) -> None:
        """Store a block this ledger executed and sealed: its state is already in the
        database, so it is checked (as an imported block is) but not executed again."""
        self._check_sealed_child(block)
        self.chain.persist_block(block)

    def transaction_builder(self) -> type[LondonTransactionBuilder]:
        """The VM's transaction builder: decodes raw transactions (legacy, EIP-2930, EIP-1559)
        and builds new ones. Every block runs the one configured VM class, so this asks the
        class, not a VM instance (which would build a header per call)."""
        return cast(type[LondonTransactionBuilder], QbftLondonVM.get_transaction_builder())

    # Lookups
    def head(self) -> BlockHeaderAPI:
        """The canonical head's header (final, as every QBFT block)."""
        return self.chain.get_canonical_head()

    def block_by_tag(self, tag: BlockTag) -> BlockAPI:
        """``latest``, ``safe`` and ``finalized`` are the head; ``earliest`` is the genesis."""
        if tag == "earliest":
            return self.chain.get_canonical_block_by_number(constants.GENESIS_BLOCK_NUMBER)
        if tag in ("latest", "safe", "finalized"):
            return self.chain.get_canonical_block_by_number(self.head().block_number)
        raise ValueError(f"unknown block tag {tag!r}")

    def block_by_number(self, number: int) -> BlockAPI:
        """The canonical block at ``number``.

        :raises eth.exceptions.BlockNotFound: There is none yet.
        """
        return self.chain.get_canonical_block_by_number(BlockNumber(number))

    def block_by_hash(self, hash_: bytes) -> BlockAPI:
        """The block whose QBFT hash is ``hash_``.

        :raises eth.exceptions.HeaderNotFound: There is none.
        """
        return self.chain.get_block_by_hash(Hash32(hash_))

    def transaction(self, tx_hash: bytes) -> SignedTransactionAPI:
        """A mined transaction.

        :raises eth.exceptions.TransactionNotFound: Not in a canonical block.
        """
        return self.chain.get_canonical_transaction(Hash32(tx_hash))

    def receipt(self, tx_hash: bytes) -> ReceiptAPI:
        """A mined transaction's receipt.

        :raises eth.exceptions.TransactionNotFound: Not in a canonical block.
        """
        return self.chain.get_transaction_receipt(Hash32(tx_hash))

    def encoded_transactions(self, header: BlockHeaderAPI) -> list[bytes]:
        """The stored block ``header``'s transactions as encoded in its block, in order."""
        return cast(QbftChainDB, self.chain.chaindb).encoded_transactions(header)

    def encoded_receipts(self, header: BlockHeaderAPI) -> list[bytes]:
        """The stored block ``header``'s receipts as encoded in its receipt trie, in order."""
        return cast(QbftChainDB, self.chain.chaindb).encoded_receipts(header)

    def state(self) -> StateAPI:
        """The state after the head block (read it; changes are never stored)."""
        return self.chain.get_vm(self.head()).state

    def call(
        self, sender: bytes, to: bytes, data: bytes, *, gas: int | None = None, value: int = 0
    ) -> ComputationAPI:
        """Run a message call against the head state without storing anything.

        :param gas: By default the block gas limit.
        :returns: The computation: ``output``, and on failure ``is_error`` with the revert
            data in ``output`` (what ``eth_call`` returns to clients).
        """
        head = self.head()
        vm = self.chain.get_vm(head)
        unsigned = vm.create_unsigned_transaction(
            nonce=vm.state.get_nonce(Address(sender)),
            gas_price=0,
            gas=head.gas_limit if gas is None else gas,
            to=Address(to),
            value=value,
            data=data,
        )
        spoof: Any = SpoofTransaction(unsigned, from_=Address(sender))
        with vm.in_costless_state() as state:
            computation: ComputationAPI = state.costless_execute_transaction(spoof)
        return computation

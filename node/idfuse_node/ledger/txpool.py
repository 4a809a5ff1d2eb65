"""The transaction pool: signed raw transactions waiting for a block.

:meth:`TxPool.add` decodes a raw transaction (legacy, EIP-2930 or EIP-1559) with the ledger
VM's transaction builder and checks it against the head state, in this order: size, encoding
and signature, chain id, gas limits, fee against the next block's base fee, sender allowlist,
nonce, replacement fee, balance, pool capacity. Each refusal is a :class:`TxPoolError`
subclass whose message is phrased as geth and Besu phrase it, and a refused transaction
changes nothing in the pool.

Senders are admitted when the genesis names them as validators (so the validator can
bootstrap the registry contracts) or when ``Consortium.isAllowedSender(sender)`` is true at
the head state; answers are cached per head block.

:meth:`TxPool.executable` hands the block producer what the next block can hold: per sender,
the contiguous run of nonces from the state nonce (a nonce gap holds what follows it),
fee-priority across senders, up to a gas budget, each sender's transactions stopping where
its balance could no longer pay for them all. Nothing it returns can make
``apply_all_transactions`` refuse the block.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from eth.abc import BlockAPI, BlockHeaderAPI, SignedTransactionAPI, StateAPI
from eth_abi.abi import decode, encode
from eth_keys.exceptions import BadSignature
from eth_typing import Address
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.exceptions import ValidationError as UtilsValidationError
from rlp.exceptions import RLPException  # type: ignore[import-untyped]

from idfuse_node.exceptions import (
    TxAlreadyKnownError,
    TxGasLimitError,
    TxInsufficientFundsError,
    TxMalformedError,
    TxNonceTooLowError,
    TxNotAllowedError,
    TxPoolFullError,
    TxTooLargeError,
    TxUnderpricedError,
    TxWrongChainError,
)
from idfuse_node.ledger.chain import Ledger

DEFAULT_MAX_TX_BYTES: Final = 4 * 1024 * 1024
"""The largest raw transaction admitted: batch registrations carry thousands of records."""
DEFAULT_MAX_POOL_SIZE: Final = 100_000
"""The most transactions the pool holds at once."""
DEFAULT_PRICE_BUMP_PERCENT: Final = 10
"""A replacement must raise both the fee cap and the tip by this much (geth's default)."""
_SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_IS_ALLOWED_SENDER: Final = function_signature_to_4byte_selector("isAllowedSender(address)")


def _hex(address: bytes) -> str:
    return "0x" + address.hex()


@dataclass
class _HeadView:
    """What admission reads from one head block, kept until the head moves."""

    hash: bytes
    header: BlockHeaderAPI
    state: StateAPI
    next_base_fee: int
    allowed: dict[Address, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class _Pooled:
    transaction: SignedTransactionAPI
    sender: Address
    raw_size: int

    @property
    def cost(self) -> int:
        """The most the transaction can take from its sender: gas * fee cap + value."""
        tx = self.transaction
        return tx.gas * tx.max_fee_per_gas + tx.value


class TxPool:
    """Pending transactions of one ledger. Thread-safe: the JSON-RPC server adds while the
    block producer takes and removes.

    :param consortium: The Consortium contract whose ``isAllowedSender`` admits senders; None
        (a chain without registry contracts) admits the genesis validators only.
    """

    def __init__(
        self,
        ledger: Ledger,
        consortium: bytes | None,
        *,
        max_tx_bytes: int = DEFAULT_MAX_TX_BYTES,
        max_pool_size: int = DEFAULT_MAX_POOL_SIZE,
        price_bump_percent: int = DEFAULT_PRICE_BUMP_PERCENT,
    ) -> None:
        self._ledger = ledger
        self._consortium = None if consortium is None else Address(bytes(consortium))
        self._validators = frozenset(ledger.genesis.validators)
        self.max_tx_bytes = max_tx_bytes
        self.max_pool_size = max_pool_size
        self.price_bump_percent = price_bump_percent
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)
        self._by_sender: dict[Address, dict[int, _Pooled]] = {}
        self._by_hash: dict[bytes, _Pooled] = {}
        self._head_view: _HeadView | None = None

    # Admission
    def add(self, raw: bytes) -> bytes:
        """Admit the signed raw transaction ``raw``; return its hash.

        :raises TxTooLargeError: ``raw`` is longer than ``max_tx_bytes``.
        :raises TxMalformedError: ``raw`` is not a signed transaction, or its signature or fee
            fields are invalid.
        :raises TxWrongChainError: It is signed for another chain, or without a chain id.
        :raises TxGasLimitError: Its gas is below the intrinsic gas or above the block gas limit.
        :raises TxUnderpricedError: Its fee cap is below the next block's base fee, or it
            replaces a pooled transaction without raising both fees by ``price_bump_percent``.
        :raises TxNotAllowedError: The Consortium does not allow its sender to write.
        :raises TxNonceTooLowError: Its nonce has been used.
        :raises TxInsufficientFundsError: Its sender cannot pay gas * fee cap + value.
        :raises TxAlreadyKnownError: The pool holds this transaction already.
        :raises TxPoolFullError: The pool holds ``max_pool_size`` transactions.
        """
        if len(raw) > self.max_tx_bytes:
            raise TxTooLargeError(f"oversized data: transaction size {len(raw)}, limit {self.max_tx_bytes}")
        tx, sender = self._decode(raw)
        chain_id = self._ledger.genesis.chain_id
        if tx.chain_id is None:
            raise TxWrongChainError("only replay-protected (EIP-155) transactions allowed over RPC")
        if tx.chain_id != chain_id:
            raise TxWrongChainError(f"invalid chain id for signer: have {tx.chain_id} want {chain_id}")
        with self._lock:
            view = self._view()
            head = view.header
            if tx.gas < tx.intrinsic_gas:
                raise TxGasLimitError(
                    f"intrinsic gas too low: gas {tx.gas}, minimum needed {tx.intrinsic_gas}"
                )
            if tx.gas > head.gas_limit:
                raise TxGasLimitError(f"exceeds block gas limit: gas {tx.gas}, limit {head.gas_limit}")
            base_fee = view.next_base_fee
            if tx.max_fee_per_gas < base_fee:
                raise TxUnderpricedError(
                    f"max fee per gas less than block base fee: address {_hex(sender)}, "
                    f"maxFeePerGas: {tx.max_fee_per_gas}, baseFee: {base_fee}"
                )
            if not self.is_allowed(sender):
                raise TxNotAllowedError(f"sender not allowed by consortium: {_hex(sender)}")
            state = view.state
            state_nonce = state.get_nonce(sender)
            if tx.nonce < state_nonce:
                raise TxNonceTooLowError(
                    f"nonce too low: address {_hex(sender)}, tx: {tx.nonce} state: {state_nonce}"
                )
            if tx.hash in self._by_hash:
                raise TxAlreadyKnownError("already known")
            pooled = _Pooled(tx, sender, len(raw))
            previous = self._by_sender.get(sender, {}).get(tx.nonce)
            if previous is not None and not self._outbids(tx, previous.transaction):
                raise TxUnderpricedError("replacement transaction underpriced")
            balance = state.get_balance(sender)
            if balance < pooled.cost:
                raise TxInsufficientFundsError(
                    f"insufficient funds for gas * price + value: address {_hex(sender)} "
                    f"have {balance} want {pooled.cost}"
                )
            if previous is None and len(self._by_hash) >= self.max_pool_size:
                raise TxPoolFullError("txpool is full")
            if previous is not None:
                del self._by_hash[previous.transaction.hash]
            self._by_sender.setdefault(sender, {})[tx.nonce] = pooled
            self._by_hash[tx.hash] = pooled
            self._arrived.notify_all()
        return bytes(tx.hash)

    def _decode(self, raw: bytes) -> tuple[SignedTransactionAPI, Address]:
        try:
            tx = self._ledger.transaction_builder().decode(raw)
            tx.validate()
            if not (0 < tx.r < _SECP256K1_N and 0 < tx.s <= _SECP256K1_N // 2):
                # EIP-2: a high s is the malleable twin of a valid signature.
                raise TxMalformedError("invalid transaction v, r, s values")
            if tx.max_priority_fee_per_gas > tx.max_fee_per_gas:
                raise TxMalformedError(
                    "max priority fee per gas higher than max fee per gas: "
                    f"maxPriorityFeePerGas: {tx.max_priority_fee_per_gas}, maxFeePerGas: {tx.max_fee_per_gas}"
                )
            sender = Address(tx.sender)
        except (RLPException, UtilsValidationError, BadSignature) as error:
            raise TxMalformedError(f"invalid transaction: {error}") from error
        except (ValueError, TypeError, IndexError) as error:
            raise TxMalformedError(f"invalid transaction: {error!r}") from error
        return tx, sender

    def _outbids(self, new: SignedTransactionAPI, old: SignedTransactionAPI) -> bool:
        bump = 100 + self.price_bump_percent
        return (
            new.max_fee_per_gas * 100 >= old.max_fee_per_gas * bump
            and new.max_priority_fee_per_gas * 100 >= old.max_priority_fee_per_gas * bump
        )

    def is_allowed(self, sender: bytes) -> bool:
        """Whether ``sender`` may write: a genesis validator, or ``Consortium.isAllowedSender``
        at the head state (cached per head block)."""
        if sender in self._validators:
            return True
        if self._consortium is None:
            return False
        with self._lock:
            allowed = self._view().allowed
            address = Address(bytes(sender))
            if address not in allowed:
                allowed[address] = self._ask_consortium(address)
            return allowed[address]

    def _ask_consortium(self, sender: Address) -> bool:
        assert self._consortium is not None
        computation = self._ledger.call(
            sender, self._consortium, _IS_ALLOWED_SENDER + encode(["address"], [sender]), gas=100_000
        )
        if computation.is_error or len(computation.output) != 32:
            return False
        (allowed,) = decode(["bool"], computation.output)
        return bool(allowed)

    # Reads
    def _view(self) -> _HeadView:
        """The head's header, state, next base fee and allowlist answers, read once per head."""
        with self._lock:
            head = self._ledger.head()
            head_hash = bytes(head.hash)
            if self._head_view is None or self._head_view.hash != head_hash:
                vm = self._ledger.chain.get_vm(head)
                child = vm.create_header_from_parent(
                    head, gas_limit=head.gas_limit, timestamp=head.timestamp + 1
                )
                self._head_view = _HeadView(head_hash, head, vm.state, int(child.base_fee_per_gas or 0))
            return self._head_view

    def next_base_fee(self) -> int:
        """The base fee of the block after the head."""
        return self._view().next_base_fee

    def pending_nonce(self, address: bytes) -> int:
        """The next nonce of ``address``: its state nonce plus its contiguous pooled
        transactions (``eth_getTransactionCount(address, "pending")``)."""
        with self._lock:
            nonce = self._view().state.get_nonce(Address(bytes(address)))
            pooled = self._by_sender.get(Address(bytes(address)), {})
            while nonce in pooled:
                nonce += 1
            return nonce

    def get(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        """The pooled transaction ``tx_hash``, or None."""
        with self._lock:
            pooled = self._by_hash.get(bytes(tx_hash))
            return None if pooled is None else pooled.transaction

    def wait_for_pending(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until the pool holds a transaction; whether it does."""
        with self._arrived:
            return self._arrived.wait_for(lambda: bool(self._by_hash), timeout)

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_hash)

    def __contains__(self, tx_hash: object) -> bool:
        with self._lock:
            return tx_hash in self._by_hash

    # Block building
    def executable(self, max_gas: int) -> list[SignedTransactionAPI]:
        """What the next block can hold, within ``max_gas``: per sender in nonce order from its
        state nonce (stopping at a gap, at a fee cap below the next base fee and where its
        balance could no longer pay for all), the highest effective tip first across senders.
        The transactions stay pooled until :meth:`remove_included`."""
        with self._lock:
            view = self._view()
            state, base_fee = view.state, view.next_base_fee
            runs: list[list[SignedTransactionAPI]] = []
            for sender, pooled in self._by_sender.items():
                nonce = state.get_nonce(sender)
                budget = state.get_balance(sender)
                run: list[SignedTransactionAPI] = []
                while nonce in pooled:
                    entry = pooled[nonce]
                    if entry.transaction.max_fee_per_gas < base_fee or entry.cost > budget:
                        break
                    budget -= entry.cost
                    run.append(entry.transaction)
                    nonce += 1
                if run:
                    runs.append(run)
        return _by_priority(runs, base_fee, max_gas)

    def remove_included(self, block: BlockAPI) -> None:
        """Drop what ``block`` included, and every pooled transaction whose nonce its senders
        have now used (replaced elsewhere, or included by another validator)."""
        with self._lock:
            senders = {Address(tx.sender) for tx in block.transactions}
            self._drop_stale(senders)

    def discard(self, tx_hashes: Iterable[bytes]) -> None:
        """Drop the pooled transactions ``tx_hashes`` (unknown hashes are ignored)."""
        with self._lock:
            for tx_hash in tx_hashes:
                pooled = self._by_hash.pop(bytes(tx_hash), None)
                if pooled is None:
                    continue
                by_nonce = self._by_sender[pooled.sender]
                del by_nonce[pooled.transaction.nonce]
                if not by_nonce:
                    del self._by_sender[pooled.sender]

    def _drop_stale(self, senders: Iterable[Address]) -> None:
        state = self._view().state
        for sender in senders:
            pooled = self._by_sender.get(sender)
            if pooled is None:
                continue
            nonce = state.get_nonce(sender)
            for used in [n for n in pooled if n < nonce]:
                del self._by_hash[pooled.pop(used).transaction.hash]
            if not pooled:
                del self._by_sender[sender]


def _effective_tip(tx: SignedTransactionAPI, base_fee: int) -> int:
    return min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee)


def _by_priority(
    runs: list[list[SignedTransactionAPI]], base_fee: int, max_gas: int
) -> list[SignedTransactionAPI]:
    """Merge per-sender runs, highest effective tip first, keeping each run's order; a sender
    whose next transaction does not fit the remaining gas contributes nothing more."""
    heap = [(-_effective_tip(run[0], base_fee), index, 0) for index, run in enumerate(runs)]
    heapq.heapify(heap)
    chosen: list[SignedTransactionAPI] = []
    remaining = max_gas
    while heap:
        _, index, position = heapq.heappop(heap)
        tx = runs[index][position]
        if tx.gas > remaining:
            continue
        chosen.append(tx)
        remaining -= tx.gas
        if position + 1 < len(runs[index]):
            heapq.heappush(heap, (-_effective_tip(runs[index][position + 1], base_fee), index, position + 1))
    return chosen

"""The client's logic, written once as flows over plain-data I/O (:mod:`idfuse_sdk.client.ops`).

:class:`BaseIdfuseClient` builds calldata from the artifacts' ABIs, signs transactions locally
(EIP-1559 fees when the chain's blocks carry a base fee, a legacy gas price otherwise), keeps
the account's next nonce, waits for the receipt (on a QBFT chain inclusion is finality),
decodes events, return values and custom errors, and resolves handles through the resolver
with a fallback to the chain. :class:`~idfuse_sdk.client.sync.IdfuseClient` and
:class:`~idfuse_sdk.client.async_client.AsyncIdfuseClient` only carry the flows' requests out.
"""

from __future__ import annotations

import base64
import json
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final, Self, cast
from urllib.parse import quote

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from eth_utils.address import is_address, to_checksum_address

from idfuse_sdk.client.ops import Flow, HttpGet, HttpResponse, Rpc, Sleep
from idfuse_sdk.client.results import (
    PREFIX_STATUSES,
    PROPOSAL_STATES,
    BatchResult,
    IdentifierResult,
    PrefixInfo,
    PrefixResult,
    ProposalResult,
    Provenance,
    Resolution,
    ResolvedValue,
    TemplateResult,
    TxResult,
    VoteResult,
)
from idfuse_sdk.contracts.abi import REGISTRY_CONTRACTS, DecodedLog, decode_log, event_topic, function
from idfuse_sdk.contracts.errors import revert_data, revert_error
from idfuse_sdk.encoding import (
    FORMAT_NAMES,
    BatchRecord,
    HandleValue,
    TemplateField,
    commitment,
    decode_batch_rows,
    decode_values,
    encode_batch,
    encode_values,
    template_id,
    validate_template,
)
from idfuse_sdk.exceptions import (
    ChainDataError,
    ClientError,
    ConnectionFailedError,
    ContractRevertError,
    EncodingError,
    NotFoundError,
    ResolverError,
    TransactionRejectedError,
    TransactionTimeoutError,
    ValidationError,
)
from idfuse_sdk.identifiers import handle_key, parse_handle, prefix_node, validate_label
from idfuse_sdk.qbft import MIX_HASH
from idfuse_sdk.types import PUBLIC_READ, TOMBSTONE, ZERO32, ValueFormat

__all__ = ["BaseIdfuseClient", "Endpoints", "read_endpoints_file"]

Endpoints = dict[str, Any]

_ESTIMATE_MARGIN_PERCENT: Final = 20
_FIRST_POLL: Final = 0.005
_DEFAULT_TIP: Final = 10**9
_EXTRA_DATA_VANITY: Final = 32
_EXECUTION_REVERTED: Final = 3
_LOG_WINDOW: Final = 10_000
_ADMIN_INDEX: Final = 100
_ADMIN_HANDLE_INDEX: Final = 200
_ADMIN_PERMISSIONS: Final = "011111110011"
_ZERO_ADDRESS: Final = "0x" + "00" * 20
_ROLES: Final = {"validator": 1, "member": 2, "auditor": 3}
_STATUSES: Final = {"active": 1, "suspended": 2, "revoked": 3}


def read_endpoints_file(path_or_dir: str | Path) -> tuple[Path, Endpoints]:
    """``endpoints.json`` (a node's data directory or the file itself) and its content.

    :raises ClientError: no such file, or it is not a JSON object naming ``rpc_url`` and the
        three contracts.
    """
    path = Path(path_or_dir).expanduser()
    if path.is_dir():
        path = path / "endpoints.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClientError(f"no endpoints file at {path}; start a node (idfuse node start) first") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ClientError(f"cannot read endpoints file {path}: {type(error).__name__}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rpc_url"), str):
        raise ClientError(f"endpoints file {path} names no rpc_url")
    contracts = document.get("contracts")
    if not isinstance(contracts, dict) or any(name not in contracts for name in REGISTRY_CONTRACTS):
        raise ClientError(
            f"endpoints file {path} does not name the contracts {', '.join(REGISTRY_CONTRACTS)}"
        )
    return path, document


def _address(value: str | bytes, title: str) -> str:
    if isinstance(value, bytes) and len(value) == 20:
        return to_checksum_address(value)
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    raise ValidationError(f"{title} must be a 20-byte address (0x-prefixed hex), not {value!r}")


def _quantity(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(str(value), 16)


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _rpc_message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def _type_matches(value_type: str, wanted: str) -> bool:
    """The resolver's type filter: ASCII case-insensitive; ``URL.`` matches ``URL`` and ``URL.x``."""
    have, want = value_type.upper(), wanted.upper()
    if want.endswith("."):
        return have == want[:-1] or have.startswith(want)
    return have == want


def _selected(value: ResolvedValue, types: Sequence[str], indexes: Sequence[int]) -> bool:
    if not types and not indexes:
        return True
    return value.index in indexes or any(_type_matches(value.type, wanted) for wanted in types)


class BaseIdfuseClient:
    """What the sync and async clients share: configuration, the account, and every flow.

    Front ends add the transport and expose each flow as a method. Keys stay inside the
    ``LocalAccount``: this class never prints, logs or puts them in a message or a ``repr``.
    """

    def __init__(
        self,
        rpc_url: str,
        *,
        contracts: dict[str, str],
        resolver_url: str | None = None,
        account: LocalAccount | None = None,
        timeout: float = 60.0,
        poll_interval: float = 0.05,
        http_timeout: float = 10.0,
    ) -> None:
        """See :class:`~idfuse_sdk.client.sync.IdfuseClient`.

        :raises ValidationError: a contract is missing or its address is malformed.
        """
        self.rpc_url = rpc_url
        missing = [name for name in REGISTRY_CONTRACTS if name not in contracts]
        if missing:
            raise ValidationError(f"contracts must name {', '.join(missing)}")
        self.contracts = {
            name: _address(contracts[name], f"contracts[{name!r}]") for name in REGISTRY_CONTRACTS
        }
        self.resolver_url = resolver_url.rstrip("/") if resolver_url else None
        self._account = account
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.http_timeout = http_timeout
        self.chain_id: int | None = None
        self._dynamic_fee = True
        self._qbft = False
        self.long_extra_data = False
        self._poa_added = False
        self._next_nonce: int | None = None

    @classmethod
    def from_endpoints(
        cls, path_or_dir: str | Path, *, account: LocalAccount | None = None, **options: Any
    ) -> Self:
        """A client for the node whose ``endpoints.json`` is at ``path_or_dir`` (the file or
        its directory): its RPC URL, contracts and resolver URL; ``options`` as the constructor's.

        :raises ClientError: the file is missing or incomplete.
        """
        _, endpoints = read_endpoints_file(path_or_dir)
        return cls(
            endpoints["rpc_url"],
            contracts=endpoints["contracts"],
            resolver_url=endpoints.get("resolver_url"),
            account=account,
            **options,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(rpc_url={self.rpc_url!r}, resolver_url={self.resolver_url!r}, "
            f"account={self.address!r})"
        )

    @property
    def address(self) -> str | None:
        """The account's checksum address, or None for a read-only client."""
        return None if self._account is None else str(self._account.address)

    def _require_account(self) -> LocalAccount:
        if self._account is None:
            raise ClientError("this client has no account: pass account= to write")
        return self._account

    # --- JSON-RPC --------------------------------------------------------------------------

    def _rpc(self, method: str, params: list[Any]) -> Flow[Any]:
        response = yield Rpc(method, params)
        return self._rpc_result(response, method)

    def _connect(self) -> Flow[None]:
        """Learn the chain id, whether blocks carry a base fee, whether extraData is long
        (QBFT, Clique: web3.py then needs ``ExtraDataToPOAMiddleware``) and whether the chain
        runs QBFT (its mix hash), where inclusion is finality."""
        if self.chain_id is not None:
            return
        chain_id = _quantity((yield from self._rpc("eth_chainId", [])))
        block = yield from self._rpc("eth_getBlockByNumber", ["latest", False])
        block = block or {}
        self._dynamic_fee = block.get("baseFeePerGas") is not None
        extra = str(block.get("extraData") or "0x")
        self.long_extra_data = (len(extra) - 2) // 2 > _EXTRA_DATA_VANITY
        self._qbft = str(block.get("mixHash") or "").lower() == _hex(MIX_HASH)
        self.chain_id = chain_id

    def _call(self, contract: str, name: str, *args: Any, block: str = "latest") -> Flow[tuple[Any, ...]]:
        """``eth_call`` of a view; a revert raises its named exception."""
        fn = function(contract, name)
        request = {"to": self.contracts[contract], "data": _hex(fn.encode(*args))}
        response = yield Rpc("eth_call", [request, block])
        self._raise_revert(response, f"{name} reverted")
        result = self._rpc_result(response, "eth_call")
        return fn.decode(bytes.fromhex(str(result)[2:]))

    def _rpc_result(self, response: Any, method: str) -> Any:
        """The ``result`` of a JSON-RPC response; an ``error`` raises TransactionRejectedError."""
        if not isinstance(response, dict):
            raise ConnectionFailedError(f"{self.rpc_url} answered {method} with something not JSON-RPC")
        error = response.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, dict) else None
            raise TransactionRejectedError(
                f"{method} refused by {self.rpc_url}: {_rpc_message(error)}",
                code=code if isinstance(code, int) else None,
            )
        return response.get("result")

    @staticmethod
    def _raise_revert(response: Any, context: str) -> None:
        error = response.get("error") if isinstance(response, dict) else None
        if not isinstance(error, dict):
            return
        data = revert_data(error)
        if data is not None or error.get("code") == _EXECUTION_REVERTED:
            raise revert_error(data or b"", context)

    # --- transactions ----------------------------------------------------------------------

    def _fees(self) -> Flow[dict[str, Any]]:
        if not self._dynamic_fee:
            price = _quantity((yield from self._rpc("eth_gasPrice", [])))
            return {"gasPrice": price}
        block = yield from self._rpc("eth_getBlockByNumber", ["latest", False])
        base_fee = _quantity((block or {}).get("baseFeePerGas") or 0)
        try:
            tip = _quantity((yield from self._rpc("eth_maxPriorityFeePerGas", [])))
        except TransactionRejectedError:  # not every node has it: geth's default tip
            tip = _DEFAULT_TIP
        return {"maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip, "type": 2}

    def _nonce(self, address: str) -> Flow[int]:
        pending = _quantity((yield from self._rpc("eth_getTransactionCount", [address, "pending"])))
        nonce = pending if self._next_nonce is None else max(pending, self._next_nonce)
        self._next_nonce = nonce + 1
        return nonce

    def _transact(
        self,
        contract: str,
        name: str,
        *args: Any,
        on_signed: Callable[[str], None] | None = None,
        gas_bound: int | None = None,
    ) -> Flow[TxResult]:
        """Estimate (a revert raises its named exception before anything is sent), sign, send,
        wait for the receipt; a mined failure is replayed with ``eth_call`` at its block.
        ``on_signed`` is told the transaction's hash after signing, before sending (a journal
        can then find the transaction whatever happens next).

        With ``gas_bound`` (a gas limit the caller knows to be ample, within a block's) the
        write is checked by one ``eth_call`` with that much gas instead of ``eth_estimateGas``,
        which nodes answer with several executions (a binary search in geth and anvil), and
        sent with that limit; unused gas is never charged. When the call does not succeed
        without reverting (out of gas), or the account could not pay for the whole bound, the
        write is estimated as usual."""
        account = self._require_account()
        yield from self._connect()
        fn = function(contract, name)
        call = {"from": account.address, "to": self.contracts[contract], "data": _hex(fn.encode(*args))}
        fees = yield from self._fees()
        gas = None
        if gas_bound is not None and (yield from self._affordable(account.address, gas_bound, fees)):
            gas = yield from self._bounded(call, gas_bound, name)
        if gas is None:
            response = yield Rpc("eth_estimateGas", [call])
            self._raise_revert(response, f"{name} would revert")
            estimate = _quantity(self._rpc_result(response, "eth_estimateGas"))
            gas = estimate + estimate * _ESTIMATE_MARGIN_PERCENT // 100
        nonce = yield from self._nonce(account.address)
        fields: dict[str, Any] = {
            "to": call["to"],
            "data": call["data"],
            "value": 0,
            "nonce": nonce,
            "chainId": self.chain_id,
            "gas": gas,
            **fees,
        }
        signed = account.sign_transaction(fields)
        signed_hash = _hex(bytes(signed.hash))
        if on_signed is not None:
            on_signed(signed_hash)
        try:
            response = yield Rpc("eth_sendRawTransaction", [_hex(bytes(signed.raw_transaction))])
            refusal = response.get("error") if isinstance(response, dict) else None
            if refusal is not None:
                self._next_nonce = None  # resynchronise with the node next time
                code = refusal.get("code") if isinstance(refusal, dict) else None
                raise TransactionRejectedError(
                    f"{name}: the node refused the transaction: {_rpc_message(refusal)}",
                    code=code if isinstance(code, int) else None,
                )
            sent = self._rpc_result(response, "eth_sendRawTransaction")
            tx_hash = str(sent) if sent else signed_hash
            receipt = yield from self._wait_receipt(tx_hash, name)
            return (yield from self._mined(receipt, tx_hash, name, call))
        except TransactionTimeoutError:
            # The transaction may be lost (a node that restarted forgets its pool): counting on
            # from its nonce would leave every later one waiting behind the gap for good.
            self._next_nonce = None
            raise
        except ConnectionFailedError as error:
            self._next_nonce = None  # as above
            if error.tx_hash is not None:
                raise
            raise ConnectionFailedError(
                f"{error}; {name} transaction {signed_hash} may have reached the node: "
                "look it up before sending the write again",
                tx_hash=signed_hash,
            ) from None

    def _affordable(self, address: str, gas: int, fees: dict[str, Any]) -> Flow[bool]:
        """Whether ``address`` can pay for ``gas`` at the highest price ``fees`` allow (a
        node refuses a transaction it could not pay for in full)."""
        price = int(fees.get("maxFeePerGas", fees.get("gasPrice", 0)))
        if price == 0:
            return True
        balance = _quantity((yield from self._rpc("eth_getBalance", [address, "latest"])))
        return balance >= gas * price

    def _bounded(self, call: dict[str, Any], gas: int, name: str) -> Flow[int | None]:
        """``gas`` when ``call`` succeeds with that much (one ``eth_call``); a revert with data
        (a custom error, a panic) raises its named exception; any other failure is None: out of
        gas, which an inner call's exhaustion turns into a revert without data, cannot be told
        from a bare ``revert()``, so the estimate decides."""
        response = yield Rpc("eth_call", [{**call, "gas": hex(gas)}, "latest"])
        error = response.get("error") if isinstance(response, dict) else None
        if isinstance(error, dict):
            data = revert_data(error)
            if data:
                raise revert_error(data, f"{name} would revert")
            return None
        if not isinstance(response, dict) or "result" not in response:
            return None
        return gas

    def _mined(
        self, receipt: dict[str, Any], tx_hash: str, name: str, call: dict[str, Any]
    ) -> Flow[TxResult]:
        """The result of a mined transaction; a failure replays ``call`` at its block."""
        block_number = _quantity(receipt["blockNumber"])
        if _quantity(receipt.get("status", 1)) != 1:
            replay = yield Rpc("eth_call", [call, hex(block_number)])
            error = replay.get("error") if isinstance(replay, dict) else None
            if error is None:  # the call succeeds at that state: gas, or a state it no longer sees
                failure = ContractRevertError(
                    f"{name} failed in {tx_hash} (out of gas, or reverted in a state a replay cannot see)"
                )
            else:
                failure = revert_error(revert_data(error) or b"", f"{name} reverted in {tx_hash}")
            failure.tx_hash = tx_hash
            raise failure
        addresses = {address.lower() for address in self.contracts.values()}
        events = tuple(
            decoded
            for log in receipt.get("logs") or []
            if str(log.get("address", "")).lower() in addresses
            for decoded in [decode_log(log)]
            if decoded is not None
        )
        return TxResult(
            tx_hash=tx_hash,
            block_number=block_number,
            block_hash=str(receipt.get("blockHash")),
            gas_used=_quantity(receipt.get("gasUsed") or 0),
            events=events,
            final=self._qbft,
        )

    def _wait_receipt(self, tx_hash: str, name: str) -> Flow[dict[str, Any]]:
        """The receipt, polled after pauses of 5 ms doubling up to ``poll_interval``: a node that
        mines on arrival (anvil, Hardhat) has it within milliseconds, and a full pause before the
        second poll cost a 2,000-record bulk chunk about as much as the rest of it."""
        waited = 0.0
        pause = min(_FIRST_POLL, self.poll_interval)
        while True:
            receipt = yield from self._rpc("eth_getTransactionReceipt", [tx_hash])
            if receipt:
                return cast(dict[str, Any], receipt)
            if waited >= self.timeout:
                raise TransactionTimeoutError(
                    f"{name}: transaction {tx_hash} not included within {self.timeout:.0f}s", tx_hash=tx_hash
                )
            yield Sleep(pause)
            waited += pause
            pause = min(2 * pause, self.poll_interval)

    # --- batches ---------------------------------------------------------------------------

    def flow_register_batch(
        self,
        prefix: str,
        records: Iterable[BatchRecord],
        *,
        on_signed: Callable[[str], None] | None = None,
    ) -> Flow[BatchResult]:
        """Register 1-20000 ``records`` under ``prefix`` in one ``registerBatch`` transaction
        (validated and sorted by handle key here). The chain cannot refuse a record whose
        handle exists already: the index ignores it (docs/data-model.md, the first
        registration wins); :func:`idfuse_sdk.bulk.bulk_register` skips them before sending."""
        return (
            yield from self.flow_register_batch_blob(
                prefix, encode_batch(prefix_node(prefix), records), on_signed=on_signed
            )
        )

    def flow_register_batch_blob(
        self,
        prefix: str,
        blob: bytes,
        *,
        on_signed: Callable[[str], None] | None = None,
        gas_bound: int | None = None,
    ) -> Flow[BatchResult]:
        """:meth:`flow_register_batch` of records already packed: ``blob`` is what
        :func:`~idfuse_sdk.encoding.encode_batch` returns for them (the bulk runner packs each
        record of a file once). The contract refuses a blob that is not canonical
        (``BatchMalformed``, ``BatchTooLarge``, ...). ``gas_bound``: sent with that gas limit
        when one ``eth_call`` with it succeeds, else estimated (see ``_transact``)."""
        tx = yield from self._transact(
            "IdentifierRegistry",
            "registerBatch",
            prefix_node(prefix),
            blob,
            on_signed=on_signed,
            gas_bound=gas_bound,
        )
        return self._batch_result(tx)

    @staticmethod
    def _batch_result(tx: TxResult) -> BatchResult:
        event = tx.event("BatchRegistered").args
        return BatchResult(int(event["batchId"]), bytes(event["root"]), int(event["count"]), tx)

    def flow_batch_receipt(self, tx_hash: str) -> Flow[BatchResult | None]:
        """The batch a ``registerBatch`` transaction registered, or None when the node has no
        receipt for it (not mined, or unknown). A mined failure raises as a write does."""
        receipt = yield from self._rpc("eth_getTransactionReceipt", [tx_hash])
        if not receipt:
            return None
        transaction = yield from self._rpc("eth_getTransactionByHash", [tx_hash])
        call = {
            "from": (transaction or {}).get("from"),
            "to": self.contracts["IdentifierRegistry"],
            "data": (transaction or {}).get("input", "0x"),
        }
        yield from self._connect()
        tx = yield from self._mined(cast(dict[str, Any], receipt), tx_hash, "registerBatch", call)
        return self._batch_result(tx)

    def flow_transaction_known(self, tx_hash: str) -> Flow[bool]:
        """Whether the node knows the transaction (pending or mined)."""
        found = yield from self._rpc("eth_getTransactionByHash", [tx_hash])
        return bool(found)

    def flow_registered_keys(self, prefix: str) -> Flow[set[bytes]]:
        """The handle keys registered under ``prefix`` on chain: by ``createIdentifier`` and by
        every batch (decoded from the transactions' input, as the indexer does). Deleted
        handles stay in the set: their key is taken. A batch relayed by another contract is
        left out, as the index leaves its records out (its input does not hold them)."""
        node = prefix_node(prefix)
        keys: set[bytes] = set()
        created, batch = _hex(event_topic("IdentifierCreated")), _hex(event_topic("BatchRegistered"))
        head = _quantity((yield from self._rpc("eth_blockNumber", [])))
        registry = function("IdentifierRegistry", "registerBatch")
        for start in range(0, head + 1, _LOG_WINDOW):
            criteria = {  # both events index the prefix node second: the node filters (and blooms) by it
                "address": self.contracts["IdentifierRegistry"],
                "fromBlock": hex(start),
                "toBlock": hex(min(head, start + _LOG_WINDOW - 1)),
                "topics": [[created, batch], None, _hex(node)],
            }
            for log in (yield from self._rpc("eth_getLogs", [criteria])) or []:
                topics = [str(topic).lower() for topic in log.get("topics") or []]
                if len(topics) < 3 or topics[2] != _hex(node):
                    continue
                if topics[0] == created:
                    keys.add(bytes.fromhex(topics[1][2:]))
                elif topics[0] == batch:
                    transaction = (
                        yield from self._rpc("eth_getTransactionByHash", [log["transactionHash"]])
                    ) or {}
                    if str(transaction.get("to")).lower() != self.contracts["IdentifierRegistry"].lower():
                        continue
                    data = bytes.fromhex(str(transaction.get("input", "0x"))[2:])
                    try:
                        if data[:4] != registry.selector:
                            raise EncodingError("not a registerBatch call")
                        _, blob = abi_decode(list(registry.inputs), data[4:])
                        entries = decode_batch_rows(node, bytes(blob))
                    except (EncodingError, ValueError, DecodingError) as error:
                        raise ChainDataError(
                            f"cannot decode batch transaction {log['transactionHash']}: {error}"
                        ) from None
                    keys.update(bytes(entry.handle_key) for entry in entries)
        return keys

    # --- governance --------------------------------------------------------------------------

    def _owner(self, owner: str | bytes | None) -> str:
        if owner is None:
            return str(self._require_account().address)
        return _address(owner, "owner")

    def _proposal_state(self, proposal_id: int) -> Flow[tuple[str, int, int, int]]:
        (proposal,) = yield from self._call("Consortium", "proposal", proposal_id)
        (threshold,) = yield from self._call("Consortium", "threshold")
        return PROPOSAL_STATES[proposal[1]], int(proposal[4]), int(proposal[5]), int(threshold)

    def flow_propose_top_level_prefix(
        self, label: str, owner: str | bytes | None = None, expiry: int = 0
    ) -> Flow[ProposalResult]:
        """Open a proposal to allocate top-level prefix ``label`` to ``owner``."""
        validate_label(label)
        tx = yield from self._transact(
            "Consortium", "proposeAllocatePrefix", label, self._owner(owner), expiry
        )
        return (yield from self._proposal_result(tx))

    def flow_propose_prefix_status(self, prefix: str, status: str) -> Flow[ProposalResult]:
        """Open a proposal to set any prefix's status (how a top-level prefix is suspended)."""
        code = self._status_code(status)
        tx = yield from self._transact("Consortium", "proposeSetPrefixStatus", prefix_node(prefix), code)
        return (yield from self._proposal_result(tx))

    def flow_propose_add_member(
        self, account: str | bytes, organisation: str, role: str
    ) -> Flow[ProposalResult]:
        """Open a proposal to add a member."""
        tx = yield from self._transact(
            "Consortium", "proposeAddMember", _address(account, "account"), organisation, self._role(role)
        )
        return (yield from self._proposal_result(tx))

    def _proposal_result(self, tx: TxResult) -> Flow[ProposalResult]:
        proposal_id = int(tx.event("ProposalCreated").args["id"])
        state, yes, no, threshold = yield from self._proposal_state(proposal_id)
        return ProposalResult(proposal_id, state, yes, no, threshold, tx)

    def flow_vote(self, proposal_id: int, support: bool = True) -> Flow[VoteResult]:
        """Vote; the result says whether the proposal executed or how many yes votes it lacks."""
        tx = yield from self._transact("Consortium", "vote", proposal_id, bool(support))
        state, yes, no, threshold = yield from self._proposal_state(proposal_id)
        return VoteResult(proposal_id, state, yes, no, threshold, tx)

    def flow_bootstrap_allocate_prefix(
        self, label: str, owner: str | bytes | None = None, expiry: int = 0
    ) -> Flow[PrefixResult]:
        """The bootstrap admin allocates a top-level prefix directly (development chains)."""
        validate_label(label)
        tx = yield from self._transact(
            "Consortium", "bootstrapAllocatePrefix", label, self._owner(owner), expiry
        )
        return PrefixResult(label, bytes(tx.event("PrefixRegistered").args["node"]), tx)

    def flow_bootstrap_admin(self) -> Flow[str | None]:
        """The Consortium's bootstrap admin (EIP-55), or None once it has been renounced."""
        (admin,) = yield from self._call("Consortium", "bootstrapAdmin")
        return None if int(admin, 16) == 0 else to_checksum_address(admin)

    def flow_bootstrap_add_member(self, account: str | bytes, organisation: str, role: str) -> Flow[TxResult]:
        """The bootstrap admin adds a member directly (development chains)."""
        return (
            yield from self._transact(
                "Consortium",
                "bootstrapAddMember",
                _address(account, "account"),
                organisation,
                self._role(role),
            )
        )

    @staticmethod
    def _role(role: str) -> int:
        try:
            return _ROLES[role.lower()]
        except KeyError:
            raise ValidationError(f"role must be one of {', '.join(_ROLES)}, not {role!r}") from None

    @staticmethod
    def _status_code(status: str) -> int:
        try:
            return _STATUSES[status.lower()]
        except KeyError:
            raise ValidationError(f"status must be one of {', '.join(_STATUSES)}, not {status!r}") from None

    # --- prefixes ----------------------------------------------------------------------------

    def flow_register_child(
        self, parent: str, label: str, owner: str | bytes | None = None, expiry: int = 0
    ) -> Flow[PrefixResult]:
        """Register ``parent.label`` for ``owner`` (the account by default)."""
        validate_label(label)
        name = f"{parent}.{label}"
        prefix_node(name)  # the whole prefix's rules, before anything is sent
        tx = yield from self._transact(
            "PrefixRegistry", "registerChild", prefix_node(parent), label, self._owner(owner), expiry
        )
        return PrefixResult(name, bytes(tx.event("PrefixRegistered").args["node"]), tx)

    def _prefix_write(self, prefix: str, name: str, *args: Any) -> Flow[PrefixResult]:
        node = prefix_node(prefix)
        tx = yield from self._transact("PrefixRegistry", name, node, *args)
        return PrefixResult(prefix, bytes(node), tx)

    def flow_transfer_prefix(self, prefix: str, new_owner: str | bytes) -> Flow[PrefixResult]:
        """Step one of a transfer: propose ``new_owner``."""
        return (yield from self._prefix_write(prefix, "transferOwnership", _address(new_owner, "new_owner")))

    def flow_cancel_transfer(self, prefix: str) -> Flow[PrefixResult]:
        """Withdraw a pending transfer."""
        return (yield from self._prefix_write(prefix, "transferOwnership", _ZERO_ADDRESS))

    def flow_accept_prefix(self, prefix: str) -> Flow[PrefixResult]:
        """Step two of a transfer, by the pending owner."""
        return (yield from self._prefix_write(prefix, "acceptOwnership"))

    def flow_set_operator(
        self, prefix: str, operator: str | bytes, approved: bool = True
    ) -> Flow[PrefixResult]:
        """Approve or unapprove an operator."""
        return (
            yield from self._prefix_write(
                prefix, "setOperator", _address(operator, "operator"), bool(approved)
            )
        )

    def flow_set_service(
        self, prefix: str, resolvers: Sequence[str], chain_id: int = 0, registry: str | bytes | None = None
    ) -> Flow[PrefixResult]:
        """Set the service record: resolver URLs and, for a prefix served by another chain, its
        chain id and IdentifierRegistry."""
        registry_address = _ZERO_ADDRESS if registry is None else _address(registry, "registry")
        record = (list(resolvers), int(chain_id), registry_address)
        return (yield from self._prefix_write(prefix, "setService", record))

    def flow_set_status(self, prefix: str, status: str) -> Flow[PrefixResult]:
        """Set a child prefix's status (by its parent's owner): active, suspended or revoked."""
        return (yield from self._prefix_write(prefix, "setStatus", self._status_code(status)))

    def flow_renew(self, prefix: str, expiry: int) -> Flow[PrefixResult]:
        """Set a child prefix's expiry (by its parent's owner); 0 for never."""
        return (yield from self._prefix_write(prefix, "renew", int(expiry)))

    def flow_prefix(self, prefix: str) -> Flow[PrefixInfo]:
        """The on-chain record of ``prefix`` and its service record."""
        node = prefix_node(prefix)
        (record,) = yield from self._call("PrefixRegistry", "prefix", node)
        (service,) = yield from self._call("PrefixRegistry", "service", node)
        name, parent, owner, pending, status, expiry, changed, metadata = record
        resolvers, service_chain, service_registry = service
        return PrefixInfo(
            prefix=prefix,
            node=bytes(node),
            name=name,
            parent=bytes(parent),
            owner=owner,
            pending_owner=None if int(pending, 16) == 0 else pending,
            status=PREFIX_STATUSES[status],
            expiry=int(expiry),
            changed=int(changed),
            metadata_hash=bytes(metadata),
            resolvers=tuple(resolvers),
            service_chain_id=int(service_chain),
            service_registry=None if int(service_registry, 16) == 0 else service_registry,
        )

    def flow_is_operator(self, prefix: str, operator: str | bytes) -> Flow[bool]:
        """Whether ``operator`` is approved for ``prefix``."""
        (answer,) = yield from self._call(
            "PrefixRegistry", "isOperator", prefix_node(prefix), _address(operator, "operator")
        )
        return bool(answer)

    # --- templates and identifiers -------------------------------------------------------------

    def flow_register_template(
        self, prefix: str, name: str, version: int, fields: Sequence[TemplateField]
    ) -> Flow[TemplateResult]:
        """Register an immutable template under ``prefix``."""
        validate_template(name, version, fields)
        node = prefix_node(prefix)
        tx = yield from self._transact(
            "IdentifierRegistry", "registerTemplate", node, name, version, [item.to_abi() for item in fields]
        )
        return TemplateResult(bytes(tx.event("TemplateRegistered").args["templateId"]), tx)

    def flow_template(self, prefix: str, name: str, version: int) -> Flow[tuple[TemplateField, ...] | None]:
        """The fields of template ``name`` version ``version`` of ``prefix`` as the chain stores
        them, or None when it is not registered."""
        identifier = template_id(prefix_node(prefix), name, version)
        owner_node, fields = yield from self._call("IdentifierRegistry", "template", identifier)
        if int.from_bytes(bytes(owner_node), "big") == 0 or not fields:
            return None
        return tuple(TemplateField.from_abi(item) for item in fields)

    @staticmethod
    def _template(prefix: str, template: bytes | tuple[str, int] | None) -> bytes:
        if template is None:
            return ZERO32
        if isinstance(template, tuple):
            return bytes(template_id(prefix_node(prefix), template[0], template[1]))
        if isinstance(template, bytes) and len(template) == 32:
            return template
        raise ValidationError("template must be a 32-byte id, a (name, version) pair or None")

    def flow_create_identifier(
        self, handle: str, values: Iterable[HandleValue], template: bytes | tuple[str, int] | None = None
    ) -> Flow[IdentifierResult]:
        """Create ``handle`` with ``values`` (validated and sorted here)."""
        prefix, suffix = parse_handle(handle)
        encoded = encode_values(values)
        template_bytes = self._template(prefix, template)
        tx = yield from self._transact(
            "IdentifierRegistry", "createIdentifier", prefix_node(prefix), suffix, template_bytes, encoded
        )
        event = tx.event("IdentifierCreated").args
        return IdentifierResult(
            handle, bytes(event["handleKey"]), int(event["version"]), bytes(event["commitment"]), tx
        )

    def flow_update_identifier(
        self, handle: str, upserts: Iterable[HandleValue] = (), removals: Iterable[int] = ()
    ) -> Flow[IdentifierResult]:
        """Add or replace ``upserts`` and remove ``removals`` (indexes). The current values come
        from the resolver, or from the chain's events when it is unreachable or behind; the
        contract checks them against the commitment."""
        prefix, suffix = parse_handle(handle)
        template, current = yield from self._current_values(handle)
        encoded_upserts = encode_values(upserts, "upsert")
        removal_list = sorted(set(int(index) for index in removals))
        tx = yield from self._transact(
            "IdentifierRegistry",
            "updateIdentifier",
            prefix_node(prefix),
            suffix,
            template,
            current,
            encoded_upserts,
            removal_list,
        )
        event = tx.event("IdentifierUpdated").args
        return IdentifierResult(
            handle, bytes(event["handleKey"]), int(event["version"]), bytes(event["commitment"]), tx
        )

    def flow_delete_identifier(self, handle: str) -> Flow[IdentifierResult]:
        """Delete ``handle`` (its storage word becomes the tombstone)."""
        prefix, suffix = parse_handle(handle)
        tx = yield from self._transact("IdentifierRegistry", "deleteIdentifier", prefix_node(prefix), suffix)
        event = tx.event("IdentifierDeleted").args
        return IdentifierResult(handle, bytes(event["handleKey"]), int(event["version"]), TOMBSTONE, tx)

    def flow_commitment_of(self, handle: str) -> Flow[bytes]:
        """The handle's storage word: zero when never written individually, the tombstone
        ``0x…01`` when deleted, else ``keccak(template ‖ values)``."""
        prefix, suffix = parse_handle(handle)
        (word,) = yield from self._call("IdentifierRegistry", "commitmentOf", handle_key(prefix, suffix))
        return bytes(word)

    def flow_version_of(self, handle: str) -> Flow[int]:
        """The handle's version (number of individual writes)."""
        prefix, suffix = parse_handle(handle)
        (version,) = yield from self._call("IdentifierRegistry", "versionOf", handle_key(prefix, suffix))
        return int(version)

    def _current_values(self, handle: str) -> Flow[tuple[bytes, bytes]]:
        """(template, values encoding) committed now for ``handle``."""
        stored = yield from self.flow_commitment_of(handle)
        if self.resolver_url is not None:
            try:
                answer = yield HttpGet(f"{self.resolver_url}/v1/identifiers/{quote(handle, safe='/')}")
            except ConnectionFailedError:
                answer = None
            if isinstance(answer, HttpResponse) and answer.status == 200 and isinstance(answer.body, dict):
                found = self._values_from_v1(answer.body)
                if found is not None and commitment(found[0], found[1]) == stored:
                    return found
        template, encoded, _, _ = yield from self._chain_record(handle, stored)
        return template, encoded

    @staticmethod
    def _values_from_v1(body: dict[str, Any]) -> tuple[bytes, bytes] | None:
        try:
            record = body["identifier"]
            values = [
                HandleValue(
                    int(item["index"]),
                    str(item["type"]),
                    bytes.fromhex(str(item["data_hex"])[2:]),
                    FORMAT_NAMES[str(item["data"]["format"])],
                    int(item["ttl"]),
                    int(item["permissions"]),
                )
                for item in record["values"]
            ]
            return bytes.fromhex(str(record["template"])[2:]), encode_values(values)
        except (KeyError, TypeError, ValueError):
            return None

    def _chain_record(self, handle: str, stored: bytes) -> Flow[tuple[bytes, bytes, DecodedLog, bytes]]:
        """The latest IdentifierCreated/Updated event of a live handle, checked against the
        commitment ``stored``: (template, values encoding, the event, the handle key)."""
        prefix, suffix = parse_handle(handle)
        key = handle_key(prefix, suffix)
        if stored == ZERO32:
            raise NotFoundError(f"{handle} has no individual record on chain")
        if stored == TOMBSTONE:
            raise NotFoundError(f"{handle} was deleted")
        topics = [[_hex(event_topic("IdentifierCreated")), _hex(event_topic("IdentifierUpdated"))], _hex(key)]
        head = _quantity((yield from self._rpc("eth_blockNumber", [])))
        end = head
        while end >= 0:
            start = max(0, end - _LOG_WINDOW + 1)
            criteria = {
                "address": self.contracts["IdentifierRegistry"],
                "fromBlock": hex(start),
                "toBlock": hex(end),
                "topics": topics,
            }
            logs = yield from self._rpc("eth_getLogs", [criteria])
            if logs:
                decoded = decode_log(logs[-1])
                if decoded is None:
                    raise ChainDataError(f"cannot decode the latest event of {handle}")
                template, encoded = bytes(decoded.args["template"]), bytes(decoded.args["values"])
                if commitment(template, encoded) != stored:
                    raise ChainDataError(
                        f"the values in {handle}'s latest event (block {decoded.block_number}) do not match "
                        f"its on-chain commitment 0x{stored.hex()}"
                    )
                return template, encoded, decoded, key
            end = start - 1
        raise ChainDataError(f"{handle} has a commitment on chain but no event that set it")

    # --- resolution ----------------------------------------------------------------------------

    def flow_resolve(
        self, handle: str, types: Sequence[str] | None = None, indexes: Sequence[int] | None = None
    ) -> Flow[Resolution]:
        """Resolve through the resolver; on a connection error, a timeout or a 5xx answer (or
        with no resolver), read the chain instead."""
        parse_handle(handle)
        wanted_types, wanted_indexes = list(types or ()), [int(index) for index in indexes or ()]
        if self.resolver_url is not None:
            params = tuple(("type", t) for t in wanted_types) + tuple(
                ("index", str(i)) for i in wanted_indexes
            )
            try:
                answer = yield HttpGet(f"{self.resolver_url}/api/handles/{quote(handle, safe='/')}", params)
            except ConnectionFailedError:
                answer = None
            if isinstance(answer, HttpResponse) and answer.status < 500:
                return self._resolution_from_handle_api(handle, answer)
        return (yield from self._resolve_on_chain(handle, wanted_types, wanted_indexes))

    def _resolution_from_handle_api(self, handle: str, answer: HttpResponse) -> Resolution:
        body = answer.body if isinstance(answer.body, dict) else {}
        code = body.get("responseCode")
        message = body.get("message") or ""
        if answer.status == 404 or code == 100:
            raise NotFoundError(f"{handle}: {message or 'handle not found'}")
        if answer.status != 200 or code not in (1, 200):
            raise ResolverError(
                f"resolver answered {handle} with HTTP {answer.status}, code {code}: {message}"
            )
        try:
            values = tuple(self._value_from_handle_api(item) for item in body.get("values") or [])
        except (KeyError, TypeError, ValueError) as error:
            raise ResolverError(
                f"resolver's answer for {handle} is malformed: {type(error).__name__}"
            ) from None
        provenance = body.get("provenance")
        return Resolution(
            handle=handle,
            values=values,
            source="resolver",
            provenance=self._provenance(provenance) if isinstance(provenance, dict) else None,
            checkpoint=body.get("checkpoint"),
            raw=body,
        )

    @staticmethod
    def _provenance(document: dict[str, Any]) -> Provenance:
        return Provenance(
            chain_id=document.get("chain_id"),
            registry=document.get("registry"),
            block_number=int(document["block_number"]),
            block_hash=str(document["block_hash"]),
            tx_hash=str(document["tx_hash"]),
            log_index=int(document["log_index"]),
            batch_id=document.get("batch_id"),
            record_index=document.get("record_index"),
        )

    def _value_from_handle_api(self, item: dict[str, Any]) -> ResolvedValue:
        fmt = str(item["data"]["format"])
        shown = item["data"]["value"]
        data: bytes | dict[str, Any]
        if fmt == "string":
            data = str(shown).encode("utf-8")
        elif fmt == "base64":
            data = base64.b64decode(str(shown))
        elif fmt == "hex":
            data = bytes.fromhex(str(shown))
        else:
            data = dict(shown)
        provenance = item.get("provenance")
        return ResolvedValue(
            index=int(item["index"]),
            type=str(item["type"]),
            format=fmt,
            data=data,
            ttl=int(item["ttl"]),
            timestamp=item.get("timestamp"),
            provenance=self._provenance(provenance) if isinstance(provenance, dict) else None,
        )

    def _resolve_on_chain(
        self, handle: str, types: Sequence[str], indexes: Sequence[int]
    ) -> Flow[Resolution]:
        prefix, _ = parse_handle(handle)
        yield from self._connect()
        stored = yield from self.flow_commitment_of(handle)
        try:
            yield from self._call("PrefixRegistry", "requireLive", prefix_node(prefix))
        except ContractRevertError as error:
            raise NotFoundError(f"{handle}: its prefix is not live ({error})") from None
        template, encoded, event, _ = yield from self._chain_record(handle, stored)
        info = yield from self.flow_prefix(prefix)
        provenance = Provenance(
            chain_id=self.chain_id,
            registry=self.contracts["IdentifierRegistry"],
            block_number=event.block_number,
            block_hash=event.block_hash,
            tx_hash=event.tx_hash,
            log_index=event.log_index,
        )
        try:
            stored_values = decode_values(encoded)
        except EncodingError as error:
            raise ChainDataError(f"{handle}'s values on chain do not decode: {error}") from None
        values = [
            ResolvedValue(
                index=value.index,
                type=value.type,
                format=ValueFormat(value.format).name.lower(),
                data=value.data,
                ttl=value.ttl,
                timestamp=None,
                provenance=provenance,
                permissions=value.permissions,
            )
            for value in stored_values
            if value.permissions & PUBLIC_READ
        ]
        values.append(
            ResolvedValue(
                index=_ADMIN_INDEX,
                type="HS_ADMIN",
                format="admin",
                data={
                    "handle": f"0.NA/{info.name}",
                    "index": _ADMIN_HANDLE_INDEX,
                    "permissions": _ADMIN_PERMISSIONS,
                    "owner": info.owner,
                },
                ttl=86400,
                timestamp=None,
            )
        )
        values.sort(key=lambda value: value.index)
        return Resolution(
            handle=handle,
            values=tuple(value for value in values if _selected(value, types, indexes)),
            source="chain",
            provenance=provenance,
            template=template,
        )


_OS_REASON: Final = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def transport_reason(error: BaseException) -> str:
    """One line about a transport error: the OS's reason when there is one, else the first
    line of the message (never a request body, so never a signed transaction's secrets)."""
    text = str(error)
    reason = _OS_REASON.search(text)
    if reason is not None:
        return reason.group(1)
    return (text.splitlines()[0] if text else type(error).__name__)[:300]


_READS: Final = frozenset({"prefix", "is_operator", "commitment_of", "version_of"})
_RAISES_WRITE: Final = """

:raises ValidationError: an argument breaks a rule of docs/data-model.md; nothing was sent.
:raises ContractRevertError: the contract refuses, as its named subclass (``PrefixUnauthorized``,
    ``IdentifierStaleValues``, …) with the error's arguments; estimated before sending, or
    replayed at the block of a mined failure (then ``tx_hash`` is set).
:raises TransactionRejectedError: the node refused the transaction (``sender not allowed by
    consortium``, ``insufficient funds``, …).
:raises TransactionTimeoutError: no receipt within the client's ``timeout``.
:raises ConnectionFailedError: the JSON-RPC node cannot be reached.
:raises ClientError: the client has no account."""
_RAISES_READ: Final = """

:raises ValidationError: an argument breaks a rule of docs/data-model.md.
:raises ContractRevertError: the view reverts (as its named subclass).
:raises ConnectionFailedError: the JSON-RPC node cannot be reached."""
_RAISES_RESOLVE: Final = """

:raises ValidationError: the handle breaks the identifier rules.
:raises NotFoundError: not registered, deleted, or its prefix is not live.
:raises ResolverError: the resolver answered with another error.
:raises ChainDataError: (fallback) the chain's event values do not match the commitment.
:raises ConnectionFailedError: neither the resolver nor the JSON-RPC node can be reached."""

_RAISES_VERIFY: Final = """

A difference is no exception: the report says ``verified=False`` and which check failed.

:raises ValidationError: the handle or prefix breaks the identifier rules.
:raises ConnectionFailedError: the resolver or the JSON-RPC node cannot be reached.
:raises ResolverError: the resolver answered with an error or unreadably.
:raises TrustAnchorError: the genesis block is not QBFT's or not the pinned one.
:raises ChainDataError: the node serves the block without a field a header has.
:raises ClientError: the client has no resolver_url, or the node has no such block."""


def copy_docs(front_end: type[BaseIdfuseClient]) -> None:
    """Give each public method of a front end the docstring of the flow it runs, with the
    exceptions it raises."""
    for name in dir(front_end):
        flow = getattr(front_end, f"flow_{name}", None)
        method = front_end.__dict__.get(name)
        if flow is not None and method is not None and not method.__doc__:
            if name == "resolve":
                raises = _RAISES_RESOLVE
            elif name.startswith("verify"):
                raises = _RAISES_VERIFY
            else:
                raises = _RAISES_READ if name in _READS else _RAISES_WRITE
            method.__doc__ = (flow.__doc__ or "") + textwrap.indent(raises, " " * 8)

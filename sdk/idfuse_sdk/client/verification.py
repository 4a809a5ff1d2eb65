"""The auditor's verification: prove a resolver's answer against a final block, trusting no
resolver and no JSON-RPC node, only a pinned validator set.

``verify(handle)``: the resolver's ``/v1/identifiers`` answer gives the values and template;
their commitment is recomputed here (:func:`idfuse_sdk.encoding.commitment`). A block is read
(``latest`` by default) and accepted only when its QBFT hash and commit seals hold against the
:class:`TrustAnchor`'s validators (:func:`idfuse_sdk.qbft.verify_header`). ``eth_getProof`` of
the handle's storage word (and, for a batch record, of the batch's root and prefix) is checked
against that block's state root (:mod:`idfuse_sdk.proofs`), and the proven word is compared with
the commitment: the tombstone means deleted, zero means a batch record, whose leaf must fold to
the proven root through the resolver's Merkle proof. ``verify_prefix(prefix)`` proves the prefix
record's owner, pending owner, status, expiry and parent the same way.

Each step is a :class:`Check` with what the chain proves (``expected``) and what the resolver
said (``found``); the :class:`VerificationReport` is verified when every check holds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

from idfuse_sdk import merkle
from idfuse_sdk.client.base import BaseIdfuseClient
from idfuse_sdk.client.ops import Flow, HttpGet, HttpResponse
from idfuse_sdk.client.results import PREFIX_STATUSES
from idfuse_sdk.encoding import commitment
from idfuse_sdk.exceptions import (
    ChainDataError,
    ClientError,
    ConnectionFailedError,
    ProofError,
    QbftError,
    ResolverError,
    TrustAnchorError,
    ValidationError,
)
from idfuse_sdk.identifiers import handle_key, parse_handle, prefix_node, validate_prefix
from idfuse_sdk.proofs import (
    PREFIX_MEMBERS,
    batch_slot,
    commitment_slot,
    member,
    prefix_slot,
    verify_account_proof,
    verify_storage_proof,
)
from idfuse_sdk.qbft import QbftExtraData, block_hash, header_fields, reported_hash, verify_header
from idfuse_sdk.types import TOMBSTONE, ZERO32

__all__ = ["AuditingClient", "Check", "TrustAnchor", "VerificationReport", "check_header"]

_ZERO_ADDRESS: Final = bytes(20)


@dataclass(frozen=True)
class TrustAnchor:
    """What an auditor trusts: the validator set whose commit seals make a block final, and
    optionally the chain's genesis hash.

    With no anchor, a client pins one on first use: the genesis block's extraData validators
    and its hash (the header is hashed here; the node's reported hash must agree). Pin it
    yourself (``validators=``, ``genesis_hash=``) after checking it out of band to trust
    nothing the node says the first time either. Each value may be bytes or hex text.

    :raises ValidationError: a validator is not 20 bytes, or the genesis hash not 32.
    """

    validators: tuple[bytes, ...] = ()
    genesis_hash: bytes | None = None

    def __post_init__(self) -> None:
        validators = tuple(_pinned(v, 20, "a validator") for v in self.validators)
        object.__setattr__(self, "validators", validators)
        if self.genesis_hash is not None:
            object.__setattr__(self, "genesis_hash", _pinned(self.genesis_hash, 32, "genesis_hash"))


def _pinned(value: object, size: int, title: str) -> bytes:
    """``value`` (bytes, or hex text with or without ``0x``) as ``size`` bytes."""
    data: object = value
    if isinstance(value, str):
        try:
            data = bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            data = None
    if not isinstance(data, bytes | bytearray) or len(data) != size:
        raise ValidationError(f"{title} must be {size} bytes or {2 * size} hex digits, not {value!r}")
    return bytes(data)


@dataclass(frozen=True)
class Check:
    """One comparison: ``expected`` is what the chain proves, ``found`` what was checked
    against it (the resolver's claim, or the header as served)."""

    name: str
    ok: bool
    expected: str
    found: str
    detail: str = ""


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of ``verify`` / ``verify_prefix``.

    ``state``: for a handle ``live`` (an individual record), ``batch`` (a batch record),
    ``deleted`` or ``absent``; for a prefix its proven status (``active``, ``suspended``,
    ``revoked``, ``none``). ``timings`` (seconds): ``resolver``, ``block``, ``header``,
    ``get_proof``, ``proofs``.
    """

    subject: str
    kind: str
    verified: bool
    state: str
    block_number: int
    block_hash: str
    checks: tuple[Check, ...]
    resolver_checkpoint: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def differences(self) -> tuple[Check, ...]:
        """The checks that failed."""
        return tuple(check for check in self.checks if not check.ok)

    def check(self, name: str) -> Check:
        """The check called ``name``.

        :raises KeyError: there is none.
        """
        for found in self.checks:
            if found.name == name:
                return found
        raise KeyError(name)


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _bytes(value: Any) -> bytes:
    return bytes.fromhex(str(value)[2:])


def check_header(block: dict[str, Any], anchor: TrustAnchor) -> list[Check]:
    """The header checks of a JSON-RPC block against ``anchor``: its validator list is the
    pinned one, its QBFT hash is the hash served, and its commit seals come from more than
    two thirds of the pinned validators (``ceil(2n/3)``, Besu's quorum)."""
    checks: list[Check] = []
    pinned = ", ".join(_hex(v) for v in anchor.validators)
    try:
        listed = QbftExtraData.decode(header_fields(block).extra_data).validators
    except QbftError as error:
        return [Check("header", False, "a QBFT header", "malformed", str(error))]
    checks.append(
        Check(
            "validator set",
            set(listed) == set(anchor.validators),
            pinned,
            ", ".join(_hex(v) for v in listed),
            ""
            if set(listed) == set(anchor.validators)
            else "the chain's validators changed: pin the new set",
        )
    )
    try:
        report = verify_header(block, anchor.validators)
    except QbftError as error:
        served = reported_hash(block)
        return [*checks, Check("commit seals", False, f"quorum of {pinned}", _hex(served or b""), str(error))]
    checks.append(
        Check(
            "commit seals",
            True,
            f"{report.quorum} of {report.validator_count} validators",
            ", ".join(_hex(signer) for signer in report.signers),
        )
    )
    return checks


class AuditingClient(BaseIdfuseClient):
    """The verification flows, over the flows of :class:`BaseIdfuseClient`."""

    trust_anchor: TrustAnchor | None = None
    """The pinned anchor; set it, or the first verification pins the genesis block's."""

    # --- trust anchor and block ------------------------------------------------------------

    def flow_trust_anchor(self) -> Flow[TrustAnchor]:
        """The trust anchor: the one given, completed from the genesis block when it names no
        validators (its hash checked against ``genesis_hash`` when one is pinned)."""
        anchor = self.trust_anchor
        if anchor is not None and anchor.validators:
            return anchor
        genesis = yield from self._rpc("eth_getBlockByNumber", ["0x0", False])
        if not isinstance(genesis, dict):
            raise TrustAnchorError(f"{self.rpc_url} serves no genesis block")
        try:
            computed = block_hash(genesis)
            validators = QbftExtraData.decode(header_fields(genesis).extra_data).validators
        except QbftError as error:
            raise TrustAnchorError(f"the genesis block is not a QBFT genesis: {error}") from None
        if reported_hash(genesis) not in (None, computed):
            raise TrustAnchorError(
                f"the node reports genesis hash {genesis.get('hash')}, not {_hex(computed)}"
            )
        if anchor is not None and anchor.genesis_hash not in (None, computed):
            raise TrustAnchorError(
                f"the chain's genesis hash is {_hex(computed)}, "
                f"not the pinned {_hex(anchor.genesis_hash or b'')}"
            )
        if not validators:
            raise TrustAnchorError("the genesis block names no validators")
        self.trust_anchor = TrustAnchor(validators, computed)
        return self.trust_anchor

    def _block(self, tag: str, timings: dict[str, float]) -> Flow[dict[str, Any]]:
        """The block ``tag`` names (a :func:`_block_tag`), its header fields checked."""
        block = int(tag, 16) if tag.startswith("0x") else tag
        with _timed(timings, "block"):
            found = yield from self._rpc("eth_getBlockByNumber", [tag, False])
        if not isinstance(found, dict):
            raise ClientError(f"{self.rpc_url} has no block {block}")
        try:  # the flows read its number and state root as served: they must be there
            header_fields(found)
        except QbftError as error:
            raise ChainDataError(f"{self.rpc_url} serves block {block} malformed: {error}") from None
        return found

    def _resolver_get(self, path: str) -> Flow[HttpResponse]:
        if self.resolver_url is None:
            raise ClientError("verification checks a resolver's answer: this client has no resolver_url")
        url = f"{self.resolver_url}{path}"
        try:
            answer = yield HttpGet(url)
        except ConnectionFailedError as error:
            raise ConnectionFailedError(f"cannot verify: the resolver is unreachable ({error})") from None
        assert isinstance(answer, HttpResponse)
        if answer.status >= 500 or not isinstance(answer.body, dict):
            raise ResolverError(f"resolver answered {url} with HTTP {answer.status}")
        return answer

    def _prove(
        self, contract: str, slots: list[int], block: dict[str, Any], timings: dict[str, float]
    ) -> Flow[tuple[list[Check], list[bytes] | None]]:
        """``eth_getProof`` of ``slots`` at ``block``, checked against its state root: the checks
        and the proven words (None when the account proof fails)."""
        address = _bytes(self.contracts[contract])
        with _timed(timings, "get_proof"):
            proof = yield from self._rpc(
                "eth_getProof", [self.contracts[contract], [hex(slot) for slot in slots], block["number"]]
            )
        started = time.perf_counter()
        state_root = _bytes(block["stateRoot"])
        try:
            account = verify_account_proof(state_root, address, [_bytes(n) for n in proof["accountProof"]])
            by_key = {int(str(item["key"]), 16): item for item in proof["storageProof"]}
            words = [
                verify_storage_proof(account.storage_root, slot, [_bytes(n) for n in by_key[slot]["proof"]])
                for slot in slots
            ]
        except (ProofError, KeyError, TypeError, ValueError) as error:
            timings["proofs"] = time.perf_counter() - started
            detail = str(error) if isinstance(error, ProofError) else f"malformed eth_getProof: {error!r}"
            return [
                Check("state proof", False, f"state root {_hex(state_root)}", "no valid proof", detail)
            ], None
        timings["proofs"] = time.perf_counter() - started
        check = Check(
            "state proof", True, f"state root {_hex(state_root)}", f"{contract} {len(slots)} slot(s)"
        )
        return [check], words

    def _header(self, block: dict[str, Any], timings: dict[str, float]) -> Flow[list[Check]]:
        anchor = yield from self.flow_trust_anchor()
        with _timed(timings, "header"):
            return check_header(block, anchor)

    # --- identifiers -------------------------------------------------------------------------

    def flow_verify(self, handle: str, block: int | str = "latest") -> Flow[VerificationReport]:
        """Verify the resolver's answer for ``handle`` against a final block (``latest`` by
        default): the header's commit seals against the trust anchor, the handle's storage word
        by ``eth_getProof`` against its state root, and the values' commitment against that
        word (for a batch record, its Merkle proof to the proven batch root)."""
        prefix, suffix = parse_handle(handle)
        key = handle_key(prefix, suffix)
        tag = _block_tag(block)
        timings: dict[str, float] = {}
        with _timed(timings, "resolver"):
            answer = yield from self._resolver_get(f"/v1/identifiers/{quote(handle, safe='/')}")
        body = answer.body
        record = body.get("identifier") if answer.status == 200 else None
        claim: tuple[bytes, bytes] | None = None
        batch: tuple[int, int] | None = None
        if record is not None:
            claim = self._values_from_v1(body)
            if claim is None:
                raise ResolverError(f"resolver's answer for {handle} is malformed")
            batch = _batch_position(handle, record)
        elif answer.status != 404:
            raise ResolverError(
                f"resolver answered {handle} with HTTP {answer.status}: {body.get('message')}"
            )
        batch_proof: dict[str, Any] | None = None
        if batch is not None:
            with _timed(timings, "resolver"):
                proof_answer = yield from self._resolver_get(f"/v1/batches/{batch[0]}/proof/{batch[1]}")
            batch_proof = proof_answer.body if proof_answer.status == 200 else None
        found = yield from self._block(tag, timings)
        checks = yield from self._header(found, timings)
        slots = [commitment_slot(key)]
        if batch is not None:
            slots += [batch_slot(batch[0], "root"), batch_slot(batch[0], "prefixNode")]
        proof_checks, words = yield from self._prove("IdentifierRegistry", slots, found, timings)
        checks += proof_checks
        state = "absent"
        if words is not None:
            state, compared = _compare_identifier(prefix, key, claim, body, words, batch, batch_proof)
            checks += compared
        return _report(handle, "identifier", state, found, checks, body, timings)

    # --- prefixes ----------------------------------------------------------------------------

    def flow_verify_prefix(self, prefix: str, block: int | str = "latest") -> Flow[VerificationReport]:
        """Verify the resolver's record of ``prefix`` (owner, pending owner, status, expiry,
        parent) against ``PrefixRegistry`` storage proven at a final block."""
        validate_prefix(prefix)
        node = prefix_node(prefix)
        tag = _block_tag(block)
        timings: dict[str, float] = {}
        with _timed(timings, "resolver"):
            answer = yield from self._resolver_get(f"/v1/prefixes/{quote(prefix)}")
        body = answer.body
        record = body.get("prefix") if answer.status == 200 else None
        if record is None and answer.status != 404:
            raise ResolverError(
                f"resolver answered {prefix} with HTTP {answer.status}: {body.get('message')}"
            )
        if record is not None and not isinstance(record, dict):
            raise ResolverError(f"resolver's answer for {prefix} is malformed")
        found = yield from self._block(tag, timings)
        checks = yield from self._header(found, timings)
        slots = [prefix_slot(node, name) for name in ("parent", "owner", "pendingOwner")]
        proof_checks, words = yield from self._prove("PrefixRegistry", slots, found, timings)
        checks += proof_checks
        state = "none"
        if words is not None:
            state, compared = _compare_prefix(record, words)
            checks += compared
        return _report(prefix, "prefix", state, found, checks, body, timings)


_BLOCK_TAGS: Final = ("latest", "finalized", "safe", "earliest")


def _block_tag(block: object) -> str:
    """``block`` as ``eth_getBlockByNumber`` takes it: a number >= 0 or a tag.

    :raises ValidationError: anything else (a negative number, a bool, an unknown tag).
    """
    if isinstance(block, int) and not isinstance(block, bool):
        if block < 0:
            raise ValidationError(
                f"block must be a number >= 0 or one of {', '.join(_BLOCK_TAGS)}, got {block}"
            )
        return hex(block)
    if isinstance(block, str) and block in _BLOCK_TAGS:
        return block
    raise ValidationError(f"block must be a number >= 0 or one of {', '.join(_BLOCK_TAGS)}, got {block!r}")


def _batch_position(handle: str, record: dict[str, Any]) -> tuple[int, int] | None:
    """(batch id, record index) of a batch record as the resolver states it; None for an
    individual record.

    :raises ResolverError: the resolver states them malformed or out of range.
    """
    provenance = record.get("provenance")
    if record.get("source") != "batch" or not isinstance(provenance, dict):
        return None
    if provenance.get("batch_id") is None:
        return None
    try:
        batch_id, index = int(provenance["batch_id"]), int(provenance["record_index"])
    except (KeyError, TypeError, ValueError):
        batch_id, index = -1, -1
    if not (0 <= batch_id < 2**256 and 0 <= index < 2**32):
        raise ResolverError(f"resolver's answer for {handle} names no valid batch position")
    return batch_id, index


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    """Add the time spent in the block to ``timings[name]`` (a flow resumes after its I/O, so
    time around a ``yield`` is the front end's I/O)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started


def _report(
    subject: str,
    kind: str,
    state: str,
    block: dict[str, Any],
    checks: list[Check],
    body: dict[str, Any],
    timings: dict[str, float],
) -> VerificationReport:
    checkpoint = body.get("checkpoint")
    return VerificationReport(
        subject=subject,
        kind=kind,
        verified=all(check.ok for check in checks),
        state=state,
        block_number=int(str(block["number"]), 16),
        block_hash=str(block.get("hash")),
        checks=tuple(checks),
        resolver_checkpoint=checkpoint if isinstance(checkpoint, dict) else None,
        timings=timings,
    )


def _word_name(word: bytes) -> str:
    if word == ZERO32:
        return "0 (no individual record)"
    if word == TOMBSTONE:
        return "tombstone (deleted)"
    return _hex(word)


def _compare_identifier(
    prefix: str,
    key: bytes,
    claim: tuple[bytes, bytes] | None,
    body: dict[str, Any],
    words: list[bytes],
    batch: tuple[int, int] | None,
    batch_proof: dict[str, Any] | None,
) -> tuple[str, list[Check]]:
    """The state the chain proves for the handle, and the checks of the resolver's claim."""
    word = words[0]
    if claim is None:  # the resolver says not found / deleted
        said = str(body.get("message") or "not found")
        if word == TOMBSTONE:
            return "deleted", [Check("deleted", True, _word_name(word), said)]
        if word == ZERO32:
            return "absent", [Check("registered", True, _word_name(word), said)]
        return "live", [Check("registered", False, _word_name(word), said, "the chain holds a live record")]
    recomputed = commitment(*claim)
    stated = str((body.get("identifier") or {}).get("commitment") or "")
    checks = [Check("stated commitment", stated == _hex(recomputed), _hex(recomputed), stated)]
    if batch is None or word != ZERO32:
        ok = word == recomputed
        detail = "" if ok else "the values differ from what the chain committed"
        if word == TOMBSTONE:
            detail = "the chain says deleted"
        return ("deleted" if word == TOMBSTONE else "live"), [
            *checks,
            Check("values", ok, _word_name(word), _hex(recomputed), detail),
        ]
    root, batch_prefix = words[1], words[2]
    leaf = merkle.leaf(key, recomputed)
    siblings: list[bytes] = []
    if batch_proof is not None:
        try:
            siblings = [_bytes(item) for item in batch_proof["proof"]]
        except (KeyError, TypeError, ValueError):
            siblings = []
    folds = batch_proof is not None and merkle.verify(leaf, siblings, root)
    checks += [
        Check("storage word", True, _word_name(word), "batch record"),
        Check(
            "batch prefix", batch_prefix == prefix_node(prefix), _hex(batch_prefix), _hex(prefix_node(prefix))
        ),
        Check(
            "values",
            folds,
            f"batch {batch[0]} root {_hex(root)}",
            f"leaf {_hex(leaf)}",
            "" if folds else "the values' leaf does not fold to the proven batch root",
        ),
    ]
    return "batch", checks


def _address_text(raw: bytes) -> str:
    return "null" if raw == _ZERO_ADDRESS else _hex(raw)


def _compare_prefix(record: dict[str, Any] | None, words: list[bytes]) -> tuple[str, list[Check]]:
    parent, owner_word, packed = words
    owner = member(owner_word, PREFIX_MEMBERS["owner"][1], 20)
    pending = member(packed, PREFIX_MEMBERS["pendingOwner"][1], 20)
    status_code = member(packed, PREFIX_MEMBERS["status"][1], 1)[0]
    expiry = int.from_bytes(member(packed, PREFIX_MEMBERS["expiry"][1], 8), "big")
    status = PREFIX_STATUSES[status_code] if status_code < len(PREFIX_STATUSES) else str(status_code)
    if record is None:
        return status, [Check("registered", status_code == 0, status, "not found")]
    said_pending = record.get("pending_owner")
    return status, [
        Check(
            "owner", _hex(owner) == str(record.get("owner")).lower(), _hex(owner), str(record.get("owner"))
        ),
        Check(
            "pending owner",
            _address_text(pending) == (str(said_pending).lower() if said_pending else "null"),
            _address_text(pending),
            str(said_pending).lower() if said_pending else "null",
        ),
        Check("status", status == record.get("status"), status, str(record.get("status"))),
        Check("expiry", expiry == record.get("expiry"), str(expiry), str(record.get("expiry"))),
        Check("parent", _hex(parent) == str(record.get("parent")), _hex(parent), str(record.get("parent"))),
    ]

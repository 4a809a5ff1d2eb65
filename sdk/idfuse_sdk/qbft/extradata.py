"""The QBFT ``extraData`` field: ``RLP([vanity, [validators], vote, round, [commit seals]])``.

Every rule here follows Hyperledger Besu, which is what a QBFT light client checks against:

- Layout, vote and round encoding: ``consensus/qbft/src/main/java/org/hyperledger/besu/consensus/
  qbft/QbftExtraDataCodec.java`` (hyperledger/besu). The vote is ``[]`` when absent, else
  ``[recipient, 0xff]`` to add or ``[recipient, ""]`` to drop (``Vote.ADD_BYTE_VALUE = 0xFF``;
  a drop is written with ``writeNull``, i.e. ``0x80``). The round is written with
  ``writeIntScalar`` (minimal big-endian, 0 as ``0x80``) and read with ``readIntScalar``, which
  rejects a leading zero (``QbftExtraDataCodecTest.incorrectlyEncodedRoundThrowsRlpException``).
- The three encodings: ``encode`` (everything), ``encodeWithoutCommitSeals`` (round kept, seals
  ``[]``; what validators sign) and ``encodeWithoutCommitSealsAndRoundNumber`` (round 0, seals
  ``[]``; what the block hash covers), same file.
- Vanity of 32 bytes: ``BftExtraData.EXTRA_VANITY_LENGTH`` and
  ``consensus/common/.../bft/headervalidationrules/BftVanityDataValidationRule.java``.
- A commit seal is Besu's ``SECPSignature.encodedBytes()``: ``r ‖ s ‖ recId`` with recId 0 or 1.

Decoding is strict where Besu is lenient only in ways no QBFT node of Besu writes, so
``decode(raw).encode() == raw`` for every accepted input: a drop vote read as ``0x00``, a
vanity of another length (caught later by Besu's vanity rule), and items after the seals
(newer Besu leaves the list with ``leaveListLenient()``, a leftover of the since-removed PKI
QBFT, whose ``PkiQbftExtraDataCodec`` appended a CMS as a sixth item) are all refused here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

import rlp  # type: ignore[import-untyped]
from rlp.exceptions import DecodingError  # type: ignore[import-untyped]

from idfuse_sdk.exceptions import QbftExtraDataError

VANITY_LENGTH: Final = 32
ADDRESS_LENGTH: Final = 20
SEAL_LENGTH: Final = 65
MAX_ROUND: Final = 2**31 - 1
"""Besu holds the round in a Java ``int``; ``readIntScalar`` accepts at most 4 bytes."""

_ADD: Final = b"\xff"
_DROP: Final = b""

RlpItem = bytes | list["RlpItem"]


def _check_bytes(value: object, length: int, title: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != length:
        size = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
        raise QbftExtraDataError(f"{title} must be {length} bytes, got {size}")
    return bytes(value)


def _check_seal(value: object, title: str) -> bytes:
    seal = _check_bytes(value, SEAL_LENGTH, title)
    if seal[-1] not in (0, 1):
        raise QbftExtraDataError(f"{title} must end in recovery id 0 or 1, got {seal[-1]}")
    return seal


@dataclass(frozen=True)
class Vote:
    """A proposer's vote to add (``authorize``) or drop ``recipient`` as a validator."""

    recipient: bytes
    authorize: bool

    def __post_init__(self) -> None:
        _check_bytes(self.recipient, ADDRESS_LENGTH, "vote recipient")


@dataclass(frozen=True)
class QbftExtraData:
    """The decoded ``extraData`` of a QBFT header.

    :raises QbftExtraDataError: On construction, when a field has the wrong size or range.
    """

    vanity: bytes
    validators: tuple[bytes, ...]
    vote: Vote | None
    round: int
    commit_seals: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        _check_bytes(self.vanity, VANITY_LENGTH, "vanity")
        if not isinstance(self.validators, tuple) or not isinstance(self.commit_seals, tuple):
            raise QbftExtraDataError("validators and commit_seals must be tuples")
        for index, validator in enumerate(self.validators):
            _check_bytes(validator, ADDRESS_LENGTH, f"validator {index}")
        for index, seal in enumerate(self.commit_seals):
            _check_seal(seal, f"commit seal {index}")
        if self.vote is not None and not isinstance(self.vote, Vote):
            raise QbftExtraDataError("vote must be a Vote or None")
        if isinstance(self.round, bool) or not isinstance(self.round, int):
            raise QbftExtraDataError("round must be an int")
        if not 0 <= self.round <= MAX_ROUND:
            raise QbftExtraDataError(f"round must be in 0..{MAX_ROUND}, got {self.round}")

    @classmethod
    def genesis(cls, validators: tuple[bytes, ...]) -> QbftExtraData:
        """The genesis extraData Besu writes (``QbftExtraDataCodec.encodeFromAddresses``): zero
        vanity, the validators, no vote, round 0, no seals."""
        return cls(bytes(VANITY_LENGTH), validators, None, 0)

    def with_commit_seals(self, seals: tuple[bytes, ...]) -> QbftExtraData:
        """This extraData with ``seals`` in place of its commit seals."""
        return replace(self, commit_seals=tuple(seals))

    def _items(self, *, round_number: int, seals: tuple[bytes, ...]) -> list[RlpItem]:
        vote: list[RlpItem] = []
        if self.vote is not None:
            vote = [self.vote.recipient, _ADD if self.vote.authorize else _DROP]
        round_bytes = round_number.to_bytes((round_number.bit_length() + 7) // 8, "big")
        return [self.vanity, list(self.validators), vote, round_bytes, list(seals)]

    def encode(self) -> bytes:
        """The full encoding, as it stands in a sealed header (Besu ``encode``)."""
        return bytes(rlp.encode(self._items(round_number=self.round, seals=self.commit_seals)))

    def encode_without_commit_seals(self) -> bytes:
        """Round kept, seals ``[]``: the extraData of the header validators sign
        (Besu ``encodeWithoutCommitSeals``)."""
        return bytes(rlp.encode(self._items(round_number=self.round, seals=())))

    def encode_without_commit_seals_and_round(self) -> bytes:
        """Round 0, seals ``[]``: the extraData the block hash covers
        (Besu ``encodeWithoutCommitSealsAndRoundNumber``)."""
        return bytes(rlp.encode(self._items(round_number=0, seals=())))

    @classmethod
    def decode(cls, raw: bytes) -> QbftExtraData:
        """Decode a header's ``extraData``.

        :param raw: The bytes of the header's ``extraData`` field.
        :raises QbftExtraDataError: ``raw`` is empty, not canonical RLP, has trailing bytes, or
            breaks a size or range rule of the module docstring.
        """
        if not isinstance(raw, bytes | bytearray):
            raise QbftExtraDataError(f"extraData must be bytes, got {type(raw).__name__}")
        if not raw:
            raise QbftExtraDataError("extraData is empty; a QBFT header needs RLP([vanity, ...])")
        try:
            item = rlp.decode(bytes(raw), strict=True)
        except DecodingError as error:
            raise QbftExtraDataError(f"extraData is not canonical RLP: {error}") from error
        if not isinstance(item, list) or len(item) != 5:
            raise QbftExtraDataError("extraData must be an RLP list of 5 items")
        vanity, validators, vote, round_bytes, seals = item
        if not isinstance(validators, list):
            raise QbftExtraDataError("extraData validators must be a list")
        if not isinstance(seals, list):
            raise QbftExtraDataError("extraData commit seals must be a list")
        return cls(
            vanity=_check_bytes(vanity, VANITY_LENGTH, "vanity"),
            validators=tuple(
                _check_bytes(v, ADDRESS_LENGTH, f"validator {i}") for i, v in enumerate(validators)
            ),
            vote=_decode_vote(vote),
            round=_decode_round(round_bytes),
            commit_seals=tuple(_check_seal(s, f"commit seal {i}") for i, s in enumerate(seals)),
        )


def _decode_vote(item: RlpItem) -> Vote | None:
    if not isinstance(item, list):
        raise QbftExtraDataError("extraData vote must be a list ([] when there is no vote)")
    if not item:
        return None
    if len(item) != 2:
        raise QbftExtraDataError("extraData vote must be [recipient, 0xff or empty]")
    recipient, kind = item
    if kind == _ADD:
        authorize = True
    elif kind == _DROP:
        authorize = False
    else:
        raise QbftExtraDataError(f"extraData vote type must be 0xff (add) or empty (drop), got {kind!r}")
    return Vote(_check_bytes(recipient, ADDRESS_LENGTH, "vote recipient"), authorize)


def _decode_round(item: RlpItem) -> int:
    if not isinstance(item, bytes):
        raise QbftExtraDataError("extraData round must be an RLP string")
    if item[:1] == b"\x00":
        raise QbftExtraDataError("extraData round must be a minimal integer (no leading zero)")
    if len(item) > 4:
        raise QbftExtraDataError(f"extraData round must fit in 4 bytes, got {len(item)}")
    value = int.from_bytes(item, "big")
    if value > MAX_ROUND:
        raise QbftExtraDataError(f"extraData round must be at most {MAX_ROUND}, got {value}")
    return value

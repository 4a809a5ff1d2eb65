"""The canonical encodings of docs/data-model.md: values, commitments, batches, templates.

Encoding validates every rule and raises :class:`~idfuse_sdk.exceptions.ValidationError`
naming the value and the rule. Decoding reads bytes from the chain or another untrusted
source and raises :class:`~idfuse_sdk.exceptions.EncodingError` for anything that is not a
canonical encoding: truncation, trailing bytes, wrong order *and* rule breaks (an
out-of-range format in calldata is as much a malformed encoding as a missing byte), so an
indexer needs to catch one exception; the message carries the byte offset and, for a rule
break, the rule (the ValidationError is chained as ``__cause__``).
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Final, NamedTuple, Self

from idfuse_sdk.exceptions import EncodingError, ValidationError
from idfuse_sdk.hashing import keccak
from idfuse_sdk.identifiers import checked_handle_key, decode_suffix, validate_bytes32, validate_suffix
from idfuse_sdk.types import (
    DEFAULT_PERMISSIONS,
    DEFAULT_TTL,
    MAX_BATCH_RECORDS,
    MAX_DATA_BYTES,
    MAX_PERMISSIONS,
    MAX_TEMPLATE_FIELDS,
    MAX_TEMPLATE_NAME_BYTES,
    MAX_TYPE_BYTES,
    MAX_UINT32,
    MAX_VALUES,
    RESERVED_INDEXES,
    RESERVED_TYPE_PREFIX,
    RESERVED_TYPES,
    USER_FORMATS,
    ZERO32,
    Commitment,
    HandleKey,
    TemplateId,
    ValueFormat,
)

_RESERVED_INDEX_NAMES = {100: "HS_ADMIN", 101: "HS_SITE"}


# --- small rule checks ----------------------------------------------------------------------


def _require_int(value: object, title: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(f"{title} must be an integer, got {type(value).__name__}")
    return value


def _check_printable(value: object, title: str, max_bytes: int, *, space: bool) -> str:
    """1..max_bytes of printable ASCII: 0x20-0x7E with ``space``, else 0x21-0x7E."""
    if not isinstance(value, str):
        raise ValidationError(f"{title} must be a string, got {type(value).__name__}")
    # the common case in C: printable ASCII is exactly 0x20-0x7E
    if (
        value.isascii()
        and value.isprintable()
        and 1 <= len(value) <= max_bytes
        and (space or " " not in value)
    ):
        return value
    low, rule = (
        (" ", "printable ASCII (0x20-0x7E)") if space else ("!", "printable ASCII without space (0x21-0x7E)")
    )
    for position, character in enumerate(value):  # characters first: then a length is in bytes
        if not low <= character <= "~":
            raise ValidationError(f"{title} must hold only {rule}: U+{ord(character):04X} at byte {position}")
    if not 1 <= len(value) <= max_bytes:
        raise ValidationError(f"{title} must be 1-{max_bytes} bytes, got {len(value)}")
    return value


def validate_value_type(value: str, title: str = "value type") -> str:
    """Check a value type: 1-64 bytes of printable ASCII without space, not reserved.

    :param value: The type, e.g. ``"URL"``.
    :param title: What to call the input in an error message.
    :return: ``value`` unchanged.
    :raises ValidationError: The type is empty, too long, non-printable or reserved
        (``HS_ADMIN``, ``HS_SERV`` or ``HS_SITE…`` in any case).
    """
    type_ = _check_printable(value, title, MAX_TYPE_BYTES, space=False)
    upper = type_.upper()
    if upper in RESERVED_TYPES or upper.startswith(RESERVED_TYPE_PREFIX):
        raise ValidationError(
            f"{title} must not be {type_!r}: HS_ADMIN, HS_SERV and HS_SITE* are reserved for derived values"
        )
    return type_


def validate_value_index(value: int, title: str = "value index") -> int:
    """Check a value index: a uint32, at least 1, not 100 (HS_ADMIN) or 101 (HS_SITE).

    :param value: The index.
    :param title: What to call the input in an error message.
    :return: ``value`` unchanged.
    :raises ValidationError: The index is out of range or reserved.
    """
    index = _require_int(value, title)
    if not 1 <= index <= MAX_UINT32:
        raise ValidationError(f"{title} must be 1-{MAX_UINT32}, got {index}")
    if index in RESERVED_INDEXES:
        raise ValidationError(
            f"{title} must not be {index}: it is reserved for {_RESERVED_INDEX_NAMES[index]}"
        )
    return index


def _format_name(value: int) -> str:
    try:
        return f"{ValueFormat(value).name.lower()} ({value})"
    except ValueError:
        return str(value)


# --- values ---------------------------------------------------------------------------------


def _obeys_rules(value: HandleValue) -> bool:
    """Whether ``value`` keeps every rule :meth:`HandleValue.validate` checks, in one expression
    (False sends it through those checks, which say what is wrong)."""
    return type(value.format) is ValueFormat and _fields_obey_rules(
        value.index, value.type, value.data, value.format, value.ttl, value.permissions
    )


def _fields_obey_rules(index: int, type_: str, data: bytes, fmt: int, ttl: int, permissions: int) -> bool:
    """:func:`_obeys_rules` of a value's fields (a decoded batch row's, which is no object)."""
    if not (
        type(index) is int
        and 1 <= index <= MAX_UINT32
        and index not in RESERVED_INDEXES
        and type(permissions) is int
        and 0 <= permissions <= MAX_PERMISSIONS
        and type(ttl) is int
        and 0 <= ttl <= MAX_UINT32
        and fmt in USER_FORMATS
        and type(data) is bytes
        and len(data) <= MAX_DATA_BYTES
        and type(type_) is str
        and type_.isascii()
        and type_.isprintable()
        and 1 <= len(type_) <= MAX_TYPE_BYTES
        and " " not in type_
    ):
        return False
    upper = type_.upper()
    if upper in RESERVED_TYPES or upper.startswith(RESERVED_TYPE_PREFIX):
        return False
    if fmt == ValueFormat.STRING:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


@dataclass(frozen=True, slots=True)
class HandleValue:
    """One value of a handle, as the Handle data model has it (timestamp excluded: it is
    the block time of the write). Construct freely; :meth:`validate` checks the rules, and
    :func:`encode_values` calls it."""

    index: int
    type: str
    data: bytes
    format: ValueFormat = ValueFormat.STRING
    ttl: int = DEFAULT_TTL
    permissions: int = DEFAULT_PERMISSIONS

    def __post_init__(self) -> None:
        # Equal content compares equal: bytes-likes become bytes, known formats ValueFormat.
        if isinstance(self.data, bytearray | memoryview):
            object.__setattr__(self, "data", bytes(self.data))
        if not isinstance(self.format, ValueFormat) and self.format in ValueFormat._value2member_map_:
            object.__setattr__(self, "format", ValueFormat(self.format))

    @classmethod
    def text(
        cls,
        index: int,
        type: str,
        text: str,
        *,
        ttl: int = DEFAULT_TTL,
        permissions: int = DEFAULT_PERMISSIONS,
    ) -> Self:
        """A string-format value holding ``text`` as UTF-8.

        :raises ValidationError: ``text`` holds a lone surrogate (it has no UTF-8 form).
        """
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"value at index {index} text must be encodable as UTF-8: "
                f"lone surrogate at character {exc.start}"
            ) from None
        return cls(index, type, data, ValueFormat.STRING, ttl, permissions)

    def as_text(self) -> str:
        """The data as text (strict UTF-8).

        :raises ValidationError: The data is not well-formed UTF-8.
        """
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"value at index {self.index} data must be well-formed UTF-8: "
                f"{exc.reason} at byte {exc.start}"
            ) from None

    def validate(self, title: str = "value") -> Self:
        """Check every rule of a value a user may write.

        :param title: What to call the value in an error message.
        :return: ``self``.
        :raises ValidationError: A field breaks its rule (the message names which).
        """
        if not _obeys_rules(self):  # values come by the thousand from events: no message built
            self._check_rules(title)
        return self

    def _check_rules(self, title: str) -> None:
        """Each rule in turn, raising ValidationError for the first one broken."""
        index = validate_value_index(self.index, f"{title} index")
        where = f"{title} at index {index}"
        validate_value_type(self.type, f"{where} type")
        fmt = _require_int(self.format, f"{where} format")
        if fmt not in USER_FORMATS:
            raise ValidationError(
                f"{where} must have format 0 (string), 1 (base64) or 2 (hex), got {_format_name(fmt)}"
            )
        permissions = _require_int(self.permissions, f"{where} permissions")
        if not 0 <= permissions <= MAX_PERMISSIONS:
            raise ValidationError(f"{where} must have permissions 0-{MAX_PERMISSIONS}, got {permissions}")
        ttl = _require_int(self.ttl, f"{where} ttl")
        if not 0 <= ttl <= MAX_UINT32:
            raise ValidationError(f"{where} must have a ttl of 0-{MAX_UINT32} seconds, got {ttl}")
        if not isinstance(self.data, bytes):
            raise ValidationError(f"{where} data must be bytes, got {type(self.data).__name__}")
        if len(self.data) > MAX_DATA_BYTES:
            raise ValidationError(
                f"{where} must have at most {MAX_DATA_BYTES} bytes of data, got {len(self.data)}"
            )
        if fmt == ValueFormat.STRING:
            try:
                self.data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    f"{where} has format string, so its data must be well-formed UTF-8: "
                    f"{exc.reason} at byte {exc.start}"
                ) from None

    def to_bytes(self) -> bytes:
        """This value's canonical encoding (one ``value`` of docs/data-model.md).

        :raises ValidationError: The value breaks a rule.
        """
        return self.validate()._pack()

    def _pack(self) -> bytes:
        type_ = self.type.encode("ascii")
        head = _VALUE_HEAD.pack(self.index, self.permissions, self.format, self.ttl, len(type_))
        return b"".join((head, type_, len(self.data).to_bytes(2, "big"), self.data))


FORMAT_NAMES: Final = {"string": ValueFormat.STRING, "base64": ValueFormat.BASE64, "hex": ValueFormat.HEX}
"""The value formats a user writes, by the names files and the CLI use."""


def parse_format(name: object, title: str = "value") -> ValueFormat:
    """The format named ``name`` (``string``, ``base64`` or ``hex``).

    :raises ValidationError: Any other name.
    """
    if not isinstance(name, str) or name not in FORMAT_NAMES:
        raise ValidationError(f"{title} format must be string, base64 or hex, not {name!r}")
    return FORMAT_NAMES[name]


def value_data(text: str, fmt: ValueFormat, title: str = "value") -> bytes:
    """The data a value of format ``fmt`` written as ``text`` holds: its UTF-8 for string
    (a lone surrogate is kept, for :meth:`HandleValue.validate` to report), strict base64, or
    hex digits (``0x`` optional).

    :raises ValidationError: ``text`` is not valid base64 or hex.
    """
    try:
        if fmt == ValueFormat.BASE64:
            return base64.b64decode(text, validate=True)
        if fmt == ValueFormat.HEX:
            digits = text.removeprefix("0x")
            if digits and not (digits.isascii() and digits.isalnum()):  # fromhex skips whitespace
                raise ValueError(digits)
            return bytes.fromhex(digits)
    except (binascii.Error, ValueError):
        raise ValidationError(f"{title} is not valid {fmt.name.lower()}") from None
    return text.encode("utf-8", "surrogatepass")


def sort_values(values: Iterable[HandleValue], title: str = "value") -> list[HandleValue]:
    """Check values and put them in canonical (ascending index) order.

    :param values: At most 32 values with distinct indexes, in any order.
    :param title: What to call a value in an error message.
    :return: The values sorted by index.
    :raises ValidationError: Too many values, a repeated index, or a value breaks a rule.
    """
    items = list(values)
    if len(items) > MAX_VALUES:
        raise ValidationError(f"{title} count must be at most {MAX_VALUES}, got {len(items)}")
    for item in items:
        if not isinstance(item, HandleValue):
            raise ValidationError(f"{title} must be a HandleValue, got {type(item).__name__}")
        item.validate(title)
    items.sort(key=lambda item: item.index)
    for before, after in pairwise(items):
        if before.index == after.index:
            raise ValidationError(
                f"{title} indexes must be distinct, but {after.index} appears more than once"
            )
    return items


def encode_values(values: Iterable[HandleValue], title: str = "value") -> bytes:
    """The canonical encoding of a handle's values: ``count:uint8 ‖ value{count}``.

    :param values: At most 32 values with distinct indexes, in any order (they are sorted).
    :param title: What to call a value in an error message.
    :return: The encoding.
    :raises ValidationError: Too many values, a repeated index, or a value breaks a rule.
    """
    if type(values) is tuple and len(values) <= MAX_VALUES:
        # A record's values as files and events hold them, in ascending index order: checked
        # and packed in one pass. Anything else (or any broken rule) takes the path below,
        # which sorts and says what is wrong.
        previous = 0  # indexes start at 1
        for item in values:
            if type(item) is not HandleValue or item.index <= previous or not _obeys_rules(item):
                break
            previous = item.index
        else:
            return bytes((len(values),)) + b"".join([item._pack() for item in values])
    items = sort_values(values, title)
    return bytes((len(items),)) + b"".join(item._pack() for item in items)  # validated by sort_values


class _Reader:
    """A cursor over untrusted bytes; every shortfall is an EncodingError with an offset."""

    __slots__ = ("offset", "raw", "what")

    def __init__(self, raw: bytes, what: str, offset: int = 0) -> None:
        self.raw = raw
        self.what = what
        self.offset = offset

    def take(self, size: int, part: str) -> bytes:
        end = self.offset + size
        if end > len(self.raw):
            raise EncodingError(
                f"{self.what} is truncated at byte {self.offset}: {part} needs {size} bytes, "
                f"{len(self.raw) - self.offset} remain"
            )
        chunk = self.raw[self.offset : end]
        self.offset = end
        return chunk

    def uint(self, size: int, part: str) -> int:
        return int.from_bytes(self.take(size, part), "big")

    def at_end(self) -> bool:
        return self.offset == len(self.raw)


_VALUE_HEAD: Final = struct.Struct(">IBBIB")
"""A value's fixed head: index, permissions, format, ttl, type length."""
_FORMATS: Final = {member.value: member for member in ValueFormat}


def _value_head(reader: _Reader) -> tuple[int, int, int, int, int]:
    """A value's head in one unpack (values come by the thousand from events), or field by
    field when the bytes run short, so the error names the field that is missing."""
    offset = reader.offset
    if offset + _VALUE_HEAD.size <= len(reader.raw):
        reader.offset = offset + _VALUE_HEAD.size
        head: tuple[int, int, int, int, int] = _VALUE_HEAD.unpack_from(reader.raw, offset)
        return head
    return (
        reader.uint(4, "a value index"),
        reader.uint(1, "permissions"),
        reader.uint(1, "a format"),
        reader.uint(4, "a ttl"),
        reader.uint(1, "a type length"),
    )


def _read_values(reader: _Reader) -> list[HandleValue]:
    start = reader.offset
    count = reader.uint(1, "the value count")
    if count > MAX_VALUES:
        raise EncodingError(f"{reader.what} at byte {start} has {count} values, over {MAX_VALUES}")
    values: list[HandleValue] = []
    raw = reader.raw
    for _ in range(count):
        offset = reader.offset
        index, permissions, fmt, ttl, type_length = _value_head(reader)
        position = reader.offset
        end = position + type_length + 2
        if end <= len(raw):  # type and data length in place: read them without the cursor's calls
            type_ = raw[position : end - 2].decode("latin-1")
            reader.offset = end
            length = (raw[end - 2] << 8) | raw[end - 1]
        else:
            type_ = reader.take(type_length, "a type").decode("latin-1")
            length = reader.uint(2, "a data length")
        data = reader.take(length, "data")
        if values and index <= values[-1].index:
            raise EncodingError(
                f"{reader.what} is not in ascending index order at byte {offset}: "
                f"index {index} follows {values[-1].index}"
            )
        value = HandleValue(index, type_, data, _FORMATS.get(fmt, fmt), ttl, permissions)  # type: ignore[arg-type]
        try:
            value.validate()
        except ValidationError as exc:
            raise EncodingError(f"{reader.what} breaks a rule at byte {offset}: {exc}") from exc
        values.append(value)
    return values


def decode_values(raw: bytes) -> list[HandleValue]:
    """Decode a canonical value encoding, strictly.

    :param raw: The encoding (from an event, calldata or a resolver).
    :return: The values in ascending index order.
    :raises EncodingError: ``raw`` is truncated, has trailing bytes, is out of order or
        breaks a value rule.
    """
    reader = _Reader(bytes(raw), "values encoding")
    values = _read_values(reader)
    if not reader.at_end():
        raise EncodingError(
            f"values encoding has {len(reader.raw) - reader.offset} trailing bytes at byte {reader.offset}"
        )
    return values


def commitment(template: bytes, values_encoding: bytes) -> Commitment:
    """A handle's commitment, ``keccak(template ‖ values_encoding)``.

    The encoding is hashed as given (so a verifier hashes exactly what it was served); make
    it with :func:`encode_values`.

    :param template: The template id, or 32 zero bytes for none.
    :param values_encoding: The canonical value encoding.
    :return: 32 bytes.
    :raises ValidationError: ``template`` is not 32 bytes.
    """
    return Commitment(keccak(validate_bytes32(template, "template") + bytes(values_encoding)))


# --- batches --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """One record of a batch: a suffix under the batch's prefix, its values and template."""

    suffix: str
    values: tuple[HandleValue, ...]
    template: bytes = ZERO32

    def __post_init__(self) -> None:
        if not isinstance(self.values, tuple):
            object.__setattr__(self, "values", tuple(self.values))
        if isinstance(self.template, bytearray | memoryview):
            object.__setattr__(self, "template", bytes(self.template))


@dataclass(frozen=True, slots=True)
class BatchEntry:
    """A checked batch record with what the chain derives from it."""

    handle_key: HandleKey
    record: BatchRecord
    values_encoding: bytes
    commitment: Commitment = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "commitment", commitment(self.record.template, self.values_encoding))

    def to_bytes(self) -> bytes:
        """``suffixLength:uint8 ‖ suffix ‖ template ‖ values``."""
        return _pack_record(self.record.suffix.encode("utf-8"), self.record.template, self.values_encoding)


def _pack_record(suffix_utf8: bytes, template: bytes, values_encoding: bytes) -> bytes:
    """A record's bytes in a batch blob: ``suffixLength:uint8 ‖ suffix ‖ template ‖ values``."""
    return bytes((len(suffix_utf8),)) + suffix_utf8 + template + values_encoding


def _check_record(node: bytes, record: object, title: str) -> tuple[HandleKey, bytes, bytes]:
    """A batch record's handle key, its suffix's UTF-8 and its value encoding, every rule
    checked in the contract's order (suffix, template, values); ``title`` names the record
    in messages (``"batch record 3"``), or is empty."""
    where = f"{title} " if title else ""
    if not isinstance(record, BatchRecord):
        named = title or "a batch record"
        raise ValidationError(f"{named} must be a BatchRecord, got {type(record).__name__}")
    suffix = validate_suffix(record.suffix, f"{where}suffix").encode("utf-8")
    validate_bytes32(record.template, f"{where}template")
    values = encode_values(record.values, f"{where}value")
    return checked_handle_key(node, suffix), suffix, values


def _check_count(count: int, error: type[ValidationError] | type[EncodingError]) -> None:
    if not 1 <= count <= MAX_BATCH_RECORDS:
        raise error(f"batch must hold 1-{MAX_BATCH_RECORDS} records, got {count}")


def canonical_batch(prefix_node: bytes, records: Iterable[BatchRecord]) -> list[BatchEntry]:
    """Check batch records and put them in canonical (ascending handle key) order.

    :param prefix_node: The node id of the prefix every record belongs to.
    :param records: 1-20000 records for distinct suffixes, in any order.
    :return: The entries, sorted by handle key: level 0 of the batch's Merkle tree.
    :raises ValidationError: Too few or too many records, a repeated suffix, or a record
        that breaks a rule (the message names the record by its position in ``records``).
    """
    node = validate_bytes32(prefix_node, "prefix node")
    items = list(records)
    _check_count(len(items), ValidationError)
    entries: list[BatchEntry] = []
    for position, record in enumerate(items):
        key, _, values = _check_record(node, record, f"batch record {position}")
        entries.append(BatchEntry(key, record, values))
    entries.sort(key=lambda entry: entry.handle_key)
    for before, after in pairwise(entries):
        if before.handle_key == after.handle_key:
            raise ValidationError(f"batch must name each handle once, but {after.record.suffix!r} repeats")
    return entries


def pack_batch_record(prefix_node: bytes, record: BatchRecord) -> tuple[HandleKey, bytes]:
    """One record checked as :func:`canonical_batch` checks it, with its handle key and its
    bytes in a blob (:meth:`BatchEntry.to_bytes`), without the entry's commitment: what a
    reader of a file of records needs for each (the bulk runner checks files of millions).

    :param prefix_node: The node id of the prefix the record belongs to.
    :param record: The record.
    :return: ``(handle_key, packed)``.
    :raises ValidationError: ``record`` breaks a rule; the message names the ``suffix``, the
        ``template`` or the ``value`` (as :func:`canonical_batch`'s, after ``batch record N``).
    """
    key, suffix, values = _check_record(validate_bytes32(prefix_node, "prefix node"), record, "")
    return key, _pack_record(suffix, record.template, values)


def encode_batch(prefix_node: bytes, records: Iterable[BatchRecord]) -> bytes:
    """The ``records`` blob ``registerBatch`` takes: the records sorted by handle key.

    :param prefix_node: The node id of the prefix every record belongs to.
    :param records: 1-20000 records for distinct suffixes, in any order.
    :return: The packed records.
    :raises ValidationError: See :func:`canonical_batch`.
    """
    return b"".join(entry.to_bytes() for entry in canonical_batch(prefix_node, records))


def decode_batch_entries(prefix_node: bytes, raw: bytes) -> list[BatchEntry]:
    """Decode a ``registerBatch`` blob strictly, with each record's key and commitment.

    :param prefix_node: The batch's prefix node id.
    :param raw: The packed records (from calldata).
    :return: The entries in blob order (ascending handle key).
    :raises ValidationError: ``prefix_node`` is not 32 bytes.
    :raises EncodingError: ``raw`` is not a canonical batch: empty, over 20000 records,
        truncated, out of handle-key order, or a record breaks a rule.
    """
    node = validate_bytes32(prefix_node, "prefix node")
    reader = _Reader(bytes(raw), "batch")
    entries: list[BatchEntry] = []
    while not reader.at_end():
        start = reader.offset
        if len(entries) == MAX_BATCH_RECORDS:
            raise EncodingError(
                f"batch must hold at most {MAX_BATCH_RECORDS} records, but more start at byte {start}"
            )
        suffix_bytes = reader.take(reader.uint(1, "a suffix length"), "a suffix")
        try:
            suffix = decode_suffix(suffix_bytes, "suffix")
        except ValidationError as exc:
            raise EncodingError(f"batch record at byte {start} breaks a rule: {exc}") from exc
        template = reader.take(32, "a template")
        values_start = reader.offset
        values = _read_values(reader)
        key = checked_handle_key(node, suffix_bytes)  # the suffix checked above
        if entries and key <= entries[-1].handle_key:
            raise EncodingError(f"batch is not in ascending handle-key order at byte {start} ({suffix!r})")
        record = BatchRecord(suffix, tuple(values), template)
        entries.append(BatchEntry(key, record, reader.raw[values_start : reader.offset]))
    _check_count(len(entries), EncodingError)
    return entries


ValueRow = tuple[int, str, bytes, int, int, int]
"""A value as fields: ``(index, type, data, format, ttl, permissions)``."""


class BatchRow(NamedTuple):
    """A decoded batch record as plain fields, for a reader of batches by the million (an
    indexer): :func:`decode_batch_rows`."""

    handle_key: bytes
    suffix: str
    template: bytes
    values: tuple[ValueRow, ...]
    """Each value's fields, in ascending index order."""
    values_encoding: bytes
    commitment: bytes

    @classmethod
    def of(cls, entry: BatchEntry) -> BatchRow:
        """The row of a :class:`BatchEntry`."""
        record = entry.record
        return cls(
            entry.handle_key,
            record.suffix,
            record.template,
            tuple((v.index, v.type, v.data, int(v.format), v.ttl, v.permissions) for v in record.values),
            entry.values_encoding,
            entry.commitment,
        )


def decode_batch_rows(prefix_node: bytes, raw: bytes) -> list[BatchRow]:
    """:func:`decode_batch_entries`, each entry as a :class:`BatchRow`: the same checks, the
    same refusals, without an object per value, record and entry (half the time).

    :raises ValidationError: ``prefix_node`` is not 32 bytes.
    :raises EncodingError: As :func:`decode_batch_entries`.
    """
    node = validate_bytes32(prefix_node, "prefix node")
    blob = bytes(raw)
    rows = _read_rows(node, blob)
    if rows is None:  # something to refuse (or to look at closer): the entries' reading decides
        rows = [BatchRow.of(entry) for entry in decode_batch_entries(node, blob)]
    return rows


def _read_rows(node: bytes, raw: bytes) -> list[BatchRow] | None:
    """The rows of a canonical batch, or None at the first thing :func:`decode_batch_entries`
    might refuse (this says only that; that reading says what and where)."""
    rows: list[BatchRow] = []
    size, offset, previous = len(raw), 0, b""
    head_size, unpack = _VALUE_HEAD.size, _VALUE_HEAD.unpack_from
    try:
        while offset < size:
            if len(rows) == MAX_BATCH_RECORDS:
                return None
            suffix_end = offset + 1 + raw[offset]
            suffix_utf8 = raw[offset + 1 : suffix_end]
            start = suffix_end + 32  # the values' encoding, after the template
            if start >= size:
                return None
            suffix = decode_suffix(suffix_utf8, "suffix")
            template = raw[suffix_end:start]
            count, offset = raw[start], start + 1
            if count > MAX_VALUES:
                return None
            values: list[ValueRow] = []
            last = 0
            for _ in range(count):
                index, permissions, fmt, ttl, type_length = unpack(raw, offset)
                type_start = offset + head_size
                type_end = type_start + type_length
                data_start = type_end + 2
                offset = data_start + ((raw[type_end] << 8) | raw[type_end + 1])
                if offset > size:
                    return None
                type_ = raw[type_start:type_end].decode("latin-1")
                data = raw[data_start:offset]
                if index <= last or not _fields_obey_rules(index, type_, data, fmt, ttl, permissions):
                    return None
                last = index
                values.append((index, type_, data, fmt, ttl, permissions))
            key = checked_handle_key(node, suffix_utf8)
            if key <= previous:
                return None
            previous = key
            encoding = raw[start:offset]
            rows.append(BatchRow(key, suffix, template, tuple(values), encoding, keccak(template + encoding)))
    except (IndexError, struct.error, ValidationError):
        return None
    return rows or None


def decode_batch(prefix_node: bytes, raw: bytes) -> list[BatchRecord]:
    """Decode a ``registerBatch`` blob strictly (the indexer's reading of calldata).

    :param prefix_node: The batch's prefix node id.
    :param raw: The packed records.
    :return: The records in blob order (ascending handle key).
    :raises ValidationError: ``prefix_node`` is not 32 bytes.
    :raises EncodingError: See :func:`decode_batch_entries`.
    """
    return [entry.record for entry in decode_batch_entries(prefix_node, raw)]


# --- templates ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateField:
    """A field of a data template: a value type a record may carry, and its bounds."""

    value_type: str
    format: ValueFormat = ValueFormat.STRING
    required: bool = False
    min_length: int = 0
    max_length: int = MAX_DATA_BYTES

    def __post_init__(self) -> None:
        if not isinstance(self.format, ValueFormat) and self.format in ValueFormat._value2member_map_:
            object.__setattr__(self, "format", ValueFormat(self.format))

    def to_abi(self) -> tuple[str, int, bool, int, int]:
        """The ``TemplateField`` struct as web3 passes it to ``registerTemplate``."""
        return (self.value_type, int(self.format), self.required, self.min_length, self.max_length)

    @classmethod
    def from_abi(cls, item: Sequence[object]) -> Self:
        """A field from the struct tuple a contract call or event returns.

        :raises ValidationError: ``item`` is not a 5-tuple of the struct's types.
        """
        if len(item) != 5:
            raise ValidationError(f"template field must have 5 members, got {len(item)}")
        value_type, fmt, required, min_length, max_length = item
        if not isinstance(value_type, str) or not isinstance(required, bool):
            raise ValidationError("template field must be (string, uint8, bool, uint16, uint16)")
        return cls(
            value_type,
            _require_int(fmt, "template field format"),  # type: ignore[arg-type]
            required,
            _require_int(min_length, "template field min_length"),
            _require_int(max_length, "template field max_length"),
        )


def validate_template_name(value: str, title: str = "template name") -> str:
    """Check a template name: 1-64 bytes of printable ASCII, space included (0x20-0x7E).

    :param value: The name.
    :param title: What to call the input in an error message.
    :return: ``value`` unchanged.
    :raises ValidationError: The name is empty, too long or holds another character.
    """
    return _check_printable(value, title, MAX_TEMPLATE_NAME_BYTES, space=True)


def _validate_template_version(value: int) -> int:
    version = _require_int(value, "template version")
    if not 1 <= version <= MAX_UINT32:
        raise ValidationError(f"template version must be 1-{MAX_UINT32}, got {version}")
    return version


def validate_template(name: str, version: int, fields: Sequence[TemplateField]) -> None:
    """Check a template definition as ``registerTemplate`` does.

    :param name: 1-64 bytes of printable ASCII (0x20-0x7E).
    :param version: A uint32, at least 1.
    :param fields: 1-32 fields with distinct, valid value types, formats 0-2 and
        ``0 ≤ min_length ≤ max_length ≤ 8192``.
    :raises ValidationError: Any of these rules is broken (the message names the field).
    """
    validate_template_name(name)
    _validate_template_version(version)
    if not 1 <= len(fields) <= MAX_TEMPLATE_FIELDS:
        raise ValidationError(f"template must have 1-{MAX_TEMPLATE_FIELDS} fields, got {len(fields)}")
    seen: set[str] = set()
    for number, item in enumerate(fields):
        title = f"template field {number}"
        if not isinstance(item, TemplateField):
            raise ValidationError(f"{title} must be a TemplateField, got {type(item).__name__}")
        validate_value_type(item.value_type, f"{title} value type")
        if item.value_type in seen:
            raise ValidationError(f"{title} must have a distinct value type, but {item.value_type!r} repeats")
        seen.add(item.value_type)
        if _require_int(item.format, f"{title} format") not in USER_FORMATS:
            raise ValidationError(
                f"{title} must have format 0 (string), 1 (base64) or 2 (hex), got {_format_name(item.format)}"
            )
        if not isinstance(item.required, bool):
            raise ValidationError(f"{title} required must be a bool, got {type(item.required).__name__}")
        low = _require_int(item.min_length, f"{title} min_length")
        high = _require_int(item.max_length, f"{title} max_length")
        if not 0 <= low <= high <= MAX_DATA_BYTES:
            raise ValidationError(
                f"{title} must have 0 <= min_length <= max_length <= {MAX_DATA_BYTES}, got {low} and {high}"
            )


def check_template(fields: Sequence[TemplateField], values: Iterable[HandleValue]) -> None:
    """Check a record's values against a template, as the contract does.

    Values are checked in ascending index order (the first breach is reported), then the
    required fields in field order. Types match exactly (case-sensitive).

    :param fields: The template's fields.
    :param values: The record's values.
    :raises ValidationError: A value's type is not a field, its format differs from the
        field's or its data length is out of the field's bounds; or a required field has
        no value.
    """
    by_type = {item.value_type: item for item in fields}
    present: set[str] = set()
    for value in sorted(values, key=lambda value: value.index):
        where = f"value at index {value.index}"
        spec = by_type.get(value.type)
        if spec is None:
            raise ValidationError(f"{where} must have a type the template defines, got {value.type!r}")
        if value.format != spec.format:
            raise ValidationError(
                f"{where} must have format {_format_name(spec.format)} as template field {spec.value_type!r} "
                f"says, got {_format_name(value.format)}"
            )
        if not spec.min_length <= len(value.data) <= spec.max_length:
            raise ValidationError(
                f"{where} must have {spec.min_length}-{spec.max_length} bytes of data as template field "
                f"{spec.value_type!r} says, got {len(value.data)}"
            )
        present.add(value.type)
    for number, item in enumerate(fields):
        if item.required and item.value_type not in present:
            raise ValidationError(
                f"values must include type {item.value_type!r}, which template field {number} requires"
            )


def template_id(prefix_node: bytes, name: str, version: int) -> TemplateId:
    """A template's id, ``keccak(prefixNode ‖ keccak(name) ‖ version:uint32)``.

    :param prefix_node: The node id of the prefix the template belongs to.
    :param name: The template name.
    :param version: The template version.
    :return: 32 bytes.
    :raises ValidationError: An argument breaks its rule.
    """
    node = validate_bytes32(prefix_node, "prefix node")
    name_hash = keccak(validate_template_name(name).encode("ascii"))
    version_bytes = _validate_template_version(version).to_bytes(4, "big")
    return TemplateId(keccak(node + name_hash + version_bytes))

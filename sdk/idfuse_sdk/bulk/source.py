"""Reading a bulk-registration file (CSV or JSONL) into checked batch records.

CSV: the header's first column is ``suffix``; an optional ``template`` column holds a
template id (``0x`` and 64 hex digits, empty for none); every other column is a value,
named ``TYPE`` (its index is its position among the value columns, from 1),
``INDEX:TYPE`` or ``INDEX:TYPE:FORMAT`` (``string``, ``base64`` or ``hex``). An empty cell
means no value. JSONL: one object a line, ``{"suffix": …, "values": [{"index", "type",
"data", "format"?, "ttl"?, "permissions"?}], "template"?}``; blank lines are skipped.
Every record is checked here; a bad one raises :class:`BulkSourceError` with its line.
"""

from __future__ import annotations

import csv
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idfuse_sdk.encoding import BatchRecord, HandleValue, pack_batch_record, parse_format, value_data
from idfuse_sdk.exceptions import BulkSourceError, ValidationError
from idfuse_sdk.identifiers import prefix_node
from idfuse_sdk.types import ZERO32, ValueFormat

__all__ = ["SourceRecord", "read_source"]


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A checked record of the file, with its line, handle key and its bytes in a
    ``registerBatch`` blob (:meth:`idfuse_sdk.encoding.BatchEntry.to_bytes`)."""

    line: int
    record: BatchRecord
    handle_key: bytes
    packed: bytes


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    type: str
    format: ValueFormat


def _template(value: object) -> bytes:
    if value in (None, ""):
        return ZERO32
    text = str(value)
    if not (isinstance(value, str) and text.startswith("0x") and len(text) == 66):
        raise ValidationError(f"template must be 0x and 64 hex digits, not {text!r}")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise ValidationError(f"template must be 0x and 64 hex digits, not {text!r}") from None


def _columns(header: list[str]) -> tuple[bool, list[_Column]]:
    if not header or header[0].strip() != "suffix":
        raise BulkSourceError("the CSV header must start with a suffix column", 1)
    has_template = len(header) > 1 and header[1].strip() == "template"
    columns: list[_Column] = []
    for position, name in enumerate(header[2 if has_template else 1 :], start=1):
        parts = name.strip().split(":")
        try:
            if len(parts) == 1:
                columns.append(_Column(position, parts[0], ValueFormat.STRING))
            elif len(parts) in (2, 3):
                fmt = parse_format(parts[2], f"column {name!r}") if len(parts) == 3 else ValueFormat.STRING
                columns.append(_Column(int(parts[0]), parts[1], fmt))
            else:
                raise ValueError
        except ValueError as error:
            detail = str(error) or "use TYPE, INDEX:TYPE or INDEX:TYPE:FORMAT"
            raise BulkSourceError(f"bad CSV column {name!r}: {detail}", 1) from None
    if len({column.index for column in columns}) != len(columns):
        raise BulkSourceError("two CSV columns name the same value index", 1)
    return has_template, columns


def _csv_rows(path: Path) -> Iterator[tuple[int, str, bytes, list[HandleValue]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        has_template, columns = _columns(header or [])
        width = len(columns) + 1 + has_template
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                raise BulkSourceError(f"expected {width} cells, got {len(row)}", line)
            try:
                template = _template(row[1]) if has_template else ZERO32
                cells = row[1 + has_template :]
                values = [
                    HandleValue(
                        column.index,
                        column.type,
                        value_data(cell, column.format, f"column {column.type}"),
                        column.format,
                    )
                    for column, cell in zip(columns, cells, strict=True)
                    if cell != ""
                ]
            except ValidationError as error:
                raise BulkSourceError(str(error), line) from None
            yield line, row[0], template, values


def _json_value(item: Any) -> HandleValue:
    if not isinstance(item, dict) or not {"index", "type", "data"} <= item.keys():
        raise ValidationError("each value must be an object with index, type and data")
    fmt = parse_format(item.get("format", "string"), "value")
    index, type_, data = item["index"], item["type"], item["data"]
    if not isinstance(index, int) or not isinstance(type_, str) or not isinstance(data, str):
        raise ValidationError("a value's index must be an integer, its type and data strings")
    options = {name: item[name] for name in ("ttl", "permissions") if name in item}
    return HandleValue(index, type_, value_data(data, fmt, f"value {index}"), fmt, **options)


def _jsonl_rows(path: Path) -> Iterator[tuple[int, str, bytes, list[HandleValue]]]:
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                document = json.loads(text)
                if not isinstance(document, dict) or not isinstance(document.get("suffix"), str):
                    raise ValidationError("each line must be a JSON object with a suffix string")
                values = document.get("values")
                if not isinstance(values, list):
                    raise ValidationError("values must be a list")
                yield (
                    line,
                    document["suffix"],
                    _template(document.get("template")),
                    [_json_value(item) for item in values],
                )
            except (ValidationError, json.JSONDecodeError) as error:
                raise BulkSourceError(str(error), line) from None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block, unless it was off already.

    Reading a file, every record read is kept (and none holds a cycle), so each of the
    collector's passes triggered on the way would walk every record read so far, and the
    process's long-lived objects with them: a quarter of the reading time (docs/benchmarks.md,
    "Bulk registration"). Reference counting still frees everything dropped meanwhile.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def read_source(path: str | Path, prefix: str) -> tuple[list[SourceRecord], list[tuple[int, str]]]:
    """Every record of the file at ``path`` (``.jsonl``/``.ndjson`` as JSONL, else CSV), checked.

    :return: The records in file order, and the (line, suffix) of each repeated suffix (the
        first occurrence wins and is kept).
    :raises BulkSourceError: a row breaks a rule, or the file cannot be read.
    """
    source = Path(path)
    node = prefix_node(prefix)
    rows = _jsonl_rows if source.suffix.lower() in (".jsonl", ".ndjson") else _csv_rows
    records: list[SourceRecord] = []
    repeats: list[tuple[int, str]] = []
    seen: set[bytes] = set()
    try:
        with _collector_paused():
            for line, suffix, template, values in rows(source):
                record = BatchRecord(suffix, tuple(values), template)
                try:
                    key, packed = pack_batch_record(node, record)
                except ValidationError as error:
                    raise BulkSourceError(str(error), line) from None
                if key in seen:
                    repeats.append((line, suffix))
                    continue
                seen.add(key)
                records.append(SourceRecord(line, record, bytes(key), packed))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BulkSourceError(f"cannot read {source}: {error}") from None
    if not records:
        raise BulkSourceError(f"{source} holds no records")
    return records, repeats

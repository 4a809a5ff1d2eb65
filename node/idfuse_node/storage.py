"""LevelDB helpers shared by every store the node keeps (the ledger's chain, the index).

:func:`open_leveldb` opens a database the one careful way both stores use: it refuses a path
that holds something else (:func:`refuse_foreign_path`) and a database whose table files do not
match its MANIFEST (:func:`check_tables`, before LevelDB changes anything), and opens with
LevelDB's ``paranoid_checks``, so a damaged log is refused instead of dropped;
:func:`storage_error` maps a plyvel failure to the node's typed storage errors. They only name
paths and read files; they import nothing but plyvel.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Final

import plyvel  # type: ignore[import-untyped]  # plyvel ships no type information

from idfuse_node.exceptions import (
    StorageCorruptError,
    StorageError,
    StorageLockedError,
    StorageUnavailableError,
)

__all__ = ["check_tables", "open_leveldb", "refuse_foreign_path", "storage_error"]

# LevelDB writes CURRENT (naming the live MANIFEST) when it creates a database; a directory
# with files but no CURRENT was not written by LevelDB, or has lost its root.
_CURRENT = "CURRENT"
_PERMISSION_MARKERS = ("Permission denied", "Read-only file system", "Operation not permitted")
_DISK_FULL_MARKERS = ("No space left on device", "Disk quota exceeded")


def _message(exc: BaseException) -> str:
    """plyvel puts LevelDB's status string in ``args[0]`` as bytes."""
    if exc.args and isinstance(exc.args[0], bytes):
        return exc.args[0].decode("utf-8", "replace")
    return str(exc)


def storage_error(path: Path, action: str, exc: BaseException, *, advice: str = "") -> StorageError:
    """Map a plyvel failure to the node's typed storage errors, naming the path.

    :param path: The database directory.
    :param action: What was being done (``"open"``, ``"read"``, ``"write"``), for the message.
    :param exc: What plyvel raised (``plyvel.Error``, ``OSError`` or ``RuntimeError``).
    :param advice: What the operator should do about a corrupt database (appended to a
        :class:`StorageCorruptError`'s message).
    :return: The error to raise (``from exc``).
    """
    detail = _message(exc)
    if isinstance(exc, plyvel.CorruptionError):
        return StorageCorruptError(_corrupt(f"LevelDB at {path} is corrupt ({action}): {detail}", advice))
    if isinstance(exc, RuntimeError) and "closed" in detail:
        return StorageUnavailableError(f"LevelDB at {path} is closed ({action})")
    if any(marker in detail for marker in _PERMISSION_MARKERS):
        return StorageUnavailableError(f"cannot {action} LevelDB at {path}: {detail}")
    if any(marker in detail for marker in _DISK_FULL_MARKERS):
        return StorageUnavailableError(
            f"cannot {action} LevelDB at {path}: the disk is full ({detail}); "
            "free space and start again (what was committed is kept)"
        )
    # LevelDB reports a held lock as "IO error: lock <dir>/LOCK: <reason>" (POSIX env).
    if isinstance(exc, plyvel.IOError) and "IO error: lock " in detail:
        return StorageLockedError(
            f"LevelDB at {path} is locked by another process or handle, which is using it; stop the "
            f"other idfuse command on this data directory, or give this one its own ({detail})"
        )
    return StorageUnavailableError(f"cannot {action} LevelDB at {path}: {detail}")


def refuse_foreign_path(path: Path) -> None:
    """Refuse a path that exists but is not a LevelDB directory, before LevelDB creates one.

    :param path: The database directory (it may not exist yet).
    :raises StorageCorruptError: ``path`` is a file, or a non-empty directory without ``CURRENT``.
    :raises StorageUnavailableError: ``path`` cannot be read.
    """
    if not os.path.lexists(path):
        return
    if not path.is_dir():
        raise StorageCorruptError(f"{path} exists and is not a directory, so it is not a LevelDB database")
    try:
        with os.scandir(path) as entries:
            has_entries = next(entries, None) is not None
    except OSError as exc:
        raise StorageUnavailableError(f"cannot read directory {path}: {exc}") from exc
    if has_entries and not (path / _CURRENT).is_file():
        raise StorageCorruptError(
            f"{path} is not empty and has no {_CURRENT} file, so it is not a LevelDB database; "
            "refusing to create one over it (use an empty or new directory)"
        )


def _corrupt(message: str, advice: str) -> str:
    return f"{message}; {advice}" if advice else message


def open_leveldb(path: Path, *, create: bool, advice: str = "", **options: Any) -> Any:
    """Open the LevelDB database at ``path`` with plyvel, refusing rather than repairing.

    :param path: The database directory; its parent must exist.
    :param create: Create the database when the directory is missing or empty; otherwise
        refuse a directory without one with :class:`StorageUnavailableError`.
    :param advice: What the operator should do about a corrupt database, for the message.
    :param options: More ``plyvel.DB`` options.
    :return: The plyvel handle.
    :raises StorageLockedError: Another process or handle has the directory open.
    :raises StorageCorruptError: The path is not a LevelDB directory, a table file does not
        match the MANIFEST, or LevelDB reports corruption (a damaged log included); nothing in
        the directory is changed then.
    :raises StorageUnavailableError: No database and ``create`` is false; permission denied,
        missing parent, or another I/O error.
    """
    refuse_foreign_path(path)
    if not create and not (path / _CURRENT).is_file():
        raise StorageUnavailableError(f"{path} holds no LevelDB database (and create=False)")
    check_tables(path, advice=advice)
    try:
        return plyvel.DB(os.fspath(path), create_if_missing=create, paranoid_checks=True, **options)
    except (plyvel.Error, OSError) as exc:
        raise storage_error(path, "open", exc, advice=advice) from exc


# The MANIFEST is a LevelDB log (32 KiB blocks of records with a 7-byte header: crc32c, length,
# type) of VersionEdits; these are the record types and the edit tags check_tables reads.
_LOG_BLOCK: Final = 32768
_LOG_HEADER: Final = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_TAG_COMPARATOR, _TAG_COMPACT_POINTER, _TAG_DELETED_FILE, _TAG_NEW_FILE = 1, 5, 6, 7
_TAG_NUMBERS: Final = frozenset((2, 3, 4, 9))  # log number, next file, last sequence, prev log
_MANIFEST_LIMIT: Final = 64 * 1024 * 1024


class _ManifestUnreadableError(ValueError):
    """The MANIFEST could not be parsed: leave the verdict to LevelDB's own open."""


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while offset < len(data) and shift <= 63:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7
    raise _ManifestUnreadableError("bad varint")


def _slice(data: bytes, offset: int) -> int:
    length, offset = _varint(data, offset)
    if offset + length > len(data):
        raise _ManifestUnreadableError("bad length")
    return offset + length


def _records(data: bytes) -> list[bytes]:
    """The logical records of a LevelDB log; a torn tail ends them (as LevelDB reads it)."""
    records: list[bytes] = []
    pending: bytearray | None = None
    offset = 0
    while offset + _LOG_HEADER <= len(data):
        left = _LOG_BLOCK - offset % _LOG_BLOCK
        if left < _LOG_HEADER:
            offset += left
            continue
        length = int.from_bytes(data[offset + 4 : offset + 6], "little")
        kind = data[offset + 6]
        start = offset + _LOG_HEADER
        if kind == 0 and length == 0:  # zero padding
            offset += left
            continue
        if start + length > len(data) or length > left - _LOG_HEADER:
            break
        payload = data[start : start + length]
        offset = start + length
        if kind == _FULL:
            records.append(payload)
        elif kind == _FIRST:
            pending = bytearray(payload)
        elif kind in (_MIDDLE, _LAST) and pending is not None:
            pending += payload
            if kind == _LAST:
                records.append(bytes(pending))
                pending = None
        else:
            raise _ManifestUnreadableError(f"record type {kind}")
    return records


def _live_tables(manifest: bytes) -> dict[int, int]:
    """File number to size of every table file the MANIFEST's edits leave live."""
    live: dict[tuple[int, int], int] = {}
    for record in _records(manifest):
        offset = 0
        while offset < len(record):
            tag, offset = _varint(record, offset)
            if tag == _TAG_COMPARATOR:
                offset = _slice(record, offset)
            elif tag in _TAG_NUMBERS:
                _, offset = _varint(record, offset)
            elif tag == _TAG_COMPACT_POINTER:
                _, offset = _varint(record, offset)
                offset = _slice(record, offset)
            elif tag == _TAG_DELETED_FILE:
                level, offset = _varint(record, offset)
                number, offset = _varint(record, offset)
                live.pop((level, number), None)
            elif tag == _TAG_NEW_FILE:
                level, offset = _varint(record, offset)
                number, offset = _varint(record, offset)
                size, offset = _varint(record, offset)
                offset = _slice(record, _slice(record, offset))
                live[(level, number)] = size
            else:
                raise _ManifestUnreadableError(f"tag {tag}")
    return {number: size for (_, number), size in live.items()}


def _read_manifest(path: Path) -> bytes | None:
    """The bytes of the MANIFEST ``CURRENT`` names, or None when LevelDB should judge."""
    try:
        name = (path / _CURRENT).read_bytes()
        if not name.endswith(b"\n") or b"/" in name:
            return None
        manifest = path / name[:-1].decode("ascii")
        if not stat.S_ISREG(manifest.stat().st_mode) or manifest.stat().st_size > _MANIFEST_LIMIT:
            return None
        return manifest.read_bytes()
    except (OSError, UnicodeDecodeError):
        return None


def check_tables(path: Path, *, advice: str = "") -> None:
    """Refuse a database whose live table files are missing, not files, or of another size than
    its MANIFEST records (a truncated or overwritten table), before LevelDB opens it.

    LevelDB opens table files only when it reads them: without this check a truncated or
    replaced table opens, and the first read that meets it fails as an I/O error ("Invalid
    argument"), which blames the disk rather than the database. A MANIFEST this function cannot
    parse is left to LevelDB's own open, which reports it.

    :param path: The database directory (it may not exist yet).
    :param advice: What the operator should do, for the message.
    :raises StorageCorruptError: A live table file is missing, not a file, or the wrong size.
    :raises StorageUnavailableError: A table file cannot be examined.
    """
    manifest = _read_manifest(path)
    if manifest is None:
        return
    try:
        tables = _live_tables(manifest)
    except _ManifestUnreadableError:
        return
    for number, size in sorted(tables.items()):
        candidates = [path / f"{number:06d}.ldb", path / f"{number:06d}.sst"]
        found = next((table for table in candidates if os.path.lexists(table)), None)
        if found is None:
            problem = f"table file {candidates[0].name} is missing"
        else:
            try:
                info = found.stat()
            except OSError as exc:
                raise StorageUnavailableError(f"cannot read LevelDB at {path}: {found}: {exc}") from exc
            if not stat.S_ISREG(info.st_mode):
                problem = f"table file {found.name} is not a regular file"
            elif info.st_size != size:
                problem = f"table file {found.name} is {info.st_size} bytes, its MANIFEST says {size}"
            else:
                continue
        raise StorageCorruptError(_corrupt(f"LevelDB at {path} is corrupt: {problem}", advice))

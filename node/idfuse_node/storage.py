"""LevelDB helpers shared by every store the node keeps (the ledger's chain, the index).

:func:`storage_error` maps a plyvel failure to the node's typed storage errors;
:func:`refuse_foreign_path` refuses to create a LevelDB over a path that holds something else.
Both only name paths and read directories; they import nothing but plyvel.
"""

from __future__ import annotations

import os
from pathlib import Path

import plyvel  # type: ignore[import-untyped]  # plyvel ships no type information

from idfuse_node.exceptions import (
    StorageCorruptError,
    StorageError,
    StorageLockedError,
    StorageUnavailableError,
)

__all__ = ["refuse_foreign_path", "storage_error"]

# LevelDB writes CURRENT (naming the live MANIFEST) when it creates a database; a directory
# with files but no CURRENT was not written by LevelDB, or has lost its root.
_CURRENT = "CURRENT"
_PERMISSION_MARKERS = ("Permission denied", "Read-only file system", "Operation not permitted")


def _message(exc: BaseException) -> str:
    """plyvel puts LevelDB's status string in ``args[0]`` as bytes."""
    if exc.args and isinstance(exc.args[0], bytes):
        return exc.args[0].decode("utf-8", "replace")
    return str(exc)


def storage_error(path: Path, action: str, exc: BaseException) -> StorageError:
    """Map a plyvel failure to the node's typed storage errors, naming the path.

    :param path: The database directory.
    :param action: What was being done (``"open"``, ``"read"``, ``"write"``), for the message.
    :param exc: What plyvel raised (``plyvel.Error``, ``OSError`` or ``RuntimeError``).
    :return: The error to raise (``from exc``).
    """
    detail = _message(exc)
    if isinstance(exc, plyvel.CorruptionError):
        return StorageCorruptError(f"LevelDB at {path} is corrupt ({action}): {detail}")
    if isinstance(exc, RuntimeError) and "closed" in detail:
        return StorageUnavailableError(f"LevelDB at {path} is closed ({action})")
    if any(marker in detail for marker in _PERMISSION_MARKERS):
        return StorageUnavailableError(f"cannot {action} LevelDB at {path}: {detail}")
    # LevelDB reports a held lock as "IO error: lock <dir>/LOCK: <reason>" (POSIX env).
    if isinstance(exc, plyvel.IOError) and "IO error: lock " in detail:
        return StorageLockedError(
            f"LevelDB at {path} is locked by another process or handle; "
            f"stop the other node using this data directory ({detail})"
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

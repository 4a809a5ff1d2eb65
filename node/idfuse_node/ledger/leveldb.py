"""Chain storage in LevelDB through plyvel: py-evm's ``AtomicDatabaseAPI`` over write batches.

py-evm no longer ships a LevelDB backend. :class:`LevelDB` is one: plain reads and writes go
straight to LevelDB, and :meth:`LevelDB.atomic_batch` collects changes in memory (reads see
them) and writes them with a single plyvel ``write_batch`` when the block exits cleanly,
nothing when it raises. py-evm persists state and blocks only through atomic batches, so a
batch is the unit of durability: with ``sync=True`` (the default) LevelDB fsyncs its log
before the batch returns, and a receipt handed to a client means the block is on disk.
"""

from __future__ import annotations

import atexit
import os
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import plyvel  # type: ignore[import-untyped]  # plyvel ships no type information
from eth.abc import AtomicWriteBatchAPI
from eth.db.backends.base import BaseAtomicDB, BaseDB
from eth.db.diff import DBDiffTracker, DiffMissingError
from eth_utils.exceptions import ValidationError

from idfuse_node.storage import open_leveldb as _open_leveldb
from idfuse_node.storage import storage_error as _storage_error

__all__ = ["CORRUPT_ADVICE", "LevelDB", "LevelDBWriteBatch"]

CORRUPT_ADVICE = (
    "the chain cannot be rebuilt on this node: move this directory aside and restore it from a "
    "backup (the index can then be rebuilt from the chain)"
)
"""What a corrupt chain's error tells the operator to do."""


class _ClosedHandle:
    """Stands in for the plyvel handle after ``close()``: every use fails as plyvel's would."""

    closed = True

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("Database is closed")


_CLOSED = _ClosedHandle()

# py-evm caches tries (and through them the database) in module-level lru_caches, so an
# open or merely closed plyvel handle can live until interpreter teardown, where its
# ``__dealloc__`` fails noisily ("Error in sys.excepthook"). Close every LevelDB still open
# at exit, and drop the plyvel handle on close so it is freed while Python still works.
# (Keyed by id: a DatabaseAPI is a Mapping, so it is not hashable.)
_open_databases: weakref.WeakValueDictionary[int, LevelDB] = weakref.WeakValueDictionary()


@atexit.register
def _close_open_databases() -> None:
    for db in list(_open_databases.values()):
        db.close()


class LevelDB(BaseAtomicDB):
    """py-evm's ``AtomicDatabaseAPI`` over a LevelDB directory (created if missing).

    :param path: the database directory; its parent must exist.
    :param sync: fsync LevelDB's log on every write (every batch, and every write outside
        one) before returning. Keep it on for chain data; turn it off only for throwaway
        databases.
    :raises StorageLockedError: another process or handle has the directory open.
    :raises StorageCorruptError: the path is not a LevelDB directory, a table file does not
        match the MANIFEST, or LevelDB reports it corrupt; the directory is left as it was.
    :raises StorageUnavailableError: permission denied, missing parent, or another I/O error.
    """

    def __init__(self, path: str | os.PathLike[str], *, sync: bool = True) -> None:
        self.path = Path(path)
        self.sync = sync
        self._db = _open_leveldb(self.path, create=True, advice=CORRUPT_ADVICE)
        _open_databases[id(self)] = self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, sync={self.sync})"

    # DatabaseAPI

    def __getitem__(self, key: bytes) -> bytes:
        try:
            value: bytes | None = self._db.get(key)
        except (plyvel.Error, RuntimeError) as exc:
            raise _storage_error(self.path, "read", exc, advice=CORRUPT_ADVICE) from exc
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        try:
            self._db.put(key, value, sync=self.sync)
        except (plyvel.Error, RuntimeError) as exc:
            raise _storage_error(self.path, "write", exc, advice=CORRUPT_ADVICE) from exc

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        try:
            self._db.delete(key, sync=self.sync)
        except (plyvel.Error, RuntimeError) as exc:
            raise _storage_error(self.path, "write", exc, advice=CORRUPT_ADVICE) from exc

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    # AtomicDatabaseAPI

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        """Collect writes; commit them in one LevelDB write batch unless the block raises.

        Reads through the batch see its own pending writes and deletes, then the database.
        The batch object refuses every use once the block has exited.
        """
        batch = LevelDBWriteBatch(self)
        try:
            yield batch
            batch.commit()
        finally:
            batch.decommission()

    # Lifetime

    @property
    def closed(self) -> bool:
        return self._db is _CLOSED

    def close(self) -> None:
        """Release the directory's lock; idempotent. Later use raises StorageUnavailableError."""
        handle, self._db = self._db, _CLOSED
        _open_databases.pop(id(self), None)
        if handle is not _CLOSED:
            handle.close()

    def __enter__(self) -> LevelDB:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, puts: Iterable[tuple[bytes, bytes]], deletes: Iterable[bytes]) -> None:
        """Write puts and deletes as one LevelDB write batch (all or nothing)."""
        try:
            with self._db.write_batch(sync=self.sync) as write_batch:
                for key in deletes:
                    write_batch.delete(key)
                for key, value in puts:
                    write_batch.put(key, value)
        except (plyvel.Error, RuntimeError) as exc:
            raise _storage_error(self.path, "write", exc, advice=CORRUPT_ADVICE) from exc


class LevelDBWriteBatch(BaseDB, AtomicWriteBatchAPI):
    """The view :meth:`LevelDB.atomic_batch` yields: pending changes over the database.

    Behaves like py-evm's ``AtomicDBWriteBatch``: reads see this batch's writes and deletes
    first, then the database (including writes made outside the batch meanwhile); use after
    the batch's block has exited raises ``eth_utils.ValidationError``.
    """

    def __init__(self, db: LevelDB) -> None:
        self._db: LevelDB | None = db
        self._track_diff: DBDiffTracker | None = DBDiffTracker()

    def _live(self, action: str) -> tuple[LevelDB, DBDiffTracker]:
        if self._db is None or self._track_diff is None:
            raise ValidationError(f"Cannot {action} a write batch, out of context")
        return self._db, self._track_diff

    def __getitem__(self, key: bytes) -> bytes:
        db, diff = self._live("get data from")
        try:
            return diff[key]
        except DiffMissingError as missing:
            if missing.is_deleted:
                raise KeyError(key) from None
            return db[key]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        _, diff = self._live("set data in")
        diff[key] = value

    def __delitem__(self, key: bytes) -> None:
        _, diff = self._live("delete data from")
        if key not in self:
            raise KeyError(key)
        del diff[key]

    def _exists(self, key: bytes) -> bool:
        self._live("test data existence in")
        try:
            self[key]
        except KeyError:
            return False
        return True

    def commit(self) -> None:
        """Write every pending change in one LevelDB write batch. Called by ``atomic_batch``."""
        db, tracker = self._live("commit")
        diff = tracker.diff()
        db._write(diff.pending_items(), diff.deleted_keys())

    def decommission(self) -> None:
        """Drop pending changes and refuse further use."""
        self._db = None
        self._track_diff = None

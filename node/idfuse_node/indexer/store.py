"""The index's byte-level store: :class:`IndexStore`, in memory or in LevelDB.

A store maps byte keys to byte values, iterates a key range in order (or reverse), and writes
a set of puts and deletes atomically and durably (or stages such a write, to be landed later
from another thread: :meth:`IndexStore.prepare_write`). :class:`LevelDBIndexStore` writes one
plyvel write batch with ``sync=True``; :class:`MemoryIndexStore` keeps a dict and a sorted key list.
Both refuse non-``bytes`` keys and values before changing anything, and raise
:class:`~idfuse_node.exceptions.StorageUnavailableError` once closed. Iteration sees the
store as it was when iteration began (a LevelDB iterator's implicit snapshot; a copy of the
range in memory).
"""

from __future__ import annotations

import itertools
import os
import resource
import threading
from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import plyvel  # type: ignore[import-untyped]  # plyvel ships no type information

from idfuse_node.exceptions import IndexLayoutError, StorageUnavailableError
from idfuse_node.indexer.schema import check_layout
from idfuse_node.storage import open_leveldb, storage_error

__all__ = ["IndexStore", "LevelDBIndexStore", "MemoryIndexStore", "prefix_end"]


def prefix_end(prefix: bytes) -> bytes | None:
    """The first key after every key that starts with ``prefix`` (None: no such key)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def _check_bytes(value: object, title: str) -> None:
    if not isinstance(value, bytes):
        raise TypeError(f"index store {title} must be bytes, got {type(value).__name__}")


def _is_bytes(value: object) -> bool:
    return isinstance(value, bytes)


def _check_write(puts: Mapping[bytes, bytes], deletes: Iterable[bytes]) -> list[bytes]:
    """``deletes`` as a list, once every key and value of the write is ``bytes``.

    :raises TypeError: One is not.
    """
    # one pass in C over the common case (a final-blocks write holds ~3 entries an event)
    if not all(map(_is_bytes, puts.keys())) or not all(map(_is_bytes, puts.values())):
        for key, value in puts.items():
            _check_bytes(key, "key")
            _check_bytes(value, "value")
    deleted = list(deletes)
    for key in deleted:
        _check_bytes(key, "key")
    return deleted


def _check_limit(limit: int | None) -> None:
    if limit is not None and (type(limit) is not int or limit < 0):
        raise ValueError(f"iteration limit must be a non-negative integer or None, got {limit!r}")


class IndexStore(ABC):
    """A sorted byte-key store with atomic, durable writes: what the index lives in."""

    @abstractmethod
    def get(self, key: bytes) -> bytes | None:
        """The value at ``key``, or None.

        :raises StorageUnavailableError: The store is closed or cannot be read.
        """

    @abstractmethod
    def iterate(
        self, prefix: bytes, *, start: bytes | None = None, reverse: bool = False, limit: int | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        """The entries whose keys begin with ``prefix``, in key order (or reverse).

        :param prefix: Every key yielded starts with it (``b""``: every key).
        :param start: A full key: forward, begin at the first key ``>= start``; in reverse, at
            the last key ``<= start``. Keys outside ``prefix`` are never yielded.
        :param reverse: Descending key order.
        :param limit: Yield at most this many entries.
        :raises StorageUnavailableError: The store is closed or cannot be read.
        """

    @abstractmethod
    def write(self, puts: Mapping[bytes, bytes], deletes: Iterable[bytes]) -> None:
        """Delete ``deletes`` and then put ``puts``, all or nothing, durable on return.

        A key in both ends up put. Deleting an absent key is not an error.

        :raises TypeError: A key or value is not ``bytes`` (nothing is written).
        :raises StorageError: The write failed (nothing is written).
        """

    def prepare_write(self, puts: Mapping[bytes, bytes], deletes: Iterable[bytes]) -> Callable[[], None]:
        """:meth:`write` in two steps: check and stage the write now, in the calling thread;
        the returned function writes it, durably, when called (once, from any thread). Nothing
        is written before then. Other writes must not come in between.

        :raises TypeError: A key or value is not ``bytes``.
        """
        deleted = _check_write(puts, deletes)
        staged = dict(puts)
        return lambda: self.write(staged, deleted)

    @property
    @abstractmethod
    def bytes_written(self) -> int:
        """Bytes of the keys and values this store has put since it was opened (landed writes)."""

    @abstractmethod
    def compact(self) -> None:
        """Rewrite the store so that a read looks in as few places as it can; blocks until done,
        reads and writes may run meanwhile.

        :raises StorageError: The compaction failed.
        """

    @abstractmethod
    def close(self) -> None:
        """Release the store; idempotent. Later use raises StorageUnavailableError."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class MemoryIndexStore(IndexStore):
    """An :class:`IndexStore` in memory: a dict and a sorted key list (for tests and tools)."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._keys: list[bytes] = []
        self._closed = False
        self._written = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<{len(self._keys)} keys>)"

    @property
    def bytes_written(self) -> int:
        return self._written

    def compact(self) -> None:
        """Nothing to do: a dict has no levels to merge."""
        self._live("compact")

    def _live(self, action: str) -> None:
        if self._closed:
            raise StorageUnavailableError(f"memory index store is closed ({action})")

    def get(self, key: bytes) -> bytes | None:
        self._live("read")
        _check_bytes(key, "key")
        return self._data.get(key)

    def iterate(
        self, prefix: bytes, *, start: bytes | None = None, reverse: bool = False, limit: int | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        self._live("read")
        _check_bytes(prefix, "prefix")
        if start is not None:
            _check_bytes(start, "start")
        _check_limit(limit)
        keys = self._keys
        low = bisect_left(keys, prefix)
        end = prefix_end(prefix)
        high = len(keys) if end is None else bisect_left(keys, end)
        if start is not None:
            if reverse:
                high = min(high, bisect_right(keys, start))
            else:
                low = max(low, bisect_left(keys, start))
        if low >= high:
            return iter(())
        if reverse:
            if limit is not None:
                low = max(low, high - limit)
            selected = keys[low:high]
            selected.reverse()
        else:
            if limit is not None:
                high = min(high, low + limit)
            selected = keys[low:high]
        data = self._data
        return iter([(key, data[key]) for key in selected])

    def write(self, puts: Mapping[bytes, bytes], deletes: Iterable[bytes]) -> None:
        self._live("write")
        deleted = _check_write(puts, deletes)
        data, keys = self._data, self._keys
        for key in deleted:
            if data.pop(key, None) is not None:
                del keys[bisect_left(keys, key)]
        for key, value in puts.items():
            if key not in data:
                keys.insert(bisect_left(keys, key), key)
            data[key] = value
            self._written += len(key) + len(value)

    def close(self) -> None:
        self._closed = True


BLOOM_FILTER_BITS: Final = 10
"""Bits a key of LevelDB's bloom filters per table file: a read of an absent key (the applier
asks for a handle before creating it) then skips nearly every table instead of searching each
one's index and data block (about 1% false positives)."""


def max_open_files() -> int:
    """Table files LevelDB keeps open (its table cache): half this process's open-file limit
    (the other half for connections and the rest), between 64 and 65,536. An index over ~2 GB
    (tables of 2 MB) needs thousands: with too few, most random reads reopen a table, its index
    and filter blocks read and parsed again (a get on the 10M-identifier index took ~230 µs of
    CPU with 1,000 open against ~40 with every table open; docs/benchmarks.md, "Scale"). Raise
    ``ulimit -n`` for a large index. LevelDB's own default, 1,000, is not the floor: under the
    common soft limit of 1,024 it would leave a resolver a few dozen descriptors for its
    connections."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 2 * 65_536
    return max(64, min(65_536, soft // 2))


WRITE_BUFFER_BYTES: Final = 32 << 20
"""LevelDB's memtable (its default: 4 MiB): a backfill writes hundreds of MB, and each memtable
becomes a level-0 table that compaction merges again."""
TABLE_FILE_BYTES: Final = 8 << 20
"""Table files' size (LevelDB's default: 2 MiB): a 10-million-identifier index is then about a
thousand tables, not thousands, for the table cache to keep open."""

COMPRESSION: Final = None
"""Tables are written uncompressed (LevelDB's default is snappy). A resolution is a random read
over the whole index: from a snappy table every read decompresses a 4 KB block and caches it
(evicting another), about 5 µs; from an uncompressed table LevelDB hands back the bytes of the
mapped file, about 1.2 µs, as fast as a read from its block cache (docs/benchmarks.md, "Scale").
The index is then about 1.7 times larger on disk. Tables written compressed by an earlier
version stay readable, and compressed until a compaction merges them (one in the deepest level
may never be); an index rebuilt from the chain is uncompressed throughout."""


CORRUPT_ADVICE: Final = (
    "the index can be rebuilt from the chain: stop the node, delete this index directory "
    "and start again (the chain is kept apart and is not affected)"
)
"""What a corrupt index's error tells the operator to do."""


class LevelDBIndexStore(IndexStore):
    """An :class:`IndexStore` in a LevelDB directory through plyvel.

    :param path: The database directory; its parent must exist.
    :param create: Create the database when the directory is missing or empty; otherwise
        refuse with StorageUnavailableError.
    :raises StorageLockedError: Another process or handle has the directory open.
    :raises StorageCorruptError: The path is not a LevelDB directory, a table file does not
        match the MANIFEST, or LevelDB reports it corrupt; the directory is left as it was.
    :raises StorageUnavailableError: Permission denied, missing parent, or another I/O error.
    :raises IndexLayoutError: The directory holds an index in an earlier layout
        (:func:`~idfuse_node.indexer.schema.check_layout`); it is closed again, unchanged.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        self._db: Any = open_leveldb(
            self.path,
            create=create,
            advice=CORRUPT_ADVICE,
            bloom_filter_bits=BLOOM_FILTER_BITS,
            max_open_files=max_open_files(),
            write_buffer_size=WRITE_BUFFER_BYTES,
            max_file_size=TABLE_FILE_BYTES,
            compression=COMPRESSION,
        )
        self._written = 0
        self._compacting = threading.Lock()  # close() waits for a compaction in progress
        try:
            check_layout(self)
        except IndexLayoutError:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    @property
    def bytes_written(self) -> int:
        return self._written

    def _handle(self, action: str) -> Any:
        if self._db is None:
            raise StorageUnavailableError(f"LevelDB at {self.path} is closed ({action})")
        return self._db

    def get(self, key: bytes) -> bytes | None:
        db = self._handle("read")
        _check_bytes(key, "key")
        try:
            value: bytes | None = db.get(key)
        except (plyvel.Error, RuntimeError) as exc:
            raise storage_error(self.path, "read", exc, advice=CORRUPT_ADVICE) from exc
        return value

    def iterate(
        self, prefix: bytes, *, start: bytes | None = None, reverse: bool = False, limit: int | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        db = self._handle("read")
        _check_bytes(prefix, "prefix")
        if start is not None:
            _check_bytes(start, "start")
        _check_limit(limit)
        end = prefix_end(prefix)
        options: dict[str, Any] = {"reverse": reverse, "start": prefix or None, "stop": end}
        if start is not None:
            if reverse:
                if end is None or start < end:
                    options["stop"] = start
                    options["include_stop"] = True
            elif start > prefix:
                options["start"] = start
        if (
            options["start"] is not None
            and options["stop"] is not None
            and options["start"] > options["stop"]
        ):
            return iter(())
        floor = None
        if reverse and options["stop"] is None:
            # plyvel yields nothing in reverse from a start equal to the last key when there
            # is no stop; iterate from the end and stop below the start by hand instead.
            floor = options.pop("start")
        try:
            iterator = db.iterator(**options)
        except (plyvel.Error, RuntimeError) as exc:
            raise storage_error(self.path, "read", exc, advice=CORRUPT_ADVICE) from exc
        return self._entries(iterator, limit, floor)

    def _entries(
        self, iterator: Any, limit: int | None, floor: bytes | None
    ) -> Iterator[tuple[bytes, bytes]]:
        try:
            entries: Iterator[tuple[bytes, bytes]] = iterator
            if floor is not None:
                entries = itertools.takewhile(lambda entry: entry[0] >= floor, entries)
            if limit is not None:
                entries = itertools.islice(entries, limit)
            yield from entries
        except (plyvel.Error, RuntimeError) as exc:
            raise storage_error(self.path, "read", exc, advice=CORRUPT_ADVICE) from exc
        finally:
            iterator.close()

    def write(self, puts: Mapping[bytes, bytes], deletes: Iterable[bytes]) -> None:
        self.prepare_write(puts, deletes)()

    def prepare_write(self, puts: Mapping[bytes, bytes], deletes: Iterable[bytes]) -> Callable[[], None]:
        """A plyvel write batch filled now; the function returned writes it (one LevelDB write,
        synced, done without the interpreter lock)."""
        db = self._handle("write")
        deleted = _check_write(puts, deletes)
        size = 0
        try:
            batch = db.write_batch(sync=True)
            for key in deleted:
                batch.delete(key)
            for key, value in puts.items():
                batch.put(key, value)
                size += len(key) + len(value)
        except (plyvel.Error, RuntimeError) as exc:
            raise storage_error(self.path, "write", exc, advice=CORRUPT_ADVICE) from exc

        def land() -> None:
            self._handle("write")
            try:
                batch.write()
            except (plyvel.Error, RuntimeError) as exc:
                raise storage_error(self.path, "write", exc, advice=CORRUPT_ADVICE) from exc
            self._written += size  # one write lands at a time (prepare_write's contract)

        return land

    def compact(self) -> None:
        """Compact the whole index: LevelDB rewrites every table into the deepest level it fits
        in, so a read then looks in one table instead of one a level. Blocks until done
        (minutes for a 10-million-identifier index); reads and writes may run meanwhile.
        Worth it after a large backfill, whose writes outrun LevelDB's own compaction
        (docs/benchmarks.md, "Scale"); the indexer does it by itself after one
        (:class:`~idfuse_node.indexer.follower.Indexer`'s ``compact_after``)."""
        with self._compacting:
            db = self._handle("compact")
            try:
                db.compact_range(start=b"\x00", stop=b"\xff")  # every key (all begin "v")
            except (plyvel.Error, RuntimeError) as exc:
                raise storage_error(self.path, "compact", exc, advice=CORRUPT_ADVICE) from exc

    def close(self) -> None:
        """Close the database, after a compaction in progress in another thread has finished
        (LevelDB's handle must outlive it); idempotent."""
        with self._compacting:
            handle, self._db = self._db, None
        if handle is not None:
            handle.close()

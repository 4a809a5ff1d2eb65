"""An :class:`~idfuse_node.indexer.store.IndexStore` whose writes land in a background thread.

A backfill alternates between Python work (decoding and applying a range of blocks) and one
large store write (about 8 µs an event in LevelDB: its log, its memtable, the fsync), which
plyvel does without the interpreter lock. :class:`WriteBehindStore` lets the two overlap:
:meth:`~WriteBehindStore.write` hands the write to its thread and returns, and the caller
applies the next range meanwhile. One write is in flight at most; reads see it as if it had
landed.

Nothing about durability or order changes for what the index ends up holding: each write is
still one atomic, synced write of the underlying store, in the order given, and a write
starts only after the one before it has landed. A failed write raises from the next
:meth:`~WriteBehindStore.write`, :meth:`~WriteBehindStore.flush` or
:meth:`~WriteBehindStore.close`, and nothing written after it is ever started. A crash
while a write is in flight is a crash before that write: the checkpoint it carries is not
stored, and a restart indexes its blocks again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from idfuse_node.exceptions import StorageUnavailableError
from idfuse_node.indexer.store import IndexStore

__all__ = ["WriteBehindStore"]


class WriteBehindStore(IndexStore):
    """``store``, with each :meth:`write` done in a background thread.

    ``write`` returns once the write is started (its keys and values checked); it is durable
    after the next ``write``, :meth:`flush` or :meth:`close` returns. :meth:`get` sees the
    write in flight; :meth:`iterate` first waits for it. Closing this store waits for the
    write in flight and leaves ``store`` open; this one then raises StorageUnavailableError.

    :param store: The store written to. Only this wrapper may write it meanwhile.
    """

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="idfuse-index-write")
        self._inflight: Future[None] | None = None
        self._puts: Mapping[bytes, bytes] = {}
        self._deletes: frozenset[bytes] = frozenset()
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store!r})"

    def _live(self, action: str) -> None:
        if self._closed:
            raise StorageUnavailableError(f"the write-behind view of {self.store!r} is closed ({action})")

    def get(self, key: bytes) -> bytes | None:
        self._live("read")
        if self._inflight is not None:
            value = self._puts.get(key)
            if value is not None:
                return value
            if key in self._deletes:
                return None
        return self.store.get(key)

    def iterate(
        self, prefix: bytes, *, start: bytes | None = None, reverse: bool = False, limit: int | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        self._live("read")
        self.flush()
        return self.store.iterate(prefix, start=start, reverse=reverse, limit=limit)

    def write(self, puts: Mapping[bytes, bytes], deletes: Iterable[bytes]) -> None:
        """Start writing ``puts`` and ``deletes`` once the write in flight has landed.

        :raises TypeError: A key or value is not ``bytes`` (nothing is written).
        :raises StorageError: The write before this one failed (this one is not started).
        """
        self._live("write")
        deleted = list(deletes)
        land = self.store.prepare_write(puts, deleted)  # in this thread: no fight for the lock
        self.flush()
        self._puts, self._deletes = dict(puts), frozenset(deleted)
        self._inflight = self._thread.submit(land)

    @property
    def bytes_written(self) -> int:
        """The store underneath's: writes that have landed."""
        return self.store.bytes_written

    def compact(self) -> None:
        """Compact the store underneath (its writes may go on meanwhile)."""
        self._live("compact")
        self.store.compact()

    def flush(self) -> None:
        """Wait until the write in flight, if any, has landed.

        :raises StorageError: It failed.
        """
        inflight, self._inflight = self._inflight, None
        if inflight is None:
            return
        try:
            inflight.result()
        finally:
            self._puts, self._deletes = {}, frozenset()

    def close(self) -> None:
        """Wait for the write in flight (raising its error) and stop the thread; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self.flush()
        finally:
            self._thread.shutdown()

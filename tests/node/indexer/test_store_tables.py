"""The index store's LevelDB tables: the table cache follows the process's open-file limit, and
tables are written uncompressed."""

import resource

import pytest

from idfuse_node.indexer import store as store_module
from idfuse_node.indexer.store import LevelDBIndexStore, max_open_files


@pytest.fixture
def nofile():
    """Set the soft open-file limit for one test, then restore it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def set_soft(value: int) -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(value, hard), hard))

    yield set_soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize(
    ("soft", "expected"),
    [
        (100, 64),  # the floor
        (1024, 512),  # the other half for the resolver's connections
        (20_000, 10_000),
        (200_000, 65_536),  # the cap
        (resource.RLIM_INFINITY, 65_536),
    ],
)
def test_half_the_limit_bounded_by_a_floor_and_a_cap(monkeypatch, soft, expected):
    # every limit, whatever this machine's hard limit allows setting
    monkeypatch.setattr(store_module.resource, "getrlimit", lambda _: (soft, resource.RLIM_INFINITY))
    assert max_open_files() == expected


def test_a_store_opens_and_serves_under_a_small_open_file_limit(tmp_path, nofile):
    # 64 tables at 128 descriptors: LevelDB needs its own files besides (log, manifest, lock)
    nofile(128)
    assert max_open_files() == 64
    path = tmp_path / "index"
    for part in range(4):  # each reopen leaves a table: reads below open every one
        with LevelDBIndexStore(path) as store:
            store.write({b"v3:k%d" % n: b"v%d" % part for n in range(part, 1000, 4)}, [])
    with LevelDBIndexStore(path) as store:
        assert len(list(path.glob("*.ldb"))) >= 4
        assert store.get(b"v3:k999") == b"v3"
        assert dict(store.iterate(b"v3:k")) == {b"v3:k%d" % n: b"v%d" % (n % 4) for n in range(1000)}


def test_tables_are_written_uncompressed(tmp_path):
    # 2 MB of values snappy would squeeze to a few KB: the tables must hold them as they are,
    # so a random read is a look into the mapped table, not a block to decompress and cache
    path = tmp_path / "index"
    values = {b"v5:k%05d" % n: b"\0" * 1000 for n in range(2000)}
    with LevelDBIndexStore(path) as store:
        store.write(values, [])
    with LevelDBIndexStore(path) as store:  # reopened: the log is now a table
        assert store.get(b"v5:k01999") == b"\0" * 1000
    tables = sum(table.stat().st_size for table in path.glob("*.ldb"))
    assert tables >= sum(len(key) + len(value) for key, value in values.items())

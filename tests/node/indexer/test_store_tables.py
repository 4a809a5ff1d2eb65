"""The index store's LevelDB table cache follows the process's open-file limit."""

import resource

import pytest

from idfuse_node.indexer.store import LevelDBIndexStore, max_open_files


@pytest.fixture
def nofile():
    """Set the soft open-file limit for one test, then restore it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def set_soft(value: int) -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(value, hard), hard))

    yield set_soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_half_the_limit_bounded_by_a_floor_and_a_cap(nofile):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    nofile(1024)
    assert max_open_files() == 512  # the other half for the resolver's connections
    nofile(100)
    assert max_open_files() == 64
    if hard >= 20_000:
        nofile(20_000)
        assert max_open_files() == 10_000
    if hard == resource.RLIM_INFINITY or hard >= 200_000:
        nofile(200_000)
        assert max_open_files() == 65_536


def test_a_store_opens_and_serves_under_a_small_open_file_limit(tmp_path, nofile):
    # 64 tables at 128 descriptors: LevelDB needs its own files besides (log, manifest, lock)
    nofile(128)
    assert max_open_files() == 64
    with LevelDBIndexStore(tmp_path / "index") as store:
        store.write({b"v1:k%d" % n: b"v" for n in range(1000)}, [])
        assert store.get(b"v1:k999") == b"v"
        assert len(list(store.iterate(b"v1:k"))) == 1000

"""An index written in an earlier layout is refused, named, and left as it was."""

import plyvel
import pytest

from idfuse_node.exceptions import IndexLayoutError
from idfuse_node.indexer import schema
from idfuse_node.indexer.store import LevelDBIndexStore


def _contents(path):
    db = plyvel.DB(str(path))
    try:
        return dict(db)
    finally:
        db.close()


@pytest.mark.parametrize("earlier", schema.EARLIER_KEY_PREFIXES)
@pytest.mark.parametrize("key", [b"meta:chain", b"meta:checkpoint"])
def test_an_earlier_layout_is_refused(tmp_path, earlier, key):
    path = tmp_path / "index"
    db = plyvel.DB(str(path), create_if_missing=True)
    db.put(earlier + key, b"{}")
    db.put(earlier + b"handle:" + bytes(32), b"{}")
    db.close()
    before = _contents(path)
    layout = earlier.decode().rstrip(":")
    expected = f"layout {layout}; this version reads layout v{schema.SCHEMA_VERSION}"
    with pytest.raises(IndexLayoutError, match=expected):
        LevelDBIndexStore(path)
    assert _contents(path) == before


def test_the_current_layout_opens(tmp_path):
    with LevelDBIndexStore(tmp_path / "index") as store:
        store.write({schema.CHAIN_KEY: b"{}"}, [])
    with LevelDBIndexStore(tmp_path / "index") as store:
        assert store.get(schema.CHAIN_KEY) == b"{}"

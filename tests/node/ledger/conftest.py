import pytest
from eth.db.atomic import AtomicDB

from idfuse_node.ledger.leveldb import LevelDB


@pytest.fixture
def leveldb(tmp_path):
    with LevelDB(tmp_path / "chain") as db:
        yield db


@pytest.fixture(params=["memory", "leveldb"])
def any_atomic_db(request, tmp_path):
    """Every AtomicDatabaseAPI backend the ledger can run on."""
    if request.param == "memory":
        yield AtomicDB()
    else:
        with LevelDB(tmp_path / "chain") as db:
            yield db

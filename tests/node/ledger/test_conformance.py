"""py-evm's own database conformance suites, run against every backend the ledger can use."""

import pytest
from eth.tools.db.atomic import AtomicDatabaseBatchAPITestSuite
from eth.tools.db.base import DatabaseAPITestSuite


@pytest.fixture
def db(any_atomic_db):
    return any_atomic_db


@pytest.fixture
def atomic_db(any_atomic_db):
    return any_atomic_db


class TestDatabaseAPI(DatabaseAPITestSuite):
    pass


class TestAtomicDatabaseBatchAPI(AtomicDatabaseBatchAPITestSuite):
    pass


@pytest.fixture
def batch(any_atomic_db):
    with any_atomic_db.atomic_batch() as batch:
        yield batch


class TestWriteBatchDatabaseAPI(DatabaseAPITestSuite):
    """A write batch is itself a DatabaseAPI: the plain suite holds inside one."""

    @pytest.fixture
    def db(self, batch):
        return batch

"""The embedded consortium ledger: py-evm execution over LevelDB chain storage."""

from idfuse_node.ledger.leveldb import LevelDB, LevelDBWriteBatch

__all__ = ["LevelDB", "LevelDBWriteBatch"]

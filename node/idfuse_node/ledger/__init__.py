"""The embedded consortium ledger: py-evm execution, QBFT-sealed blocks, LevelDB chain storage."""

from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.genesis import GenesisConfig
from idfuse_node.ledger.leveldb import LevelDB, LevelDBWriteBatch

__all__ = ["GenesisConfig", "Ledger", "LevelDB", "LevelDBWriteBatch"]

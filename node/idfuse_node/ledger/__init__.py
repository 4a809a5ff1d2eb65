"""The embedded consortium ledger: py-evm execution, QBFT-sealed blocks, LevelDB chain storage."""

from idfuse_node.ledger.bootstrap import bootstrap_registries, registry_addresses
from idfuse_node.ledger.chain import Ledger
from idfuse_node.ledger.genesis import GenesisConfig
from idfuse_node.ledger.leveldb import LevelDB, LevelDBWriteBatch
from idfuse_node.ledger.producer import BlockProducer
from idfuse_node.ledger.txpool import TxPool

__all__ = [
    "BlockProducer",
    "GenesisConfig",
    "Ledger",
    "LevelDB",
    "LevelDBWriteBatch",
    "TxPool",
    "bootstrap_registries",
    "registry_addresses",
]

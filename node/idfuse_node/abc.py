"""The node's interfaces, kept in one place as py-evm keeps its own in ``eth.abc``.

Names end in ``API``; partial implementations start with ``Base``; concrete classes are
named for their backend. The ledger needs no interface of its own yet: its chain store is
py-evm's :class:`eth.abc.AtomicDatabaseAPI`, implemented over LevelDB by
:class:`idfuse_node.ledger.leveldb.LevelDB` and in memory by py-evm's ``AtomicDB``.
"""

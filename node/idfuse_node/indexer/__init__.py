"""The indexer: follows an EVM chain over JSON-RPC and writes the registry's state into an index.

docs/index.md is the specification: :mod:`~idfuse_node.indexer.records` holds the stored
records, :mod:`~idfuse_node.indexer.schema` builds every key, :mod:`~idfuse_node.indexer.store`
is the byte-level store (memory or LevelDB), :mod:`~idfuse_node.indexer.writer` commits one
block's effects with its undo log, and :mod:`~idfuse_node.indexer.reader` is the typed,
read-only view the resolver uses. Import the submodules; this package re-exports nothing.
"""

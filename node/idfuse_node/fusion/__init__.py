"""Fusion: the ledger, the indexer and the resolver of one data directory in one process.

:class:`FusionNode` composes them (the indexer follows the ledger through its own JSON-RPC URL,
as it would any chain); :func:`node_status` asks a running node how it is doing.
"""

from idfuse_node.fusion.node import FusionNode
from idfuse_node.fusion.status import NodeStatus, node_status

__all__ = ["FusionNode", "NodeStatus", "node_status"]

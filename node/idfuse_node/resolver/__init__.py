"""The resolver: a read-only ASGI service over the index (docs/resolver.md).

:func:`create_app` builds the app over an :class:`~idfuse_node.indexer.reader.IndexReader`;
:class:`ResolverServer` serves it with uvicorn in a background thread.
"""

from idfuse_node.resolver.app import ResolverApp, create_app
from idfuse_node.resolver.server import ResolverServer
from idfuse_node.resolver.settings import ResolverSettings

__all__ = ["ResolverApp", "ResolverServer", "ResolverSettings", "create_app"]

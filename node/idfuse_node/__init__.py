"""idfuse node: the consortium ledger, the indexer and the resolver (install `idfuse[node]`)."""

__version__ = "0.1.0"

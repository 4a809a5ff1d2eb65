"""idfuse SDK: identifier rules, canonical encodings, Merkle proofs and contract bindings.

The ground floor of idfuse (docs/data-model.md): the node imports these modules, so a node
and its clients can never disagree on an encoding.
"""

__version__ = "0.1.0"

"""Domain types and the limits of docs/data-model.md, in one place.

Byte-string ids (``Node``, ``HandleKey``, ``TemplateId``, ``Commitment``) are always 32
bytes; the functions that make them (``identifiers``, ``encoding``) are the only places
that should call the ``NewType`` constructors.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final, NewType

Prefix = NewType("Prefix", str)
"""A whole prefix such as ``88.100.1``, validated, stored as given (case preserved)."""

Handle = NewType("Handle", str)
"""A whole handle, ``prefix/suffix``."""

Node = NewType("Node", bytes)
"""A prefix's 32-byte node id (ENS-style, over lower-cased labels)."""

HandleKey = NewType("HandleKey", bytes)
"""A handle's 32-byte key, ``keccak(node(prefix) ‖ keccak(suffix))``."""

TemplateId = NewType("TemplateId", bytes)
"""A template's 32-byte id, ``keccak(prefixNode ‖ keccak(name) ‖ version:uint32)``."""

Commitment = NewType("Commitment", bytes)
"""A handle's 32-byte commitment, ``keccak(template ‖ encodeValues(values))``."""


class ValueFormat(IntEnum):
    """How a value's data is to be read. Only STRING, BASE64 and HEX may be written; ADMIN
    and SITE are reserved for the values a resolver derives (``HS_ADMIN``, ``HS_SITE``)."""

    STRING = 0
    BASE64 = 1
    HEX = 2
    ADMIN = 3
    SITE = 4


USER_FORMATS: Final = frozenset({ValueFormat.STRING, ValueFormat.BASE64, ValueFormat.HEX})
"""The formats a user may write on chain."""

# Permission bits of a value (4 bits).
ADMIN_READ: Final = 8
ADMIN_WRITE: Final = 4
PUBLIC_READ: Final = 2
PUBLIC_WRITE: Final = 1
MAX_PERMISSIONS: Final = 15
DEFAULT_PERMISSIONS: Final = ADMIN_READ | ADMIN_WRITE | PUBLIC_READ
DEFAULT_TTL: Final = 86400

# Identifier limits.
MAX_LABEL_BYTES: Final = 63
MAX_PREFIX_BYTES: Final = 128
MAX_SUFFIX_BYTES: Final = 255

# Value limits.
MAX_VALUES: Final = 32
MAX_TYPE_BYTES: Final = 64
MAX_DATA_BYTES: Final = 8192
MAX_UINT32: Final = 2**32 - 1
HS_ADMIN_INDEX: Final = 100
HS_SITE_INDEX: Final = 101
RESERVED_INDEXES: Final = frozenset({HS_ADMIN_INDEX, HS_SITE_INDEX})
RESERVED_TYPES: Final = frozenset({"HS_ADMIN", "HS_SERV"})
"""Value types no user may write (compared after ASCII upper-casing)."""
RESERVED_TYPE_PREFIX: Final = "HS_SITE"
"""Every value type starting with this (after ASCII upper-casing) is reserved too."""

# Batches and templates.
MAX_BATCH_RECORDS: Final = 20_000
MAX_TEMPLATE_NAME_BYTES: Final = 64
MAX_TEMPLATE_FIELDS: Final = 32

# Storage words.
ZERO32: Final = bytes(32)
TOMBSTONE: Final = bytes(31) + b"\x01"
"""The storage word of a deleted handle."""

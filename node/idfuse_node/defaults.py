"""Defaults a node starts with, in one light module (no py-evm import) that the CLI and the
services share."""

from __future__ import annotations

from typing import Final

DEFAULT_CHAIN_ID: Final = 1337
"""The chain id of a development ledger initialised without ``--chain-id``."""

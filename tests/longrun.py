"""The suite's long variants: ``IDFUSE_LONG=1`` runs them at full size; by default (and in CI,
``.ci/run``) they run at a reduced count that keeps the suite within its time budget."""

from __future__ import annotations

import os

LONG_ENV = "IDFUSE_LONG"


def long_run(default: int, full: int) -> int:
    """``full`` when ``$IDFUSE_LONG`` is set to a non-empty value other than ``0``, else ``default``."""
    return full if os.environ.get(LONG_ENV, "") not in ("", "0") else default

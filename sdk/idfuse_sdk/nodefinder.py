"""Where a user's idfuse files live: a node's data directory and the per-user accounts directory.

One rule, shared by the node (``idfuse node start`` creates its data directory here) and the
SDK's commands (which read that directory's ``endpoints.json`` to find the node):

* the node's data directory is ``$IDFUSE_DATA_DIR`` when set, else
  ``$XDG_DATA_HOME/idfuse/node`` (``~/.local/share/idfuse/node`` by default);
* a user's encrypted keystores (``idfuse account new``) are kept in ``$IDFUSE_ACCOUNTS_DIR``
  when set, else ``$XDG_DATA_HOME/idfuse/accounts``.

A command's ``--node DIR`` (or ``$IDFUSE_NODE``) names the node's directory, or its
``endpoints.json`` itself, explicitly; :func:`node_location` applies that precedence.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

__all__ = [
    "ACCOUNTS_DIR_ENV",
    "DATA_DIR_ENV",
    "NODE_ENV",
    "default_accounts_dir",
    "default_data_dir",
    "node_location",
]

DATA_DIR_ENV: Final = "IDFUSE_DATA_DIR"
"""Overrides the node's default data directory."""

NODE_ENV: Final = "IDFUSE_NODE"
"""Names the node a client command talks to (its data directory or ``endpoints.json``)."""

ACCOUNTS_DIR_ENV: Final = "IDFUSE_ACCOUNTS_DIR"
"""Overrides the per-user directory of ``idfuse account`` keystores."""


def _per_user(environ: Mapping[str, str] | None, variable: str, leaf: str) -> Path:
    """``$variable`` when set, else ``$XDG_DATA_HOME/idfuse/leaf`` (``$XDG_DATA_HOME`` defaults
    to ``~/.local/share``)."""
    env = os.environ if environ is None else environ
    explicit = env.get(variable)
    if explicit:
        return Path(explicit).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "idfuse" / leaf


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user data directory of ``idfuse node start``: ``$IDFUSE_DATA_DIR`` when set,
    else ``$XDG_DATA_HOME/idfuse/node`` (``~/.local/share/idfuse/node`` by default).

    :param environ: the environment to read (``os.environ`` by default).
    """
    return _per_user(environ, DATA_DIR_ENV, "node")


def default_accounts_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user directory of ``idfuse account`` keystores: ``$IDFUSE_ACCOUNTS_DIR`` when
    set, else ``$XDG_DATA_HOME/idfuse/accounts`` (``~/.local/share/idfuse/accounts``).

    :param environ: the environment to read (``os.environ`` by default).
    """
    return _per_user(environ, ACCOUNTS_DIR_ENV, "accounts")


def node_location(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The node a client command talks to: ``explicit`` (``--node``), else ``$IDFUSE_NODE``,
    else :func:`default_data_dir`. A directory or its ``endpoints.json``; not checked here.

    :param environ: the environment to read (``os.environ`` by default).
    """
    env = os.environ if environ is None else environ
    if explicit is not None and str(explicit):
        return Path(explicit).expanduser()
    named = env.get(NODE_ENV)
    if named:
        return Path(named).expanduser()
    return default_data_dir(env)

"""The journal of a bulk registration: JSON lines, each fsynced before the step it records.

``{"event": "start", "prefix": P}`` opens it; ``{"event": "sent", "chunk": H, "tx": T}`` is
written after signing and before sending chunk ``H`` (the keccak of its batch blob) as
transaction ``T``; ``{"event": "mined", "chunk": H, "tx": T, "batch_id", "count", "block"}``
once its receipt is in. A torn last line (a crash mid-write) is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

from idfuse_sdk.exceptions import JournalError

__all__ = ["Journal"]

_FIELDS: Final[dict[str, dict[str, type]]] = {
    "start": {"prefix": str},
    "sent": {"chunk": str, "tx": str},
    "mined": {"chunk": str, "tx": str, "batch_id": int, "count": int, "block": int},
}
"""Each event's fields and their JSON types (another event is left for a later version)."""


class Journal:
    """A bulk registration's journal at ``path`` for ``prefix``.

    :raises JournalError: it cannot be read or written, or it belongs to another prefix.
    """

    def __init__(self, path: str | Path, prefix: str) -> None:
        self.path = Path(path)
        self.sent: dict[str, list[str]] = {}
        self.mined: dict[str, dict[str, Any]] = {}
        entries = _entries(self.path)
        starts = [entry["prefix"] for entry in entries if entry.get("event") == "start"]
        if starts and starts[0] != prefix:
            raise JournalError(f"journal {self.path} belongs to prefix {starts[0]}, not {prefix}")
        self._prefix = prefix
        for entry in entries:
            if entry.get("event") == "sent":
                self.sent.setdefault(str(entry["chunk"]), []).append(str(entry["tx"]))
            elif entry.get("event") == "mined":
                self.mined[str(entry["chunk"])] = entry
        if not starts:
            self.write({"event": "start", "prefix": prefix})

    @classmethod
    def existing(cls, path: str | Path) -> Journal:
        """The journal at ``path`` as an earlier run left it (its prefix from its start line).

        :raises JournalError: there is none, or it cannot be read.
        """
        if not Path(path).is_file():
            raise JournalError(f"no journal at {path}: nothing was registered from this file yet")
        starts = [entry["prefix"] for entry in _entries(Path(path)) if entry.get("event") == "start"]
        if not starts:
            raise JournalError(f"journal {path} has no start line")
        return cls(path, str(starts[0]))

    @property
    def prefix(self) -> str:
        """The prefix the journal's records are registered under."""
        return self._prefix

    @property
    def unconfirmed(self) -> list[str]:
        """Chunks sent whose receipt no run has seen yet."""
        return [chunk for chunk in self.sent if chunk not in self.mined]

    def write(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` and fsync it."""
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, sort_keys=True) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise JournalError(f"cannot write journal {self.path}: {error}") from None
        if entry.get("event") == "sent":
            self.sent.setdefault(str(entry["chunk"]), []).append(str(entry["tx"]))
        elif entry.get("event") == "mined":
            self.mined[str(entry["chunk"])] = entry


def _entries(path: Path) -> list[dict[str, Any]]:
    """The entries of the journal at ``path`` (none when there is no file)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as error:
        raise JournalError(f"cannot read journal {path}: {error}") from None
    entries = []
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # torn by a crash mid-write
                break
            raise JournalError(f"journal {path} line {number} is not JSON") from None
        if not isinstance(entry, dict):
            raise JournalError(f"journal {path} line {number} is not a JSON object")
        for name, kind in _FIELDS.get(str(entry.get("event")), {}).items():
            if not isinstance(entry.get(name), kind):
                raise JournalError(f"journal {path} line {number} has no {kind.__name__} {name!r}")
        entries.append(entry)
    return entries

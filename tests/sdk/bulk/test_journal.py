"""The bulk journal refuses a line it cannot act on (a hand edit, another tool's file) with a
JournalError naming the line, instead of a KeyError or ValueError later in the run."""

from __future__ import annotations

import json

import pytest

from idfuse_sdk.bulk.journal import Journal
from idfuse_sdk.exceptions import JournalError

START = {"event": "start", "prefix": "77"}
MINED = {"event": "mined", "chunk": "0xab", "tx": "0x01", "batch_id": 3, "count": 2, "block": 9}


def write(path, *entries) -> None:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in entries))


def test_a_journal_reads_back_what_it_wrote(tmp_path) -> None:
    path = tmp_path / "j"
    book = Journal(path, "77")
    book.write({"event": "sent", "chunk": "0xab", "tx": "0x01"})
    book.write(MINED)
    again = Journal.existing(path)
    assert (again.prefix, again.sent, again.mined) == ("77", {"0xab": ["0x01"]}, {"0xab": MINED})


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"event": "start"}], "line 1 has no str 'prefix'"),
        ([START, {"event": "sent", "chunk": "0xab"}], "line 2 has no str 'tx'"),
        ([START, {**MINED, "batch_id": "three"}], "line 2 has no int 'batch_id'"),
        ([START, "[1, 2]", START], "line 2 is not a JSON object"),
        ([START, "{torn", START], "line 2 is not JSON"),
    ],
)
def test_a_line_it_cannot_act_on_is_named(tmp_path, entries, message) -> None:
    path = tmp_path / "j"
    write(path, *entries)
    with pytest.raises(JournalError, match=message):
        Journal(path, "77")


def test_a_torn_last_line_and_a_later_event_are_left_out(tmp_path) -> None:
    path = tmp_path / "j"
    write(path, START, {"event": "noted", "by": "a later version"}, MINED, '{"event": "sent", "ch')
    assert Journal(path, "77").mined == {"0xab": MINED}

"""parse_log's fast path accepts exactly the logs the checked path accepts, with the same result."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idfuse_node.exceptions import ChainSourceError
from idfuse_node.indexer.source import _parse_log_checked, _parse_log_fast, parse_log

GOOD = {
    "address": "0x" + "ab" * 20,
    "topics": ["0x" + "11" * 32, "0x" + "22" * 32],
    "data": "0x" + "00" * 64,
    "blockNumber": "0x1a",
    "blockHash": "0x" + "33" * 32,
    "transactionHash": "0x" + "44" * 32,
    "transactionIndex": "0x0",
    "logIndex": "0x3",
    "removed": False,
}

odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(
        [
            "",
            "0x",
            "0x0",
            "0x1_0",
            "0x1 ",
            " 0x1",
            "0X1a",
            "0xzz",
            "0x" + "ab" * 19,
            "0x" + "ab" * 20,
            "0x" + "ab" * 32,
            "0x" + "AB" * 32,
            "0x" + "ab" * 32 + " ",
            "0x" + "a" * 65,
            "0x" + "1" * 64,
            "0x" + "1" * 65,
        ]
    ),
    st.text(max_size=8),
    st.lists(st.sampled_from(["0x" + "11" * 32, "0x11", None]), max_size=6),
)


def checked(value):
    try:
        return _parse_log_checked(value, "eth_getLogs", "log 0")
    except ChainSourceError:
        return "refused"


@given(
    st.dictionaries(st.sampled_from(sorted(GOOD)), odd_values, max_size=4),
    st.sets(st.sampled_from(sorted(GOOD))),
)
def test_fast_and_checked_agree(changes, dropped):
    value = {key: item for key, item in {**GOOD, **changes}.items() if key not in dropped}
    fast = _parse_log_fast(value, {})
    slow = checked(value)
    if fast is not None:
        assert fast == slow
    if slow == "refused":
        with pytest.raises(ChainSourceError):
            parse_log(value, "eth_getLogs", "log 0")
    else:
        assert parse_log(value, "eth_getLogs", "log 0") == slow


def test_a_well_formed_log_takes_the_fast_path():
    fast = _parse_log_fast(dict(GOOD), {})
    assert fast is not None
    assert fast == checked(dict(GOOD))
    assert fast.address.lower() == "0x" + "ab" * 20
    assert fast.block_number == 26
    assert fast.log_index == 3

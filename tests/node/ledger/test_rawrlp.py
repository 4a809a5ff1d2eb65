"""rawrlp.decode gives what pyrlp's rlp.decode gives, and refuses truncated or trailing input."""

import pytest
import rlp
from hypothesis import given
from hypothesis import strategies as st

from idfuse_node.ledger import rawrlp

items = st.recursive(
    st.binary(max_size=80) | st.binary(min_size=50, max_size=300),
    lambda children: st.lists(children, max_size=6),
    max_leaves=30,
)


@given(items)
def test_decode_matches_pyrlp(item):
    encoded = rlp.encode(item)
    assert rawrlp.decode(encoded) == rlp.decode(encoded) == item


@given(items.filter(lambda item: len(rlp.encode(item)) > 1), st.data())
def test_truncated_or_trailing_input_is_refused(item, data):
    encoded = rlp.encode(item)
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    with pytest.raises(rlp.DecodingError):
        rawrlp.decode(encoded[:cut])
    with pytest.raises(rlp.DecodingError):
        rawrlp.decode(encoded + b"\x00")

"""``jcs.dumps`` gives the bytes of the reference implementation (the ``rfc8785`` package)
for every JSON value, and refuses what it refuses."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from skyparley.domain import jcs

_TEXT = st.text(
    st.characters(codec=None, exclude_categories=()), max_size=12
)  # any code point, lone surrogates and controls included
_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e21, 1e20, 9.999999999999999e20, 1e-6, 1e-7, 5e-324, 1.7976931348623157e308]),
    st.integers(0, 2**64 - 1).map(lambda n: struct.unpack("<d", struct.pack("<Q", n))[0]),
)
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**54), 2**54), _FLOATS, _TEXT)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_TEXT, inner, max_size=4),
    ),
    max_leaves=12,
)


def _reference(value: Any) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):  # a lone surrogate in a key
        return ValueError


def _ours(value: Any) -> bytes | type[Exception]:
    try:
        return jcs.dumps(value)
    except jcs.CanonicalError:
        return ValueError


@settings(max_examples=1500, deadline=None)
@given(_JSON)
def test_the_same_bytes_as_the_reference(value: Any) -> None:
    assert _ours(value) == _reference(value)


@settings(max_examples=3000, deadline=None)
@given(_FLOATS.filter(math.isfinite))
def test_numbers_as_ecmascript_writes_them(x: float) -> None:
    assert jcs.number(x).encode() == rfc8785.dumps(x)


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, 2**53, -(2**53), "\ud800", {"\udfff": 1}, {1: 2}, {"a": {1}}]
)
def test_what_json_cannot_hold_is_refused(value: Any) -> None:
    with pytest.raises(jcs.CanonicalError):
        jcs.dumps(value)


def test_member_order_is_by_utf16_code_units() -> None:
    # U+FF61 sorts before U+1F600 in code points, after it in UTF-16 (a surrogate pair).
    assert jcs.dumps({"\U0001f600": 1, "\uff61": 2, "a": 3}) == rfc8785.dumps(
        {"\U0001f600": 1, "\uff61": 2, "a": 3}
    )
    assert jcs.dumps({"\U0001f600": 1, "\uff61": 2}).index("😀".encode()) < jcs.dumps(
        {"\U0001f600": 1, "\uff61": 2}
    ).index("｡".encode())

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
from tests.strategies import json_values

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
_JSON = json_values(_SCALARS, _TEXT, max_size=4, max_leaves=12)


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


def _general(value: Any) -> bytes | type[Exception]:
    try:
        return jcs._general(value)
    except jcs.CanonicalError:
        return ValueError


# What the fast path takes: whole floats (their ".0" is cut), strings that look like numbers
# or hold quotes and backslashes, names that sort differently in UTF-16 than in code points.
_TRICKY_TEXT = st.one_of(
    _TEXT,
    st.sampled_from(["1.0,", "a.0]", '".0}"', "\\", '\\"', "1e+5", "-0.0", "9" * 17, "\uff61"]),
)
_FAST_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**54), 2**54),
    st.integers(-(10**6), 10**6).map(float),
    st.floats(-1e17, 1e17),
    _FLOATS,
    _TRICKY_TEXT,
)
_FAST_JSON = st.recursive(
    _FAST_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(_TRICKY_TEXT, inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=3000, deadline=None)
@given(_FAST_JSON)
def test_the_fast_path_gives_the_general_bytes_or_declines(value: Any) -> None:
    fast = jcs._fast(value)
    general = _general(value)
    assert fast is None or fast == general
    assert _ours(value) == general == _reference(value)


@settings(max_examples=1500, deadline=None)
@given(_JSON)
def test_the_general_path_alone_gives_the_reference_bytes(value: Any) -> None:
    assert _general(value) == _reference(value)


def test_the_fast_path_takes_geometry_and_whole_numbers() -> None:
    finding = {
        "id": "28efc5e795191a819a24b4ca8ecf0f96",
        "overlap": {
            "area": {"type": "Polygon", "coordinates": [[[39.62911488289209, 34.4], [1.5, 2.0]]]},
            "area_km2": 126.77760322514915,
            "lower": 8513.0,
            "upper": 0.0,
        },
        "detail": 'within the buffers "5 NM", 1.0, of it',
        "current": True,
        "message": None,
    }
    fast = jcs._fast(finding)
    assert fast is not None
    assert fast == jcs._general(finding) == rfc8785.dumps(finding)
    assert b'"lower":8513,' in fast
    assert b'"upper":0}' in fast
    assert b"1.0, of it" in fast


@pytest.mark.parametrize(
    "value",
    [-0.0, 1e16, 1e-6, 2**53, 12345678901234567.0, math.nan, {"a": math.inf}, (1,), {1: 2}],
)
def test_the_fast_path_declines_what_it_cannot_prove(value: Any) -> None:
    assert jcs._fast(value) is None

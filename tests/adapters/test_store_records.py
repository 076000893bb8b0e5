"""The stored JSON text: the fast way (orjson) gives the standard library's text and value,
or declines; reading gives the standard library's value."""

from __future__ import annotations

import enum
import json
import math
import struct
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import json_values

from skyparley.adapters import _store_records as records

_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(['"', "\\", '\\"', "a.0,", "1e-05", "0.00001", "true", "\x7f\u2028", "😀"]),
)
_FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-1e6, 1e6),
    st.integers(-(10**6), 10**6).map(float),
    st.sampled_from([1e-4, 9e-5, 1e-7, 1e16, 1e22, -0.0, 5e-324, 0.00012345678901234567]),
    st.integers(0, 2**64 - 1)
    .map(lambda n: struct.unpack("<d", struct.pack("<Q", n))[0])
    .filter(math.isfinite),
)
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), _FLOATS, _TEXT)
_JSON = json_values(_SCALARS, _TEXT, max_size=5, max_leaves=20)


def _standard(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@settings(max_examples=3000, deadline=None)
@given(_JSON)
def test_the_fast_way_gives_the_standard_text_and_value_or_declines(value: Any) -> None:
    text = _standard(value)
    fast = records._fast_dumps(value)
    if fast is not None:
        assert fast[0] == text
        assert fast[1] == json.loads(text)
        assert json.dumps(fast[1]) == json.dumps(json.loads(text))  # same types, same order
    assert records.dumps(value) == text
    assert records.dumps_read_back(value) == (text, json.loads(text))
    back = records.loads(text)
    assert back == json.loads(text)
    assert repr(back) == repr(json.loads(text))


def test_the_fast_way_takes_geometry_and_free_text() -> None:
    finding = {
        "overlap": {"area": {"coordinates": [[[39.62911488289209, 34.4], [1.5, 2.0]]]}},
        "lower": 8513.0,
        "detail": 'within "5 NM" of it',
        "text": "Звонок в 10:00Z",
        "current": True,
        "message": None,
    }
    fast = records._fast_dumps(finding)
    assert fast is not None
    assert fast == (_standard(finding), finding)


class _Colour(enum.Enum):
    RED = 1


@pytest.mark.parametrize(
    "value",
    [math.nan, {"a": math.inf}, 1e-5, 1e16, {1: "a"}, (1, 2), _Colour.RED, uuid.UUID(int=1)],
)
def test_the_fast_way_declines_what_differs(value: Any) -> None:
    assert records._fast_dumps(value) is None


@pytest.mark.parametrize("value", [math.nan, {"a": math.inf}, _Colour.RED, uuid.UUID(int=1)])
def test_what_json_cannot_hold_is_still_refused(value: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        records.dumps(value)


def test_reading_keeps_big_integers_whole() -> None:
    assert records.loads("[18446744073709551616,-9223372036854775809]") == [
        18446744073709551616,
        -9223372036854775809,
    ]
    assert records.loads('{"a":1e400}') == {"a": math.inf}

"""RFC 8785 canonical JSON (the JSON Canonicalization Scheme), built for speed.

Every ledger entry, statement and content hash is taken over these bytes, so they are
computed several times per request. The output is byte for byte that of the ``rfc8785``
package (a property test holds it to that): object members sorted by the UTF-16 code units
of their names, no whitespace, strings escaped as ECMAScript's ``JSON.stringify`` does,
numbers in ECMAScript's shortest form, integers only within 2**53. What JSON cannot hold
exactly is refused with :class:`CanonicalError`.

Strings are escaped by the standard library's C encoder, which escapes the same characters
the same way (quote, backslash and the controls below U+0020; ``\\b \\f \\n \\r \\t`` short,
the others as ``\\u00xx``).

Fast path
---------
Most values (statements, findings with their overlap geometry: hundreds of coordinates) are
first written by ``orjson`` (compiled: some twenty times faster than the walk below, which
pays a Python call per value), and its bytes are kept only where they are provably the
canonical ones; anything else takes the general walk, which decides (and refuses) as
before. orjson escapes strings exactly as the C encoder does (every code point checked),
sorts members by code point (the same as by UTF-16 code unit when no name lies beyond the
BMP), and writes a double with the same shortest digits as ``repr``, in ECMAScript's fixed
form between 1e-6 and 1e16 except that it keeps a ``.0`` on whole numbers. So its bytes
are used when: it accepted the value with no help (only ``dict``, ``list``, ``tuple``,
``str``, ``int``, ``float``, ``bool`` and ``None``, names all ``str``); reading them back
gives a value equal to the given one (no NaN or infinity turned into ``null``, no enum or
UUID written as its value: a tuple also fails this and takes the walk); no byte of a
4-byte UTF-8 sequence appears (no name beyond the BMP); outside strings there is no
exponent, no run of 16 digits that is not a fraction (integers within 2**53, as JCS
wants, and floats below 1e16) and no ``-0.0``. The ``.0`` of whole numbers is then cut.
``tests/domain/test_jcs.py`` holds both paths to the reference.
"""

from __future__ import annotations

import math
import re
from json.encoder import encode_basestring
from typing import Any

import orjson

__all__ = ["CanonicalError", "dumps"]

_INT_MAX = 2**53 - 1

_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
"""A JSON string as orjson writes it (a backslash always starts a two-character escape)."""
_WHOLE = re.compile(rb'("(?:[^"\\]|\\.)*")|\.0(?=[,\]}]|$)')
"""A string (kept as it is) or the ``.0`` that ends a whole number (cut)."""
_LONG_RUN = re.compile(rb"(?<![.\d])\d{16}")
"""16 digits not after a point: an integer of 16 digits or more, or a float from 1e15."""
_BEYOND_BMP = re.compile(rb"[\xf0-\xf4]")
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_ENDS = ((b".0,", b","), (b".0]", b"]"), (b".0}", b"}"))


class CanonicalError(ValueError):
    """A value JSON cannot hold exactly, or that is not JSON at all."""


def dumps(value: Any) -> bytes:
    """The canonical UTF-8 bytes of a JSON value (``dict``, ``list``/``tuple``, ``str``,
    ``int``, ``float``, ``bool``, ``None``).

    Examples
    --------
    >>> dumps({"b": [1.0, 1e21, 1e-7, "\\u00e9"], "a": None})
    b'{"a":null,"b":[1,1e+21,1e-7,"\\xc3\\xa9"]}'
    """
    fast = _fast(value)
    if fast is not None:
        return fast
    return _general(value)


def _refuse(obj: Any) -> Any:
    raise TypeError


def _fast(value: Any) -> bytes | None:
    """orjson's bytes made canonical, or None where they may not be (see the module).

    The checks use bytes methods (C loops) rather than regular expressions, which cost
    several times more than orjson itself on a finding's geometry.
    """
    try:
        data = orjson.dumps(value, default=_refuse, option=_ORJSON_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return None
    if b'\\"' in data:  # an escaped quote (or a final backslash): strings cut the slow way
        parts = None
        bare = _STRING.sub(b"", data)
    else:
        parts = data.split(b'"')  # outside strings at even places, string contents at odd
        bare = b"".join(parts[0::2])
    if b"e" in bare.replace(b"true", b"").replace(b"false", b"") or b"-0.0" in bare:
        return None  # an exponent, or negative zero (or a number that starts as it does)
    if b"0" * 16 in bare.translate(_DIGITS_AS_ZERO) and _LONG_RUN.search(bare):
        return None
    if not data.isascii() and _BEYOND_BMP.search(data):
        return None
    if orjson.loads(data) != value:
        return None
    if b".0" not in bare:
        return data
    if parts is None or b".0" in b"".join(parts[1::2]):  # a string holds ".0" too
        return _WHOLE.sub(rb"\1", data)
    for end, cut in _ENDS:  # ".0" ends whole numbers only: 1.0, -> 1,
        data = data.replace(end, cut)
    return data[:-2] if data.endswith(b".0") else data  # a whole number alone


def _general(value: Any) -> bytes:
    """The walk over the value: every value JCS can hold, and the refusals."""
    parts: list[str] = []
    _emit(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalError("input contains non-UTF-8 codepoints (a lone surrogate)") from None


def _emit(obj: Any, out: list[str]) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(encode_basestring(obj))
    elif isinstance(obj, int):
        if not -_INT_MAX <= obj <= _INT_MAX:
            raise CanonicalError(f"{obj} exceeds safe integer domain for JSON floats")
        out.append(str(int(obj)))
    elif isinstance(obj, float):
        out.append(number(float(obj)))
    elif isinstance(obj, dict):
        if not obj:
            out.append("{}")
            return
        keys = list(obj)
        for k in keys:
            if not isinstance(k, str):
                raise CanonicalError("object keys must be strings")
        if all(k.isascii() for k in keys):
            keys.sort()  # code points and UTF-16 code units agree on ASCII
        else:
            keys.sort(key=_utf16)
        sep = "{"
        for k in keys:
            out.append(sep)
            out.append(encode_basestring(k))
            out.append(":")
            _emit(obj[k], out)
            sep = ","
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        if not obj:
            out.append("[]")
            return
        sep = "["
        for item in obj:
            out.append(sep)
            _emit(item, out)
            sep = ","
        out.append("]")
    else:
        raise CanonicalError(f"unsupported type: {type(obj)}")


def _utf16(key: str) -> bytes:
    try:
        return key.encode("utf-16be")
    except UnicodeEncodeError:
        raise CanonicalError("input contains non-UTF-8 codepoints (a lone surrogate)") from None


def number(f: float) -> str:
    """ECMAScript's shortest text of a finite double (ECMA-262 7.1.12.1, RFC 8785 3.2.2.3).

    Examples
    --------
    >>> [number(x) for x in (0.0, -0.0, 5.0, 1e16, 1e21, 1.5e-7, 0.000001, -2.5)]
    ['0', '0', '5', '10000000000000000', '1e+21', '1.5e-7', '0.000001', '-2.5']
    """
    if not math.isfinite(f):
        raise CanonicalError(f"{f} is not representable in JCS")
    if f == 0.0:
        return "0"
    if f < 0.0:
        return "-" + number(-f)
    text = repr(f)  # the shortest digits that read back as f, as ECMAScript's
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    whole, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    if not exp_text:
        return whole + ("." + frac if frac else "")
    digits = whole + frac  # repr puts one digit before the point when it uses an exponent
    if 0 < exponent < 21:
        return digits + "0" * (exponent - len(digits) + 1)
    if -7 < exponent < 0:
        return "0." + "0" * (-exponent - 1) + digits
    tail = f"e{'+' if exponent > 0 else '-'}{abs(exponent)}"
    return (digits[0] + ("." + digits[1:] if len(digits) > 1 else "")) + tail

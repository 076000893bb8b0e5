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
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring
from typing import Any

__all__ = ["CanonicalError", "dumps"]

_INT_MAX = 2**53 - 1


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

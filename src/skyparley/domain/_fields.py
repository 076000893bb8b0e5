"""Reading plain JSON-like data (from YAML, TOML or JSON) into typed values, field by field.

Every error names the full path of the field (``tactical.alert_levels[1].time_to_los_s``)
and the reason, as an :class:`~skyparley.errors.InputError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from skyparley.errors import InputError

__all__ = ["Fields"]


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


class Fields:
    """A mapping being read: each accessor removes the key; :meth:`done` refuses leftovers.

    Examples
    --------
    >>> f = Fields({"hsep_nm": 5, "extra": 1}, "tactical")
    >>> f.number("hsep_nm", positive=True)
    5.0
    >>> f.done()
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: tactical.extra: is not a known field
    """

    def __init__(self, obj: object, path: str) -> None:
        if not isinstance(obj, Mapping):
            raise InputError(field=path or "document", reason="must be a table of fields")
        for key in obj:
            if not isinstance(key, str):
                raise InputError(field=_join(path, str(key)), reason="field names must be text")
        self._left: dict[str, Any] = dict(obj)
        self.path = path

    def at(self, name: str) -> str:
        """The path of field ``name``."""
        return _join(self.path, name)

    def has(self, name: str) -> bool:
        """Whether field ``name`` is (still) there."""
        return name in self._left

    def raw(self, name: str, default: Any = ..., *, required: bool = True) -> Any:
        """The value of ``name`` as it is; missing and required: an error."""
        if name in self._left:
            return self._left.pop(name)
        if default is not ... or not required:
            return None if default is ... else default
        raise InputError(field=self.at(name), reason="is required")

    def text(self, name: str, default: str | None = None, *, choices: tuple[str, ...] = ()) -> str:
        """A non-empty string, optionally one of ``choices``."""
        value = self.raw(name, default if default is not None else ...)
        if not isinstance(value, str) or not value.strip():
            raise InputError(field=self.at(name), reason=f"must be non-empty text, got {value!r}")
        if choices and value not in choices:
            raise InputError(
                field=self.at(name), reason=f"must be one of {', '.join(choices)}, got {value!r}"
            )
        return value

    def number(
        self,
        name: str,
        default: float | None = None,
        *,
        positive: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        """A finite number within the given bounds."""
        value = self.raw(name, default if default is not None else ...)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(field=self.at(name), reason=f"must be a number, got {value!r}")
        try:
            out = float(value)
        except OverflowError:
            raise InputError(field=self.at(name), reason="is too large a number") from None
        if not math.isfinite(out):
            raise InputError(field=self.at(name), reason=f"must be finite, got {value!r}")
        if positive and out <= 0:
            raise InputError(field=self.at(name), reason=f"must be positive, got {value!r}")
        if minimum is not None and out < minimum:
            raise InputError(
                field=self.at(name), reason=f"must be at least {minimum:g}, got {value!r}"
            )
        if maximum is not None and out > maximum:
            raise InputError(
                field=self.at(name), reason=f"must be at most {maximum:g}, got {value!r}"
            )
        return out

    def integer(self, name: str, default: int | None = None, *, minimum: int = 0) -> int:
        """A whole number, at least ``minimum``."""
        value = self.raw(name, default if default is not None else ...)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(field=self.at(name), reason=f"must be a whole number, got {value!r}")
        if value < minimum:
            raise InputError(field=self.at(name), reason=f"must be at least {minimum}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        """true or false."""
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise InputError(field=self.at(name), reason=f"must be true or false, got {value!r}")
        return value

    def items(
        self, name: str, *, required: bool = True, min_items: int = 0
    ) -> Iterator[tuple[str, Any]]:
        """The elements of a list field, each with its path."""
        value = self.raw(name, [] if not required else ...)
        if not isinstance(value, list | tuple):
            raise InputError(field=self.at(name), reason=f"must be a list, got {value!r}")
        if len(value) < min_items:
            raise InputError(field=self.at(name), reason=f"needs at least {min_items} item(s)")
        for k, item in enumerate(value):
            yield f"{self.at(name)}[{k}]", item

    def table(self, name: str, *, required: bool = True) -> Fields:
        """A nested table (an empty one when optional and missing)."""
        value = self.raw(name, {} if not required else ...)
        return Fields(value, self.at(name))

    def done(self) -> None:
        """Refuse any field that was not read: the schema forbids extra fields."""
        if self._left:
            name = sorted(self._left)[0]
            raise InputError(field=self.at(name), reason="is not a known field")

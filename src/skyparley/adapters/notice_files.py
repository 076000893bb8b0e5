"""Reading operation notices and protected areas from JSON files and folders.

- :func:`load_notice`: a JSON file holding one operation notice (an object).
- :func:`load_plan_items`: files or folders of notices and protected areas. A file holds one
  object or a list of objects; a folder is every ``*.json`` file directly in it, by name
  (other files are ignored).

Each object is an operation notice or a protected area: its ``"type"`` member says which
(``"operation_notice"`` or ``"protected_area"``); without one, an object with ``party`` or
``volumes`` is a notice and one with ``owner`` or ``volume`` is a protected area. The JSON
forms are those of :mod:`skyparley.domain.notices`.

Errors name the file and the JSON path (``plans/ru.json: [2].volumes[0].area.type``). JSON
that is not valid, ``NaN`` or ``Infinity``, a member written twice in one object, and the same
notice or area version listed twice are refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, TypeAlias

from skyparley.adapters._files import read_text
from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.errors import InputError

__all__ = ["PlanItem", "load_notice", "load_plan_items", "plan_item_from_dict", "read_json"]

PlanItem: TypeAlias = OperationNotice | ProtectedArea


class _DuplicateMemberError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateMemberError(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def read_json(path: str | os.PathLike[str]) -> Any:
    """The parsed JSON of a file; errors name the file (and the line and column)."""
    field = str(path)
    text = read_text(path, what="a JSON file")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            field=field,
            reason=f"is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
        ) from None
    except _DuplicateMemberError as exc:
        raise InputError(field=field, reason=f"has an object with the member {exc} twice") from None
    except ValueError as exc:
        raise InputError(field=field, reason=f"holds {exc}, which is not a JSON number") from None


def plan_item_from_dict(obj: object, *, field: str = "") -> PlanItem:
    """An operation notice or a protected area, told apart by ``type`` or by its fields.

    Examples
    --------
    >>> plan_item_from_dict({"id": "x"}, field="[0]")
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: [0].type: is missing, and the fields do not tell an \
operation notice (party, volumes) from a protected area (owner, volume)
    """
    at = f"{field}.type" if field else "type"
    if not isinstance(obj, Mapping):
        raise InputError(
            field=field or "document",
            reason="must be an object: an operation notice or a protected area",
        )
    kind = obj.get("type")
    if kind is None:
        if "party" in obj or "volumes" in obj:
            kind = "operation_notice"
        elif "owner" in obj or "volume" in obj:
            kind = "protected_area"
        else:
            raise InputError(
                field=at,
                reason="is missing, and the fields do not tell an operation notice (party, "
                "volumes) from a protected area (owner, volume)",
            )
    if kind == "operation_notice":
        return OperationNotice.from_dict(obj, field=field)
    if kind == "protected_area":
        return ProtectedArea.from_dict(obj, field=field)
    raise InputError(field=at, reason=f"must be operation_notice or protected_area, got {kind!r}")


def _in_file(path: str | os.PathLike[str], exc: InputError) -> InputError:
    return InputError(field=f"{path}: {exc.field}", reason=exc.reason)


def load_notice(path: str | os.PathLike[str]) -> OperationNotice:
    """The operation notice in a JSON file; errors name the file and the field."""
    obj = read_json(path)
    if isinstance(obj, Mapping) and obj.get("type", "operation_notice") != "operation_notice":
        raise InputError(
            field=f"{path}: type",
            reason=f"must be operation_notice, got {obj.get('type')!r}: only a notice is checked",
        )
    try:
        return OperationNotice.from_dict(obj)
    except InputError as exc:
        raise _in_file(path, exc) from None


def _files(path: str | os.PathLike[str]) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.glob("*.json") if f.is_file())
        if not files:
            raise InputError(field=str(path), reason="is a folder without any .json file")
        return files
    return [p]


def load_plan_items(
    *paths: str | os.PathLike[str], parties: Collection[str] | None = None
) -> tuple[PlanItem, ...]:
    """The notices and protected areas in these files and folders, in order.

    With ``parties`` (the protocol's), each item's party or owner must be one of them.
    """
    items: list[PlanItem] = []
    seen: dict[tuple[str, str, str, int], str] = {}
    for path in paths:
        for file in _files(path):
            obj = read_json(file)
            listed = isinstance(obj, list)
            for k, item in enumerate(obj if listed else [obj]):
                where = f"[{k}]" if listed else ""
                try:
                    parsed = plan_item_from_dict(item, field=where)
                except InputError as exc:
                    raise _in_file(file, exc) from None
                if isinstance(parsed, OperationNotice):
                    key = ("operation notice", parsed.party, parsed.id, parsed.version)
                    member = "party"
                else:
                    key = ("protected area", parsed.owner, parsed.id, parsed.version)
                    member = "owner"
                here = f"{file}{': ' + where if where else ''}"
                if parties is not None and key[1] not in parties:
                    raise InputError(
                        field=f"{here}{'.' if where else ': '}{member}",
                        reason=f"{key[1]!r} is not a party of this protocol",
                    )
                if key in seen:
                    raise InputError(
                        field=f"{here}{'.' if where else ': '}id",
                        reason=f"{key[0]} {key[1]}/{key[2]} version {key[3]} is also in "
                        f"{seen[key]}",
                    )
                seen[key] = here
                items.append(parsed)
    return tuple(items)

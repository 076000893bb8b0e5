"""Reading a protocol file: YAML (``.yaml``, ``.yml``) or TOML (``.toml``)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import yaml

from skyparley.adapters._files import read_text
from skyparley.domain.protocol import Protocol, parse_protocol
from skyparley.errors import InputError

__all__ = ["load_protocol", "read_protocol_document"]


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping: two readers of the
    same agreement must never see different values."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_protocol_document(path: str | os.PathLike[str]) -> Any:
    """The parsed document of a protocol file, before validation."""
    field = str(path)
    suffix = Path(path).suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise InputError(field=field, reason="must be a .yaml, .yml or .toml file")
    text = read_text(path, what="a protocol file")
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(field=field, reason=f"is not valid TOML: {exc}") from None
    if suffix in (".yaml", ".yml"):
        try:
            return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
        except yaml.YAMLError as exc:
            where = ""
            mark = getattr(exc, "problem_mark", None)
            if mark is not None:
                where = f" at line {mark.line + 1}, column {mark.column + 1}"
            problem = getattr(exc, "problem", None) or "syntax error"
            raise InputError(field=field, reason=f"is not valid YAML{where}: {problem}") from None
    raise InputError(field=field, reason="must be a .yaml, .yml or .toml file")


def load_protocol(path: str | os.PathLike[str]) -> Protocol:
    """Read and validate a protocol file; errors name the file and the field."""
    document = read_protocol_document(path)
    try:
        return parse_protocol(document)
    except InputError as exc:
        raise InputError(field=f"{path}: {exc.field}", reason=exc.reason) from None

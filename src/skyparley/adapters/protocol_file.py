"""Reading a protocol file: YAML (``.yaml``, ``.yml``) or TOML (``.toml``)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import yaml

from skyparley.domain.protocol import Protocol, parse_protocol
from skyparley.errors import InputError

__all__ = ["load_protocol", "read_protocol_document"]


def read_protocol_document(path: str | os.PathLike[str]) -> Any:
    """The parsed document of a protocol file, before validation."""
    p = Path(path)
    field = str(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(field=field, reason="no such file") from None
    except IsADirectoryError:
        raise InputError(field=field, reason="is a folder, not a protocol file") from None
    except OSError as exc:
        raise InputError(field=field, reason=f"cannot be read: {exc.strerror}") from None
    suffix = p.suffix.lower()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(field=field, reason=f"is not UTF-8 text (byte {exc.start})") from None
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(field=field, reason=f"is not valid TOML: {exc}") from None
    if suffix in (".yaml", ".yml"):
        try:
            return yaml.safe_load(text)
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

"""What the client commands share: where the service is, the token, the party's key, output.

The URL comes from ``--url``, else ``SKYPARLEY_URL``, else the config file's ``url``, else
``http://127.0.0.1:8000``. The token from ``SKYPARLEY_TOKEN``, else the config's ``token``
(never from the command line, where other users of the machine could read it). The party's
signing key from ``--key``, else ``SKYPARLEY_KEY``, else the config's ``key`` (a path); its
passphrase from the variable named by ``--passphrase-env``. The config file is TOML:
``--config PATH``, default ``~/.config/skyparley/client.toml``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from skyparley.client import Client
from skyparley.client._client import token_problem
from skyparley.domain.ledger.keys import SigningKey, load_private_key_pem
from skyparley.errors import InputError, LedgerInputError

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_URL",
    "connect",
    "non_blank",
    "print_jsonl",
    "read_json_file",
]

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_CONFIG = "~/.config/skyparley/client.toml"
_CONFIG_KEYS = {"url", "token", "key", "party"}


def _config_path(args: argparse.Namespace) -> Path:
    return Path(os.path.expanduser(getattr(args, "config", None) or DEFAULT_CONFIG))


def _config(args: argparse.Namespace) -> dict[str, Any]:
    explicit = getattr(args, "config", None)
    path = _config_path(args)
    if not path.is_file():
        if explicit is not None:
            raise InputError(field="--config", reason=f"{path} is not a file")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(field="--config", reason=f"{path} is not TOML: {exc}") from None
    unknown = sorted(set(data) - _CONFIG_KEYS)
    if unknown:
        raise InputError(
            field=f"{path}: {unknown[0]}",
            reason=f"is not a setting (settings: {', '.join(sorted(_CONFIG_KEYS))})",
        )
    for k, v in data.items():
        if not isinstance(v, str) or not v:
            raise InputError(field=f"{path}: {k}", reason="must be non-empty text")
    return data


def _key(args: argparse.Namespace, config: dict[str, Any]) -> SigningKey | None:
    source = "--key"
    path = getattr(args, "key", None)
    if path is None and os.environ.get("SKYPARLEY_KEY"):
        source, path = "SKYPARLEY_KEY", os.environ["SKYPARLEY_KEY"]
    if path is None and config.get("key"):
        source, path = "config key", config["key"]
    if path is None:
        return None
    key_path = Path(os.path.expanduser(path))
    try:
        pem = key_path.read_bytes()
    except OSError as exc:
        raise InputError(field=source, reason=f"cannot read {key_path}: {exc.strerror}") from None
    passphrase = None
    var = getattr(args, "passphrase_env", None)
    if var is not None:
        value = os.environ.get(var)
        if not value:
            raise InputError(
                field="--passphrase-env", reason=f"the environment variable {var} is not set"
            )
        passphrase = value.encode("utf-8")
    # the key is named after its party: the config's party, else the file's name (as
    # `skyparley keys new --party ID` writes ID.key)
    name = config.get("party") or key_path.name.removesuffix(".key")
    try:
        return load_private_key_pem(name, pem, passphrase)
    except LedgerInputError as exc:
        raise InputError(field=source, reason=f"{key_path}: {exc.reason}") from None


def _check_token(token: str, source: str) -> None:
    """Refuse a token that cannot go in an HTTP header, naming where it came from and why;
    the token itself is never shown."""
    problem = token_problem(token)
    if problem is not None:
        raise InputError(field=source, reason=problem)


def connect(args: argparse.Namespace, command: str) -> Client:
    """The client the arguments describe; warns on stderr when writes will be attested."""
    config = _config(args)
    url = (
        getattr(args, "url", None)
        or os.environ.get("SKYPARLEY_URL")
        or config.get("url")
        or DEFAULT_URL
    )
    token = os.environ.get("SKYPARLEY_TOKEN")
    source = "SKYPARLEY_TOKEN"
    if not token and config.get("token"):
        token, source = config["token"], f"{_config_path(args)}: token"
    if not token:
        raise InputError(
            field="SKYPARLEY_TOKEN",
            reason="no token: set SKYPARLEY_TOKEN or `token` in the config file "
            f"({getattr(args, 'config', None) or DEFAULT_CONFIG})",
        )
    _check_token(token, source)
    key = _key(args, config)
    if key is None and getattr(args, "writes", False):
        print(
            f"skyparley {command}: warning: no signing key (--key, SKYPARLEY_KEY or the "
            "config's key): the service attests this statement on the party's behalf; "
            "it is not signed by the party",
            file=sys.stderr,
        )
    return Client(url, token, key=key, party=config.get("party"))


def read_json_file(path: str, field: str, root: str | None = None) -> Any:
    """The JSON value in ``path`` (``-``: standard input); errors name the file, or for a
    number JSON does not have (NaN, Infinity) its place under ``root`` (``notice.volumes[0]
    .lower``; default: the file's name)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(field=field, reason=f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(field=field, reason=f"{path} is not UTF-8 text") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            field=f"{path}: line {exc.lineno} column {exc.colno}", reason=f"not JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise InputError(field=field, reason=f"{path} is nested too deeply") from None
    where = _non_finite(value, root or path)
    if where is not None:
        raise InputError(
            field=where,
            reason=f"must be a finite number (in {path}: JSON has no NaN or Infinity)",
        )
    return value


def _non_finite(value: Any, root: str) -> str | None:
    """The path of the first NaN or infinite number in ``value`` (Python's JSON reader takes
    ``NaN``, ``Infinity`` and ``1e999``, which JSON does not have), or None."""
    todo: list[tuple[str, Any]] = [(root, value)]
    while todo:
        where, item = todo.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where
        if isinstance(item, dict):
            todo.extend((f"{where}.{k}", v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            todo.extend((f"{where}[{k}]", v) for k, v in reversed(list(enumerate(item))))
    return None


def non_blank(value: str, field: str) -> str:
    """``value``, an id given on the command line; a blank one is refused (it would name
    another path of the API)."""
    if not value.strip():
        raise InputError(field=field, reason="must be a non-empty id")
    return value


def print_jsonl(items: Any) -> None:
    """One compact JSON object a line on standard output."""
    for item in items:
        sys.stdout.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n")

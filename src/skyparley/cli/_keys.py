"""``skyparley keys new``: a party's Ed25519 key pair, the private half never readable by others.

Writes ``DIR/ID.key`` (PKCS #8 PEM, encrypted when ``--passphrase-env VAR`` names a
variable holding the passphrase) and ``DIR/ID.pub`` (the C2SP signed-note verifier key
text), and prints the verifier key to paste into the protocol's ``parties[].public_key``.

The key file is created with mode 0600 from the start (``os.open`` with ``O_EXCL`` and mode
0o600 on a temporary name, then ``os.link`` to the final name, which refuses an existing
file atomically): it is never readable by others, not even for an instant, never half
written, and never overwrites a key.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import sys
from pathlib import Path

from skyparley.domain.ledger.keys import generate_key
from skyparley.errors import InputError

__all__ = ["KEY_MODE", "new", "write_new_file"]

KEY_MODE = 0o600
"""Mode of a private key file: read and write by its owner only."""
_PUB_MODE = 0o644
_DIR_MODE = 0o700
_PARTY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def new(args: argparse.Namespace) -> int:
    """Handle ``skyparley keys new``."""
    party = args.party
    if not _PARTY_RE.fullmatch(party) or party.endswith((".key", ".pub")):
        raise InputError(
            field="--party",
            reason=f"{party!r} is not a party id (1 to 64 letters, digits, '.', '_', '-', not "
            "ending in .key or .pub; it names the key files)",
        )
    passphrase = _passphrase(args.passphrase_env)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(field="--out", reason=f"{out} is not a folder")
    key_path, pub_path = out / f"{party}.key", out / f"{party}.pub"
    for path in (key_path, pub_path):
        if path.exists() or path.is_symlink():
            raise InputError(
                field="--out", reason=f"{path} already exists: a key is never overwritten"
            )
    try:
        out.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(field="--out", reason=f"cannot create {out}: {exc.strerror}") from None
    key = generate_key(party)
    vkey = key.verifier.to_text()
    write_new_file(key_path, key.to_pkcs8_pem(passphrase), KEY_MODE)
    try:
        write_new_file(pub_path, (vkey + "\n").encode("ascii"), _PUB_MODE)
    except BaseException:
        key_path.unlink()  # the key made a moment ago, useless without its public half
        raise
    print(vkey)
    state = "encrypted with the passphrase" if passphrase else "NOT encrypted"
    print(
        f"keys new: wrote {key_path} (private, mode 0600, {state}) and {pub_path}; paste the "
        f"line above into the protocol as {party}'s public_key",
        file=sys.stderr,
    )
    return 0


def _passphrase(var: str | None) -> bytes | None:
    if var is None:
        return None
    value = os.environ.get(var)
    if not value:
        raise InputError(
            field="--passphrase-env",
            reason=f"the environment variable {var} is not set or empty",
        )
    return value.encode("utf-8")


def write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to the new file ``path`` created with ``mode``; never replaces a file.

    The bytes go to a temporary name made with ``O_CREAT | O_EXCL`` and ``mode`` (so the
    file never exists with wider permissions), are fsynced, and are linked to ``path``,
    which fails if ``path`` exists; the temporary name is then removed.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, mode)
    except OSError as exc:
        raise InputError(field="--out", reason=f"cannot create {tmp}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise InputError(
                field="--out", reason=f"{path} already exists: a key is never overwritten"
            ) from None
        except OSError as exc:
            raise InputError(
                field="--out", reason=f"cannot create {path}: {exc.strerror}"
            ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)

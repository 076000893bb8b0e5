"""The one error tree of skyparley.

Every error the project raises on purpose derives from :class:`SkyparleyError`. Errors caused
by bad input also derive from :class:`ValueError` and carry keyword-only, structured fields
(``field``, ``reason`` and, for files, ``path``, ``row`` and ``column``) so that the API and
the CLI can turn them into a 4xx answer or exit code 2 with the same text.
"""

from __future__ import annotations

import base64

__all__ = [
    "AuthError",
    "ConflictError",
    "InputError",
    "LedgerError",
    "LedgerInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "SkyparleyError",
    "SplitViewError",
    "TrackFileError",
    "VerificationError",
]


class SkyparleyError(Exception):
    """Root of every error skyparley raises on purpose."""


class InputError(SkyparleyError, ValueError):
    """A value given to skyparley is not acceptable.

    ``field`` names the offending field (a parameter, a column, a JSON path) and ``reason``
    says, in words a user understands, what is wrong with it.
    """

    def __init__(self, *, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class ConflictError(SkyparleyError):
    """A write clashes with what is already there (a version or an id taken, a hash chain
    moved on): HTTP 409. ``field`` names what clashed and ``reason`` says how."""

    def __init__(self, *, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class NotFoundError(SkyparleyError):
    """What was asked for does not exist, or the asking party may not know of it: HTTP 404.
    (A party is never told that something it may not see exists.)"""

    def __init__(self, *, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class AuthError(SkyparleyError):
    """No credentials, or credentials that are unknown or revoked: HTTP 401."""

    def __init__(self, *, reason: str, field: str = "authorization") -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class PermissionDeniedError(SkyparleyError):
    """Known credentials whose role or party may not do this: HTTP 403."""

    def __init__(self, *, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class TrackFileError(InputError):
    """A row of a track file cannot be used.

    ``row`` is the 1-based data row (the header, if any, is not counted); ``line`` is the
    1-based line of a text file when it is known.
    """

    def __init__(
        self,
        *,
        path: str,
        row: int | None,
        column: str,
        reason: str,
        line: int | None = None,
    ) -> None:
        self.path = path
        self.row = row
        self.line = line
        self.column = column
        super().__init__(field=column, reason=reason)
        where = path
        if row is not None:
            where += f": row {row}"
            if line is not None:
                where += f" (line {line})"
        self.args = (f"{where}, column {column}: {reason}",)

    def __str__(self) -> str:
        return str(self.args[0])


class LedgerError(SkyparleyError):
    """Something about the signed ledger (keys, notes, checkpoints, proofs, entries) is wrong."""


class LedgerInputError(LedgerError, InputError):
    """Ledger text or bytes (a key, a note, a checkpoint, an entry, a tree size) are malformed.

    An :class:`InputError` as well, with ``field`` and ``reason``: a key file or a bundle that
    cannot even be parsed is bad input (exit code 2), before any signature is looked at.
    """


class VerificationError(LedgerError):
    """A signature, a proof, a hash chain or a checkpoint does not verify.

    ``what`` names what was checked (``"inclusion proof"``, ``"entry signature"``), ``where``
    locates it when known (``"leaf 17 of 40"``, ``"party blue, entry idem-3"``) and
    ``reason`` says why it failed.
    """

    def __init__(self, *, what: str, reason: str, where: str | None = None) -> None:
        self.what = what
        self.where = where
        self.reason = reason
        at = f" ({where})" if where else ""
        super().__init__(f"{what}{at}: {reason}")


class SplitViewError(VerificationError):
    """The log showed two views that cannot both be true: a fork, detected by a witness.

    ``origin`` is the log; ``old_size``/``old_root`` the checkpoint the witness stored and
    ``new_size``/``new_root`` the one it was asked to cosign (roots as raw 32-byte hashes;
    the message shows them in base64, as checkpoints do).
    """

    def __init__(
        self,
        *,
        origin: str,
        old_size: int,
        old_root: bytes,
        new_size: int,
        new_root: bytes,
        reason: str,
    ) -> None:
        self.origin = origin
        self.old_size = old_size
        self.old_root = old_root
        self.new_size = new_size
        self.new_root = new_root
        old = base64.b64encode(old_root).decode("ascii")
        new = base64.b64encode(new_root).decode("ascii")
        super().__init__(
            what="checkpoint consistency",
            where=f"log {origin}",
            reason=f"{reason}: stored size {old_size} root {old}, offered size {new_size} "
            f"root {new}",
        )

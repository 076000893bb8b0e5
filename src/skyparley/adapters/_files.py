"""Reading small text files (protocols, notices) with errors that name the file."""

from __future__ import annotations

import os
from pathlib import Path

from skyparley.errors import InputError

__all__ = ["read_text"]


def read_text(path: str | os.PathLike[str], *, what: str) -> str:
    """The UTF-8 text of a file (a BOM is dropped); ``what`` names the kind of file expected."""
    field = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(field=field, reason="no such file") from None
    except IsADirectoryError:
        raise InputError(field=field, reason=f"is a folder, not {what}") from None
    except OSError as exc:
        raise InputError(field=field, reason=f"cannot be read: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(field=field, reason=f"is not UTF-8 text (byte {exc.start})") from None

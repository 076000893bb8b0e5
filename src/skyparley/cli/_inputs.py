"""Input errors of the adapters, worded for the command line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from skyparley.errors import InputError, TrackFileError

__all__ = ["MINIMA_OPTIONS", "option_errors", "track_file_errors"]

MINIMA_OPTIONS = {
    "hsep_nm": "--hsep-nm",
    "vsep_ft": "--vsep-ft",
    "alt_tolerance_ft": "--alt-tolerance-ft",
    "lookahead_s": "--lookahead-s",
}
"""The options of :class:`~skyparley.domain.separation.SeparationMinima`'s fields."""


@contextlib.contextmanager
def track_file_errors() -> Iterator[None]:
    """A track file that cannot be read at all (missing, a folder, an unknown format) is
    named with its reason alone: no row, no column."""
    try:
        yield
    except TrackFileError as exc:
        if exc.row is not None or exc.column != "-":
            raise
        raise InputError(field=exc.path, reason=exc.reason) from None


@contextlib.contextmanager
def option_errors(options: dict[str, str]) -> Iterator[None]:
    """An :class:`InputError` naming a field of ``options`` names its option instead."""
    try:
        yield
    except InputError as exc:
        if exc.field not in options:
            raise
        reason = exc.reason
        for name, option in options.items():
            reason = reason.replace(name, option)
        raise InputError(field=options[exc.field], reason=reason) from None

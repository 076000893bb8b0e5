"""The one error tree of skyparley.

Every error the project raises on purpose derives from :class:`SkyparleyError`. Errors caused
by bad input also derive from :class:`ValueError` and carry keyword-only, structured fields
(``field``, ``reason`` and, for files, ``path``, ``row`` and ``column``) so that the API and
the CLI can turn them into a 4xx answer or exit code 2 with the same text.
"""

from __future__ import annotations

__all__ = [
    "InputError",
    "SkyparleyError",
    "TrackFileError",
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

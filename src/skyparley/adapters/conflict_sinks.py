"""Writers of conflict tables: a human table, JSON Lines, CSV and Parquet.

Files are written atomically: rows go to a temporary file beside the target, which replaces
the target only when the run completes. A run that fails leaves no partial file behind.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from skyparley.domain.encounters import EncounterLog
from skyparley.domain.separation import Conflicts
from skyparley.domain.times import format_time
from skyparley.errors import InputError

__all__ = [
    "COLUMNS",
    "FORMATS",
    "ConflictSink",
    "atomic_output",
    "check_output",
    "open_sink",
]

FORMATS = ("table", "jsonl", "csv", "parquet")
COLUMNS = (
    "t",
    "a",
    "b",
    "tin_s",
    "tout_s",
    "tcpa_s",
    "dcpa_nm",
    "hdist_nm",
    "vdist_ft",
    "vdist_cpa_ft",
    "los",
)

# Rounding of each value column: ms for times, 0.1 m for NM, 0.1 ft for feet.
_DIGITS = {
    "tin_s": 3,
    "tout_s": 3,
    "tcpa_s": 3,
    "dcpa_nm": 5,
    "hdist_nm": 5,
    "vdist_ft": 1,
    "vdist_cpa_ft": 1,
}


class ConflictSink(Protocol):
    """Something conflicts are written to, one step at a time."""

    def write(self, conflicts: Conflicts) -> None:
        """Write the conflicts of one step."""

    def close(self) -> None:
        """Finish the output (flush buffers, write footers)."""


def _rows(c: Conflicts) -> Iterator[dict[str, object]]:
    for n in range(len(c)):
        row: dict[str, object] = {"t": c.t_s, "a": str(c.a[n]), "b": str(c.b[n])}
        for name, digits in _DIGITS.items():
            row[name] = round(float(getattr(c, name)[n]), digits)
        row["los"] = bool(c.los[n])
        yield row


class _JsonlSink:
    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, conflicts: Conflicts) -> None:
        t = conflicts.t_s
        t_out: float | int = int(t) if float(t).is_integer() else t
        for row in _rows(conflicts):
            row["t"] = t_out
            self._stream.write(json.dumps(row, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._stream.flush()


class _CsvSink:
    def __init__(self, stream: IO[str]) -> None:
        self._writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
        self._writer.writeheader()
        self._stream = stream

    def write(self, conflicts: Conflicts) -> None:
        for row in _rows(conflicts):
            row["los"] = "true" if row["los"] else "false"
            self._writer.writerow(row)

    def close(self) -> None:
        self._stream.flush()


class _TableSink:
    _HEAD = (
        "time (UTC)",
        "a",
        "b",
        "tin s",
        "tout s",
        "tcpa s",
        "dcpa NM",
        "hdist NM",
        "vdist ft",
        "vcpa ft",
        "LoS",
    )
    _WIDTH = (24, 10, 10, 8, 8, 8, 8, 9, 9, 8, 3)

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._header = False
        self._log = EncounterLog()

    def _line(self, cells: tuple[str, ...]) -> None:
        parts = [
            cell.ljust(w) if k < 3 else cell.rjust(w)
            for k, (cell, w) in enumerate(zip(cells, self._WIDTH, strict=True))
        ]
        self._stream.write("  ".join(parts).rstrip() + "\n")

    def write(self, conflicts: Conflicts) -> None:
        if not len(conflicts):
            return
        self._log.add(conflicts)
        if not self._header:
            self._line(self._HEAD)
            self._header = True
        when = format_time(conflicts.t_s)
        for row in _rows(conflicts):
            self._line(
                (
                    when,
                    str(row["a"]),
                    str(row["b"]),
                    f"{row['tin_s']:.0f}",
                    f"{row['tout_s']:.0f}",
                    f"{row['tcpa_s']:.0f}",
                    f"{row['dcpa_nm']:.2f}",
                    f"{row['hdist_nm']:.2f}",
                    f"{row['vdist_ft']:.0f}",
                    f"{row['vdist_cpa_ft']:.0f}",
                    "LoS" if row["los"] else "",
                )
            )

    def close(self) -> None:
        if self._header:
            self._summary()
        else:
            self._stream.write("no conflicts\n")
        self._stream.flush()

    def _summary(self) -> None:
        """A per-pair summary after the table: first conflict, loss of separation, closest."""
        out = self._stream
        out.write("\nencounters\n")
        out.write(
            f"{'a':10}  {'b':10}  {'first conflict':24}  {'loss of separation':45}  "
            f"{'closest':>8}  {'vdist':>7}\n"
        )
        for e in self._log.encounters():
            los = (
                f"{format_time(e.los_first_s)} .. {format_time(e.los_last_s or e.los_first_s)[11:]}"
                if e.los_first_s is not None
                else "-"
            )
            out.write(
                f"{e.a:10}  {e.b:10}  {format_time(e.first_s):24}  {los:45}  "
                f"{e.min_hdist_nm:6.2f}NM  {e.vdist_at_min_ft:5.0f}ft\n"
            )


_SCHEMA = pa.schema(
    [("t", pa.float64()), ("a", pa.string()), ("b", pa.string())]
    + [(name, pa.float64()) for name in _DIGITS]
    + [("los", pa.bool_())]
)


class _ParquetSink:
    """Buffers rows and writes a row group every ``batch_rows`` rows."""

    def __init__(self, path: str, batch_rows: int = 200_000) -> None:
        self._writer = pq.ParquetWriter(path, _SCHEMA)
        self._batch: list[Conflicts] = []
        self._rows = 0
        self._batch_rows = batch_rows

    def write(self, conflicts: Conflicts) -> None:
        if len(conflicts):
            self._batch.append(conflicts)
            self._rows += len(conflicts)
            if self._rows >= self._batch_rows:
                self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        cols: dict[str, list[object]] = {name: [] for name in _SCHEMA.names}
        for c in self._batch:
            cols["t"].extend([c.t_s] * len(c))
            cols["a"].extend(str(x) for x in c.a)
            cols["b"].extend(str(x) for x in c.b)
            for name in _DIGITS:
                cols[name].extend(getattr(c, name).tolist())
            cols["los"].extend(c.los.tolist())
        self._writer.write_table(pa.table(cols, schema=_SCHEMA))
        self._batch = []
        self._rows = 0

    def close(self) -> None:
        self._flush()
        self._writer.close()


def check_output(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`Path` if a file can be written there, else an :class:`InputError`.

    Called before a long run, so that a typo in ``--out`` is reported at once.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(field="--out", reason=f"{target} is a directory")
    if not target.parent.exists():
        raise InputError(field="--out", reason=f"folder {target.parent} does not exist")
    if not target.parent.is_dir():
        raise InputError(field="--out", reason=f"{target.parent} is not a folder")
    return target


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path beside ``path``; move it into place only on success."""
    target = check_output(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise InputError(
            field="--out", reason=f"cannot create a file in {target.parent}: {exc.strerror}"
        ) from exc
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def open_sink(
    fmt: str, out: str | os.PathLike[str] | None, stdout: IO[str]
) -> Iterator[ConflictSink]:
    """Open a sink of format ``fmt`` writing to ``out`` (atomically) or to ``stdout``."""
    if fmt not in FORMATS:
        raise InputError(
            field="--format", reason=f"must be one of {', '.join(FORMATS)}, got {fmt!r}"
        )
    if fmt == "parquet" and out is None:
        raise InputError(field="--out", reason="parquet output needs a file: give --out PATH")
    if out is None:
        sink = _make(fmt, stdout, None)
        yield sink
        sink.close()
        return
    with atomic_output(out) as tmp:
        if fmt == "parquet":
            sink = _make(fmt, None, tmp)
            try:
                yield sink
            finally:
                sink.close()
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                sink = _make(fmt, fh, None)
                yield sink
                sink.close()


def _make(fmt: str, stream: IO[str] | None, path: str | None) -> ConflictSink:
    if fmt == "parquet":
        assert path is not None
        return _ParquetSink(path)
    assert stream is not None
    if fmt == "jsonl":
        return _JsonlSink(stream)
    if fmt == "csv":
        return _CsvSink(stream)
    return _TableSink(stream)

"""Track file readers: recorded traffic from files into a :class:`TrackTable`.

Three formats are read, told apart by the file's extension and column names:

``canonical``
    CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``) with the columns
    ``time, id, party, lat_deg, lon_deg, alt_ft, gs_kt, trk_deg, vs_fpm`` (``party``
    optional, other columns ignored). ``time`` is epoch seconds or RFC 3339 text
    (``2015-10-10T09:00:00Z``; an offset, fractional seconds; text without an offset is
    taken as UTC). Every cell must hold a value: an empty cell makes the row bad, except in
    ``party``, where it means "no party".
``opensky``
    OpenSky state vectors (CSV or Parquet, the historical ``state_vectors_data4`` columns),
    in metric units: ``time`` (epoch s), ``icao24``, ``lat``, ``lon``, ``velocity`` (m/s),
    ``heading`` (deg), ``vertrate`` (m/s), ``baroaltitude`` (m; ``geoaltitude`` when the
    barometric altitude is missing), ``onground``.
``traffic``
    The JSON samples of the ``traffic`` package (``.json``, ``.json.gz``): an array of
    records with ``timestamp`` (epoch milliseconds, or RFC 3339 text), ``icao24``,
    ``latitude``, ``longitude``, ``altitude`` (ft), ``groundspeed`` (kt), ``track`` (deg),
    ``vertical_rate`` (ft/min) and optionally ``onground`` and ``geoaltitude`` (ft, used when
    ``altitude`` is missing).

In the two feed formats a report without a position, altitude or velocity is normal: it is
dropped and counted as *incomplete*. Reports flagged on the ground are dropped and counted
too. Every other row is validated; the first bad row raises a :class:`TrackFileError`
naming the file, the row, the line (CSV), the column and the reason, unless ``skip_bad`` is
set, in which case bad rows are dropped and counted by reason in the :class:`ReadReport`.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
from isal import isal_zlib

from skyparley.domain.times import MAX_TIME_S, MIN_TIME_S, RANGE_REASON
from skyparley.domain.traffic import TrackTable
from skyparley.errors import TrackFileError
from skyparley.geo.units import FPM_MS, FT_M, KT_MS

__all__ = [
    "ReadReport",
    "read_many",
    "read_tracks",
]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class ReadReport:
    """What happened while reading one track file.

    ``rows`` counts the data rows of the file (blank lines aside); ``used`` the rows kept.
    ``bad`` maps a reason (``"lat_deg: outside [-90, 90]"``, ``"time: missing value"``) to
    the number of rows dropped for it with ``skip_bad``; ``first_bad`` is the full message
    of the first of them. ``incomplete`` counts feed reports without a position, altitude or
    velocity and ``on_ground`` reports flagged on the ground: both are dropped, as normal.
    ``rows == used + sum(bad.values()) + incomplete + on_ground``.
    """

    path: str
    format: str
    rows: int
    used: int
    bad: dict[str, int]
    first_bad: str | None
    incomplete: int
    on_ground: int


# ---------------------------------------------------------------------------------- layouts


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each quantity sits in one format, and in what units."""

    format: str
    time: str
    id: str
    lat: str
    lon: str
    alt: str
    gs: str
    trk: str
    vs: str
    party: str | None = None
    alt_fallback: str | None = None
    onground: str | None = None
    time_unit_s: float = 1.0  # seconds per unit of a numeric time
    alt_to_ft: float = 1.0
    gs_to_kt: float = 1.0
    vs_to_fpm: float = 1.0
    feed: bool = False  # a missing position, altitude or velocity is normal (incomplete)

    @property
    def required(self) -> tuple[str, ...]:
        return (self.time, self.id, self.lat, self.lon, self.alt, self.gs, self.trk, self.vs)

    @property
    def columns(self) -> tuple[str, ...]:
        optional = (self.party, self.alt_fallback, self.onground)
        return self.required + tuple(c for c in optional if c is not None)

    def expected(self) -> str:
        """The columns of this format, in words, for error messages."""
        names = list(self.required)
        if self.party is not None:
            names.insert(2, f"[{self.party}]")
        if self.alt_fallback is not None:
            names[names.index(self.alt)] = f"{self.alt} (or {self.alt_fallback})"
        if self.onground is not None:
            names.append(f"[{self.onground}]")
        return ", ".join(names)


_CANONICAL: Final = _Layout(
    format="canonical", time="time", id="id", party="party", lat="lat_deg", lon="lon_deg",
    alt="alt_ft", gs="gs_kt", trk="trk_deg", vs="vs_fpm",
)  # fmt: skip
_OPENSKY: Final = _Layout(
    format="opensky", time="time", id="icao24", lat="lat", lon="lon", alt="baroaltitude",
    alt_fallback="geoaltitude", gs="velocity", trk="heading", vs="vertrate",
    onground="onground", alt_to_ft=1.0 / FT_M, gs_to_kt=1.0 / KT_MS, vs_to_fpm=1.0 / FPM_MS,
    feed=True,
)  # fmt: skip
_TRAFFIC: Final = _Layout(
    format="traffic", time="timestamp", id="icao24", lat="latitude", lon="longitude",
    alt="altitude", alt_fallback="geoaltitude", gs="groundspeed", trk="track",
    vs="vertical_rate", onground="onground", time_unit_s=1e-3, feed=True,
)  # fmt: skip

_SUFFIXES: Final = (
    (".csv", "csv"),
    (".csv.gz", "csv"),
    (".parquet", "parquet"),
    (".pq", "parquet"),
    (".json", "json"),
    (".json.gz", "json"),
)

# isal's stubs declare its error an instance; it is the class of ISA-L's inflate errors.
_ISAL_ERROR: Final = cast("type[Exception]", isal_zlib.error)
# What a corrupt or truncated file makes the libraries raise (ArrowInvalid is a ValueError).
_UNREADABLE: Final = (
    pa.ArrowException,
    OSError,
    EOFError,
    zlib.error,
    _ISAL_ERROR,
    UnicodeDecodeError,
)

_NUMBER_RE: Final = r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)$"
_TRUE: Final = ("true", "t", "1", "yes")
_FALSE: Final = ("false", "f", "0", "no")

# Row states.
_OK, _ON_GROUND, _INCOMPLETE, _BAD, _BLANK = 0, 1, 2, 3, 4


def _error(path: str, reason: str, column: str = "-") -> TrackFileError:
    return TrackFileError(path=path, row=None, column=column, reason=reason)


def _container(path: str) -> str:
    name = os.path.basename(path).lower()
    for suffix, kind in _SUFFIXES:
        if name.endswith(suffix):
            return kind
    raise _error(
        path,
        "unknown track file format: expected a name ending in "
        + ", ".join(s for s, _ in _SUFFIXES),
    )


def _sniff(path: str, names: Sequence[str], what: str) -> _Layout:
    """Canonical or OpenSky, from the column names; a clear error if columns are missing."""
    present = set(names)
    canonical = len(present & set(_CANONICAL.columns) - {"time"})
    opensky = len(present & set(_OPENSKY.columns) - {"time"})
    layout = _OPENSKY if opensky > canonical else _CANONICAL
    return _check_required(path, layout, present, what)


def _check_required(path: str, layout: _Layout, present: set[str], what: str) -> _Layout:
    missing = [c for c in layout.required if c not in present]
    if layout.alt_fallback is not None and layout.alt_fallback in present:
        missing = [c for c in missing if c != layout.alt]
    if not missing:
        return layout
    listed = ", ".join(repr(c) for c in missing)
    plural = "s" if len(missing) > 1 else ""
    if layout is _CANONICAL and not present & set(_OPENSKY.columns) - {"time"}:
        alternatives = (
            f"; a canonical track file has {_CANONICAL.expected()}; "
            f"OpenSky state vectors have {_OPENSKY.expected()}"
        )
    else:
        alternatives = f"; {layout.format} {what} has {layout.expected()}"
    raise _error(path, f"missing column{plural} {listed}{alternatives}", column=missing[0])


# ---------------------------------------------------------------------------------- sources


@dataclass(slots=True)
class _Invalid:
    """A row that could not even be split into cells (CSV) or is not a record (JSON)."""

    row: int
    line: int | None
    key: str
    reason: str


@dataclass(slots=True)
class _Source:
    """The cells of one file, before conversion, and where each row came from."""

    layout: _Layout
    columns: dict[str, pa.Array]
    rows: IntArray  # 1-based data row of each table row
    lines: IntArray | None  # 1-based text line of each table row (CSV)
    invalid: list[_Invalid]
    blank_is_skipped: bool = False

    @property
    def n(self) -> int:
        return int(self.rows.shape[0])


def _plain(column: Any) -> pa.Array:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr


def _read_csv(path: str) -> _Source:
    try:
        with pa.input_stream(path, compression="detect") as stream:
            head = bytes(stream.read(1 << 16))
    except _UNREADABLE as exc:
        raise _error(path, f"cannot read the file: {exc}") from exc
    first = head.decode("utf-8-sig", errors="replace").split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise _error(path, "file is empty: expected a header line naming the columns")
    names = next(csv.reader([first]))
    layout = _sniff(path, names, "CSV")
    wanted = [c for c in layout.columns if c in names]

    invalid_rows: list[Any] = []

    def on_invalid(row: Any) -> str:
        invalid_rows.append(row)
        return "skip"

    def read(threads: bool) -> Any:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=threads),
            parse_options=pacsv.ParseOptions(
                ignore_empty_lines=False, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in wanted},
                include_columns=wanted,
                null_values=["", "null", "NULL"],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )

    try:
        table = read(threads=True)
        if invalid_rows:
            # Only a single-threaded read numbers the lines of the rows it cannot split.
            invalid_rows.clear()
            table = read(threads=False)
    except _UNREADABLE as exc:
        raise _error(path, f"cannot read the file as CSV: {exc}") from exc

    skipped = sorted(int(r.number) for r in invalid_rows if r.number is not None)
    all_lines = np.arange(2, 2 + table.num_rows + len(skipped), dtype=np.int64)
    lines = all_lines[~np.isin(all_lines, skipped)][: table.num_rows]
    invalid = [
        _Invalid(
            row=int(r.number) - 1,
            line=int(r.number),
            key="wrong number of cells",
            reason=f"expected {r.expected_columns} cells, found {r.actual_columns}",
        )
        for r in invalid_rows
        if r.number is not None
    ]
    return _Source(
        layout=layout,
        columns={c: _plain(table.column(c)) for c in wanted},
        rows=lines - 1,
        lines=lines,
        invalid=invalid,
        blank_is_skipped=True,
    )


def _read_parquet(path: str) -> _Source:
    try:
        with pq.ParquetFile(path) as pf:
            names = list(pf.schema_arrow.names)
            layout = _sniff(path, names, "Parquet")
            wanted = [c for c in layout.columns if c in names]
            table = pf.read(columns=wanted)
    except _UNREADABLE as exc:
        raise _error(path, f"cannot read the file as Parquet: {exc}") from exc
    return _Source(
        layout=layout,
        columns={c: _plain(table.column(c)) for c in wanted},
        rows=np.arange(1, table.num_rows + 1, dtype=np.int64),
        lines=None,
        invalid=[],
    )


_JSON_TYPES: Final[dict[str, set[type]]] = {
    "double": {float, int, type(None)},
    "string": {str, type(None)},
    "bool": {bool, type(None)},
}
_JSON_NAMES: Final[dict[type, str]] = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "number",
    float: "number",
    type(None): "null",
}


def _json_column(values: list[Any], type_: Any) -> pa.Array:
    if set(map(type, values)) <= _JSON_TYPES[str(type_)]:
        try:
            return pa.array(values, type=type_)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
    # Other or mixed types: every value becomes text, judged cell by cell later.
    text = [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
    return pa.array(text, type=pa.string())


def _json_type(layout: _Layout, name: str) -> pa.DataType:
    """The Arrow type a JSON column of the layout is read as: text ids, a boolean ground
    flag, numbers for the rest."""
    if name == layout.id:
        return pa.string()
    return pa.bool_() if name == layout.onground else pa.float64()


def _arrow_records(path: str, data: bytes) -> _Source | None:
    """A JSON array of flat records, the way ``traffic`` and pandas write it (``[{...},{...}]``
    on one line), read by Arrow's multi-threaded JSON reader; ``None`` for anything else.

    The records are made newline-delimited by breaking the text after each ``},{``. Where
    that sequence is not between two records (inside a string, or with spaces around the
    comma, or a pretty-printed file) the result is not newline-delimited JSON (a string would
    hold a raw line break, a record would span lines), Arrow refuses it, and the caller reads
    the file the general way, which checks every value. So does every column whose values are
    not all of the type the layout expects.
    """
    body = data.strip(b" \t\r\n")  # JSON's own whitespace only
    if not (body.startswith(b"[{") and body.endswith(b"}]")):
        return None
    try:
        table = pajson.read_json(
            pa.BufferReader(body[1:-1].replace(b"},{", b"}\n{")),
            parse_options=pajson.ParseOptions(newlines_in_values=False),
        )
        table.validate(full=True)  # Arrow's reader does not check UTF-8; this does
    except (pa.ArrowException, OverflowError):
        return None
    if table.num_rows != body.count(b"},{") + 1:
        return None  # records not separated by exactly "},{" (Arrow takes "}{" or "} {")
    layout = _TRAFFIC
    columns: dict[str, pa.Array] = {}
    for name in layout.columns:
        if name not in table.column_names:
            continue
        want = _json_type(layout, name)
        arr = _plain(table.column(name))
        if pa.types.is_null(arr.type):
            arr = pa.nulls(len(arr), type=want)
        elif arr.type != want:
            if not (pa.types.is_integer(arr.type) and want == pa.float64()):
                return None  # mixed or unexpected values: judged one by one the general way
            try:
                arr = arr.cast(pa.float64())  # refuses integers a double cannot hold exactly
            except pa.ArrowInvalid:
                return None
        columns[name] = arr
    _check_required(path, layout, set(columns), "JSON")
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return _Source(layout=layout, columns=columns, rows=rows, lines=None, invalid=[])


def _loads(data: bytes) -> Any:
    """JSON text to Python values: orjson when it can (several times faster), else the
    standard parser, which also takes what orjson refuses (NaN and Infinity, integers beyond
    64 bits) and words the errors."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def gunzip(data: bytes) -> bytes:
    """What :func:`gzip.decompress` gives (every member, NUL padding between members
    skipped, the same errors for truncated or foreign data), inflated by ISA-L: about
    twice as fast on the 65 MB of the ``traffic`` quickstart sample."""
    out: list[bytes] = []
    while True:
        if out:
            data = data.lstrip(b"\x00")
        if not data:
            return b"".join(out)
        if data[:2] != b"\x1f\x8b":
            raise gzip.BadGzipFile(f"Not a gzipped file ({data[:2]!r})")
        inflate = isal_zlib.decompressobj(wbits=31)  # one gzip member: header, data, trailer
        out.append(inflate.decompress(data))
        if not inflate.eof:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        data = inflate.unused_data


def _read_json(path: str) -> _Source:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        if data[:2] == b"\x1f\x8b":
            data = gunzip(data)
        fast = _arrow_records(path, data)
        if fast is not None:
            return fast
        records = _loads(data)
    except json.JSONDecodeError as exc:
        raise _error(path, f"not valid JSON: {exc}") from exc
    except (*_UNREADABLE, RecursionError) as exc:
        raise _error(path, f"cannot read the file: {exc}") from exc
    if not isinstance(records, list):
        raise _error(
            path,
            f"expected a JSON array of records (as in the traffic package's samples), "
            f"found a JSON {_JSON_NAMES.get(type(records), 'value')}",
        )
    invalid: list[_Invalid] = []
    rows = np.arange(1, len(records) + 1, dtype=np.int64)
    if not all(type(r) is dict for r in records):
        is_record = np.array([type(r) is dict for r in records], dtype=bool)
        invalid = [
            _Invalid(int(row), None, "not a record", "record is not a JSON object")
            for row in rows[~is_record]
        ]
        records = [r for r in records if type(r) is dict]
        rows = rows[is_record]

    layout = _TRAFFIC
    columns: dict[str, pa.Array] = {}
    for name in layout.columns:
        try:
            values = list(map(itemgetter(name), records))
        except KeyError:
            values = [r.get(name) for r in records]
        arr = _json_column(values, _json_type(layout, name))
        if arr.null_count < len(arr) or any(name in r for r in records):
            columns[name] = arr
    if records:
        _check_required(path, layout, set(columns), "JSON")
    else:
        columns = {}
    return _Source(layout=layout, columns=columns, rows=rows, lines=None, invalid=invalid)


# ------------------------------------------------------------------------------- conversions


@dataclass(slots=True)
class _Floats:
    """A column as numbers: NaN where the cell is null or unreadable."""

    raw: pa.Array
    values: FloatArray
    null: BoolArray
    unreadable: BoolArray


def _unsupported(path: str, name: str, arr: pa.Array) -> TrackFileError:
    return _error(path, f"column type {arr.type} is not supported: expected numbers or text", name)


def _is_text(arr: pa.Array) -> bool:
    return bool(pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type))


def _as_text(path: str, name: str, arr: pa.Array) -> pa.Array:
    if _is_text(arr):
        return arr
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _unsupported(path, name, arr) from exc


def _nulls(arr: pa.Array) -> BoolArray:
    return np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _numpy_floats(arr: pa.Array) -> FloatArray:
    # Integers beyond 2**53 (nanosecond ticks) round to the nearest double: no error for that.
    exact = not (pa.types.is_integer(arr.type) or pa.types.is_decimal(arr.type))
    filled = pc.fill_null(pc.cast(arr, pa.float64(), safe=exact), float("nan"))
    return np.array(filled.to_numpy(zero_copy_only=False), dtype=np.float64)  # writable


def _text_to_floats(arr: pa.Array) -> tuple[FloatArray, BoolArray]:
    """Numbers from text cells, and which non-null cells are not numbers."""
    unreadable = np.zeros(len(arr), dtype=bool)
    try:
        return _numpy_floats(arr), unreadable
    except pa.ArrowInvalid:
        pass
    trimmed = pc.utf8_trim_whitespace(arr)
    ok = pc.match_substring_regex(trimmed, _NUMBER_RE, ignore_case=True)
    good = pc.if_else(ok, trimmed, pa.scalar(None, type=pa.string()))
    unreadable = ~_nulls(arr) & _nulls(good)
    return _numpy_floats(good), unreadable


def _to_floats(path: str, name: str, arr: pa.Array) -> _Floats:
    null = _nulls(arr)
    kind = arr.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _Floats(arr, _numpy_floats(arr), null, np.zeros(len(arr), dtype=bool))
    values, unreadable = _text_to_floats(_as_text(path, name, arr))
    return _Floats(arr, values, null, unreadable)


def _parse_time_text(text: str) -> float | None:
    if not any(sep in text for sep in "Tt "):
        return None  # a date alone is not a time
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _to_times(path: str, name: str, arr: pa.Array, unit_s: float) -> _Floats:
    """Epoch seconds from numbers (in ``unit_s``), timestamps or RFC 3339 text."""
    null = _nulls(arr)
    kind = arr.type
    n = len(arr)
    if pa.types.is_timestamp(kind):
        per_s = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[kind.unit]
        ticks = _numpy_floats(pc.cast(arr, pa.int64()))
        return _Floats(arr, ticks / per_s, null, np.zeros(n, dtype=bool))
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _Floats(arr, _numpy_floats(arr) * unit_s, null, np.zeros(n, dtype=bool))
    text = _as_text(path, name, arr)
    try:
        return _Floats(arr, _numpy_floats(text) * unit_s, null, np.zeros(n, dtype=bool))
    except pa.ArrowInvalid:
        pass
    for zone in ("UTC", None):  # all with an offset, or all without (taken as UTC)
        try:
            ticks = _numpy_floats(pc.cast(pc.cast(text, pa.timestamp("ns", zone)), pa.int64()))
            return _Floats(arr, ticks / 1e9, null, np.zeros(n, dtype=bool))
        except pa.ArrowInvalid:
            pass
    # A mix, or times the fast paths do not take (no offset, out of range): cell by cell.
    values, not_number = _text_to_floats(text)
    values *= unit_s
    unreadable = np.zeros(n, dtype=bool)
    others = np.flatnonzero(not_number)
    for i, cell in zip(others, pc.take(text, pa.array(others)).to_pylist(), strict=True):
        seconds = _parse_time_text(cell.strip())
        if seconds is None:
            unreadable[i] = True
        else:
            values[i] = seconds
    return _Floats(arr, values, null, unreadable)


def _to_bools(path: str, name: str, arr: pa.Array) -> tuple[BoolArray, BoolArray]:
    """True where the flag is set, and which non-null cells are neither true nor false."""
    kind = arr.type
    n = len(arr)
    if pa.types.is_boolean(kind):
        flag = pc.fill_null(arr, False).to_numpy(zero_copy_only=False)
        return np.asarray(flag, dtype=bool), np.zeros(n, dtype=bool)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = _numpy_floats(arr)
        return values == 1.0, ~np.isnan(values) & (values != 0.0) & (values != 1.0)
    words = pc.utf8_lower(pc.utf8_trim_whitespace(_as_text(path, name, arr)))
    true = pc.fill_null(pc.is_in(words, value_set=pa.array(_TRUE)), False)
    false = pc.fill_null(pc.is_in(words, value_set=pa.array(_FALSE)), False)
    flag = np.asarray(true.to_numpy(zero_copy_only=False), dtype=bool)
    known = flag | np.asarray(false.to_numpy(zero_copy_only=False), dtype=bool)
    return flag, ~known & ~_nulls(arr)


def _to_ids(path: str, name: str, arr: pa.Array) -> tuple[ObjArray, BoolArray]:
    """Trimmed text (None where null), and which cells are empty once trimmed."""
    trimmed = pc.utf8_trim_whitespace(_as_text(path, name, arr))
    empty = pc.fill_null(pc.equal(pc.utf8_length(trimmed), 0), False)
    values = np.asarray(trimmed.to_numpy(zero_copy_only=False), dtype=object)
    return values, np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)


def _num(value: float) -> str:
    return f"{value:.10g}"


def _cell(arr: pa.Array, i: int) -> Any:
    return arr[int(i)].as_py()


# -------------------------------------------------------------------------------- validation


@dataclass(slots=True)
class _Problem:
    column: str
    key: str
    message: Callable[[int], str]


class _Verdict:
    """The state of every row (kept, dropped as normal, bad) and why bad rows are bad."""

    def __init__(self, n: int) -> None:
        self.state = np.zeros(n, dtype=np.int8)
        self.problem = np.full(n, -1, dtype=np.int32)
        self.problems: list[_Problem] = []

    def drop(self, mask: BoolArray, state: int) -> None:
        self.state[mask & (self.state == _OK)] = state

    def bad(self, mask: BoolArray, column: str, kind: str, message: Callable[[int], str]) -> None:
        hit = mask & (self.state == _OK)
        if hit.any():
            self.state[hit] = _BAD
            self.problem[hit] = len(self.problems)
            self.problems.append(_Problem(column, f"{column}: {kind}", message))

    def numbers(
        self,
        column: str,
        col: _Floats,
        *,
        label: str = "",
        scale: float = 1.0,
        within: tuple[float, float] | None = None,
        not_negative: bool = False,
        rows: BoolArray | None = None,
        unreadable: tuple[str, str] = ("not a number", "{!r} is not a number"),
    ) -> None:
        """Flag cells that are not numbers, not finite, or out of their range."""
        sel: BoolArray = np.ones(col.values.shape, dtype=bool) if rows is None else rows
        v = col.values
        kind, template = unreadable
        self.bad(
            col.unreadable & sel,
            column,
            kind,
            lambda i: template.format(_cell(col.raw, i)),
        )
        self.bad(np.isnan(v) & sel, column, "NaN", lambda i: "value is NaN")
        with np.errstate(over="ignore", invalid="ignore"):
            infinite = np.isinf(v * scale)
        self.bad(
            infinite & sel,
            column,
            "not finite",
            lambda i: f"value {_num(v[i])} is not a finite number",
        )
        if within is not None:
            lo, hi = within
            self.bad(
                ((v < lo) | (v > hi)) & sel,
                column,
                f"outside [{lo:g}, {hi:g}]",
                lambda i: f"{label} {_num(v[i])} is outside [{lo:g}, {hi:g}]",
            )
        if not_negative:
            self.bad(
                (v < 0.0) & sel, column, "negative", lambda i: f"{label} {_num(v[i])} is negative"
            )


def _missing(i: int) -> str:
    return "missing value"


def _assemble(path: str, src: _Source, skip_bad: bool) -> tuple[TrackTable, ReadReport]:
    lay = src.layout
    n = src.n
    cols = src.columns
    verdict = _Verdict(n)
    if n == 0 or not cols:
        return _empty(path), _report(path, src, verdict, None, skip_bad)

    if src.blank_is_skipped:
        verdict.drop(np.logical_and.reduce([_nulls(a) for a in cols.values()]), _BLANK)

    if lay.onground is not None and lay.onground in cols:
        og_raw = cols[lay.onground]
        flag, unknown = _to_bools(path, lay.onground, og_raw)
        verdict.bad(
            unknown,
            lay.onground,
            "not true or false",
            lambda i: f"{_cell(og_raw, i)!r} is neither true nor false",
        )
        verdict.drop(flag, _ON_GROUND)

    time = _to_times(path, lay.time, cols[lay.time], lay.time_unit_s)
    ids, empty_id = _to_ids(path, lay.id, cols[lay.id])
    id_null = _nulls(cols[lay.id])
    lat = _to_floats(path, lay.lat, cols[lay.lat])
    lon = _to_floats(path, lay.lon, cols[lay.lon])
    gs = _to_floats(path, lay.gs, cols[lay.gs])
    trk = _to_floats(path, lay.trk, cols[lay.trk])
    vs = _to_floats(path, lay.vs, cols[lay.vs])
    # Altitude: the main column, or the fallback where the main one is null or absent.
    alt_parts: list[tuple[str, _Floats, BoolArray]] = []
    alt_null = np.ones(n, dtype=bool)
    alt_values = np.full(n, np.nan)
    for name in (lay.alt, lay.alt_fallback):
        if name is None or name not in cols:
            continue
        part = _to_floats(path, name, cols[name])
        use = alt_null & ~part.null
        alt_parts.append((name, part, use))
        alt_values[use] = part.values[use]
        alt_null &= part.null
    alt_column = alt_parts[0][0] if alt_parts else lay.alt

    in_order = [
        (lay.time, time.null),
        (lay.id, id_null),
        (lay.lat, lat.null),
        (lay.lon, lon.null),
        (alt_column, alt_null),
        (lay.gs, gs.null),
        (lay.trk, trk.null),
        (lay.vs, vs.null),
    ]
    if lay.feed:
        verdict.drop(np.logical_or.reduce([null for _, null in in_order[2:]]), _INCOMPLETE)
    for name, null in in_order:
        verdict.bad(null, name, "missing value", _missing)

    verdict.numbers(
        lay.time,
        time,
        unreadable=(
            "not a number or an RFC 3339 time",
            "time {!r} is not a number or an RFC 3339 time",
        ),
    )
    with np.errstate(invalid="ignore"):
        out_of_range = np.isfinite(time.values) & ~(
            (time.values >= MIN_TIME_S) & (time.values <= MAX_TIME_S)
        )
    verdict.bad(
        out_of_range,
        lay.time,
        "not between the years 1 and 9999",
        lambda i: f"time {_cell(time.raw, i)!r} {RANGE_REASON}",
    )
    verdict.bad(empty_id, lay.id, "empty", lambda i: "id is empty")
    verdict.numbers(lay.lat, lat, label="latitude", within=(-90.0, 90.0))
    verdict.numbers(lay.lon, lon, label="longitude", within=(-180.0, 180.0))
    for name, part, use in alt_parts:
        verdict.numbers(name, part, label="altitude", scale=lay.alt_to_ft, rows=use)
    verdict.numbers(lay.gs, gs, label="ground speed", scale=lay.gs_to_kt, not_negative=True)
    verdict.numbers(lay.trk, trk, label="track", within=(0.0, 360.0))
    verdict.numbers(lay.vs, vs, label="vertical rate", scale=lay.vs_to_fpm)

    keep = verdict.state == _OK
    party: ObjArray | None = None
    if lay.party is not None and lay.party in cols:
        names, _ = _to_ids(path, lay.party, cols[lay.party])
        names[_nulls(cols[lay.party])] = ""  # an empty party cell: no party
        party = names[keep]
    table = TrackTable(
        id=ids[keep],
        party=party,
        time_s=time.values[keep],
        lat_deg=lat.values[keep],
        lon_deg=lon.values[keep],
        alt_ft=alt_values[keep] * lay.alt_to_ft,
        gs_kt=gs.values[keep] * lay.gs_to_kt,
        trk_deg=trk.values[keep],
        vs_fpm=vs.values[keep] * lay.vs_to_fpm,
        source=path,
    )
    return table, _report(path, src, verdict, keep, skip_bad)


def _report(
    path: str, src: _Source, verdict: _Verdict, keep: BoolArray | None, skip_bad: bool
) -> ReadReport:
    """Count what happened, and raise the first bad row's error unless ``skip_bad``."""
    state = verdict.state
    bad_rows = np.flatnonzero(state == _BAD)
    counts: dict[str, int] = {}
    if bad_rows.size:
        which, how_many = np.unique(verdict.problem[bad_rows], return_counts=True)
        for k, count in zip(which.tolist(), how_many.tolist(), strict=True):
            key = verdict.problems[k].key
            counts[key] = counts.get(key, 0) + count
    for inv in src.invalid:
        counts[inv.key] = counts.get(inv.key, 0) + 1

    first: TrackFileError | None = None
    if bad_rows.size:
        i = int(bad_rows[0])
        problem = verdict.problems[int(verdict.problem[i])]
        first = TrackFileError(
            path=path,
            row=int(src.rows[i]),
            line=None if src.lines is None else int(src.lines[i]),
            column=problem.column,
            reason=problem.message(i),
        )
    if src.invalid:
        inv = min(src.invalid, key=lambda x: x.row)
        if first is None or first.row is None or inv.row < first.row:
            first = TrackFileError(path=path, row=inv.row, line=inv.line, column="-",
                                   reason=inv.reason)  # fmt: skip
    if first is not None and not skip_bad:
        raise first

    return ReadReport(
        path=path,
        format=src.layout.format,
        rows=int(np.count_nonzero(state != _BLANK)) + len(src.invalid),
        used=0 if keep is None else int(np.count_nonzero(keep)),
        bad=dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        first_bad=None if first is None else str(first),
        incomplete=int(np.count_nonzero(state == _INCOMPLETE)),
        on_ground=int(np.count_nonzero(state == _ON_GROUND)),
    )


def _empty(source: str) -> TrackTable:
    nothing = np.zeros(0)
    return TrackTable(
        id=np.zeros(0, dtype=object),
        party=None,
        time_s=nothing,
        lat_deg=nothing,
        lon_deg=nothing,
        alt_ft=nothing,
        gs_kt=nothing,
        trk_deg=nothing,
        vs_fpm=nothing,
        source=source,
    )


# ------------------------------------------------------------------------------- public API


def read_tracks(
    path: str | os.PathLike[str], *, skip_bad: bool = False
) -> tuple[TrackTable, ReadReport]:
    """Read one track file: canonical CSV/Parquet, OpenSky state vectors or ``traffic`` JSON.

    The format follows from the extension (``.csv``, ``.csv.gz``, ``.parquet``, ``.pq``,
    ``.json``, ``.json.gz``) and the column names. Returns the kept rows, sorted by time, in
    aviation units, and a :class:`ReadReport` of what was dropped. A file without usable
    rows gives an empty table.

    Raises :class:`~skyparley.errors.TrackFileError` if the file is missing, unreadable,
    truncated, of an unknown format or lacks a required column, and, unless ``skip_bad``,
    at the first bad row (naming the row, the line of a CSV file, the column and the
    reason). With ``skip_bad`` bad rows are dropped and counted in ``ReadReport.bad``.
    """
    where = os.fspath(path)
    if not os.path.exists(where):
        raise _error(where, "no such file")
    if os.path.isdir(where):
        raise _error(where, "is a directory, not a track file")
    kind = _container(where)
    if kind == "csv":
        src = _read_csv(where)
    elif kind == "parquet":
        src = _read_parquet(where)
    else:
        src = _read_json(where)
    return _assemble(where, src, skip_bad)


def read_many(
    paths: Sequence[str | os.PathLike[str]], *, skip_bad: bool = False
) -> tuple[TrackTable, list[ReadReport]]:
    """Read several track files (see :func:`read_tracks`) into one table sorted by time.

    Returns the table and one :class:`ReadReport` per file, in the order given. The first
    file that cannot be read raises its :class:`~skyparley.errors.TrackFileError`.
    """
    tables: list[TrackTable] = []
    reports: list[ReadReport] = []
    for path in paths:
        table, report = read_tracks(path, skip_bad=skip_bad)
        tables.append(table)
        reports.append(report)
    names = [r.path for r in reports]
    source = ", ".join(names) if len(names) <= 3 else f"{names[0]} and {len(names) - 1} more"
    if not tables:
        return _empty("no files"), reports
    return TrackTable.concat(tables, source=source), reports

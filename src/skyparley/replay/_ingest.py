"""Streamed reading of recorded traffic into time buckets on disk.

Track files are read in batches with pyarrow (Parquet row groups, CSV blocks), each batch
validated by the track readers of :mod:`skyparley.adapters.tracks` (the same checks and the
same messages as ``skyparley detect``, with the file's own row and line numbers), then split
by time into bucket files of ``bucket_s`` seconds. A partition later reads one bucket, plus
the end of the one before for the staleness window, so memory is bounded by the traffic of a
bucket and a batch, not by the length of the recording. ``traffic`` JSON samples are a single
JSON array and are read whole (they are small).
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pyarrow import feather

from skyparley.adapters import tracks as _tracks
from skyparley.adapters.tracks import ReadReport, read_tracks
from skyparley.domain.times import MAX_TIME_S, MIN_TIME_S
from skyparley.domain.traffic import TrackTable
from skyparley.errors import InputError, TrackFileError

__all__ = ["BackgroundWrites", "Spill", "ingest", "input_files"]

BATCH_ROWS = 262_144
CSV_BLOCK_BYTES = 16 << 20
_SEQ_SHIFT = 40  # a row's order key: file index in the high bits, its row in the low ones

SPILL_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("time_s", pa.float64()),
        ("id", pa.string()),
        ("party", pa.string()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("alt_ft", pa.float64()),
        ("gs_kt", pa.float64()),
        ("trk_deg", pa.float64()),
        ("vs_fpm", pa.float64()),
    ]
)


def input_files(inputs: list[str]) -> list[str]:
    """The track files named, folders expanded to the track files inside (recursively, sorted
    by path)."""
    suffixes = tuple(s for s, _ in _tracks._SUFFIXES)
    out: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                str(p)
                for p in path.rglob("*")
                if p.is_file() and p.name.lower().endswith(suffixes) and not p.name.startswith(".")
            )
            if not found:
                raise InputError(
                    field="INPUT",
                    reason=f"{item}: folder holds no track file (" + ", ".join(suffixes) + ")",
                )
            out.extend(found)
        elif not path.exists():
            raise TrackFileError(path=item, row=None, column="-", reason="no such file")
        else:
            out.append(item)
    return out


class BackgroundWrites:
    """Writes run by one thread, in order, with at most ``limit`` waiting, so the caller goes
    on while Arrow compresses or the kernel creates files. A write that fails fails the
    caller at its next :meth:`submit` or at :meth:`close`."""

    def __init__(self, name: str, limit: int) -> None:
        self._name = name
        self._limit = limit
        self._thread: ThreadPoolExecutor | None = None
        self._pending: collections.deque[Future[Any]] = collections.deque()

    def __len__(self) -> int:
        return len(self._pending)

    def __enter__(self) -> BackgroundWrites:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):  # after close() nothing is left; else an error
            self.close()  # is on its way out already

    def submit(self, write: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        while self._pending and (self._pending[0].done() or len(self) >= self._limit):
            self._pending.popleft().result()
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        self._pending.append(self._thread.submit(write, *args, **kwargs))

    def close(self) -> None:
        """Wait for every write (raising the first error) and stop the thread."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            for f in self._pending:
                f.cancel()
            self._pending.clear()
            if self._thread is not None:
                self._thread.shutdown(wait=True)
                self._thread = None


@dataclass(slots=True)
class Spill:
    """Bucket files under ``folder``: ``buckets[k]`` lists the files holding rows with
    ``k * bucket_s <= time_s < (k + 1) * bucket_s``."""

    folder: Path
    bucket_s: float
    buckets: dict[int, list[Path]] = field(default_factory=dict)
    rows: dict[int, int] = field(default_factory=dict)
    start_s: float = float("inf")
    end_s: float = float("-inf")
    has_party: bool = False
    _files: int = 0
    # Files are compressed and written by a thread while the next batch is read.
    _writes: BackgroundWrites = field(default_factory=lambda: BackgroundWrites("replay-spill", 16))

    def add(self, table: pa.Table, file_index: int, first_row: int) -> None:
        """Spill the rows of one validated batch (the columns of ``SPILL_SCHEMA`` but
        ``seq``); ``first_row`` numbers its first row within its file, so that rows keep the
        order ``read_many`` gives them."""
        n = table.num_rows
        if n == 0:
            return
        time_s = table.column("time_s").to_numpy()
        seq = (np.int64(file_index) << _SEQ_SHIFT) + first_row + np.arange(n, dtype=np.int64)
        bucket = np.floor(time_s / self.bucket_s).astype(np.int64)
        self.start_s = min(self.start_s, float(time_s.min()))
        self.end_s = max(self.end_s, float(time_s.max()))
        order = np.argsort(bucket, kind="stable")
        keys, starts = np.unique(bucket[order], return_index=True)
        ends = np.append(starts[1:], n)
        full = table.append_column("seq", pa.array(seq)).take(pa.array(order))
        full = full.select([f.name for f in SPILL_SCHEMA])
        for key, s, e in zip(keys.tolist(), starts.tolist(), ends.tolist(), strict=True):
            path = self.folder / f"b{key}-{self._files:06d}.arrow"
            self._files += 1
            # Arrow IPC with lz4: written and read back about five times faster than Parquet.
            self._writes.submit(
                feather.write_feather, full.slice(s, e - s), path, compression="lz4"
            )
            self.buckets.setdefault(key, []).append(path)
            self.rows[key] = self.rows.get(key, 0) + (e - s)

    def flush(self) -> None:
        """Wait until every bucket file is written; raises the first write's error."""
        self._writes.close()

    def read(self, bucket: int, since_s: float, before_bucket: int) -> pa.Table:
        """Rows with ``since_s <= time_s`` from buckets ``bucket - before_bucket .. bucket``,
        sorted by time then by input order (after :meth:`flush`)."""
        parts = []
        for k in range(bucket - before_bucket, bucket + 1):
            for path in self.buckets.get(k, []):
                t = feather.read_table(path)
                if k < bucket:
                    mask = pc.greater_equal(t.column("time_s"), since_s)
                    t = t.filter(mask)
                parts.append(t)
        if not parts:
            return SPILL_SCHEMA.empty_table()
        table = pa.concat_tables(parts)
        return table.sort_by([("time_s", "ascending"), ("seq", "ascending")])


def _arrow(table: TrackTable) -> tuple[pa.Table, bool]:
    """A validated :class:`TrackTable` as spill columns, and whether it had a party column."""
    n = len(table)
    party = table.party if table.party is not None else np.full(n, "", dtype=object)
    return (
        pa.table(
            {
                "time_s": pa.array(table.time_s, pa.float64()),
                "id": pa.array(table.id, pa.string()),
                "party": pa.array(party, pa.string()),
                "lat_deg": table.lat_deg,
                "lon_deg": table.lon_deg,
                "alt_ft": table.alt_ft,
                "gs_kt": table.gs_kt,
                "trk_deg": table.trk_deg,
                "vs_fpm": table.vs_fpm,
            }
        ),
        table.party is not None,
    )


_NUMBERS = (
    ("lat_deg", -90.0, 90.0),
    ("lon_deg", -180.0, 180.0),
    ("alt_ft", -math.inf, math.inf),
    ("gs_kt", 0.0, math.inf),
    ("trk_deg", 0.0, 360.0),
    ("vs_fpm", -math.inf, math.inf),
    ("time", MIN_TIME_S, MAX_TIME_S),
)


def _clean_text(arr: pa.Array) -> bool:
    """Text with nothing to trim and nothing empty (what the readers would keep as it is)."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return False
    trimmed = pc.utf8_trim_whitespace(arr)
    same = pc.all(pc.equal(trimmed, arr)).as_py()
    return bool(same) and bool(pc.all(pc.greater(pc.utf8_length(arr), 0)).as_py())


def _fast_batch(layout: Any, batch: pa.RecordBatch) -> pa.Table | None:
    """A canonical batch of numbers in range and clean ids, as spill columns; ``None`` when
    any cell needs a closer look (then the track readers judge the batch, with their
    messages). Accepting here means every check of the readers would pass."""
    if layout.format != "canonical" or batch.num_rows == 0:
        return None
    cols = {name: _tracks._plain(batch.column(name)) for name in batch.schema.names}
    for name, lo, hi in _NUMBERS:
        arr = cols.get(name)
        if arr is None or arr.null_count:
            return None
        if not (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type)):
            return None
        values = pc.cast(arr, pa.float64())
        ok = pc.and_(
            pc.is_finite(values), pc.and_(pc.greater_equal(values, lo), pc.less_equal(values, hi))
        )
        if not pc.all(ok).as_py():
            return None
        cols[name] = values
    ident = cols.get("id")
    if ident is None or ident.null_count or not _clean_text(ident):
        return None
    party = cols.get("party")
    if party is not None:
        filled = pc.fill_null(party, "")
        present = pc.drop_null(party)
        if len(present) and not _clean_text(present):
            return None
        party = filled
    else:
        party = pa.nulls(batch.num_rows, pa.string()).fill_null("")
    return pa.table(
        {
            "time_s": cols["time"],
            "id": pc.cast(ident, pa.string()),
            "party": pc.cast(party, pa.string()),
            **{name: cols[name] for name, _, _ in _NUMBERS[:-1]},
        }
    )


def _merge(reports: list[ReadReport], path: str) -> ReadReport:
    bad: dict[str, int] = {}
    for r in reports:
        for k, v in r.bad.items():
            bad[k] = bad.get(k, 0) + v
    first = next((r.first_bad for r in reports if r.first_bad), None)
    return ReadReport(
        path=path,
        format=reports[0].format if reports else "canonical",
        rows=sum(r.rows for r in reports),
        used=sum(r.used for r in reports),
        bad=dict(sorted(bad.items(), key=lambda kv: (-kv[1], kv[0]))),
        first_bad=first,
        incomplete=sum(r.incomplete for r in reports),
        on_ground=sum(r.on_ground for r in reports),
    )


Batch = tuple[pa.Table, bool, ReadReport]
"""Spill columns, whether the file has a party column, and the batch's report."""


def _parquet_batches(path: str, skip_bad: bool) -> Iterator[Batch]:
    try:
        pf = pq.ParquetFile(path)
    except _tracks._UNREADABLE as exc:
        raise _tracks._error(path, f"cannot read the file as Parquet: {exc}") from exc
    with pf:
        names = list(pf.schema_arrow.names)
        layout = _tracks._sniff(path, names, "Parquet")
        wanted = [c for c in layout.columns if c in names]
        first = 1
        try:
            batches = pf.iter_batches(batch_size=BATCH_ROWS, columns=wanted)
            has_party = "party" in wanted
            for batch in batches:
                n = batch.num_rows
                fast = _fast_batch(layout, batch)
                if fast is not None:
                    first += n
                    yield fast, has_party, ReadReport(path, "canonical", n, n, {}, None, 0, 0)
                    continue
                src = _tracks._Source(
                    layout=layout,
                    columns={c: _tracks._plain(batch.column(c)) for c in wanted},
                    rows=np.arange(first, first + n, dtype=np.int64),
                    lines=None,
                    invalid=[],
                )
                first += n
                yield _slow(path, src, skip_bad)
        except _tracks._UNREADABLE as exc:
            raise _tracks._error(path, f"cannot read the file as Parquet: {exc}") from exc


def _slow(path: str, src: Any, skip_bad: bool) -> Batch:
    table, report = _tracks._assemble(path, src, skip_bad)
    arrow, has_party = _arrow(table)
    return arrow, has_party, report


def _csv_batches(path: str, skip_bad: bool) -> Iterator[Batch]:
    try:
        with pa.input_stream(path, compression="detect") as stream:
            head = bytes(stream.read(1 << 16))
    except _tracks._UNREADABLE as exc:
        raise _tracks._error(path, f"cannot read the file: {exc}") from exc
    first_line = head.decode("utf-8-sig", errors="replace").split("\n", 1)[0].rstrip("\r")
    if not first_line.strip():
        raise _tracks._error(path, "file is empty: expected a header line naming the columns")
    import csv  # noqa: PLC0415 (only to split the header line)

    names = next(csv.reader([first_line]))
    layout = _tracks._sniff(path, names, "CSV")
    wanted = [c for c in layout.columns if c in names]
    invalid: dict[int, Any] = {}

    def on_invalid(row: Any) -> str:
        if row.number is not None:
            invalid[int(row.number)] = row
        return "skip"

    try:
        reader = pacsv.open_csv(
            pa.input_stream(path, compression="detect"),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES),
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
        next_line = 2
        for batch in reader:
            n = batch.num_rows
            lines: list[int] = []
            line = next_line
            batch_invalid = []
            while len(lines) < n:
                if line in invalid:
                    batch_invalid.append(invalid.pop(line))
                else:
                    lines.append(line)
                line += 1
            next_line = line
            lines_arr = np.asarray(lines, dtype=np.int64)
            src = _tracks._Source(
                layout=layout,
                columns={c: _tracks._plain(batch.column(c)) for c in wanted},
                rows=lines_arr - 1,
                lines=lines_arr,
                invalid=[_invalid(r) for r in batch_invalid],
                blank_is_skipped=True,
            )
            yield _slow(path, src, skip_bad)
        if invalid:  # rows that could not be split after the last parsed row
            src = _tracks._Source(
                layout=layout,
                columns={},
                rows=np.zeros(0, dtype=np.int64),
                lines=None,
                invalid=[_invalid(r) for r in invalid.values()],
            )
            yield _slow(path, src, skip_bad)
    except _tracks._UNREADABLE as exc:
        raise _tracks._error(path, f"cannot read the file as CSV: {exc}") from exc


def _invalid(row: Any) -> Any:
    return _tracks._Invalid(
        row=int(row.number) - 1,
        line=int(row.number),
        key="wrong number of cells",
        reason=f"expected {row.expected_columns} cells, found {row.actual_columns}",
    )


def _batches(path: str, skip_bad: bool) -> Iterator[Batch]:
    if os.path.isdir(path):
        raise _tracks._error(path, "is a directory, not a track file")
    kind = _tracks._container(path)
    if kind == "parquet":
        yield from _parquet_batches(path, skip_bad)
    elif kind == "csv":
        yield from _csv_batches(path, skip_bad)
    else:
        table, report = read_tracks(path, skip_bad=skip_bad)
        arrow, has_party = _arrow(table)
        yield arrow, has_party, report


def ingest(
    files: list[str], spill: Spill, *, skip_bad: bool, progress: Any = None
) -> list[ReadReport]:
    """Read, validate and spill every file; one merged :class:`ReadReport` per file. Each
    file's next batch is read and checked by a thread while this one spills the last."""
    reports: list[ReadReport] = []
    try:
        for index, path in enumerate(files):
            parts: list[ReadReport] = []
            kept = 0
            for table, has_party, report in _ahead(_batches(path, skip_bad)):
                spill.has_party = spill.has_party or has_party
                spill.add(table, index, kept)
                kept += table.num_rows
                parts.append(report)
                if progress is not None:
                    progress(report.rows)
            reports.append(_merge(parts, path))
    except BaseException:
        with contextlib.suppress(Exception):
            spill.flush()  # no write left running in a folder about to be removed
        raise
    spill.flush()
    return reports


_END = object()


def _ahead(items: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """``items``, produced by a thread up to ``depth`` ahead of the consumer (Arrow's
    reading and checking mostly leave the interpreter free). An error is raised where the
    item would have been."""
    q: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
            except queue.Full:
                continue
            else:
                return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # noqa: BLE001 (handed to the consumer, raised there)
            put((_END, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's files are closed in the thread that opened them

    thread = threading.Thread(target=produce, name="replay-read", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = q.get()
            if item is _END:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        thread.join()

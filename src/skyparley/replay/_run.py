"""``replay``: recorded traffic in, incidents, alerts and reports out."""

from __future__ import annotations

import contextlib
import importlib
import math
import multiprocessing
import os
import shutil
import tempfile
import threading
import typing
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from skyparley.adapters.protocol_file import load_protocol
from skyparley.adapters.tracks import ReadReport
from skyparley.domain.alerting import AlertGrader
from skyparley.domain.incidents import hold_minima
from skyparley.domain.protocol import Protocol
from skyparley.domain.times import format_time
from skyparley.errors import InputError
from skyparley.replay._engine import (
    CONFLICT_SCHEMA,
    PartitionJob,
    PartitionResult,
    detect_partition,
)
from skyparley.replay._ingest import BackgroundWrites, Spill, ingest, input_files
from skyparley.replay._report import AlertWriter, Summary
from skyparley.replay._shard import FoldJob, FoldResult, fold_shard

__all__ = ["ReplayResult", "replay"]

BUCKET_S = 600.0
CHUNK_PARTITIONS = 8  # partitions graded together: the unit of the shards' work
MAX_TICKS = 50_000_000
CONNECT_TIMEOUT_S = 10.0


@dataclass(slots=True)
class ReplayResult:
    """What a replay did: counts, the time span and the files it read."""

    out: Path
    reports: list[ReadReport]
    rows: int
    ticks: int
    start_s: float
    end_s: float
    aircraft_ticks: int
    partitions: int
    incidents: int
    alert_events: int
    alerts_raised: int
    conflict_rows: int
    parties: dict[str, str] = field(default_factory=dict)


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class _Result(typing.Protocol[T_co]):
    def result(self) -> T_co: ...


class _Done(Generic[T]):
    """A result computed here, shaped like a future."""

    def __init__(self, value: T) -> None:
        self.value = value

    def result(self) -> T:
        return self.value


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _warm() -> int:
    """Load the detection kernels in a worker before the first partition arrives."""
    import pyarrow as pa  # noqa: PLC0415

    from skyparley.domain.separation import SeparationMinima  # noqa: PLC0415

    rows = pa.table(
        {
            "id": ["A", "B"],
            "time_s": [0.0, 0.0],
            "lat_deg": [0.0, 0.0],
            "lon_deg": [0.0, 0.01],
            "alt_ft": [1000.0, 1000.0],
            "gs_kt": [100.0, 100.0],
            "trk_deg": [90.0, 270.0],
            "vs_fpm": [0.0, 0.0],
        }
    )
    job = PartitionJob(-1, rows, np.array([0.0]), 0.0, (SeparationMinima(),), False)
    return len(detect_partition(job).conflicts)


def _warm_quietly() -> None:
    """:func:`_warm`, silent: should it fail, detection meets the same error and reports it."""
    with contextlib.suppress(Exception):
        _warm()


@contextlib.contextmanager
def _executor(workers: int, scheduler: str | None) -> Iterator[tuple[Executor | None, int]]:
    """The executor partitions run on, and how many may be in flight."""
    if scheduler is not None:
        # Imported only here: dask is heavy and only this option needs it.
        distributed: Any = importlib.import_module("distributed")
        try:
            client: Any = distributed.Client(
                scheduler, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False
            )
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                field="--scheduler", reason=f"cannot reach the scheduler at {scheduler}: {exc}"
            ) from None
        try:
            slots = max(1, sum(client.nthreads().values()))
            yield client.get_executor(), 2 * slots
        finally:
            client.close()
        return
    if workers <= 1:
        yield None, 1
        return
    # Workers forked from a fresh server process that has imported the engine and loaded its
    # kernels (forking this process, with its reader threads, can deadlock). As with any
    # spawned process, a script that calls replay() from its main module needs the
    # ``if __name__ == "__main__"`` guard.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["skyparley.replay._preload"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    # The first process starts once the fork server has loaded the engine (about a second)
    # and blocks whoever submits: a thread does, while this one reads the input.

    def start() -> None:
        with contextlib.suppress(Exception):  # the driver's first task meets the same error
            for _ in range(workers):
                pool.submit(_warm)

    starter = threading.Thread(target=start, name="replay-start-workers", daemon=True)
    starter.start()
    try:
        yield pool, 2 * workers
    finally:
        starter.join()
        pool.shutdown(wait=True, cancel_futures=True)


def _prepare_out(out: str) -> tuple[Path, Path]:
    target = Path(out)
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        what = "folder is not empty" if target.is_dir() else "exists and is not a folder"
        raise InputError(field="--out", reason=f"{out}: {what}; give a new folder")
    parent = target.resolve().parent
    if not parent.is_dir():
        raise InputError(field="--out", reason=f"folder {target.parent} does not exist")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=parent))
    except OSError as exc:
        raise InputError(
            field="--out", reason=f"cannot create a folder in {parent}: {exc.strerror}"
        ) from None
    return target, tmp


def replay(
    inputs: list[str],
    *,
    protocol: str | Protocol,
    out: str,
    workers: int | None = None,
    scheduler: str | None = None,
    step_s: float = 1.0,
    stale_s: float = 30.0,
    skip_bad: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> ReplayResult:
    """Replay recorded traffic under a protocol and write the results into the folder ``out``.

    ``progress(stage, done, total)`` is called as files are read (``"read"``, rows) and as
    ticks are done (``"replay"``, ticks). The folder appears whole or not at all.
    """
    if not (math.isfinite(step_s) and step_s > 0):
        raise InputError(field="--step-s", reason=f"must be a positive number, got {step_s!r}")
    if not (math.isfinite(stale_s) and stale_s >= 0):
        raise InputError(field="--stale-s", reason=f"must be zero or positive, got {stale_s!r}")
    if stale_s > BUCKET_S:
        raise InputError(field="--stale-s", reason=f"must be at most {BUCKET_S:g} s")
    proto = load_protocol(protocol) if isinstance(protocol, str) else protocol
    grader = AlertGrader(proto.tactical)  # checks the levels before any reading
    files = input_files(inputs)
    if not files:
        raise InputError(field="INPUT", reason="no track file given")
    workers = _cores() if workers is None else workers
    target, tmp = _prepare_out(out)
    try:
        result = _replay(
            files, proto, grader, tmp, workers, scheduler, step_s, stale_s, skip_bad, progress
        )
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.out = target
    return result


def _replay(
    files: list[str],
    proto: Protocol,
    grader: AlertGrader,
    tmp: Path,
    workers: int,
    scheduler: str | None,
    step_s: float,
    stale_s: float,
    skip_bad: bool,
    progress: Callable[[str, int, int], None] | None,
) -> ReplayResult:
    tactical = proto.tactical
    with (
        _executor(workers, scheduler) as (pool, in_flight),
        # Incident reports are written by a thread: creating a file can take a millisecond
        # of the kernel's time, which would hold up handing work to the pool.
        BackgroundWrites("replay-pages", 256) as pages,
    ):
        warming = None
        if pool is None:
            # Detection runs in this process: load its kernels (numba's cache, about a
            # second) while the files are read, much of which is Arrow and zlib work that
            # leaves the interpreter free.
            warming = threading.Thread(target=_warm_quietly, name="replay-warm", daemon=True)
            warming.start()
        spill = Spill(tmp / ".spill", BUCKET_S)
        spill.folder.mkdir()
        read_rows = 0

        def on_read(n: int) -> None:
            nonlocal read_rows
            read_rows += n
            if progress is not None:
                progress("read", read_rows, 0)

        reports = ingest(files, spill, skip_bad=skip_bad, progress=on_read)
        if warming is not None:
            warming.join()
        rows = sum(r.used for r in reports)
        if rows == 0:
            raise InputError(field="INPUT", reason="no usable track rows in " + ", ".join(files))
        first, last = spill.start_s, spill.end_s
        count = math.floor((last - first) / step_s + 1e-9) + 1
        if count > MAX_TICKS:
            raise InputError(
                field="--step-s",
                reason=f"{format_time(first)} .. {format_time(last)} every {step_s:g} s makes "
                f"{count:,} ticks, more than {MAX_TICKS:,}: raise --step-s",
            )
        ticks = first + step_s * np.arange(count, dtype=np.float64)
        bucket = np.floor(ticks / BUCKET_S).astype(np.int64)
        keys, starts = np.unique(bucket, return_index=True)
        ends = np.append(starts[1:], count)
        cross = not tactical.include_same_party and spill.has_party
        back = math.ceil(stale_s / BUCKET_S) if stale_s > 0 else 0

        parties: dict[str, str] = {}
        (tmp / "incidents").mkdir()
        alerts = AlertWriter(tmp / "alerts.parquet", parties)
        summary = Summary(proto, parties)
        minima = tactical.minima
        shards = 1 if pool is None else max(1, in_flight // 2)

        def job(p: int) -> PartitionJob:
            k, s, e = int(keys[p]), int(starts[p]), int(ends[p])
            t0 = float(ticks[s])
            return PartitionJob(
                index=p,
                rows=spill.read(k, t0 - stale_s, back),
                ticks_s=ticks[s:e],
                stale_s=stale_s,
                minima=(*grader.minima, hold_minima(tactical.minima, step_s)),
                cross_party_only=cross,
            )

        def detect(p: int) -> _Result[PartitionResult]:
            j = job(p)
            if pool is None or j.rows.num_rows == 0:
                return _Done(detect_partition(j))
            return pool.submit(detect_partition, j)

        def fold(j: FoldJob) -> _Result[FoldResult]:
            return _Done(fold_shard(j)) if pool is None else pool.submit(fold_shard, j)

        conflict_rows = 0

        def take(results: list[FoldResult]) -> None:
            nonlocal conflict_rows
            events = [e for r in results for e in r.events]
            events.sort(key=lambda e: (e.t_s, e.a, e.b))
            if events:
                alerts.add(events)
            for r in results:
                conflict_rows += r.conflict_rows
                for _, name, page in r.incidents:
                    pages.submit(
                        (tmp / "incidents" / f"{name}.html").write_text, page, encoding="utf-8"
                    )
                summary.add_all([(inc, name) for inc, name, _ in r.incidents])

        chunks = [
            list(range(c, min(c + CHUNK_PARTITIONS, len(keys))))
            for c in range(0, len(keys), CHUNK_PARTITIONS)
        ]
        folds: list[_Result[FoldResult] | None] = [None] * shards
        aircraft_ticks = 0
        done_ticks = 0
        ahead = [detect(p) for p in chunks[0]]
        for c, chunk in enumerate(chunks):
            current = ahead
            ahead = [detect(p) for p in chunks[c + 1]] if c + 1 < len(chunks) else []
            s0, e1 = int(starts[chunk[0]]), int(ends[chunk[-1]])
            parts = []
            for future in current:
                res = future.result()
                parties.update(res.parties)
                aircraft_ticks += res.aircraft_ticks
                t = res.conflicts
                if t.num_rows:
                    shifted = pc.add(t.column("tick"), int(starts[res.index]) - s0)
                    t = t.set_column(t.schema.get_field_index("tick"), "tick", shifted)
                    parts.append(t)
            table = pa.concat_tables(parts) if parts else CONFLICT_SCHEMA.empty_table()
            shard = table.column("pair_hash").to_numpy() % shards if table.num_rows else None
            finished = []
            for k in range(shards):
                state, names = None, set()
                previous = folds[k]
                if previous is not None:
                    r = previous.result()
                    finished.append(r)
                    state, names = r.state, r.names
                mine = table if shard is None else table.filter(pa.array(shard == k))
                folds[k] = fold(
                    FoldJob(state, tactical, ticks[s0:e1], mine, dict(parties),
                            final=c == len(chunks) - 1, names=names, step_s=step_s)
                )  # fmt: skip
            take(finished)
            done_ticks += e1 - s0
            if progress is not None:
                progress("replay", done_ticks, count)
        take([f.result() for f in folds if f is not None])
        alerts.close()
        pages.close()
        shutil.rmtree(spill.folder)

    pq.write_table(summary.table(), tmp / "incidents.parquet")
    facts = [
        ("protocol", f"{proto.id} v{proto.version} ({proto.content_hash[:16]}...)"),
        ("input", ", ".join(files) if len(files) <= 5 else f"{files[0]} and {len(files) - 1} more"),
        ("time span", f"{format_time(first)} .. {format_time(last)}"),
        ("ticks", f"{count:,} every {step_s:g} s (reports older than {stale_s:g} s ignored)"),
        ("track rows used", f"{rows:,}"),
        (
            "separation",
            (
                f"{minima.hsep_nm:g} NM, {minima.vsep_ft:g} ft "
                f"(tolerance {minima.alt_tolerance_ft:g} ft), lookahead "
                f"{minima.lookahead_s:g} s"
            ),
        ),
        ("pairs", "all" if not cross else "different parties only"),
        ("incidents", f"{len(summary.rows):,}"),
        ("alerts raised", f"{sum(alerts.raised.values()):,} ({alerts.count:,} events)"),
    ]
    page = summary.page(facts=facts, alerts=alerts, hsep_nm=minima.hsep_nm)
    (tmp / "summary.html").write_text(page, encoding="utf-8")
    return ReplayResult(
        out=tmp,
        reports=reports,
        rows=rows,
        ticks=count,
        start_s=first,
        end_s=last,
        aircraft_ticks=aircraft_ticks,
        partitions=len(keys),
        incidents=len(summary.rows),
        alert_events=alerts.count,
        alerts_raised=sum(alerts.raised.values()),
        conflict_rows=conflict_rows,
        parties=dict(parties),
    )

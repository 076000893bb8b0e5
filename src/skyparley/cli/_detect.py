"""``skyparley detect``: conflicts at every time step of recorded tracks."""

from __future__ import annotations

import argparse
import math
import sys
from typing import IO

from tqdm import tqdm

from skyparley.adapters.conflict_sinks import check_output, open_sink
from skyparley.adapters.tracks import read_many
from skyparley.cli._inputs import MINIMA_OPTIONS, option_errors, track_file_errors
from skyparley.domain.encounters import EncounterLog
from skyparley.domain.separation import SeparationMinima, iter_conflicts
from skyparley.domain.times import format_time, parse_time
from skyparley.domain.traffic import step_times
from skyparley.errors import InputError

__all__ = ["detect_files", "run"]


# More steps than this is a mistake (epoch milliseconds, a typo in --start): a year at 1 s
# is 31.6 million steps; say so instead of allocating gigabytes and running for days.
MAX_STEPS = 50_000_000


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Handle ``skyparley detect``."""
    with option_errors(MINIMA_OPTIONS):
        minima = SeparationMinima(
            hsep_nm=args.hsep_nm,
            vsep_ft=args.vsep_ft,
            alt_tolerance_ft=args.alt_tolerance_ft,
            lookahead_s=args.lookahead_s,
        )
    return detect_files(
        args.files,
        minima=minima,
        start=args.start,
        end=args.end,
        step_s=args.step_s,
        stale_s=args.stale_s,
        cross_party_only=args.cross_party_only,
        fmt=args.format,
        out=args.out,
        skip_bad=args.skip_bad,
        workers=args.workers,
    )


def detect_files(
    files: list[str],
    *,
    minima: SeparationMinima,
    start: str | None,
    end: str | None,
    step_s: float,
    stale_s: float,
    cross_party_only: bool,
    fmt: str,
    out: str | None,
    skip_bad: bool,
    workers: int | None,
    stdout: IO[str] | None = None,
) -> int:
    """Read track files, detect at every step and write the conflicts; returns the exit code."""
    stdout = stdout or sys.stdout
    start_s = _parse_time(start, "--start")
    end_s = _parse_time(end, "--end")
    if start_s is not None and end_s is not None and end_s < start_s:
        raise InputError(field="--end", reason=f"{end} is before --start {start}")
    if fmt == "parquet" and out is None:
        raise InputError(field="--out", reason="parquet output needs a file: give --out PATH")
    if out is not None:
        check_output(out)  # before reading: a typo in --out is reported at once

    with track_file_errors():
        table, reports = read_many(files, skip_bad=skip_bad)
    for r in reports:
        notes = []
        if r.bad:
            kinds = ", ".join(f"{count} {reason}" for reason, count in sorted(r.bad.items()))
            notes.append(f"skipped {sum(r.bad.values())} bad rows ({kinds})")
        if r.incomplete:
            notes.append(f"dropped {r.incomplete} rows without position or velocity")
        if r.on_ground:
            notes.append(f"dropped {r.on_ground} rows on the ground")
        if notes:
            _say(f"{r.path}: {r.format} format, {r.rows} rows: " + "; ".join(notes))
            if r.first_bad:
                _say(f"  first bad row: {r.first_bad}")
    if len(table) == 0:
        raise InputError(field="FILE", reason="no usable track rows in " + ", ".join(files))
    if cross_party_only and table.party is None:
        raise InputError(field="--cross-party-only", reason="the tracks have no party column")

    first = table.start_s if start_s is None else start_s
    last = table.end_s if end_s is None else end_s
    if last < first:
        if end_s is None:
            raise InputError(
                field="--start",
                reason=f"{start} is after the last report, {format_time(last)}",
            )
        raise InputError(
            field="--end", reason=f"{end} is before the first report, {format_time(first)}"
        )
    count = math.floor((last - first) / step_s + 1e-9) + 1
    if count > MAX_STEPS:
        raise InputError(
            field="--step-s",
            reason=f"{format_time(first)} .. {format_time(last)} every {step_s:g} s makes "
            f"{count:,} steps, more than {MAX_STEPS:,}: narrow --start/--end or raise --step-s",
        )
    times = step_times(first, last, step_s)

    log = EncounterLog()
    bar = tqdm(
        total=len(times),
        unit="step",
        file=sys.stderr,
        delay=1.0,
        disable=not sys.stderr.isatty(),
        desc="detect",
    )
    try:
        with open_sink(fmt, out, stdout) as sink:
            for _states, conflicts in iter_conflicts(
                table,
                times,
                minima,
                stale_s=stale_s,
                cross_party_only=cross_party_only,
                workers=workers,
            ):
                sink.write(conflicts)
                log.add(conflicts)
                bar.update()
    finally:
        bar.close()

    found = log.encounters()
    los = sum(1 for e in found if e.los)
    where = f" -> {out}" if out else ""
    _say(
        f"detect: {len(times)} steps {format_time(first)} .. {format_time(last)}, "
        f"{table.aircraft} aircraft, {_count(len(found), 'pair')} in conflict ({los} with loss "
        f"of separation), {_count(log.rows, 'row')}{where}"
    )
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _parse_time(text: str | None, option: str) -> float | None:
    """Epoch seconds of a --start/--end value, or None when not given."""
    return None if text is None else parse_time(text, field=option)

"""``skyparley replay``: incidents and alerts over recorded traffic, with reports."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from skyparley.cli._inputs import track_file_errors
from skyparley.domain.times import format_time
from skyparley.replay import replay

__all__ = ["run"]


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Handle ``skyparley replay``."""
    tty = sys.stderr.isatty()
    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if not tty:
            return  # bars only on a terminal (tqdm is not even imported otherwise)
        from tqdm import tqdm  # noqa: PLC0415

        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            unit = "row" if stage == "read" else "tick"
            bar = bars[stage] = tqdm(
                total=total or None,
                unit=unit,
                unit_scale=True,
                file=sys.stderr,
                delay=1.0,
                desc=stage,
            )
        bar.update(done - bar.n)

    try:
        with track_file_errors():
            result = replay(
                args.inputs,
                protocol=args.protocol,
                out=args.out,
                workers=args.workers,
                scheduler=args.scheduler,
                step_s=args.step_s,
                stale_s=args.stale_s,
                skip_bad=args.skip_bad,
                progress=progress,
            )
    finally:
        for bar in bars.values():
            bar.close()
    for r in result.reports:
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
    _say(
        f"replay: {result.ticks} ticks {format_time(result.start_s)} .. "
        f"{format_time(result.end_s)}, {result.rows} rows, {result.incidents} incidents, "
        f"{result.alerts_raised} alerts raised ({result.alert_events} events) -> {result.out}"
    )
    return 0

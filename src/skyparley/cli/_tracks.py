"""``skyparley tracks push``: replay a recorded track file into a running service.

The file is read as ``skyparley detect`` reads it (canonical CSV/Parquet, OpenSky state
vectors, ``traffic`` JSON samples); a bad row stops the command before anything is sent
(exit 2, naming the file, the row, the column and the reason). The rows of the token's
party (all rows when the file has no ``party`` column) are grouped by ``--batch-s`` of
recording time and posted with ``POST /v1/tracks``, one batch per group, paced in real time
divided by ``--speed``.

The service checks every state's time against its own clock (``clock_skew``: more than 5 s
ahead or 300 s behind, by default): an old recording is refused unless ``--rebase`` shifts
its times so that its first report is the service's "now" (read from ``/v1/health``). At a
``--speed`` above 1 the recording runs ahead of a service on the wall clock, and states
more than 5 s ahead are refused too; faster replays suit a service on a replay clock.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import Any

import numpy as np
from tqdm import tqdm

from skyparley.adapters.tracks import read_tracks
from skyparley.cli._inputs import track_file_errors
from skyparley.cli._remote import connect
from skyparley.client import Client, ClientError
from skyparley.domain.live import MAX_BATCH
from skyparley.domain.times import parse_time
from skyparley.domain.traffic import TrackTable
from skyparley.errors import InputError

__all__ = ["PushSummary", "push", "push_table"]

_EXIT_INTERRUPTED = 130


class PushSummary:
    """What a push sent and what became of it."""

    def __init__(self, path: str, party: str) -> None:
        self.path = path
        self.party = party
        self.batches = 0
        self.sent = 0
        self.accepted = 0
        self.reordered = 0
        self.rejected: Counter[str] = Counter()
        self.skipped = 0
        self.shift_s = 0.0
        self.interrupted = False

    def add(self, result: dict[str, Any]) -> None:
        """Count one batch's ingest result."""
        self.accepted += int(result.get("accepted", 0))
        self.reordered += int(result.get("reordered", 0))
        for reason, n in (result.get("rejected") or {}).items():
            self.rejected[str(reason)] += int(n)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "file": self.path,
            "party": self.party,
            "batches": self.batches,
            "sent": self.sent,
            "accepted": self.accepted,
            "reordered": self.reordered,
            "rejected": dict(sorted(self.rejected.items())),
            "skipped_other_parties": self.skipped,
            "shift_s": self.shift_s,
            "interrupted": self.interrupted,
        }

    def line(self) -> str:
        """The one-line summary for standard error."""
        rejected = sum(self.rejected.values())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected.items()))
        text = (
            f"tracks push: {self.path}: sent {self.sent} states of {self.party} in "
            f"{self.batches} batches: accepted {self.accepted}, rejected {rejected}"
            + (f" ({reasons})" if reasons else "")
        )
        if self.reordered:
            text += f", reordered {self.reordered}"
        if self.skipped:
            text += f"; skipped {self.skipped} rows of other parties"
        if self.shift_s:
            text += f"; times shifted by {self.shift_s:+.0f} s (--rebase)"
        if self.rejected.get("clock_skew") and not self.shift_s:
            text += "; clock_skew: the recording's times are far from the service's clock, "
            text += "use --rebase"
        elif self.rejected.get("clock_skew"):
            text += "; clock_skew: the replay ran ahead of the service's clock (--speed)"
        if self.interrupted:
            text += "; interrupted"
        return text


def _columns(table: TrackTable, idx: np.ndarray[Any, Any], shift_s: float) -> dict[str, Any]:
    return {
        "time": (table.time_s[idx] + shift_s).tolist(),
        "id": [str(x) for x in table.id[idx]],
        "lat_deg": table.lat_deg[idx].tolist(),
        "lon_deg": table.lon_deg[idx].tolist(),
        "alt_ft": table.alt_ft[idx].tolist(),
        "gs_kt": table.gs_kt[idx].tolist(),
        "trk_deg": table.trk_deg[idx].tolist(),
        "vs_fpm": table.vs_fpm[idx].tolist(),
    }


def push_table(
    client: Client,
    table: TrackTable,
    summary: PushSummary,
    *,
    speed: float,
    batch_s: float,
    rebase: bool,
    sleep: Any = time.sleep,
    monotonic: Any = time.monotonic,
) -> None:
    """Post the party's rows of ``table`` batch by batch, paced by ``speed``; fills
    ``summary``. A Ctrl-C leaves ``summary`` as far as it got and is raised again."""
    if table.party is None:
        mine = np.arange(len(table))
    else:
        mine = np.flatnonzero(table.party.astype(str) == summary.party)
        summary.skipped = len(table) - len(mine)
    if not len(mine):
        found = sorted({str(p) for p in table.party}) if table.party is not None else []
        raise InputError(
            field="FILE",
            reason=f"{summary.path} has no rows of {summary.party!r}, the token's party "
            f"(parties in the file: {', '.join(found) or 'none'})",
        )
    times = table.time_s[mine]
    first = float(times[0])
    if rebase:
        now = parse_time(client.health()["time"], field="time")
        summary.shift_s = now - first
    bucket = np.floor((times - first) / batch_s).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(mine)]
    bar = tqdm(
        total=len(mine),
        unit="state",
        file=sys.stderr,
        delay=1.0,
        disable=not sys.stderr.isatty(),
        desc="tracks push",
    )
    t0 = monotonic()
    try:
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            due = t0 + float(bucket[s]) * batch_s / speed
            wait = due - monotonic()
            if wait > 0:
                sleep(wait)
            for k in range(s, e, MAX_BATCH):
                idx = mine[k : min(e, k + MAX_BATCH)]
                result = client.push_tracks(_columns(table, idx, summary.shift_s))
                summary.batches += 1
                summary.sent += len(idx)
                summary.add(result)
                bar.update(len(idx))
    except KeyboardInterrupt:
        summary.interrupted = True
        raise
    finally:
        bar.close()


def push(args: argparse.Namespace) -> int:
    """Handle ``skyparley tracks push``."""
    with track_file_errors():
        table, report = read_tracks(args.file)
    if len(table) == 0:
        raise InputError(field="FILE", reason=f"no usable track rows in {args.file}")
    if report.incomplete or report.on_ground:
        print(
            f"tracks push: {args.file}: dropped {report.incomplete} rows without position or "
            f"velocity and {report.on_ground} on the ground",
            file=sys.stderr,
        )
    with connect(args, "tracks") as client:
        party = str(client.head()["party"])
        summary = PushSummary(report.path, party)
        code = 0
        try:
            push_table(
                client,
                table,
                summary,
                speed=args.speed,
                batch_s=args.batch_s,
                rebase=args.rebase,
            )
        except KeyboardInterrupt:
            code = _EXIT_INTERRUPTED
        except ClientError:
            print(summary.line(), file=sys.stderr)
            raise
    if args.format == "jsonl":
        sys.stdout.write(json.dumps(summary.to_dict(), separators=(",", ":")) + "\n")
    print(summary.line(), file=sys.stderr)
    return code

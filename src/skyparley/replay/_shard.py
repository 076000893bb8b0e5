"""Grading and incidents in shards of pairs, chunk after chunk of time.

The grader treats every pair on its own (a pair's alerts depend only on that pair's
conflicts), and so do incidents. Pairs are therefore split into shards by a stable hash, and
each shard is folded on its own, in parallel with the others: its conflicts, one time chunk
after another, through its own :class:`AlertGrader`, whose state goes from one chunk's task
to the next. The union of the shards' events is what one grader fed every pair would give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from skyparley.domain.alerting import AlertEvent, AlertGrader
from skyparley.domain.protocol import TacticalSettings
from skyparley.replay._fold import Incident, ReplayFold
from skyparley.replay._report import incident_name, incident_page

__all__ = ["FoldJob", "FoldResult", "fold_shard"]


@dataclass(slots=True)
class FoldJob:
    """One shard's conflicts over one chunk of ticks (``tick`` indexes ``ticks_s``)."""

    state: ReplayFold | None
    settings: TacticalSettings
    ticks_s: np.ndarray[Any, Any]
    conflicts: pa.Table
    parties: dict[str, str]
    final: bool
    names: set[str] = field(default_factory=set)
    step_s: float = 1.0


@dataclass(slots=True)
class FoldResult:
    """The shard's state after the chunk, its alert events and its finished incidents, each
    with its name and report page."""

    state: ReplayFold
    names: set[str]
    events: list[AlertEvent]
    incidents: list[tuple[Incident, str, str]]
    conflict_rows: int


def fold_shard(job: FoldJob) -> FoldResult:
    """Fold one chunk of one shard."""
    minima = job.settings.minima
    fold = job.state or ReplayFold(
        AlertGrader(job.settings), lookahead_s=minima.lookahead_s, step_s=job.step_s
    )
    before = fold.conflict_rows
    fold.add(job.ticks_s, job.conflicts)
    if job.final:
        fold.finish()
    incidents = []
    names = job.names
    for inc in fold.closed:
        name = base = incident_name(inc)
        k = 1
        while name in names:
            k += 1
            name = f"{base}-{k}"
        names.add(name)
        page = incident_page(inc, name, job.parties, minima.hsep_nm, minima.vsep_ft)
        inc.trace = []
        incidents.append((inc, name, page))
    events = fold.events
    fold.events = []
    fold.closed = []
    return FoldResult(fold, names, events, incidents, fold.conflict_rows - before)

"""The replay fold on hand-made conflict tables: what it keeps of a pair's earlier rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from skyparley.domain.alerting import AlertGrader
from skyparley.domain.protocol import AlertLevel, Hysteresis, TacticalSettings
from skyparley.domain.separation import SeparationMinima
from skyparley.replay._engine import CONFLICT_SCHEMA
from skyparley.replay._fold import ReplayFold


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    cols: dict[str, list[Any]] = {f.name: [] for f in CONFLICT_SCHEMA}
    for r in rows:
        for f in CONFLICT_SCHEMA:
            cols[f.name].append(r.get(f.name, 0.0))
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in CONFLICT_SCHEMA})


def _row(a: str, b: str, *, los: bool, hdist_nm: float) -> dict[str, Any]:
    return {
        "set": 0, "tick": 0, "a": a, "b": b, "tin_s": 0.0 if los else 500.0, "tout_s": 600.0,
        "tcpa_s": 10.0, "dcpa_nm": 0.1, "hdist_nm": hdist_nm, "vdist_ft": 0.0,
        "vdist_cpa_ft": 0.0, "los": los,
    }  # fmt: skip


def test_an_incident_trace_starts_at_most_a_lookahead_before_it() -> None:
    settings = TacticalSettings(
        SeparationMinima(), False, (AlertLevel("advisory", 300, 5, 1000),), Hysteresis(2, 4, 4)
    )
    lookahead = SeparationMinima().lookahead_s
    fold = ReplayFold(AlertGrader(settings), lookahead_s=lookahead, step_s=1.0)
    fold.add(np.array([0.0]), _table([_row("P", "Q", los=False, hdist_nm=20.0)]))
    # No tick is folded in between (none has a conflict), so nothing has pruned that row yet.
    fold.add(np.array([1001.0]), _table([_row("P", "Q", los=True, hdist_nm=1.0)]))
    fold.finish()
    pq_incidents = [inc for inc in fold.closed if (inc.a, inc.b) == ("P", "Q")]
    assert len(pq_incidents) == 1
    times = [r[0] for r in pq_incidents[0].trace]
    assert times == [1001.0]  # the row at t=0 is older than the lookahead: not in the trace
    assert min(times) >= 1001.0 - lookahead

"""The sequential part of a replay: ticks in time order through the alert grader, and losses
of separation gathered into incidents by the live service's own tracker
(:class:`~skyparley.domain.incidents.LosTracker`: an incident is one encounter, held while
the pair stays within :func:`~skyparley.domain.incidents.hold_minima`, the last set of
minima of every partition).

Partitions are detected in parallel, but alerts and incidents carry state from tick to tick
(M-of-N windows, persistence, an incident that goes on across a partition boundary), so their
results are folded here one tick after the other, in time order. Each tick belongs to exactly
one partition, so a pair's encounter is seen once however it straddles partitions.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from skyparley.domain.alerting import AlertEvent, AlertGrader
from skyparley.domain.incidents import LosTracker, OpenIncident
from skyparley.domain.separation import Conflicts

__all__ = ["Incident", "ReplayFold", "TraceRow"]

TraceRow = tuple[float, float, float, bool, float, float, float, float, float, float]
"""t_s, hdist_nm, vdist_ft, los, lat_a, lon_a, alt_a_ft, lat_b, lon_b, alt_b_ft."""


@dataclass(slots=True)
class Incident:
    """A loss of separation of one pair, from its first to its last LoS tick."""

    a: str
    b: str
    start_s: float
    end_s: float
    min_hdist_nm: float = math.inf
    min_hdist_t_s: float = math.nan
    vdist_at_min_hdist_ft: float = math.nan
    min_vdist_ft: float = math.inf
    min_vdist_t_s: float = math.nan
    hdist_at_min_vdist_nm: float = math.nan
    lat_deg: float = math.nan
    lon_deg: float = math.nan
    alt_ft: float = math.nan
    alert_level: str | None = None
    alert_raised_s: float = math.nan
    trace: list[TraceRow] = field(default_factory=list)


_NO_FLOATS = np.zeros(0)
_NO_IDS = np.zeros(0, dtype=object)
_NO_FLAGS = np.zeros(0, dtype=bool)


def _empty_conflicts(t_s: float) -> Conflicts:
    f, o = _NO_FLOATS, _NO_IDS  # never written to: shared by every empty table
    return Conflicts(t_s, o, o, f, f, f, f, f, f, f, _NO_FLAGS)


class ReplayFold:
    """Feeds ticks, in time order, to one :class:`AlertGrader` and gathers incidents.

    After each :meth:`add`, ``events`` holds the new alert events and ``closed`` the
    incidents that ended; the caller takes them. The fold is plain data: it can be pickled
    between tasks and picked up where it stopped.
    """

    def __init__(self, grader: AlertGrader, *, lookahead_s: float, step_s: float = 1.0) -> None:
        self.grader = grader
        self.sets = len(grader.minima) + 1  # the grader's, then hold_minima
        self.lookahead_s = lookahead_s
        self.step_s = step_s
        self.tracker = LosTracker(step_s=step_s, vsep_ft=grader.settings.minima.effective_vsep_ft)
        self.events: list[AlertEvent] = []
        self.closed: list[Incident] = []
        self.traces: dict[tuple[str, str], list[TraceRow]] = {}
        self.alert_of: dict[tuple[str, str], tuple[float, str | None]] = {}
        self.recent: dict[tuple[str, str], deque[TraceRow]] = {}
        self.conflict_rows = 0
        self.los_rows = 0
        self._ticks = 0

    def add(self, ticks_s: np.ndarray[Any, Any], conflicts: pa.Table) -> None:
        """Fold the ticks of one partition (``ticks_s``) with its conflict table."""
        cols = {
            name: conflicts.column(name).to_numpy(zero_copy_only=False)
            for name in conflicts.column_names
        }
        by_set = []
        for s in range(self.sets):
            sel = np.flatnonzero(cols["set"] == s) if len(conflicts) else np.zeros(0, int)
            part = {k: v[sel] for k, v in cols.items()}
            bounds = np.searchsorted(part["tick"], np.arange(len(ticks_s) + 1))
            by_set.append((part, bounds))
        self.conflict_rows += int(by_set[0][1][-1])
        rows0 = {k: v.tolist() for k, v in by_set[0][0].items()}
        # Ticks with a conflict row in some set; and each set's rows per tick as lists.
        busy = np.zeros(len(ticks_s), dtype=bool)
        for _, bounds in by_set:
            busy |= bounds[1:] != bounds[:-1]
        busy_l = busy.tolist()
        sets = [(part, bounds.tolist()) for part, bounds in by_set]
        b0 = sets[0][1]
        for n, t in enumerate(ticks_s.tolist()):
            if not busy_l[n] and self.grader.idle and not self.tracker.has_open:
                continue  # nothing to grade, nothing open: the tick changes nothing
            tables = []
            for part, bounds in sets:
                lo, hi = bounds[n], bounds[n + 1]
                if lo == hi:
                    tables.append(_empty_conflicts(t))
                    continue
                tables.append(
                    Conflicts(
                        t,
                        part["a"][lo:hi],
                        part["b"][lo:hi],
                        part["tin_s"][lo:hi],
                        part["tout_s"][lo:hi],
                        part["tcpa_s"][lo:hi],
                        part["dcpa_nm"][lo:hi],
                        part["hdist_nm"][lo:hi],
                        part["vdist_ft"][lo:hi],
                        part["vdist_cpa_ft"][lo:hi],
                        part["los"][lo:hi],
                    )
                )
            events = self.grader.update(tables[:-1])
            closed = self.tracker.update(tables[0], tables[-1])
            if events:
                self.events.extend(events)
                self._levels(events)
            if b0[n] != b0[n + 1]:
                self._traces(t, rows0, b0[n], b0[n + 1])
            self._tick_done(t)
            for inc in closed:
                self._close(inc)

    def _traces(self, t: float, p: dict[str, list[Any]], lo: int, hi: int) -> None:
        """Keep the conflict rows of the tick: in the trace of an open incident, else in the
        pair's recent rows (an incident's trace starts with them)."""
        a_, b_, los_ = p["a"], p["b"], p["los"]
        h_, v_ = p["hdist_nm"], p["vdist_ft"]
        la, oa, za = p["lat_a"], p["lon_a"], p["alt_a_ft"]
        lb, ob, zb = p["lat_b"], p["lon_b"], p["alt_b_ft"]
        is_open = self.tracker.is_open
        for r in range(lo, hi):
            key = (a_[r], b_[r])
            row: TraceRow = (t, h_[r], v_[r], los_[r], la[r], oa[r], za[r], lb[r], ob[r], zb[r])
            if los_[r]:
                self.los_rows += 1
            if is_open(key):
                trace = self.traces.get(key)
                if trace is None:
                    # its rows of the lookahead before now (older ones may not be pruned yet)
                    since = t - self.lookahead_s
                    before = self.recent.pop(key, ())
                    trace = self.traces[key] = [r for r in before if r[0] >= since]
                    alert = self.grader.alert(*key)
                    if alert is not None:
                        self.alert_of[key] = (alert.raised_s, alert.peak)
                trace.append(row)
                continue
            q = self.recent.get(key)
            if q is None:
                q = self.recent[key] = deque()
            q.append(row)
            while q[0][0] < t - self.lookahead_s:
                q.popleft()

    def _tick_done(self, t: float) -> None:
        """Every 256 ticks, forget the recent rows of pairs not seen for a lookahead."""
        self._ticks += 1
        if self._ticks % 256 == 0:
            for key in [k for k, q in self.recent.items() if q[-1][0] < t - self.lookahead_s]:
                del self.recent[key]

    def _levels(self, events: list[AlertEvent]) -> None:
        """The most severe alert level of each open incident, as its alert rises."""
        names = self.grader.levels
        open_now = set(self.tracker.open_pairs())
        for e in events:
            key = (e.a, e.b)
            if key not in open_now or e.level is None:
                continue
            raised, level = self.alert_of.get(key, (e.raised_s, None))
            if level is None or names.index(e.level) > names.index(level):
                level = e.level
            self.alert_of[key] = (raised if not math.isnan(raised) else e.raised_s, level)

    def _close(self, done: OpenIncident) -> None:
        key = (done.a, done.b)
        trace = [r for r in self.traces.pop(key, []) if r[0] <= done.end_s + self.lookahead_s]
        raised, level = self.alert_of.pop(key, (math.nan, None))
        inc = Incident(
            a=done.a,
            b=done.b,
            start_s=done.start_s,
            end_s=done.end_s,
            min_hdist_nm=done.min_hdist_nm,
            min_hdist_t_s=done.min_hdist_s,
            vdist_at_min_hdist_ft=done.vdist_at_min_h_ft,
            min_vdist_ft=done.min_vdist_ft,
            min_vdist_t_s=done.min_vdist_s,
            alert_level=level,
            alert_raised_s=raised,
            trace=trace,
        )
        if trace:
            near_h = min(trace, key=lambda r: abs(r[0] - done.min_hdist_s))
            inc.lat_deg, inc.lon_deg = _midpoint(near_h[4], near_h[5], near_h[7], near_h[8])
            inc.alt_ft = 0.5 * (near_h[6] + near_h[9])
            near_v = min(trace, key=lambda r: abs(r[0] - done.min_vdist_s))
            inc.hdist_at_min_vdist_nm = near_v[1]
        self.closed.append(inc)

    def finish(self) -> None:
        """The recording ended: close every open incident."""
        for inc in self.tracker.close_all():
            self._close(inc)


def _midpoint(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """The midpoint of two nearby positions (on the sphere; exact enough for a map)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    l1, l2 = math.radians(lon1), math.radians(lon2)
    x = math.cos(p1) * math.cos(l1) + math.cos(p2) * math.cos(l2)
    y = math.cos(p1) * math.sin(l1) + math.cos(p2) * math.sin(l2)
    z = math.sin(p1) + math.sin(p2)
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))

"""Incidents: every loss of separation, followed from its first tick to its last.

:class:`LosTracker` is fed each tick's :class:`~skyparley.domain.separation.Conflicts` (at
the protocol's minima). A pair whose ``los`` holds opens an :class:`OpenIncident`; each tick
it holds again updates the minimum horizontal and vertical separations and when each was
reached. The incident is one *encounter*: it stays open while the pair is still close,
within twice the minima (:func:`hold_minima`: the detection's conflict table at those
minima and a one-step lookahead is given each tick as ``held``), so a formation that steps
1,000 ft apart and back is one incident, not one per step. It closes on the first tick the
pair is neither in LoS nor held (or is gone); its ``end_s`` is the last tick in LoS. The
live service and ``skyparley replay`` both feed this tracker the same tables, so they
record the same incidents.

Between two ticks the pair keeps closing or opening in a straight line, so the minimum
horizontal separation may fall between ticks: when the closest point of approach lies
before the next tick (``0 <= tcpa_s <= step_s``), the predicted ``dcpa_nm`` is taken as a
candidate too, with its time, as long as the pair is still vertically inside the minimum at
that time. That keeps the recorded minimum independent of the tick phase.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

from skyparley.domain.separation import Conflicts, SeparationMinima

__all__ = ["HOLD_FACTOR", "LosTracker", "OpenIncident", "hold_minima"]

_TIE_S = 1e-6
"""A pair predicted to lose separation sooner than this, yet not in LoS now, sits exactly on
a threshold (level at exactly the vertical minimum, say): a tie, not a loss."""

HOLD_FACTOR = 2.0
"""An incident stays open while the pair is within this many times the minima."""


def hold_minima(minima: SeparationMinima, step_s: float = 1.0) -> SeparationMinima:
    """The minima whose conflict table (with a lookahead of one step: the pairs close now)
    keeps an incident open: twice the protocol's distances.

    Examples
    --------
    >>> m = hold_minima(SeparationMinima(hsep_nm=5, vsep_ft=1000, alt_tolerance_ft=100))
    >>> (m.hsep_nm, m.vsep_ft, m.lookahead_s)
    (10.0, 2000.0, 1.0)
    """
    return SeparationMinima(
        hsep_nm=minima.hsep_nm * HOLD_FACTOR,
        vsep_ft=minima.vsep_ft * HOLD_FACTOR,
        alt_tolerance_ft=minima.alt_tolerance_ft,
        lookahead_s=step_s,
    )


@dataclass
class OpenIncident:
    """A loss of separation under way (or just over): the pair, its times and minima."""

    a: str
    b: str
    start_s: float
    end_s: float
    min_hdist_nm: float = math.inf
    min_hdist_s: float = math.nan
    vdist_at_min_h_ft: float = math.nan
    min_vdist_ft: float = math.inf
    min_vdist_s: float = math.nan
    ticks: int = 0
    predicted_end_s: float = math.nan
    """For a loss only predicted between two ticks (``ticks`` 0): when it was to end."""
    samples: list[tuple[float, float, float]] = field(default_factory=list)
    """``(t_s, hdist_nm, vdist_ft)`` of every tick in LoS."""

    def to_dict(self) -> dict[str, float | str | int]:
        """JSON form (times in epoch seconds)."""
        return {
            "a": self.a,
            "b": self.b,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "min_hdist_nm": self.min_hdist_nm,
            "min_hdist_s": self.min_hdist_s,
            "vdist_at_min_h_ft": self.vdist_at_min_h_ft,
            "min_vdist_ft": self.min_vdist_ft,
            "min_vdist_s": self.min_vdist_s,
            "ticks": self.ticks,
        }


def _straight_line_nm(hdist_nm: float, dcpa_nm: float, tcpa_s: float, tau_s: float) -> float:
    """The horizontal distance ``tau_s`` from now on the pair's straight relative path,
    from the distance now and the closest approach (distance, time)."""
    if tcpa_s == 0.0:
        return hdist_nm
    along = max(hdist_nm * hdist_nm - dcpa_nm * dcpa_nm, 0.0) ** 0.5 / abs(tcpa_s)  # NM/s
    return float((dcpa_nm * dcpa_nm + (along * (tau_s - tcpa_s)) ** 2) ** 0.5)


class LosTracker:
    """Opens, follows and closes losses of separation tick by tick (see the module).

    Examples
    --------
    >>> import numpy as np
    >>> def tick(t, h):
    ...     a, b = np.array(["A"], dtype=object), np.array(["B"], dtype=object)
    ...     z = np.array([0.0])
    ...     return Conflicts(t, a, b, z - 1, z + 9, z + 99, np.array([h]), np.array([h]),
    ...                      np.array([500.0]), np.array([500.0]), np.array([True]))
    >>> tr = LosTracker(step_s=1.0)
    >>> tr.update(tick(0.0, 4.0)), tr.update(tick(1.0, 3.0))
    ([], [])
    >>> closed = tr.update(Conflicts(2.0, *[np.zeros(0, dtype=object)] * 2,
    ...                              *[np.zeros(0)] * 7, np.zeros(0, dtype=bool)))
    >>> [(c.start_s, c.end_s, c.min_hdist_nm, c.min_hdist_s) for c in closed]
    [(0.0, 1.0, 3.0, 1.0)]
    """

    def __init__(self, *, step_s: float, vsep_ft: float = math.inf) -> None:
        self.step_s = float(step_s)
        self.vsep_ft = float(vsep_ft)
        self._open: dict[tuple[str, str], OpenIncident] = {}

    def open_pairs(self) -> list[tuple[str, str]]:
        """The pairs of the incidents open now."""
        return sorted(self._open)

    @property
    def has_open(self) -> bool:
        """Whether some incident is open now."""
        return bool(self._open)

    def is_open(self, pair: tuple[str, str]) -> bool:
        """Whether the pair ``(a, b)``, ``a < b``, has an incident open now."""
        return pair in self._open

    def update(
        self, conflicts: Conflicts, held: Collection[tuple[str, str]] | Conflicts = ()
    ) -> list[OpenIncident]:
        """Take one tick; returns the incidents that this tick closed.

        ``held`` is the pairs (``a < b``) that keep an incident open although not in LoS:
        the tick's release conflict table, or the pairs themselves.
        """
        t = conflicts.t_s
        now: set[tuple[str, str]] = set()
        if len(conflicts):
            a_ = list(map(str, conflicts.a.tolist()))
            b_ = list(map(str, conflicts.b.tolist()))
            tin_ = conflicts.tin_s.tolist()
            los_ = conflicts.los.tolist()
            if True in los_:  # the rest is read for pairs in LoS only
                h_ = conflicts.hdist_nm.tolist()
                v_ = conflicts.vdist_ft.tolist()
                tcpa_ = conflicts.tcpa_s.tolist()
                dcpa_ = conflicts.dcpa_nm.tolist()
                vcpa_ = conflicts.vdist_cpa_ft.tolist()
        for k in range(len(conflicts)):
            tin = tin_[k]
            if not los_[k]:
                if _TIE_S < tin < self.step_s:  # the loss begins before the next tick
                    self._between(conflicts, k, t)
                    now.add((a_[k], b_[k]))
                continue
            key = (a_[k], b_[k])
            now.add(key)
            inc = self._open.get(key)
            if inc is None:
                inc = OpenIncident(key[0], key[1], t, t)
                self._open[key] = inc
            inc.end_s = t
            inc.ticks += 1
            h = h_[k]
            v = v_[k]
            inc.samples.append((t, h, v))
            if h < inc.min_hdist_nm:
                inc.min_hdist_nm, inc.min_hdist_s, inc.vdist_at_min_h_ft = h, t, v
            tcpa = tcpa_[k]
            dcpa = dcpa_[k]
            v_cpa = vcpa_[k]
            if 0.0 < tcpa <= self.step_s and dcpa < inc.min_hdist_nm and v_cpa < self.vsep_ft:
                inc.min_hdist_nm, inc.min_hdist_s, inc.vdist_at_min_h_ft = dcpa, t + tcpa, v_cpa
            if v < inc.min_vdist_ft:
                inc.min_vdist_ft, inc.min_vdist_s = v, t
        if not self._open:
            return []
        for key in [k for k, inc in self._open.items() if k not in now and not inc.ticks]:
            if self._open[key].predicted_end_s >= t:
                # predicted to be in LoS by now, and it is not: the prediction did not hold
                # (a climb rate changed), so there was no loss
                del self._open[key]
        out = [key for key in self._open if key not in now]
        if not out:
            return []
        keep = (
            set(zip(map(str, held.a.tolist()), map(str, held.b.tolist()), strict=True))
            if isinstance(held, Conflicts)
            else held
        )
        closed = [self._open[key] for key in out if key not in keep]
        for inc in closed:
            del self._open[(inc.a, inc.b)]
        return sorted(closed, key=lambda i: (i.start_s, i.a, i.b))

    def _between(self, conflicts: Conflicts, k: int, t: float) -> None:
        """A loss of separation predicted to begin before the next tick: it is followed
        from its predicted start, so a dip shorter than a tick is not missed. The next tick
        confirms it (the pair is in LoS), records it (a dip predicted to end before that
        tick), or drops it (predicted to last past that tick, yet the pair is not in LoS)."""
        key = (str(conflicts.a[k]), str(conflicts.b[k]))
        start = t + float(conflicts.tin_s[k])
        end = min(t + float(conflicts.tout_s[k]), t + self.step_s)
        inc = self._open.get(key)
        if inc is not None and not inc.ticks and inc.predicted_end_s >= t:
            inc = None  # an earlier prediction that did not come true: this one replaces it
        if inc is None:
            inc = OpenIncident(key[0], key[1], start, end)
            inc.predicted_end_s = t + float(conflicts.tout_s[k])
            self._open[key] = inc
        inc.end_s = max(inc.end_s, end)
        tcpa = float(conflicts.tcpa_s[k])
        dcpa = float(conflicts.dcpa_nm[k])
        if start - t <= tcpa <= end - t:
            h, when, v = dcpa, t + tcpa, float(conflicts.vdist_cpa_ft[k])
        else:  # the dip's nearest point to the closest approach: one of its ends
            tau = start - t if tcpa < start - t else end - t
            h = _straight_line_nm(float(conflicts.hdist_nm[k]), dcpa, tcpa, tau)
            when, v = t + tau, float(conflicts.vdist_ft[k])
        if h < inc.min_hdist_nm:
            inc.min_hdist_nm, inc.min_hdist_s, inc.vdist_at_min_h_ft = h, when, v
        if v < inc.min_vdist_ft:
            inc.min_vdist_ft, inc.min_vdist_s = v, when

    def open(self) -> list[OpenIncident]:
        """The losses of separation under way, by start."""
        return sorted(self._open.values(), key=lambda i: (i.start_s, i.a, i.b))

    def close_all(self) -> list[OpenIncident]:
        """Close every open incident (the end of a recording); returns them."""
        out = self.open()
        self._open.clear()
        return out

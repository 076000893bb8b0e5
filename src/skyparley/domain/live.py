"""The live picture: tracks as parties report them, checked, kept, and drawn at any time.

:class:`LiveTable` takes batches of aircraft states (:class:`StateBatch`) from the parties'
sources and keeps, per aircraft, its latest accepted state and a short history. A batch is
checked row by row, vectorised; a row that fails is *rejected* and counted by reason, and
never stops the rest of the batch:

=================  ==========================================================================
reason             the row ...
=================  ==========================================================================
``invalid``        has a value that is not a number, or out of range (the field is named)
``foreign``        names an aircraft another party reports (ids are unique across parties)
``clock_skew``     is timed beyond ``future_s`` ahead of the service's clock or more than
                   ``past_s`` behind it
``duplicate``      repeats the time of the aircraft's latest accepted state
``out_of_order``   is older than the aircraft's latest state by more than ``reorder_s``
``reordered``      is older, within ``reorder_s``: kept in the history (the evidence of an
                   incident), not as the current state; counted, not rejected
``teleport``       implies a ground speed above ``max_speed_kt`` from the latest state (or
                   to it, for a late row)
=================  ==========================================================================

Per source ordering: each aircraft's states are taken in time order within a batch (a
batch may hold several states of one aircraft), and against what the same aircraft had.

:meth:`LiveTable.picture` gives the :class:`~skyparley.domain.traffic.AircraftStates` of
every aircraft whose latest state is no older than ``stale_s`` at a time (or no more than
``future_s`` ahead of it, as ingest accepts): the detection propagates each to that time in a
straight line (coasting).

Pure and single-threaded: the service holds a lock around it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from skyparley.domain.traffic import AircraftStates
from skyparley.errors import InputError
from skyparley.geo.wgs84 import geodesic_inverse

__all__ = [
    "BATCH_COLUMNS",
    "MAX_BATCH",
    "REJECT_REASONS",
    "IngestLimits",
    "IngestResult",
    "LiveTable",
    "StateBatch",
]

BATCH_COLUMNS: Final = ("time", "id", "lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm")
"""The columns of a batch (``time`` in epoch seconds); ``vs_fpm`` may be left out (0)."""
MAX_BATCH: Final = 10_000
"""Most states in one batch."""
REJECT_REASONS: Final = (
    "invalid",
    "foreign",
    "clock_skew",
    "duplicate",
    "out_of_order",
    "teleport",
)
_M_PER_NM: Final = 1852.0
_KT_MS: Final = 1852.0 / 3600.0

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """What the ingest accepts (see the module's table)."""

    future_s: float = 5.0
    past_s: float = 300.0
    reorder_s: float = 5.0
    max_speed_kt: float = 1500.0
    history: int = 150
    """States kept per aircraft (2.5 min at 1 Hz): the evidence before an incident (the live
    service keeps the tracks of an incident under way itself)."""


@dataclass(frozen=True, eq=False)
class StateBatch:
    """States of one party's aircraft, columns of equal length (see :data:`BATCH_COLUMNS`)."""

    time_s: FloatArray
    id: npt.NDArray[np.object_]
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_ft: FloatArray
    gs_kt: FloatArray
    trk_deg: FloatArray
    vs_fpm: FloatArray

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], *, field: str = "states") -> StateBatch:
        """A batch from columns (lists or arrays); errors name the column.

        Examples
        --------
        >>> b = StateBatch.from_columns({"time": [1.0], "id": ["RFF21"], "lat_deg": [35.0],
        ...     "lon_deg": [39.0], "alt_ft": [30000], "gs_kt": [450], "trk_deg": [90]})
        >>> len(b), float(b.vs_fpm[0])
        (1, 0.0)
        """
        if not isinstance(columns, Mapping):
            raise InputError(field=field, reason="must be an object of columns")
        unknown = sorted(set(columns) - set(BATCH_COLUMNS))
        if unknown:
            raise InputError(field=f"{field}.{unknown[0]}", reason="is not a known column")
        ids = columns.get("id")
        if not isinstance(ids, list | tuple | np.ndarray):
            raise InputError(field=f"{field}.id", reason="is required: a list of aircraft ids")
        n = len(ids)
        if n > MAX_BATCH:
            raise InputError(field=field, reason=f"has {n} states; at most {MAX_BATCH} a batch")
        for k, x in enumerate(ids):
            if not isinstance(x, str) or not 1 <= len(x) <= 64 or not x.isprintable():
                raise InputError(
                    field=f"{field}.id[{k}]", reason="must be 1 to 64 printable characters"
                )
            if x != x.strip():  # "EDGE1 " would be another aircraft than "EDGE1"
                raise InputError(
                    field=f"{field}.id[{k}]", reason="must not start or end with a space"
                )
        out: dict[str, Any] = {"id": np.asarray(ids, dtype=object)}
        for name in BATCH_COLUMNS:
            if name == "id":
                continue
            raw = columns.get(name)
            if raw is None:
                if name == "vs_fpm":
                    out[name] = np.zeros(n)
                    continue
                raise InputError(field=f"{field}.{name}", reason="is required")
            if not isinstance(raw, list | tuple | np.ndarray) or len(raw) != n:
                raise InputError(field=f"{field}.{name}", reason=f"must be a list of {n} numbers")
            try:
                col = np.asarray(raw, dtype=np.float64)
            except (TypeError, ValueError, OverflowError):
                bad = next(
                    (k for k, v in enumerate(raw) if isinstance(v, bool) or not _is_num(v)), 0
                )
                raise InputError(
                    field=f"{field}.{name}[{bad}]", reason=f"is not a number: {raw[bad]!r}"
                ) from None
            if col.ndim != 1:
                raise InputError(field=f"{field}.{name}", reason="must be a flat list of numbers")
            out["time_s" if name == "time" else name] = col
        return cls(**out)

    @classmethod
    def from_states(cls, states: AircraftStates) -> StateBatch:
        """The batch of a picture (its own times)."""
        return cls(
            time_s=states.time_s.astype(np.float64),
            id=states.id.astype(object),
            lat_deg=states.lat_deg,
            lon_deg=states.lon_deg,
            alt_ft=states.alt_ft,
            gs_kt=states.gs_kt,
            trk_deg=states.trk_deg,
            vs_fpm=states.vs_fpm,
        )

    def to_columns(self) -> dict[str, list[Any]]:
        """JSON-ready columns (``time`` in epoch seconds)."""
        return {
            "time": self.time_s.tolist(),
            "id": [str(x) for x in self.id],
            "lat_deg": self.lat_deg.tolist(),
            "lon_deg": self.lon_deg.tolist(),
            "alt_ft": self.alt_ft.tolist(),
            "gs_kt": self.gs_kt.tolist(),
            "trk_deg": self.trk_deg.tolist(),
            "vs_fpm": self.vs_fpm.tolist(),
        }


def _is_num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


@dataclass
class IngestResult:
    """What became of a batch: accepted rows, rejects by reason, the first few errors."""

    accepted: int = 0
    reordered: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "accepted": self.accepted,
            "reordered": self.reordered,
            "rejected": dict(sorted(self.rejected.items())),
            "errors": self.errors,
        }


_ERRORS_SHOWN: Final = 10
_FIELDS: Final = ("lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm")
_RANGES: Final = {
    "time_s": (-62_135_596_800.0, 253_402_300_799.0),
    "lat_deg": (-90.0, 90.0),
    "lon_deg": (-180.0, 180.0),
    "alt_ft": (-2000.0, 100_000.0),
    "gs_kt": (0.0, 5000.0),
    "trk_deg": (0.0, 360.0),
    "vs_fpm": (-60_000.0, 60_000.0),
}


class LiveTable:
    """The latest state and recent history of every aircraft reported (see the module).

    Kept in columns: one row of ``_latest`` per aircraft (``time, lat, lon, alt, gs, trk,
    vs``) and a ring of ``limits.history`` rows per aircraft in ``_hist``, so that taking a
    batch and drawing a picture are array operations, not loops over aircraft.
    """

    def __init__(self, limits: IngestLimits | None = None) -> None:
        self.limits = limits or IngestLimits()
        self._slot: dict[str, int] = {}
        self._n = 0
        cap = 64
        self._ids = np.empty(cap, dtype=object)
        self._parties = np.empty(cap, dtype=object)
        self._latest = np.full((cap, 7), np.nan)
        self._hist = np.full((cap, self.limits.history, 7), np.nan)
        self._head = np.full(cap, -1, dtype=np.int64)
        self._count = np.zeros(cap, dtype=np.int64)
        self.totals: Counter[str] = Counter()

    def __len__(self) -> int:
        return self._n

    def party_of(self, aircraft: str) -> str | None:
        """The party that reports ``aircraft`` (None: unknown)."""
        k = self._slot.get(aircraft)
        return None if k is None else str(self._parties[k])

    def _grow(self, need: int) -> None:
        cap = len(self._ids)
        if need <= cap:
            return
        new = max(need, 2 * cap)

        def more(a: npt.NDArray[Any], fill: object) -> npt.NDArray[Any]:
            out = np.empty((new, *a.shape[1:]), dtype=a.dtype)
            out[...] = fill
            out[:cap] = a
            return out

        self._ids = more(self._ids, None)
        self._parties = more(self._parties, None)
        self._latest = more(self._latest, np.nan)
        self._hist = more(self._hist, np.nan)
        self._head = more(self._head, -1)
        self._count = more(self._count, 0)

    def _new_slots(self, party: str, ids: list[str]) -> npt.NDArray[np.int64]:
        start = self._n
        self._grow(start + len(ids))
        for j, aid in enumerate(ids):
            self._slot[aid] = start + j
        self._ids[start : start + len(ids)] = ids
        self._parties[start : start + len(ids)] = party
        self._n += len(ids)
        return np.arange(start, start + len(ids), dtype=np.int64)

    def _push(self, slots: npt.NDArray[np.int64], rows: FloatArray) -> None:
        """Make ``rows`` the latest states of ``slots`` (distinct) and add them to the rings."""
        size = self.limits.history
        h = (self._head[slots] + 1) % size
        self._hist[slots, h] = rows
        self._head[slots] = h
        self._count[slots] = np.minimum(self._count[slots] + 1, size)
        self._latest[slots] = rows

    def _ring(self, k: int) -> FloatArray:
        """The kept rows of slot ``k``, oldest first."""
        size = self.limits.history
        c = int(self._count[k])
        h = int(self._head[k])
        order = [(h - c + 1 + j) % size for j in range(c)]
        rows: FloatArray = self._hist[k, order]
        return rows

    def _insert_older(self, k: int, row: FloatArray) -> None:
        """Keep a late row in slot ``k``'s history, in time order; the latest is unchanged."""
        size = self.limits.history
        merged = np.vstack([self._ring(k), row[None, :]])
        merged = merged[np.argsort(merged[:, 0], kind="stable")][-size:]
        self._hist[k] = np.nan
        self._hist[k, : len(merged)] = merged
        self._count[k] = len(merged)
        self._head[k] = len(merged) - 1

    def ingest(self, party: str, batch: StateBatch, *, now_s: float) -> IngestResult:
        """Check and keep the rows of ``batch`` reported by ``party`` (see the module)."""
        lim = self.limits
        res = IngestResult()
        n = len(batch)
        if n == 0:
            return res
        ok = np.ones(n, dtype=bool)
        reason = np.full(n, "", dtype=object)
        detail: dict[int, tuple[str, str]] = {}

        def reject(mask: npt.NDArray[np.bool_], why: str, fld: str, text: str) -> None:
            hit = mask & ok
            if hit.any():
                for k in np.flatnonzero(hit)[:_ERRORS_SHOWN]:
                    detail.setdefault(int(k), (fld, text))
                reason[hit] = why
                ok[hit] = False

        cols = {"time_s": batch.time_s, **{f: getattr(batch, f) for f in _FIELDS}}
        for name, col in cols.items():
            lo, hi = _RANGES[name]
            with np.errstate(invalid="ignore"):
                bad = ~np.isfinite(col) | (col < lo) | (col > hi)
            reject(
                bad,
                "invalid",
                "time" if name == "time_s" else name,
                f"must be a finite number in [{lo:g}, {hi:g}]",
            )
        t = batch.time_s
        with np.errstate(invalid="ignore"):
            reject(
                t > now_s + lim.future_s,
                "clock_skew",
                "time",
                f"is more than {lim.future_s:g} s ahead of the service's clock",
            )
            reject(
                t < now_s - lim.past_s,
                "clock_skew",
                "time",
                f"is more than {lim.past_s:g} s behind the service's clock",
            )
        ids_s = batch.id.astype(str)
        slot_of = self._slot
        slots = np.fromiter((slot_of.get(x, -1) for x in ids_s), dtype=np.int64, count=n)
        known_any = slots >= 0
        if known_any.any():
            foreign = np.zeros(n, dtype=bool)
            foreign[known_any] = self._parties[slots[known_any]] != party
            reject(foreign, "foreign", "id", "is an aircraft another party reports")
        rows = np.column_stack(
            [t, batch.lat_deg, batch.lon_deg, batch.alt_ft, batch.gs_kt, batch.trk_deg,
             batch.vs_fpm]
        )  # fmt: skip
        cand = np.flatnonzero(ok)
        _, inv, counts = np.unique(ids_s[cand], return_inverse=True, return_counts=True)
        once = cand[counts[inv] == 1]
        # the common case, vectorised: an aircraft's only row in this batch
        s_once = slots[once]
        known = s_once >= 0
        last = np.full((len(once), 7), np.nan)
        last[known] = self._latest[s_once[known]]
        dt = rows[once, 0] - last[:, 0]
        with np.errstate(invalid="ignore"):
            dup = known & (dt == 0.0)
            older = known & (dt < 0.0)
            fwd = known & (dt > 0.0)
        late = older & (-dt > lim.reorder_s)
        tele = np.zeros(len(once), dtype=bool)
        moved = fwd | (older & ~late)  # a late row kept in the history is checked too
        if moved.any():
            rk = once[moved]
            dist = geodesic_inverse(last[moved, 1], last[moved, 2], rows[rk, 1], rows[rk, 2])
            speed_kt = dist.distance_m / np.abs(dt[moved]) / _KT_MS
            too_fast = speed_kt > lim.max_speed_kt
            tele[moved] = too_fast
            for k, v in zip(rk[too_fast], speed_kt[too_fast], strict=True):
                detail.setdefault(
                    int(k),
                    ("lat_deg", (f"implies {v:.0f} kt from the aircraft's latest state;"
                     f" at most {lim.max_speed_kt:g}")),
                )  # fmt: skip
        for mask, why, text in (
            (dup, "duplicate", "repeats the aircraft's latest time"),
            (late, "out_of_order", (f"is more than {lim.reorder_s:g} s older than the"
             " aircraft's latest state")),
            (tele, "teleport", ""),
        ):  # fmt: skip
            if mask.any():
                hit = once[mask]
                reason[hit], ok[hit] = why, False
                if text:
                    for k in hit[:_ERRORS_SHOWN]:
                        detail.setdefault(int(k), ("time", text))
        accept = ok[once]
        new = accept & ~known
        if new.any():
            fresh = once[new]
            self._push(self._new_slots(party, ids_s[fresh].tolist()), rows[fresh])
        go = accept & fwd
        if go.any():
            self._push(s_once[go], rows[once[go]])
        for j in np.flatnonzero(accept & older):
            self._insert_older(int(s_once[j]), rows[once[j]])
            res.reordered += 1
        # several rows of one aircraft: one by one, in time order, ties broken by the values
        # (the outcome never depends on the order of the rows)
        many = cand[counts[inv] > 1]
        many = many[np.lexsort((*rows[many, :0:-1].T, t[many], ids_s[many]))]
        for k in many:
            self._take(party, str(ids_s[k]), rows[k], res, detail, reason, ok, int(k))
        res.accepted = int(ok.sum()) - res.reordered
        res.rejected = Counter(str(r) for r in reason[~ok])
        res.errors = [
            {"index": k, "id": str(ids_s[k]), "reason": str(reason[k]), "field": f, "detail": d}
            for k, (f, d) in sorted(detail.items())
            if not ok[k]
        ][:_ERRORS_SHOWN]
        self.totals["accepted"] += res.accepted
        self.totals["reordered"] += res.reordered
        self.totals.update(res.rejected)
        return res

    def _take(
        self,
        party: str,
        aid: str,
        row: FloatArray,
        res: IngestResult,
        detail: dict[int, tuple[str, str]],
        reason: npt.NDArray[np.object_],
        ok: npt.NDArray[np.bool_],
        k: int,
    ) -> bool:
        """Check and keep one row; False (and the reason set) when it is rejected."""
        lim = self.limits
        slot = self._slot.get(aid)
        if slot is None:
            self._push(self._new_slots(party, [aid]), row[None, :])
            return True
        last = self._latest[slot]
        dt = float(row[0] - last[0])
        why = text = fld = ""
        if dt == 0.0:
            why, fld, text = "duplicate", "time", "repeats the aircraft's latest time"
        elif dt < 0.0 and -dt > lim.reorder_s:
            why, fld = "out_of_order", "time"
            text = f"is {-dt:g} s older than the aircraft's latest state"
        else:
            dist_m = float(geodesic_inverse(last[1], last[2], row[1], row[2]).distance_m[()])
            speed_kt = dist_m / abs(dt) / _KT_MS
            if speed_kt > lim.max_speed_kt:
                why, fld = "teleport", "lat_deg"
                text = (
                    f"implies {speed_kt:.0f} kt from the aircraft's latest state;"
                    f" at most {lim.max_speed_kt:g}"
                )
        if why:
            reason[k], ok[k] = why, False
            detail.setdefault(k, (fld, text))
            return False
        if dt < 0.0:  # late, within reorder_s: into the history, not the current state
            self._insert_older(slot, row)
            res.reordered += 1
            return True
        self._push(np.array([slot]), row[None, :])
        return True

    def picture(self, at_s: float, *, stale_s: float) -> AircraftStates:
        """Every aircraft whose latest state is at most ``stale_s`` old at ``at_s``, or at
        most ``limits.future_s`` ahead of it (a source whose clock runs a little ahead, as
        ingest accepts), with its party: the states as reported, for the detection to
        propagate to ``at_s`` (back a little, for those ahead)."""
        n = self._n
        t = self._latest[:n, 0]
        keep = np.flatnonzero((t >= at_s - stale_s) & (t <= at_s + self.limits.future_s))
        rows = self._latest[keep]
        return AircraftStates._trusted(
            id=self._ids[keep],
            party=self._parties[keep],
            time_s=rows[:, 0].copy(),
            lat_deg=rows[:, 1].copy(),
            lon_deg=rows[:, 2].copy(),
            alt_ft=rows[:, 3].copy(),
            gs_kt=rows[:, 4].copy(),
            trk_deg=rows[:, 5].copy(),
            vs_fpm=rows[:, 6].copy(),
        )

    def history(
        self, aircraft: str, from_s: float = -math.inf, to_s: float = math.inf
    ) -> dict[str, list[float]]:
        """The kept states of ``aircraft`` in ``[from_s, to_s]``, as JSON-ready columns."""
        k = self._slot.get(aircraft)
        if k is None:
            return {name: [] for name in ("time", *_FIELDS)}
        h = self._ring(k)
        h = h[(h[:, 0] >= from_s) & (h[:, 0] <= to_s)]
        return {name: h[:, j].tolist() for j, name in enumerate(("time", *_FIELDS))}

    def forget_before(self, t_s: float) -> int:
        """Drop aircraft whose latest state is older than ``t_s``; returns how many."""
        n = self._n
        keep = np.flatnonzero(~(self._latest[:n, 0] < t_s))
        dropped = n - len(keep)
        if dropped:
            for name in ("_ids", "_parties", "_latest", "_hist", "_head", "_count"):
                a = getattr(self, name)
                a[: len(keep)] = a[keep]
            self._n = len(keep)
            self._latest[self._n : n] = np.nan
            self._slot = {str(x): j for j, x in enumerate(self._ids[: self._n])}
        return dropped

    def aircraft(self) -> Sequence[str]:
        """Every aircraft known."""
        return [str(x) for x in self._ids[: self._n]]

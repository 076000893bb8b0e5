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
``teleport``       implies a ground speed above ``max_speed_kt`` from the latest state
=================  ==========================================================================

Per source ordering: each aircraft's states are taken in time order within a batch (a
batch may hold several states of one aircraft), and against what the same aircraft had.

:meth:`LiveTable.picture` gives the :class:`~skyparley.domain.traffic.AircraftStates` of
every aircraft whose latest state is no older than ``stale_s`` at a time: the detection
propagates each to that time in a straight line (coasting).

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
    history: int = 600
    """States kept per aircraft (10 min at 1 Hz): the evidence around an incident."""


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


class _Track:
    """One aircraft's latest state and short history (a ring of rows)."""

    __slots__ = ("count", "head", "party", "rows")

    def __init__(self, party: str, size: int) -> None:
        self.party = party
        self.rows = np.full((size, 7), np.nan)  # time, lat, lon, alt, gs, trk, vs
        self.head = -1
        self.count = 0

    def latest(self) -> FloatArray:
        row: FloatArray = self.rows[self.head]
        return row

    def push(self, row: FloatArray) -> None:
        self.head = (self.head + 1) % self.rows.shape[0]
        self.rows[self.head] = row
        self.count = min(self.count + 1, self.rows.shape[0])

    def insert_older(self, row: FloatArray) -> None:
        """Keep a late row in the history, in time order, without changing the latest."""
        size = self.rows.shape[0]
        kept = self.history()
        merged = np.vstack([kept, row[None, :]])
        merged = merged[np.argsort(merged[:, 0], kind="stable")][-size:]
        latest_t = self.rows[self.head, 0]
        self.rows[:] = np.nan
        self.rows[: len(merged)] = merged
        self.count = len(merged)
        self.head = len(merged) - 1
        assert self.rows[self.head, 0] == latest_t

    def history(self) -> FloatArray:
        size = self.rows.shape[0]
        if self.count < size:
            return self.rows[: self.count].copy()
        return np.roll(self.rows, -(self.head + 1), axis=0).copy()


class LiveTable:
    """The latest state and recent history of every aircraft reported (see the module)."""

    def __init__(self, limits: IngestLimits | None = None) -> None:
        self.limits = limits or IngestLimits()
        self._tracks: dict[str, _Track] = {}
        self.totals: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._tracks)

    def party_of(self, aircraft: str) -> str | None:
        """The party that reports ``aircraft`` (None: unknown)."""
        t = self._tracks.get(aircraft)
        return None if t is None else t.party

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
        ids = batch.id
        owners = [self._tracks.get(str(x)) for x in ids]
        foreign = np.fromiter(
            (o is not None and o.party != party for o in owners), dtype=bool, count=n
        )
        reject(foreign, "foreign", "id", "is an aircraft another party reports")
        rows = np.column_stack(
            [
                t,
                batch.lat_deg,
                batch.lon_deg,
                batch.alt_ft,
                batch.gs_kt,
                batch.trk_deg,
                batch.vs_fpm,
            ]
        )
        ids_s = ids.astype(str)
        cand = np.flatnonzero(ok)
        _, inv, counts = np.unique(ids_s[cand], return_inverse=True, return_counts=True)
        once = cand[counts[inv] == 1]
        # the common case, vectorised: an aircraft's only row in this batch
        tracks = [self._tracks.get(x) for x in ids_s[once]]
        known = np.fromiter((tr is not None for tr in tracks), dtype=bool, count=len(once))
        last = np.full((len(once), 7), np.nan)
        if known.any():
            last[known] = np.array([tr.latest() for tr in tracks if tr is not None])
        dt = rows[once, 0] - last[:, 0]
        with np.errstate(invalid="ignore"):
            dup = known & (dt == 0.0)
            older = known & (dt < 0.0)
            fwd = known & (dt > 0.0)
        late = older & (-dt > lim.reorder_s)
        tele = np.zeros(len(once), dtype=bool)
        if fwd.any():
            rk = once[fwd]
            dist = geodesic_inverse(last[fwd, 1], last[fwd, 2], rows[rk, 1], rows[rk, 2])
            speed_kt = dist.distance_m / dt[fwd] / _KT_MS
            tele[fwd] = speed_kt > lim.max_speed_kt
            for k, v in zip(
                rk[speed_kt > lim.max_speed_kt], speed_kt[speed_kt > lim.max_speed_kt], strict=True
            ):
                detail.setdefault(
                    int(k),
                    (
                        "lat_deg",
                        (
                            f"implies {v:.0f} kt from the aircraft's"
                            f" latest state; at most {lim.max_speed_kt:g}"
                        ),
                    ),
                )
        for mask, why, text in (
            (dup, "duplicate", "repeats the aircraft's latest time"),
            (
                late,
                "out_of_order",
                f"is more than {lim.reorder_s:g} s older than the aircraft's latest state",
            ),
            (tele, "teleport", ""),
        ):
            if mask.any():
                hit = once[mask]
                reason[hit], ok[hit] = why, False
                if text:
                    for k in hit[:_ERRORS_SHOWN]:
                        detail.setdefault(int(k), ("time", text))
        for j, k in enumerate(once):
            if not ok[k]:
                continue
            tr = tracks[j]
            if tr is None:
                tr = _Track(party, lim.history)
                self._tracks[ids_s[k]] = tr
                tr.push(rows[k])
            elif older[j]:
                tr.insert_older(rows[k])
                res.reordered += 1
            else:
                tr.push(rows[k])
        # several rows of one aircraft: one by one, in time order
        many = cand[counts[inv] > 1]
        # time order, ties broken by the values: the outcome never depends on the row order
        many = many[np.lexsort((*rows[many, :0:-1].T, t[many], ids_s[many]))]
        for k in many:
            if self._take(party, ids_s[k], rows[k], res, detail, reason, ok, int(k)):
                continue
        res.accepted = int(ok.sum()) - res.reordered
        res.rejected = Counter(str(r) for r in reason[~ok])
        res.errors = [
            {"index": k, "id": str(ids[k]), "reason": str(reason[k]), "field": f, "detail": d}
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
        track = self._tracks.get(aid)
        if track is None:
            track = _Track(party, lim.history)
            self._tracks[aid] = track
            track.push(row)
            return True
        last = track.latest()
        dt = float(row[0] - last[0])
        why = text = fld = ""
        if dt == 0.0:
            why, fld, text = "duplicate", "time", "repeats the aircraft's latest time"
        elif dt < 0.0:
            if -dt > lim.reorder_s:
                why, fld = "out_of_order", "time"
                text = f"is {-dt:g} s older than the aircraft's latest state"
            else:
                track.insert_older(row)
                res.reordered += 1
                return True
        else:
            dist_m = float(geodesic_inverse(last[1], last[2], row[1], row[2]).distance_m[()])
            speed_kt = dist_m / dt / _KT_MS
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
        track.push(row)
        return True

    def picture(self, at_s: float, *, stale_s: float) -> AircraftStates:
        """Every aircraft whose latest state is at most ``stale_s`` old at ``at_s`` (and not
        after it), with its party: the states as reported, for the detection to propagate."""
        keep = [
            (aid, tr)
            for aid, tr in self._tracks.items()
            if at_s - stale_s <= tr.latest()[0] <= at_s
        ]
        if not keep:
            empty = np.zeros(0)
            return AircraftStates(
                id=np.zeros(0, dtype=object),
                party=np.zeros(0, dtype=object),
                time_s=empty,
                lat_deg=empty,
                lon_deg=empty,
                alt_ft=empty,
                gs_kt=empty,
                trk_deg=empty,
                vs_fpm=empty,
            )
        rows = np.array([tr.latest() for _, tr in keep])
        return AircraftStates(
            id=np.array([aid for aid, _ in keep], dtype=object),
            party=np.array([tr.party for _, tr in keep], dtype=object),
            time_s=rows[:, 0],
            lat_deg=rows[:, 1],
            lon_deg=rows[:, 2],
            alt_ft=rows[:, 3],
            gs_kt=rows[:, 4],
            trk_deg=rows[:, 5],
            vs_fpm=rows[:, 6],
        )

    def history(
        self, aircraft: str, from_s: float = -math.inf, to_s: float = math.inf
    ) -> dict[str, list[float]]:
        """The kept states of ``aircraft`` in ``[from_s, to_s]``, as JSON-ready columns."""
        tr = self._tracks.get(aircraft)
        if tr is None:
            return {name: [] for name in ("time", *_FIELDS)}
        h = tr.history()
        h = h[(h[:, 0] >= from_s) & (h[:, 0] <= to_s)]
        return {name: h[:, j].tolist() for j, name in enumerate(("time", *_FIELDS))}

    def forget_before(self, t_s: float) -> int:
        """Drop aircraft whose latest state is older than ``t_s``; returns how many."""
        old = [aid for aid, tr in self._tracks.items() if tr.latest()[0] < t_s]
        for aid in old:
            del self._tracks[aid]
        return len(old)

    def aircraft(self) -> Sequence[str]:
        """Every aircraft known."""
        return list(self._tracks)

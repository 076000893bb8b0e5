"""Aircraft states and recorded tracks: named structures of arrays with units in their names.

:class:`AircraftStates` is one picture of N aircraft (a snapshot); :class:`TrackTable` is a
whole recording, many reports per aircraft, from which :func:`iter_snapshots` draws the
picture at each time step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from skyparley.errors import InputError

__all__ = [
    "AircraftStates",
    "TrackTable",
    "iter_snapshots",
    "snapshot_rows",
    "sorted_codes",
    "step_times",
]

FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.object_]

_FLOAT_FIELDS = ("time_s", "lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm")


def _check_columns(obj: Any, n: int) -> None:
    for name in _FLOAT_FIELDS:
        col = getattr(obj, name)
        if col.shape != (n,):
            raise InputError(field=name, reason=f"has {col.shape[0]} values, expected {n}")
        bad = ~np.isfinite(col)
        if bad.any():
            raise InputError(
                field=name,
                reason=f"value {col[bad][0]!r} at index {int(np.argmax(bad))}"
                " is not a finite number",
            )
    for name, lo, hi in (
        ("lat_deg", -90.0, 90.0),
        ("lon_deg", -180.0, 180.0),
        ("trk_deg", 0.0, 360.0),
    ):
        col = getattr(obj, name)
        bad = (col < lo) | (col > hi)
        if bad.any():
            k = int(np.argmax(bad))
            raise InputError(
                field=name, reason=f"value {col[k]!r} at index {k} is outside [{lo:g}, {hi:g}]"
            )
    neg = obj.gs_kt < 0.0
    if neg.any():
        k = int(np.argmax(neg))
        raise InputError(field="gs_kt", reason=f"value {obj.gs_kt[k]!r} at index {k} is negative")


def _as_float(x: npt.ArrayLike) -> FloatArray:
    return np.ascontiguousarray(x, dtype=np.float64)


def _as_str(x: npt.ArrayLike) -> StrArray:
    arr = np.asarray(x, dtype=object)
    return np.array([str(v) for v in arr.ravel()], dtype=object).reshape(arr.shape)


def _normalise_columns(obj: Any) -> int:
    """Convert a frozen column set's fields to their array types and validate them."""
    object.__setattr__(obj, "id", _as_str(obj.id))
    if obj.party is not None:
        object.__setattr__(obj, "party", _as_str(obj.party))
    for name in _FLOAT_FIELDS:
        object.__setattr__(obj, name, _as_float(getattr(obj, name)))
    if obj.id.ndim != 1:
        raise InputError(field="id", reason="must be one-dimensional")
    n = int(obj.id.shape[0])
    if obj.party is not None and obj.party.shape != (n,):
        raise InputError(field="party", reason=f"has {obj.party.shape[0]} values, expected {n}")
    _check_columns(obj, n)
    return n


@dataclass(frozen=True, slots=True, eq=False)
class AircraftStates:
    """The state of N aircraft, one row each, in aviation units.

    ``time_s`` is the epoch time of each state (UTC seconds); ``trk_deg`` the ground track,
    clockwise from true north; ``party`` the owning party of each aircraft, or ``None`` when
    unknown. Ids must be unique. Values are validated on construction.
    """

    id: StrArray
    party: StrArray | None
    time_s: FloatArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_ft: FloatArray
    gs_kt: FloatArray
    trk_deg: FloatArray
    vs_fpm: FloatArray

    def __post_init__(self) -> None:
        _normalise_columns(self)
        uniq, counts = np.unique(self.id.astype(str), return_counts=True)
        if (counts > 1).any():
            raise InputError(field="id", reason=f"aircraft {uniq[counts > 1][0]!r} appears twice")

    def __len__(self) -> int:
        return int(self.id.shape[0])

    @classmethod
    def _trusted(cls, **columns: Any) -> AircraftStates:
        """Build from columns already validated (by a :class:`TrackTable`), skipping checks."""
        obj = object.__new__(cls)
        for name, value in columns.items():
            object.__setattr__(obj, name, value)
        return obj

    def take(self, index: npt.ArrayLike) -> AircraftStates:
        """The states at the given indices (or boolean mask)."""
        idx = np.asarray(index)
        return AircraftStates(
            id=self.id[idx],
            party=None if self.party is None else self.party[idx],
            time_s=self.time_s[idx],
            lat_deg=self.lat_deg[idx],
            lon_deg=self.lon_deg[idx],
            alt_ft=self.alt_ft[idx],
            gs_kt=self.gs_kt[idx],
            trk_deg=self.trk_deg[idx],
            vs_fpm=self.vs_fpm[idx],
        )


@dataclass(frozen=True, slots=True, eq=False)
class TrackTable:
    """A recording of position reports, several per aircraft, sorted by time (stable).

    Columns as :class:`AircraftStates`; ``id`` may repeat. ``source`` names where the rows
    came from, for messages.
    """

    id: StrArray
    party: StrArray | None
    time_s: FloatArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_ft: FloatArray
    gs_kt: FloatArray
    trk_deg: FloatArray
    vs_fpm: FloatArray
    source: str = "tracks"

    def __post_init__(self) -> None:
        n = _normalise_columns(self)
        if n > 1 and np.any(np.diff(self.time_s) < 0):
            order = np.argsort(self.time_s, kind="stable")
            for f in fields(self):
                col = getattr(self, f.name)
                if isinstance(col, np.ndarray):
                    object.__setattr__(self, f.name, col[order])

    def __len__(self) -> int:
        return int(self.id.shape[0])

    @classmethod
    def _trusted(cls, **columns: Any) -> TrackTable:
        """Build from columns already validated and sorted by time (a table's own rows, read
        back), skipping the checks: ``id`` and ``party`` object arrays of ``str``, the others
        float64."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "source", "tracks")
        for name, value in columns.items():
            object.__setattr__(obj, name, value)
        return obj

    @property
    def start_s(self) -> float:
        """Time of the first report."""
        return float(self.time_s[0]) if len(self) else float("nan")

    @property
    def end_s(self) -> float:
        """Time of the last report."""
        return float(self.time_s[-1]) if len(self) else float("nan")

    @property
    def aircraft(self) -> int:
        """Number of distinct aircraft."""
        return int(np.unique(self.id.astype(str)).shape[0])

    @staticmethod
    def concat(tables: list[TrackTable], source: str) -> TrackTable:
        """All rows of several tables in one, sorted by time."""
        with_party = any(t.party is not None for t in tables)
        cols: dict[str, Any] = {}
        for name in ("id", *_FLOAT_FIELDS):
            cols[name] = np.concatenate([getattr(t, name) for t in tables])
        if with_party:
            cols["party"] = np.concatenate(
                [
                    t.party if t.party is not None else np.full(len(t), "", dtype=object)
                    for t in tables
                ]
            )
        else:
            cols["party"] = None
        return TrackTable(**cols, source=source)


def step_times(start_s: float, end_s: float, step_s: float) -> FloatArray:
    """Step times from ``start_s`` to ``end_s`` inclusive, every ``step_s`` seconds.

    Examples
    --------
    >>> step_times(0.0, 3.0, 1.0).tolist()
    [0.0, 1.0, 2.0, 3.0]
    >>> step_times(5.0, 5.0, 1.0).tolist()
    [5.0]
    """
    if not step_s > 0.0 or not np.isfinite(step_s):
        raise InputError(field="step_s", reason=f"must be a positive number, got {step_s!r}")
    if end_s < start_s:
        raise InputError(field="end", reason="is before the start")
    count = int(np.floor((end_s - start_s) / step_s + 1e-9)) + 1
    return start_s + step_s * np.arange(count, dtype=np.float64)


def sorted_codes(values: StrArray) -> tuple[list[str], npt.NDArray[np.int64]]:
    """The distinct texts of ``values`` in sorted order, and each value's index among them.

    What ``np.unique(values.astype(str), return_inverse=True)`` gives for ids, without
    copying every id into a fixed-width array and sorting them all: a set of the distinct
    ids, sorted, and one lookup per value (several times faster on a partition's rows).
    """
    texts = values.tolist()
    uniq = sorted(set(texts))
    index = {v: k for k, v in enumerate(uniq)}
    codes = np.fromiter(map(index.__getitem__, texts), dtype=np.int64, count=len(texts))
    return uniq, codes


def snapshot_rows(
    table: TrackTable,
    times_s: FloatArray,
    *,
    stale_s: float = 30.0,
    id_codes: npt.NDArray[np.int64] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Which report each aircraft shows at each step time, for all steps at once.

    Returns ``(step, row)``: index pairs into ``times_s`` and into the table's rows, ordered by
    step and, within a step, by aircraft id. At a step time ``t`` an aircraft shows its latest
    report at or before ``t`` (of several at the same time, the last in table order), if that
    report is no older than ``stale_s``. :func:`iter_snapshots` yields the same pictures one
    step at a time. ``id_codes``, when the caller has them, are the rows' codes from
    :func:`sorted_codes` of ``table.id``.
    """
    if not stale_s >= 0.0:
        raise InputError(field="stale_s", reason=f"must be zero or positive, got {stale_s!r}")
    times = np.asarray(times_s, dtype=np.float64)
    if len(times) > 1 and bool(np.any(np.diff(times) < 0)):
        raise InputError(field="times_s", reason="step times must be ascending")
    empty = np.zeros(0, dtype=np.int64)
    if len(table) == 0 or len(times) == 0:
        return empty, empty
    code = sorted_codes(table.id)[1] if id_codes is None else id_codes
    # Rows by aircraft, then in table order (time-sorted, so ties keep their order).
    order = np.argsort(code, kind="stable")
    by_code = code[order]
    seg = np.flatnonzero(np.r_[True, by_code[1:] != by_code[:-1]])
    seg_code = by_code[seg]
    seg_end = np.r_[seg[1:], len(order)]
    first_s = table.time_s[order[seg]]
    last_s = table.time_s[order[seg_end - 1]]
    # Each aircraft is asked about the steps from its first report to its last plus stale_s.
    lo = np.searchsorted(times, first_s, side="left")
    hi = np.searchsorted(times - stale_s, last_s, side="right")  # the freshness test below
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    if total == 0:
        return empty, empty
    which = np.repeat(np.arange(len(seg)), counts)
    step = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    step += lo[which]
    # Times as ranks, so that (aircraft, time) is one sortable integer.
    grid = np.unique(np.concatenate([table.time_s, times]))
    width = len(grid) + 1
    row_key = by_code * width + np.searchsorted(grid, table.time_s[order])
    ask_key = seg_code[which] * width + np.searchsorted(grid, times[step])
    pos = np.searchsorted(row_key, ask_key, side="right") - 1
    ok = pos >= seg[which]
    pos = np.where(ok, pos, 0)
    row = order[pos]
    ok &= table.time_s[row] >= times[step] - stale_s
    step, row = step[ok], row[ok]
    # Within a step, aircraft in id order: codes are the ids' sorted order.
    pick = np.lexsort((code[row], step))
    return step[pick], row[pick]


def iter_snapshots(
    table: TrackTable, times_s: FloatArray, *, stale_s: float = 30.0
) -> Iterator[tuple[float, AircraftStates]]:
    """The picture at each step time: every aircraft's latest report no older than ``stale_s``.

    Reports are not yet propagated: each state keeps its own ``time_s`` (at most ``stale_s``
    before the step), and the detection propagates it to the step time. Step times must be
    ascending. Aircraft come ordered by id.
    """
    times = np.asarray(times_s, dtype=np.float64)
    step, row = snapshot_rows(table, times, stale_s=stale_s)
    bounds = np.searchsorted(step, np.arange(len(times) + 1))
    for n, t in enumerate(times.tolist()):
        yield float(t), _states_from_rows(table, row[bounds[n] : bounds[n + 1]])


def _states_from_rows(table: TrackTable, rows: npt.NDArray[np.int64]) -> AircraftStates:
    # The table was validated when built and each aircraft appears once: skip re-validation.
    return AircraftStates._trusted(
        id=table.id[rows],
        party=None if table.party is None else table.party[rows],
        time_s=table.time_s[rows],
        lat_deg=table.lat_deg[rows],
        lon_deg=table.lon_deg[rows],
        alt_ft=table.alt_ft[rows],
        gs_kt=table.gs_kt[rows],
        trk_deg=table.trk_deg[rows],
        vs_fpm=table.vs_fpm[rows],
    )

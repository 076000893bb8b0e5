"""Resolution advice: DAIDALUS-style manoeuvre bands for one aircraft against its intruders.

Advisory only. For one aircraft (*own*) and its intruders at a time ``at_s``, the advice lists
the values of one manoeuvre variable for which own would conflict with no intruder over the
lookahead of the :class:`~skyparley.domain.separation.SeparationMinima` (same protected zone,
same effective vertical minimum, same kernel as :func:`~skyparley.domain.separation.
detect_conflicts`). Three variables, each changed alone, the others kept:

- **Heading** (ground track), ``heading_deg``: every ``heading_step_deg`` over the circle,
  same ground speed and vertical speed.
- **Vertical speed**, ``vs_fpm``: every ``vs_step_fpm`` from ``-vs_max_fpm`` to
  ``+vs_max_fpm`` (the multiples of the step within that range, level flight included), same
  track and ground speed; the vertical speed is held over the whole lookahead.
- **Altitude**, ``alt_ft``: target altitudes every ``alt_step_ft`` from ``alt_min_ft`` to
  ``alt_max_ft``, reached at ``climb_rate_fpm`` (climbing or descending) and then held, same
  track and ground speed.

The model
---------
- States are propagated to ``at_s`` in a straight line, as detection does; a manoeuvre
  starts at ``at_s`` and is **instantaneous**: the new track or vertical speed is flown at
  once (no turn radius, no vertical acceleration), as DAIDALUS's non-kinematic bands.
- The altitude profile is **piecewise linear**: a straight climb (or descent) at
  ``climb_rate_fpm`` until the target is reached at ``t = |target - alt| / rate``, then level
  at the target to the end of the lookahead. Each piece is checked exactly: the kernel gives
  the interval in which a straight-line pair is in violation, and the climb piece conflicts
  when that interval meets ``[0, t]``, the level piece when the interval of own level at the
  target from time 0 meets ``[t, lookahead]`` (own's horizontal path is the same, and its
  altitude on that piece is the target). So the only approximation is the instant change of
  vertical speed at both ends; an aircraft that really levels off with a flare sits slightly
  lower (climbing) than modelled near ``t``.
- **Sampling.** Bands are built from samples: a band ``(lo, hi)`` runs from its first to its
  last conflict-free sample. The true edge lies between ``hi`` and the next sample (which is
  in conflict, or is the end of the range); ``step`` says how far that can be.

Bands and the current value
---------------------------
:class:`Bands` holds the conflict-free ranges (``free``) and, implicitly, the conflicting
ones (the rest of the range). ``current`` is own's value at ``at_s`` (its track, its vertical
speed, its altitude) and ``current_free`` says whether keeping it is conflict-free; it is
computed on the exact current state, not read off the samples. For altitude, keeping the
current value means levelling off now (vertical speed 0) at the current altitude.

A heading band that runs through north is one pair with ``lo > hi``: ``(350.0, 10.0)`` means
350 to 360 and 0 to 10. When every heading is free the one band is ``(0.0, 360.0)``.
:meth:`Bands.contains` reads both forms.

Loss of separation now
----------------------
Every manoeuvre starts where own is, so in loss of separation with an intruder every sampled
manoeuvre conflicts (the kernel counts a pair in violation now as a conflict, whatever comes
next): all bands are empty and ``current_free`` is false. skyparley does not yet compute
DAIDALUS's *recovery* bands (the manoeuvres that regain separation soonest); the alert for a
loss of separation stands on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from skyparley.domain.separation import SeparationMinima
from skyparley.domain.traffic import AircraftStates
from skyparley.errors import InputError
from skyparley.geo import cpa
from skyparley.geo.units import fpm_to_ms, ft_to_m, kt_to_ms, m_to_ft, nm_to_m
from skyparley.geo.wgs84 import ecef_to_geodetic, enu_basis

__all__ = [
    "Bands",
    "ResolutionAdvice",
    "resolution_advice",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_SAMPLES = 100_000
"""The most samples one kind of band may take (a step too small for its range is refused)."""


@dataclass(frozen=True, slots=True)
class Bands:
    """Conflict-free ranges of one manoeuvre variable, and own's current value.

    ``free`` holds ``(lo, hi)`` ranges, sorted by ``lo``, each running from its first to its
    last conflict-free sample (``step`` apart); for headings a range with ``lo > hi`` runs
    through north. ``current`` is own's value now and ``current_free`` whether keeping it is
    conflict-free. ``unit`` is ``"deg"``, ``"fpm"`` or ``"ft"``.
    """

    free: tuple[tuple[float, float], ...]
    current: float
    current_free: bool
    unit: str
    step: float

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in a free range (edges included; a range may wrap north)."""
        if self.unit == "deg":
            value = value % 360.0
        for lo, hi in self.free:
            if (lo <= value <= hi) if lo <= hi else (value >= lo or value <= hi):
                return True
        return False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``free`` as a list of ``[lo, hi]`` pairs."""
        return {
            "free": [[lo, hi] for lo, hi in self.free],
            "current": self.current,
            "current_free": self.current_free,
            "step": self.step,
        }


@dataclass(frozen=True, slots=True)
class ResolutionAdvice:
    """Manoeuvre bands of ``aircraft`` against ``intruders`` (sorted ids) at time ``at_s``."""

    aircraft: str
    intruders: tuple[str, ...]
    at_s: float
    heading_deg: Bands
    vs_fpm: Bands
    alt_ft: Bands

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; each band set under a key naming its unit."""
        return {
            "aircraft": self.aircraft,
            "intruders": list(self.intruders),
            "at_s": self.at_s,
            "heading_deg": self.heading_deg.to_dict(),
            "vs_fpm": self.vs_fpm.to_dict(),
            "alt_ft": self.alt_ft.to_dict(),
        }


def resolution_advice(
    states: AircraftStates,
    own: str,
    intruders: Sequence[str],
    minima: SeparationMinima | None = None,
    *,
    at_s: float | None = None,
    heading_step_deg: float = 1.0,
    vs_max_fpm: float = 6000.0,
    vs_step_fpm: float = 100.0,
    alt_min_ft: float = 0.0,
    alt_max_ft: float = 50000.0,
    alt_step_ft: float = 500.0,
    climb_rate_fpm: float = 2000.0,
) -> ResolutionAdvice:
    """Heading, vertical-speed and altitude bands of ``own`` against ``intruders``.

    ``states`` is the picture; each state is propagated from its ``time_s`` to ``at_s``
    (default: the latest state time) before the manoeuvres start. See the module notes for
    the model, the sampling and the loss-of-separation case.

    Examples
    --------
    Head-on at FL300, about 20 NM apart at 450 kt each: flying on conflicts, turning 90 degrees
    either way is free, and so is climbing or descending at 1000 fpm or more (900 ft apart
    in 54 s, before the two come within 5 NM).

    >>> s = AircraftStates(id=["OWN", "BAD"], party=None, time_s=[0.0, 0.0],
    ...                    lat_deg=[35.0, 35.0], lon_deg=[38.0, 38.4], alt_ft=[30000, 30000],
    ...                    gs_kt=[450.0, 450.0], trk_deg=[90.0, 270.0], vs_fpm=[0.0, 0.0])
    >>> a = resolution_advice(s, "OWN", ["BAD"], SeparationMinima())
    >>> a.heading_deg.current, a.heading_deg.current_free
    (90.0, False)
    >>> a.heading_deg.contains(0.0), a.heading_deg.contains(180.0)
    (True, True)
    >>> a.vs_fpm.free
    ((-6000.0, -1000.0), (1000.0, 6000.0))
    >>> a.alt_ft.contains(30000.0), a.alt_ft.contains(35000.0)
    (False, True)
    """
    minima = minima or SeparationMinima()
    own_i, intr_i = _indices(states, own, intruders)
    _check_steps(
        heading_step_deg=heading_step_deg,
        vs_step_fpm=vs_step_fpm,
        alt_step_ft=alt_step_ft,
        climb_rate_fpm=climb_rate_fpm,
    )
    if at_s is None:
        at_s = float(states.time_s.max())
    elif not _is_number(at_s):
        raise InputError(field="at_s", reason=f"must be a finite time, got {at_s!r}")
    headings = _samples("heading_step_deg", 0.0, 360.0, heading_step_deg, endpoint=False)
    if not (_is_number(vs_max_fpm) and vs_max_fpm >= 0.0):
        raise InputError(field="vs_max_fpm", reason=f"must be zero or positive, got {vs_max_fpm!r}")
    kvs = _count("vs_step_fpm", vs_max_fpm, vs_step_fpm)
    vss = vs_step_fpm * np.arange(-kvs, kvs + 1, dtype=np.float64)
    for name, value in (("alt_min_ft", alt_min_ft), ("alt_max_ft", alt_max_ft)):
        if not _is_number(value):
            raise InputError(field=name, reason=f"must be a finite altitude, got {value!r}")
    if alt_max_ft < alt_min_ft:
        raise InputError(
            field="alt_max_ft", reason=f"must not be below alt_min_ft ({alt_min_ft:g})"
        )
    alts = _samples("alt_step_ft", alt_min_ft, alt_max_ft, alt_step_ft, endpoint=True)

    rows = np.concatenate([[own_i], intr_i])
    k = cpa.kinematics(
        states.lat_deg[rows],
        states.lon_deg[rows],
        ft_to_m(states.alt_ft[rows]),
        kt_to_ms(states.gs_kt[rows]),
        states.trk_deg[rows],
        fpm_to_ms(states.vs_fpm[rows]),
    )
    dt = float(at_s) - states.time_s[rows]
    if np.any(dt != 0.0):
        k = cpa.propagate(k, dt)
    own_k = _take(k, np.array([0]))
    intr_k = _take(k, np.arange(1, len(k)))

    # Own's position at at_s, its ground speed and track there.
    if dt[0] == 0.0:
        lat, lon = float(states.lat_deg[own_i]), float(states.lon_deg[own_i])
    else:
        geo = ecef_to_geodetic(own_k.pos_m)
        lat, lon = float(geo.lat_deg[0]), float(geo.lon_deg[0])
    gs_ms = float(kt_to_ms(states.gs_kt[own_i]))  # as given: the same bits as detection's
    trk_now = float(states.trk_deg[own_i]) % 360.0
    if dt[0] != 0.0 and gs_ms > 0.0:
        basis = enu_basis(lat, lon)
        east = float(own_k.vel_ms[0] @ basis.east)
        north = float(own_k.vel_ms[0] @ basis.north)
        trk_now = math.degrees(math.atan2(east, north)) % 360.0
    alt0_m = float(own_k.alt_m[0])
    rate_ms = fpm_to_ms(float(climb_rate_fpm))
    target_m = ft_to_m(alts)
    n = headings.shape[0]

    # Every candidate own state in one batch, one kernel call against all intruders.
    batch = _Batch(intr_k, minima)
    now = batch.add(own_k)
    hold = batch.add(_vary(own_k, vs_ms=np.zeros(1)))
    turned = batch.add(
        cpa.kinematics(
            np.full(n, lat),
            np.full(n, lon),
            np.full(n, alt0_m),
            np.full(n, gs_ms),
            headings,
            np.full(n, own_k.vs_ms[0]),
        )
    )
    vertical = batch.add(_vary(own_k, vs_ms=fpm_to_ms(vss)))
    climb = batch.add(_vary(own_k, vs_ms=np.array([rate_ms, -rate_ms])))
    level = batch.add(_vary(own_k, alt_m=target_m, vs_ms=np.zeros_like(target_m)))
    g = batch.run()

    # Heading and vertical speed: the changed state is held over the whole lookahead.
    now_free = not bool(g.conflict[now].any())
    heading_bands = Bands(
        free=_ranges(headings, _none(g.conflict[turned]), wrap=True),
        current=_clean(trk_now),
        current_free=now_free,
        unit="deg",
        step=float(heading_step_deg),
    )
    vs_bands = Bands(
        free=_ranges(vss, _none(g.conflict[vertical])),
        current=_clean(float(states.vs_fpm[own_i])),
        current_free=now_free,
        unit="fpm",
        step=float(vs_step_fpm),
    )

    # Altitude: the climb (or descent) piece until the target is reached, then the level one.
    reach_s = np.abs(target_m - alt0_m) / rate_ms
    lookahead = float(minima.lookahead_s)
    pick = np.where(target_m > alt0_m, 0, 1) + climb.start
    first = _meets(g.tin_s[pick], g.tout_s[pick], g.los[pick], 0.0, np.minimum(reach_s, lookahead))
    then = _meets(
        g.tin_s[level], g.tout_s[level], g.los[level], reach_s, np.full_like(reach_s, lookahead)
    )
    alt_bands = Bands(
        free=_ranges(alts, _none(first | then)),
        current=_clean(m_to_ft(alt0_m)),
        current_free=not bool(g.conflict[hold].any()),
        unit="ft",
        step=float(alt_step_ft),
    )
    return ResolutionAdvice(
        aircraft=str(states.id[own_i]),
        intruders=tuple(sorted(str(states.id[i]) for i in intr_i)),
        at_s=float(at_s),
        heading_deg=heading_bands,
        vs_fpm=vs_bands,
        alt_ft=alt_bands,
    )


class _Geometry:
    """Pair geometry of M candidate own states against J intruders, arrays of shape (M, J)."""

    __slots__ = ("conflict", "los", "tin_s", "tout_s")

    def __init__(self, g: cpa.PairGeometry, m: int, j: int) -> None:
        self.conflict: BoolArray = g.conflict.reshape(m, j)
        self.los: BoolArray = g.los.reshape(m, j)
        self.tin_s: FloatArray = g.tin_s.reshape(m, j)
        self.tout_s: FloatArray = g.tout_s.reshape(m, j)


class _Batch:
    """Candidate own states gathered block by block, then checked in one kernel call.

    :meth:`add` returns the rows of a block in the result of :meth:`run`. The pairs are
    (candidate m, intruder j) for every m and j: the kernel's loop, never Python's.
    """

    def __init__(self, intruders: cpa.Kinematics, minima: SeparationMinima) -> None:
        self.intruders = intruders
        self.blocks: list[cpa.Kinematics] = []
        self.size = 0
        self.hsep_m = nm_to_m(minima.hsep_nm)
        self.vsep_m = ft_to_m(minima.effective_vsep_ft)
        self.lookahead_s = float(minima.lookahead_s)

    def add(self, cands: cpa.Kinematics) -> slice:
        self.blocks.append(cands)
        rows = slice(self.size, self.size + len(cands))
        self.size += len(cands)
        return rows

    def run(self) -> _Geometry:
        m, j = self.size, len(self.intruders)
        both = _concat([*self.blocks, self.intruders])
        ii = np.repeat(np.arange(m, dtype=np.int64), j)
        jj = m + np.tile(np.arange(j, dtype=np.int64), m)
        g = cpa.pair_geometry(
            both, ii, jj, hsep_m=self.hsep_m, vsep_m=self.vsep_m, lookahead_s=self.lookahead_s
        )
        return _Geometry(g, m, j)


def _meets(
    tin: FloatArray, tout: FloatArray, los: BoolArray, start: Any, end: FloatArray
) -> BoolArray:
    """Whether the violation interval ``(tin, tout)`` meets the window ``[start, end]``.

    Windows are per candidate (rows); an empty window (``end <= start``) meets nothing. The
    kernel clamps unbounded ends to the lookahead, which keeps this test exact for windows
    inside it. A pair in violation at time 0 meets any window that starts at 0.
    """
    s = np.broadcast_to(np.asarray(start, dtype=np.float64), end.shape)[:, None]
    e = end[:, None]
    overlap = (tin < tout) & (tout > s) & (tin < e)
    met: BoolArray = (e > s) & (overlap | (los & (s == 0.0)))
    return met


def _none(conflict: BoolArray) -> BoolArray:
    """Per candidate (row): in conflict with no intruder (column)."""
    free: BoolArray = ~np.any(conflict, axis=1)
    return free


def _concat(parts: list[cpa.Kinematics]) -> cpa.Kinematics:
    return cpa.Kinematics(
        pos_m=np.ascontiguousarray(np.concatenate([k.pos_m for k in parts])),
        up=np.ascontiguousarray(np.concatenate([k.up for k in parts])),
        vel_ms=np.ascontiguousarray(np.concatenate([k.vel_ms for k in parts])),
        alt_m=np.ascontiguousarray(np.concatenate([k.alt_m for k in parts])),
        vs_ms=np.ascontiguousarray(np.concatenate([k.vs_ms for k in parts])),
    )


def _take(k: cpa.Kinematics, idx: npt.NDArray[np.int64]) -> cpa.Kinematics:
    return cpa.Kinematics(
        pos_m=np.ascontiguousarray(k.pos_m[idx]),
        up=np.ascontiguousarray(k.up[idx]),
        vel_ms=np.ascontiguousarray(k.vel_ms[idx]),
        alt_m=np.ascontiguousarray(k.alt_m[idx]),
        vs_ms=np.ascontiguousarray(k.vs_ms[idx]),
    )


def _vary(
    own: cpa.Kinematics, *, alt_m: FloatArray | None = None, vs_ms: FloatArray | None = None
) -> cpa.Kinematics:
    """Copies of the one-row ``own`` with altitude and/or vertical speed replaced."""
    n = max(0 if alt_m is None else alt_m.shape[0], 0 if vs_ms is None else vs_ms.shape[0])
    return cpa.Kinematics(
        pos_m=np.ascontiguousarray(np.repeat(own.pos_m, n, axis=0)),
        up=np.ascontiguousarray(np.repeat(own.up, n, axis=0)),
        vel_ms=np.ascontiguousarray(np.repeat(own.vel_ms, n, axis=0)),
        alt_m=np.ascontiguousarray(np.full(n, own.alt_m[0]) if alt_m is None else alt_m),
        vs_ms=np.ascontiguousarray(np.full(n, own.vs_ms[0]) if vs_ms is None else vs_ms),
    )


def _ranges(
    values: FloatArray, free: BoolArray, *, wrap: bool = False
) -> tuple[tuple[float, float], ...]:
    """Runs of consecutive free samples as ``(first, last)`` value pairs.

    With ``wrap`` the samples go round a circle: a run through the last and first samples
    becomes one pair with ``lo > hi``, and all samples free give ``(0.0, 360.0)``.
    """
    if not free.any():
        return ()
    if wrap and free.all():
        return ((0.0, 360.0),)
    edges = np.diff(np.concatenate([[0], free.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    out = [
        (_clean(float(values[a])), _clean(float(values[b])))
        for a, b in zip(starts, ends, strict=True)
    ]
    if wrap and len(out) > 1 and free[0] and free[-1]:
        out = [*out[1:-1], (out[-1][0], out[0][1])]
    return tuple(sorted(out))


def _clean(x: float) -> float:
    """Drop float noise from sampled values (``0.1 * 3`` reads 0.3); -0.0 reads 0.0."""
    return round(x, 9) + 0.0


def _count(name: str, span: float, step: float) -> int:
    """How many whole steps fit in ``span`` (a hair of rounding allowed), capped."""
    count = math.floor(span / step + 1e-9)
    if count + 1 > MAX_SAMPLES:
        raise InputError(
            field=name, reason=f"{step!r} gives {count + 1} samples, more than {MAX_SAMPLES}"
        )
    return count


def _samples(name: str, lo: float, hi: float, step: float, *, endpoint: bool) -> FloatArray:
    """Samples ``lo, lo + step, ...`` up to ``hi`` (included only with ``endpoint``)."""
    if endpoint:
        count = _count(name, hi - lo, step) + 1
    else:
        count = max(1, math.ceil((hi - lo) / step - 1e-9))
        _count(name, step * (count - 1), step)
    return lo + step * np.arange(count, dtype=np.float64)


def _is_number(value: object) -> bool:
    """A finite int or float (not a bool, not a string)."""
    return (
        isinstance(value, int | float | np.floating | np.integer)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _check_steps(**steps: float) -> None:
    for name, value in steps.items():
        if not (_is_number(value) and value > 0):
            raise InputError(field=name, reason=f"must be a positive number, got {value!r}")


def _indices(
    states: AircraftStates, own: str, intruders: Sequence[str]
) -> tuple[int, npt.NDArray[np.int64]]:
    """Row of own and rows of the intruders in ``states``; unknown or repeated ids refused."""
    if isinstance(intruders, str):
        raise InputError(field="intruders", reason="must be a list of aircraft ids, not one id")
    where = {str(x): i for i, x in enumerate(states.id)}
    if str(own) not in where:
        raise InputError(field="own", reason=f"aircraft {own!r} is not in the picture")
    rows: list[int] = []
    seen: set[str] = set()
    for x in intruders:
        name = str(x)
        if name == str(own):
            raise InputError(field="intruders", reason=f"own aircraft {own!r} is listed")
        if name not in where:
            raise InputError(field="intruders", reason=f"aircraft {name!r} is not in the picture")
        if name in seen:
            raise InputError(field="intruders", reason=f"aircraft {name!r} is listed twice")
        seen.add(name)
        rows.append(where[name])
    return where[str(own)], np.array(rows, dtype=np.int64)

"""Straight-line conflict prediction between aircraft: the tactical detection kernel.

Model
-----
Each aircraft flies a straight line at constant ground velocity and vertical speed. For a
pair, the relative position and velocity are taken in the tangent plane of the pair's mean
surface normal (the midpoint's local horizontal), from ECEF vectors, so the same formulas hold
at the poles, across the antimeridian and anywhere between. Horizontal distance is the chord
between the surface points projected on that plane: within a metre of the WGS84 geodesic for
pairs within 50 NM.

A pair is in *horizontal violation* while its horizontal distance is below ``hsep_m`` and in
*vertical violation* while its altitude difference is below ``vsep_m``. It *conflicts* when
both violations overlap somewhere in ``[0, lookahead_s]``; ``tin_s``/``tout_s`` bound that
overlap (``tin_s <= 0`` means loss of separation now). Unbounded ends, which arise when the
relative motion is zero, are reported at ``-lookahead_s`` and ``+lookahead_s``; with no
relative horizontal motion the time of closest approach is 0. No output is ever NaN or
infinite.

The candidate search never forms N x N: see :mod:`skyparley.geo._cpa_kernel`.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from skyparley.geo.wgs84 import (
    WGS84_B_M,
    ecef_to_geodetic,
    enu_basis,
    geodetic_to_ecef,
)

__all__ = [
    "Kinematics",
    "PairConflicts",
    "PairGeometry",
    "detect_conflict_pairs",
    "kinematics",
    "pair_geometry",
    "propagate",
    "propagate_geodetic",
    "warm_up",
]

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Kinematics:
    """State of N aircraft in ECEF, SI units, ready for the kernel.

    ``pos_m`` is the point on the ellipsoid surface below each aircraft, ``up`` the surface
    normal there, ``vel_ms`` the horizontal ground velocity (tangent to the surface), ``alt_m``
    the altitude and ``vs_ms`` the vertical speed. Arrays are C-contiguous float64.
    """

    pos_m: Array
    up: Array
    vel_ms: Array
    alt_m: Array
    vs_ms: Array

    def __len__(self) -> int:
        return int(self.alt_m.shape[0])


class PairConflicts(NamedTuple):
    """Conflicting pairs, each unordered pair once with ``i < j`` (indices into the input)."""

    i: IntArray
    j: IntArray
    tin_s: Array
    tout_s: Array
    tcpa_s: Array
    dcpa_m: Array
    hdist_m: Array
    vdist_m: Array
    vdist_cpa_m: Array
    los: BoolArray


class PairGeometry(NamedTuple):
    """Conflict geometry of listed pairs, conflicting or not."""

    conflict: BoolArray
    tin_s: Array
    tout_s: Array
    tcpa_s: Array
    dcpa_m: Array
    hdist_m: Array
    vdist_m: Array
    vdist_cpa_m: Array
    los: BoolArray


def kinematics(
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    alt_m: npt.ArrayLike,
    gs_ms: npt.ArrayLike,
    trk_deg: npt.ArrayLike,
    vs_ms: npt.ArrayLike,
) -> Kinematics:
    """Build :class:`Kinematics` from geodetic position and ground velocity.

    ``trk_deg`` is the ground track, clockwise from true north.
    """
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    basis = enu_basis(lat, lon)
    trk = np.radians(np.asarray(trk_deg, dtype=np.float64))
    gs = np.asarray(gs_ms, dtype=np.float64)
    vel = basis.east * (gs * np.sin(trk))[:, None] + basis.north * (gs * np.cos(trk))[:, None]
    return Kinematics(
        pos_m=np.ascontiguousarray(geodetic_to_ecef(lat, lon, 0.0)),
        up=np.ascontiguousarray(basis.up),
        vel_ms=np.ascontiguousarray(vel),
        alt_m=np.ascontiguousarray(alt_m, dtype=np.float64),
        vs_ms=np.ascontiguousarray(vs_ms, dtype=np.float64),
    )


def propagate(k: Kinematics, dt_s: npt.ArrayLike) -> Kinematics:
    """Move each aircraft along its straight line for ``dt_s`` seconds (scalar or per aircraft).

    The ECEF step is projected back on the ellipsoid surface and the velocity turned into the
    new tangent plane with its speed kept, so short steps follow the great circle, poles
    included.
    """
    return propagate_geodetic(k, dt_s)[0]


def propagate_geodetic(k: Kinematics, dt_s: npt.ArrayLike) -> tuple[Kinematics, Array, Array]:
    """:func:`propagate`, with the latitude and longitude (degrees) each aircraft reaches."""
    dt = np.broadcast_to(np.asarray(dt_s, dtype=np.float64), k.alt_m.shape)
    moved = k.pos_m + k.vel_ms * dt[:, None]
    geo = ecef_to_geodetic(moved)
    basis = enu_basis(geo.lat_deg, geo.lon_deg)
    up = basis.up
    vel = k.vel_ms - np.einsum("ij,ij->i", k.vel_ms, up)[:, None] * up
    speed0 = np.linalg.norm(k.vel_ms, axis=1)
    speed1 = np.linalg.norm(vel, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(speed1 > 0.0, speed0 / speed1, 0.0)
    out = Kinematics(
        pos_m=np.ascontiguousarray(geodetic_to_ecef(geo.lat_deg, geo.lon_deg, 0.0)),
        up=np.ascontiguousarray(up),
        vel_ms=np.ascontiguousarray(vel * scale[:, None]),
        alt_m=k.alt_m + k.vs_ms * dt,
        vs_ms=k.vs_ms.copy(),
    )
    return out, geo.lat_deg, geo.lon_deg


def _pad_m(vmax: float, hsep_m: float, lookahead_s: float) -> float:
    """How far beyond ``hsep_m`` the unprojected ECEF paths of a conflicting pair may lie.

    The kernel measures the relative position ``X`` projected on the pair's tangent plane, so
    ``|X|^2 = |proj X|^2 + n^2`` with ``n`` the normal component. A conflicting pair is at most
    ``reach = hsep + 2 vmax T`` apart now, so its surface normals differ by at most
    ``theta = reach / b``. ``n`` gathers the surface chord's share (below reach^2 / 4b, a
    sphere's sagitta; the bisector of the normals makes it far smaller) and the tilt of both
    velocities (below vmax T theta). Doubled for margin. The boxes are then padded so that
    ``|X| < sqrt(hsep^2 + n^2)`` is never cut.
    """
    reach = hsep_m + 2.0 * vmax * lookahead_s
    n_max = 2.0 * (reach * reach / (4.0 * WGS84_B_M) + vmax * lookahead_s * reach / WGS84_B_M)
    return float(np.hypot(hsep_m, n_max) - hsep_m) + 1.0


def _scene_frame(k: Kinematics) -> Array:
    """A rotation (3 x 3, rows are axes) whose third axis is the scene's mean surface normal.

    Boxes of aircraft near the scene centre are then flat in the third axis, which keeps the
    grid close to two horizontal dimensions plus altitude. Any rotation is correct; this one
    is only faster.
    """
    mean_up = k.up.sum(axis=0)
    norm = float(np.linalg.norm(mean_up))
    if norm < 1e-6 * len(k):
        return np.eye(3)
    zax = mean_up / norm
    helper = np.array([0.0, 0.0, 1.0]) if abs(zax[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    xax = np.cross(helper, zax)
    xax /= np.linalg.norm(xax)
    yax = np.cross(zax, xax)
    return np.stack([xax, yax, zax])


def _slices(p0: Array, path_m: float, half_h: float) -> int:
    """How many time slices to cut the lookahead into.

    Slices shrink the boxes (fewer pairs to test) but multiply the grid entries. They pay
    off only in crowded scenes: when a whole-lookahead box would overlap hundreds of others.
    """
    from skyparley.geo import _cpa_kernel  # noqa: PLC0415 (numba loads only when used)

    n = p0.shape[0]
    box_m = path_m + 2.0 * half_h
    extent = np.ptp(p0[:, :2], axis=0) + box_m
    crowding = n * box_m * box_m / float(extent[0] * extent[1])
    if crowding < _CROWDED:
        return 1
    return int(np.clip(round(path_m / (3.0 * half_h)), 1, _cpa_kernel.MAX_SLICES))


_CROWDED = 400.0  # boxes overlapping a box's area beyond which slicing pays off (bench/)
# Without slices, grid cells twice the median box: each box then lands in a few cells rather
# than about sixteen, which costs fewer extra pair tests than it saves in entries. The
# candidate search takes 30-50% less time for a replay's blocks and for single pictures of
# 1,000 to 100,000 aircraft spread evenly; crowded, sliced pictures keep the median.
_UNSLICED_CELL = 2.0


def _boxes(
    k: Kinematics, hsep_m: float, vsep_m: float, lookahead_s: float
) -> tuple[Array, Array, Array]:
    """Swept-path boxes and grid cell sizes.

    The lookahead is cut into S time slices; per aircraft and slice the box (three rotated
    ECEF axes and altitude) holds the path flown in that slice, padded by half the protected
    zone. A pair conflicting at time t has overlapping boxes in the slice holding t, which
    prunes far more than one box per whole path. Returns lo and hi, each (N, S, 4), and the
    cell size per axis.
    """
    from skyparley.geo import _cpa_kernel  # noqa: PLC0415 (numba loads only when used)

    rot = _scene_frame(k)
    p0 = k.pos_m @ rot.T
    vel = k.vel_ms @ rot.T
    speed = np.linalg.norm(k.vel_ms, axis=1)
    vmax = float(np.max(speed, initial=0.0))
    half_h = 0.5 * (hsep_m + _pad_m(vmax, hsep_m, lookahead_s))
    half_v = 0.5 * vsep_m
    path_m = float(np.median(speed)) * lookahead_s
    slices = _slices(p0, path_m, half_h)
    t = np.linspace(0.0, lookahead_s, slices + 1)
    n = len(k)
    lo = np.empty((n, slices, 4))
    hi = np.empty((n, slices, 4))
    pa = p0[:, None, :] + vel[:, None, :] * t[None, :-1, None]
    pb = p0[:, None, :] + vel[:, None, :] * t[None, 1:, None]
    lo[:, :, :3] = np.minimum(pa, pb) - half_h
    hi[:, :, :3] = np.maximum(pa, pb) + half_h
    za = k.alt_m[:, None] + k.vs_ms[:, None] * t[None, :-1]
    zb = k.alt_m[:, None] + k.vs_ms[:, None] * t[None, 1:]
    lo[:, :, 3] = np.minimum(za, zb) - half_v
    hi[:, :, 3] = np.maximum(za, zb) + half_v
    ext = np.median((hi - lo).reshape(-1, 4), axis=0)
    if slices == 1:
        ext *= _UNSLICED_CELL
    cell = np.array(
        [
            max(float(ext[0]), 1000.0),
            max(float(ext[1]), 1000.0),
            max(float(ext[2]), float(ext[0]), 1000.0),
            max(float(ext[3]), 2.0 * vsep_m, 100.0),
        ]
    )
    # Grid indices must fit the 15-bit fields of the cell key, whatever the input.
    span = np.max(np.abs(np.concatenate([lo.reshape(-1, 4), hi.reshape(-1, 4)])), axis=0)
    cell = np.maximum(cell, span / _cpa_kernel.MAX_INDEX)
    return lo, hi, cell


def _cores() -> int:
    """Cores this process may run on (CPU affinity and container limits respected)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def detect_conflict_pairs(
    k: Kinematics,
    *,
    hsep_m: float,
    vsep_m: float,
    lookahead_s: float,
    group: npt.ArrayLike | None = None,
    cross_group_only: bool = False,
    workers: int | None = None,
) -> PairConflicts:
    """Every pair of aircraft predicted to lose separation within ``lookahead_s``.

    ``group`` holds an integer per aircraft (its party); with ``cross_group_only`` pairs of the
    same group are skipped. The order of the pairs is deterministic (it does not depend on
    ``workers``) but not sorted. ``workers`` threads share the pair tests (default: every
    core for large scenes, one thread for small ones).

    Examples
    --------
    Two aircraft 20 NM apart at FL300, head-on at 450 kt each, meet in 80 s:

    >>> import numpy as np
    >>> k = kinematics([0.0, 0.0], [0.0, 20 / 60], [9144.0, 9144.0], [231.5, 231.5],
    ...                [90.0, 270.0], [0.0, 0.0])
    >>> c = detect_conflict_pairs(k, hsep_m=9260.0, vsep_m=300.0, lookahead_s=300.0)
    >>> int(c.i[0]), int(c.j[0]), round(float(c.tcpa_s[0])), round(float(c.dcpa_m[0]), 3)
    (0, 1, 80, 0.0)
    """
    from skyparley.geo import _cpa_kernel  # noqa: PLC0415 (numba loads only when used)

    n = len(k)
    if n < 2:
        return _empty()
    g = (
        np.zeros(n, dtype=np.int64)
        if group is None
        else np.ascontiguousarray(group, dtype=np.int64)
    )
    if g.shape != (n,):
        raise ValueError(f"group has shape {g.shape}, expected ({n},)")
    lo, hi, cell = _boxes(k, hsep_m, vsep_m, lookahead_s)
    sowner, skeys, runs, ilo = _cpa_kernel.build_grid(lo, hi, cell)
    if workers is None:
        workers = _cores() if n >= 2000 else 1
    workers = max(1, min(int(workers), 64))

    def work(r0: int, r1: int) -> tuple[IntArray, IntArray, Array, BoolArray]:
        return _cpa_kernel.pairs_in_cells(  # type: ignore[no-any-return]
            sowner,
            skeys,
            runs,
            r0,
            r1,
            lo,
            hi,
            ilo,
            k.pos_m,
            k.vel_ms,
            k.up,
            k.alt_m,
            k.vs_ms,
            g,
            bool(cross_group_only),
            float(hsep_m),
            float(vsep_m),
            float(lookahead_s),
        )

    if workers == 1 or len(runs) < 64:
        parts = [work(0, len(runs))]
    else:
        # Chunks of equal pair-test work (k^2 per cell), a few per worker.
        size = (runs[:, 1] - runs[:, 0]).astype(np.float64)
        cum = np.cumsum(size * size)
        nchunk = 4 * workers
        bounds = np.searchsorted(cum, cum[-1] * np.arange(1, nchunk) / nchunk)
        edges = np.unique(np.concatenate([[0], bounds, [len(runs)]]))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(work, int(a), int(b)) for a, b in itertools.pairwise(edges)]
            parts = [f.result() for f in futures]
    oi = np.concatenate([pt[0] for pt in parts])
    oj = np.concatenate([pt[1] for pt in parts])
    of = np.concatenate([pt[2] for pt in parts], axis=1)
    ol = np.concatenate([pt[3] for pt in parts])
    return PairConflicts(oi, oj, of[0], of[1], of[2], of[3], of[4], of[5], of[6], ol)


def pair_geometry(
    k: Kinematics,
    i: npt.ArrayLike,
    j: npt.ArrayLike,
    *,
    hsep_m: float,
    vsep_m: float,
    lookahead_s: float,
) -> PairGeometry:
    """Conflict geometry of the listed pairs ``(i[n], j[n])``, without any pruning."""
    from skyparley.geo import _cpa_kernel  # noqa: PLC0415 (numba loads only when used)

    ii = np.ascontiguousarray(i, dtype=np.int64)
    jj = np.ascontiguousarray(j, dtype=np.int64)
    oc, of, ol = _cpa_kernel.detect_listed(
        k.pos_m,
        k.vel_ms,
        k.up,
        k.alt_m,
        k.vs_ms,
        ii,
        jj,
        float(hsep_m),
        float(vsep_m),
        float(lookahead_s),
    )
    return PairGeometry(
        oc,
        of[:, 0].copy(),
        of[:, 1].copy(),
        of[:, 2].copy(),
        of[:, 3].copy(),
        of[:, 4].copy(),
        of[:, 5].copy(),
        of[:, 6].copy(),
        ol,
    )


def warm_up() -> int:
    """Load the detection kernels now: numba and the kernels' machine code from its cache
    (about half a second; the first run on a machine compiles them, which takes seconds).

    The kernels load on first use otherwise, so a long-running process that detects (the
    service's live picture) calls this at start: its first ticks then do not hold every
    request up while they load. Returns the pairs found in two aircraft closing
    head-on (1).
    """
    k = kinematics([0.0, 0.0], [0.0, 0.05], [3000.0, 3000.0], [100.0, 100.0], [90.0, 270.0],
                   [0.0, 0.0])  # fmt: skip
    pairs = detect_conflict_pairs(k, hsep_m=9260.0, vsep_m=300.0, lookahead_s=300.0)
    pair_geometry(k, pairs.i, pairs.j, hsep_m=9260.0, vsep_m=300.0, lookahead_s=300.0)
    return len(pairs.i)


def _empty() -> PairConflicts:
    e = np.empty(0, dtype=np.float64)
    ie = np.empty(0, dtype=np.int64)
    return PairConflicts(
        ie,
        ie.copy(),
        e,
        e.copy(),
        e.copy(),
        e.copy(),
        e.copy(),
        e.copy(),
        e.copy(),
        np.empty(0, dtype=np.bool_),
    )

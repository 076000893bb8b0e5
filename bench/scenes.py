"""Traffic scenes for the detection benchmark and the BlueSky cross-check, and the rule that
says whether two conflict detectors agree on a scene.

Scenes are snapshots of N aircraft in aviation units (the columns of the canonical track
file). Two kinds:

- :func:`random_scene`: aircraft uniform in a 600 km x 600 km box centred at 35N 38E.
- :func:`replicated_scene`: copies of the real airborne traffic of the ``traffic==2.13``
  quickstart sample (Paris area, 3 h), each copy rotated, moved and taken at its own time.

The recording ships inside the PyPI wheel of ``traffic``, whose licence is
research/non-commercial: :func:`load_quickstart` gets it through ``tests/realdata.py``,
which downloads the wheel into the git-ignored cache and extracts the file. Nothing of it
is ever committed.

:func:`compare_pairs` is the agreement rule shared by ``bench/detect.py`` and
``tests/geo/test_bluesky_crosscheck.py``.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from skyparley.geo.cpa import Kinematics, PairConflicts, kinematics, pair_geometry
from skyparley.geo.units import fpm_to_ms, ft_to_m, kt_to_ms, m_to_ft, m_to_nm, nm_to_m
from skyparley.geo.wgs84 import destination, geodesic_inverse

__all__ = [
    "BOX_M",
    "CENTRE_LAT_DEG",
    "CENTRE_LON_DEG",
    "Comparison",
    "Recording",
    "Scene",
    "compare_pairs",
    "critical_values",
    "describe_pair",
    "geodesic_reference",
    "load_quickstart",
    "random_scene",
    "reference_conflict",
    "replicated_scene",
]

Array = npt.NDArray[np.float64]

CENTRE_LAT_DEG = 35.0
"""Latitude of every scene's centre."""
CENTRE_LON_DEG = 38.0
"""Longitude of every scene's centre."""
BOX_M = 600_000.0
"""Side of the square box (metres, east and north of the centre) that scenes fill."""

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = "collections/quickstart.json.gz"
STALE_S = 10
"""A recorded state older than this (seconds) at a snapshot time is not used."""


@dataclass(frozen=True, slots=True)
class Scene:
    """A snapshot of N aircraft, aviation units, one array element per aircraft."""

    name: str
    lat_deg: Array
    lon_deg: Array
    alt_ft: Array
    gs_kt: Array
    trk_deg: Array
    vs_fpm: Array
    ids: npt.NDArray[np.str_] = field(repr=False)

    def __len__(self) -> int:
        return int(self.lat_deg.shape[0])

    def columns(self) -> tuple[Array, Array, Array, Array, Array, Array]:
        """(lat_deg, lon_deg, alt_ft, gs_kt, trk_deg, vs_fpm), as the BlueSky peer takes them."""
        return self.lat_deg, self.lon_deg, self.alt_ft, self.gs_kt, self.trk_deg, self.vs_fpm

    def kinematics(self) -> Kinematics:
        """The scene in SI units, ready for :func:`skyparley.geo.cpa.detect_conflict_pairs`."""
        return kinematics(
            self.lat_deg,
            self.lon_deg,
            ft_to_m(self.alt_ft),
            kt_to_ms(self.gs_kt),
            self.trk_deg,
            fpm_to_ms(self.vs_fpm),
        )


def _box_positions(
    rng: np.random.Generator, n: int, lat_deg: float, lon_deg: float
) -> tuple[Array, Array]:
    """N points uniform in the BOX_M square (east, north) around a centre, on WGS84.

    The square lives in the azimuthal equidistant plane of the centre: each point is the end
    of the geodesic from the centre with the offset's bearing and length.
    """
    east = rng.uniform(-BOX_M / 2, BOX_M / 2, n)
    north = rng.uniform(-BOX_M / 2, BOX_M / 2, n)
    bearing = np.degrees(np.arctan2(east, north))
    return destination(np.full(n, lat_deg), np.full(n, lon_deg), bearing, np.hypot(east, north))


def random_scene(n: int, seed: int) -> Scene:
    """N aircraft uniform in a 600 km x 600 km box centred at 35N 38E.

    Altitude uniform FL50-FL400, ground speed uniform 250-500 kt, track uniform, 30 % of the
    aircraft climbing or descending at 500-3000 fpm (either sign), the rest level.
    """
    rng = np.random.default_rng(seed)
    lat, lon = _box_positions(rng, n, CENTRE_LAT_DEG, CENTRE_LON_DEG)
    alt = rng.uniform(5_000.0, 40_000.0, n)
    gs = rng.uniform(250.0, 500.0, n)
    trk = rng.uniform(0.0, 360.0, n)
    moving = rng.random(n) < 0.3
    vs = np.where(moving, rng.choice([-1.0, 1.0], n) * rng.uniform(500.0, 3_000.0, n), 0.0)
    ids = np.char.add("R", np.arange(n).astype(np.str_))
    return Scene(f"random(n={n}, seed={seed})", lat, lon, alt, gs, trk, vs, ids)


# ----------------------------------------------------------------------------- real data


@dataclass(frozen=True, slots=True)
class Recording:
    """Recorded airborne states, sorted by time (epoch seconds)."""

    time_s: npt.NDArray[np.int64]
    icao24: npt.NDArray[np.str_]
    lat_deg: Array
    lon_deg: Array
    alt_ft: Array
    gs_kt: Array
    trk_deg: Array
    vs_fpm: Array

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    def centre(self) -> tuple[float, float]:
        """Centre (lat_deg, lon_deg) of the recording's bounding box."""
        return (
            float(0.5 * (self.lat_deg.min() + self.lat_deg.max())),
            float(0.5 * (self.lon_deg.min() + self.lon_deg.max())),
        )


def _traffic_sample(name: str) -> Path:
    """Path of a ``traffic==2.13`` sample file, through ``tests/realdata.py``.

    That module is the one place that fetches the wheel into the git-ignored cache and
    extracts samples; it is loaded from its file so no ``tests`` package is assumed.
    """
    spec = importlib.util.spec_from_file_location(
        "_skyparley_tests_realdata", REPO / "tests" / "realdata.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {REPO / 'tests' / 'realdata.py'}")
    realdata = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(realdata)
    return Path(realdata.traffic_sample(name))


def load_quickstart() -> Recording:
    """Airborne states of the ``traffic==2.13`` quickstart sample (Paris area, 3 h, 1 Hz).

    Records with a missing field, on the ground, or with implausible values (a handful of
    altitudes above 100,000 ft in the sample) are dropped.
    """
    records = json.loads(gzip.decompress(_traffic_sample(QUICKSTART).read_bytes()))
    keys = ("latitude", "longitude", "altitude", "groundspeed", "track", "vertical_rate")
    rows = [
        r
        for r in records
        if not r.get("onground") and r.get("icao24") and all(r.get(k) is not None for k in keys)
    ]
    time_s = np.array([r["timestamp"] // 1000 for r in rows], dtype=np.int64)
    icao = np.array([r["icao24"] for r in rows], dtype=np.str_)
    cols = np.array([[r[k] for k in keys] for r in rows], dtype=np.float64).reshape(-1, 6)
    lat, lon, alt, gs, trk, vs = cols.T
    ok = (
        (np.abs(lat) <= 90.0)
        & (alt > -2_000.0)
        & (alt < 60_000.0)
        & (gs > 30.0)
        & (gs < 700.0)
        & (np.abs(vs) < 10_000.0)
    )
    order = np.argsort(time_s[ok], kind="stable")

    def pick(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.ascontiguousarray(a[ok][order])

    return Recording(
        pick(time_s),
        pick(icao),
        pick(lat),
        pick(lon),
        pick(alt),
        pick(gs),
        pick(np.mod(trk, 360.0)),
        pick(vs),
    )


def _snapshot(rec: Recording, t: int) -> npt.NDArray[np.int64]:
    """Indices of the latest state of each aircraft in ``(t - STALE_S, t]``."""
    a = int(np.searchsorted(rec.time_s, t - STALE_S, side="right"))
    b = int(np.searchsorted(rec.time_s, t, side="right"))
    if a == b:
        return np.empty(0, dtype=np.int64)
    # Latest first, then the first occurrence of each aircraft is its latest state.
    idx = np.arange(b - 1, a - 1, -1)
    _, first = np.unique(rec.icao24[idx], return_index=True)
    return np.sort(idx[first])


def replicated_scene(
    n: int,
    seed: int,
    source: Recording | None = None,
    *,
    centre_lat_deg: float = CENTRE_LAT_DEG,
    centre_lon_deg: float = CENTRE_LON_DEG,
) -> Scene:
    """N aircraft made of copies of real traffic.

    Each copy is the airborne traffic of ``source`` (default: :func:`load_quickstart`) at its
    own snapshot time (a time shift; every state is flown on, along its track, to that
    time), rotated by a random angle about the vertical of the recording's centre and moved
    so that this centre lands uniformly in the 600 km box around the scene's centre. Shape
    is kept by mapping each aircraft's geodesic distance and bearing from the recording's
    centre onto the new centre (bearing turned by the copy's angle); its track keeps its
    angle to that geodesic. Copies are added until there are N aircraft (the last one cut),
    each aircraft with a new id ``<copy>:<icao24>``.
    """
    rec = load_quickstart() if source is None else source
    rng = np.random.default_rng(seed)
    clat, clon = rec.centre()
    times = np.arange(int(rec.time_s[0]) + STALE_S, int(rec.time_s[-1]) + 1)
    cols: list[list[Array]] = [[] for _ in range(6)]
    ids: list[npt.NDArray[np.str_]] = []
    total = 0
    copy = 0
    while total < n:
        if copy % len(times) == 0:  # each snapshot time once before any comes again
            shuffled = rng.permutation(times)
        t = int(shuffled[copy % len(times)])
        sel = _snapshot(rec, t)
        if sel.size == 0:
            copy += 1
            continue
        theta = rng.uniform(0.0, 360.0)
        (new_lat,), (new_lon,) = _box_positions(rng, 1, centre_lat_deg, centre_lon_deg)
        # Time shift: fly each state on to the snapshot time.
        dt = (t - rec.time_s[sel]).astype(np.float64)
        lat0, lon0 = destination(
            rec.lat_deg[sel], rec.lon_deg[sel], rec.trk_deg[sel], kt_to_ms(rec.gs_kt[sel]) * dt
        )
        alt = rec.alt_ft[sel] + rec.vs_fpm[sel] * dt / 60.0
        # Rotation and translation on the ellipsoid.
        m = sel.size
        old = geodesic_inverse(np.full(m, clat), np.full(m, clon), lat0, lon0)
        lat, lon = destination(
            np.full(m, new_lat), np.full(m, new_lon), old.bearing_deg + theta, old.distance_m
        )
        new = geodesic_inverse(np.full(m, new_lat), np.full(m, new_lon), lat, lon)
        turn = np.where(old.distance_m > 1.0, new.back_bearing_deg - old.back_bearing_deg, theta)
        trk = np.mod(rec.trk_deg[sel] + turn, 360.0)
        for c, values in zip(
            cols, (lat, lon, alt, rec.gs_kt[sel], trk, rec.vs_fpm[sel]), strict=True
        ):
            c.append(values)
        ids.append(np.char.add(f"{copy:05d}:", rec.icao24[sel]))
        total += m
        copy += 1
    lat, lon, alt, gs, trk, vs = (np.concatenate(c)[:n] for c in cols)
    return Scene(
        f"replicated(n={n}, seed={seed}, copies={copy})",
        lat,
        lon,
        alt,
        gs,
        trk,
        vs,
        np.concatenate(ids)[:n],
    )


# ----------------------------------------------------------------------------- agreement


@dataclass(frozen=True, slots=True)
class Comparison:
    """How another detector's conflict pairs compare with skyparley's on one scene.

    One-sided pairs (found by one side only; ``only_ours``/``only_theirs`` hold them as
    (K, 2) arrays, i < j) are excused in two ways, counted in ``excused`` by reason:

    - ``hsep``, ``vsep``, ``tin``, ``tout``: within ``rel_tol`` of that threshold with
      skyparley's geometry (see :func:`critical_values`);
    - ``peer geometry``: farther from every threshold, but skyparley's verdict is the one of
      the WGS84 geodesic reference (:func:`reference_conflict`), so the other detector's
      geometry is what errs (BlueSky's flat, spherical ``kwikqdrdist``).

    The rest are ``unexcused_ours``/``unexcused_theirs`` (rows of :func:`describe_pair`).
    For pairs found by both sides whose CPA lies within [-T, 2T] (T the lookahead), the
    largest and median |tcpa| and |dcpa| differences are reported; the pairs beyond
    ``tcpa_tol_s`` or ``dcpa_tol_nm`` are checked against the geodesic reference too:
    ``n_common_beyond`` of them, ``common_unexplained`` those where skyparley is off the
    reference as well (``max_ref_*`` are skyparley's largest differences from it).
    """

    n_ours: int
    n_theirs: int
    n_common: int
    only_ours: npt.NDArray[np.int64]
    only_theirs: npt.NDArray[np.int64]
    excused: Counter[str]
    unexcused_ours: list[dict[str, float]]
    unexcused_theirs: list[dict[str, float]]
    max_tcpa_diff_s: float
    max_dcpa_diff_nm: float
    median_tcpa_diff_s: float
    median_dcpa_diff_nm: float
    n_common_checked: int
    n_common_beyond: int
    common_unexplained: list[dict[str, float]]
    max_ref_tcpa_diff_s: float
    max_ref_dcpa_diff_nm: float
    n_nan: int

    @property
    def n_near(self) -> int:
        """One-sided pairs within the tolerance of a threshold."""
        return sum(v for k, v in self.excused.items() if k != PEER_GEOMETRY)

    @property
    def n_peer_geometry(self) -> int:
        """One-sided pairs where the geodesic reference sides with skyparley."""
        return self.excused.get(PEER_GEOMETRY, 0)

    @property
    def n_unexcused(self) -> int:
        return len(self.unexcused_ours) + len(self.unexcused_theirs)

    @property
    def agree(self) -> bool:
        """No pair and no tcpa/dcpa differs unless near a threshold or the peer is off."""
        return self.n_unexcused == 0 and not self.common_unexplained

    def verdict(self) -> str:
        """'same', 'same except ...' or 'DIFFER: ...' (for a table cell)."""
        parts = []
        if self.n_near:
            parts.append(f"{self.n_near} near threshold")
        if self.n_peer_geometry:
            parts.append(f"{self.n_peer_geometry} peer geometry")
        if self.agree:
            return "same except " + ", ".join(parts) if parts else "same"
        bad = [
            f"{len(self.unexcused_ours)} only ours",
            f"{len(self.unexcused_theirs)} only theirs",
        ]
        if self.common_unexplained:
            bad.append(f"{len(self.common_unexplained)} tcpa/dcpa off")
        return "DIFFER: " + ", ".join(bad) + (f" (+{', '.join(parts)})" if parts else "")

    def summary(self) -> str:
        """One line with counts, reasons and the largest differences on common pairs."""
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.excused.items())) or "none"
        nan = f", {self.n_nan} NaN from the peer" if self.n_nan else ""
        return (
            f"ours {self.n_ours}, theirs {self.n_theirs}, common {self.n_common}; "
            f"one-sided {len(self.only_ours)}+{len(self.only_theirs)} "
            f"(excused: {reasons}; unexcused {self.n_unexcused}); "
            f"common pairs (CPA in [-T, 2T]: {self.n_common_checked}): "
            f"max |dtcpa| {self.max_tcpa_diff_s:.3f} s, "
            f"max |ddcpa| {self.max_dcpa_diff_nm:.4f} NM "
            f"(median {self.median_tcpa_diff_s:.3f} s, {self.median_dcpa_diff_nm:.4f} NM){nan}; "
            f"{self.n_common_beyond} beyond tolerance, skyparley vs geodesic reference on "
            f"those: max |dtcpa| {self.max_ref_tcpa_diff_s:.3f} s, "
            f"max |ddcpa| {self.max_ref_dcpa_diff_nm:.5f} NM, "
            f"{len(self.common_unexplained)} unexplained"
        )


PEER_GEOMETRY = "peer geometry"


def _pair_keys(i: npt.ArrayLike, j: npt.ArrayLike, n: int) -> npt.NDArray[np.int64]:
    a = np.asarray(i, dtype=np.int64)
    b = np.asarray(j, dtype=np.int64)
    return np.minimum(a, b) * np.int64(n) + np.maximum(a, b)


def _relative(
    k: Kinematics, i: npt.NDArray[np.int64], j: npt.NDArray[np.int64]
) -> tuple[Array, Array]:
    """Relative position and velocity of j from i in the pair's mean tangent plane."""
    up = k.up[i] + k.up[j]
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    r = k.pos_m[j] - k.pos_m[i]
    r -= np.einsum("ij,ij->i", r, up)[:, None] * up
    u = k.vel_ms[j] - k.vel_ms[i]
    u -= np.einsum("ij,ij->i", u, up)[:, None] * up
    return r, u


def critical_values(
    k: Kinematics,
    i: npt.NDArray[np.int64],
    j: npt.NDArray[np.int64],
    hsep_m: float,
    vsep_m: float,
    lookahead_s: float,
) -> dict[str, Array]:
    """Per pair, the value at which each threshold would flip the pair's classification.

    A pair conflicts when some t in [0, T] has horizontal distance below hsep and altitude
    difference below vsep. With skyparley's geometry (tangent plane of the mean normal, as in
    the kernel):

    - ``hsep``: least horizontal distance over the times in [0, T] with |dalt| < vsep;
    - ``vsep``: least |dalt| over the times in [0, T] with horizontal distance < hsep;
    - ``tin``: start of the overlap of both violations (the lookahead T flips it there);
    - ``tout``: end of that overlap (it flips at 0).

    Empty sets give inf (the threshold is not what decides the pair).
    """
    r, u = _relative(k, i, j)
    a2 = np.einsum("ij,ij->i", u, u)
    b = np.einsum("ij,ij->i", r, u)
    c = np.einsum("ij,ij->i", r, r)
    dalt = k.alt_m[j] - k.alt_m[i]
    dw = k.vs_ms[j] - k.vs_ms[i]
    inf = np.inf
    moving_h = a2 > 1e-9
    moving_v = np.abs(dw) > 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        tcpa = np.where(moving_h, -b / a2, 0.0)
        dcpa2 = np.maximum(c - np.where(moving_h, b * b / a2, 0.0), 0.0)
        half = np.sqrt(np.maximum(hsep_m**2 - dcpa2, 0.0) / a2)
        h_in = np.where(moving_h, tcpa - half, -inf)
        h_out = np.where(moving_h, tcpa + half, inf)
        none_h = dcpa2 >= hsep_m**2
        h_in = np.where(none_h, inf, h_in)
        h_out = np.where(none_h, -inf, h_out)
        t1 = (-vsep_m - dalt) / dw
        t2 = (vsep_m - dalt) / dw
        level_in = np.abs(dalt) < vsep_m
        v_in = np.where(moving_v, np.minimum(t1, t2), np.where(level_in, -inf, inf))
        v_out = np.where(moving_v, np.maximum(t1, t2), np.where(level_in, inf, -inf))

        # hsep: least horizontal distance over [max(v_in, 0), min(v_out, T)].
        lo_v = np.maximum(v_in, 0.0)
        hi_v = np.minimum(v_out, lookahead_s)
        t_h = np.clip(tcpa, lo_v, hi_v)
        t_h = np.where(np.isfinite(t_h), t_h, 0.0)
        d2 = c + 2.0 * b * t_h + a2 * t_h * t_h
        crit_h = np.where(lo_v <= hi_v, np.sqrt(np.maximum(d2, 0.0)), inf)

        # vsep: least |dalt| over [max(h_in, 0), min(h_out, T)].
        lo_h = np.maximum(h_in, 0.0)
        hi_h = np.minimum(h_out, lookahead_s)
        t0 = np.where(moving_v, -dalt / dw, 0.0)
        t_v = np.clip(t0, lo_h, hi_h)
        t_v = np.where(np.isfinite(t_v), t_v, 0.0)
        crit_v = np.where(lo_h <= hi_h, np.abs(dalt + dw * t_v), inf)

        tin = np.maximum(h_in, v_in)
        tout = np.minimum(h_out, v_out)
        overlap = tin < tout
    return {
        "hsep": crit_h,
        "vsep": crit_v,
        "tin": np.where(overlap, tin, inf),
        "tout": np.where(overlap, tout, inf),
    }


def _flown(scene: Scene, a: npt.NDArray[np.int64], t: Array) -> tuple[Array, Array]:
    """Positions (lat, lon), shape (P, S), of aircraft ``a`` flying geodesics for ``t`` s."""
    shape = (a.shape[0], t.shape[-1])
    dist = kt_to_ms(scene.gs_kt[a])[:, None] * t
    lat, lon = destination(
        np.broadcast_to(scene.lat_deg[a][:, None], shape).ravel(),
        np.broadcast_to(scene.lon_deg[a][:, None], shape).ravel(),
        np.broadcast_to(scene.trk_deg[a][:, None], shape).ravel(),
        np.broadcast_to(dist, shape).ravel(),
    )
    return lat.reshape(shape), lon.reshape(shape)


def _reference_distance(
    scene: Scene, i: npt.NDArray[np.int64], j: npt.NDArray[np.int64], t: Array
) -> Array:
    """WGS84 geodesic distance (m) between i and j at times ``t`` (shape (P, S))."""
    lat_i, lon_i = _flown(scene, i, t)
    lat_j, lon_j = _flown(scene, j, t)
    g = geodesic_inverse(lat_i.ravel(), lon_i.ravel(), lat_j.ravel(), lon_j.ravel())
    return g.distance_m.reshape(lat_i.shape)


def geodesic_reference(
    scene: Scene,
    i: npt.NDArray[np.int64],
    j: npt.NDArray[np.int64],
    *,
    t0_s: float,
    t1_s: float,
) -> tuple[Array, Array]:
    """(tcpa_s, dcpa_m) of each pair by brute force, independent of the kernel's algebra.

    Each aircraft flies the WGS84 geodesic of its track at its ground speed (PROJ's Karney
    geodesics); the distance is the geodesic between the two positions. The least distance
    in [t0_s, t1_s] is searched on a 1 s grid and then on a 0.01 s grid around it. A
    minimum on the edge of the interval means the CPA lies outside it.
    """
    tcpa = np.empty(i.size)
    dcpa = np.empty(i.size)
    coarse = np.arange(t0_s, t1_s + 0.5, 1.0)
    for s in range(0, i.size, 256):  # bounded memory
        ii, jj = i[s : s + 256], j[s : s + 256]
        d = _reference_distance(scene, ii, jj, np.broadcast_to(coarse, (ii.size, coarse.size)))
        best = coarse[np.argmin(d, axis=1)]
        fine = best[:, None] + np.arange(-1.0, 1.005, 0.01)[None, :]
        d = _reference_distance(scene, ii, jj, fine)
        q = np.argmin(d, axis=1)
        rows = np.arange(ii.size)
        tcpa[s : s + 256] = fine[rows, q]
        dcpa[s : s + 256] = d[rows, q]
    return tcpa, dcpa


def reference_conflict(
    scene: Scene,
    i: npt.NDArray[np.int64],
    j: npt.NDArray[np.int64],
    *,
    hsep_nm: float,
    vsep_ft: float,
    lookahead_s: float,
    step_s: float = 0.05,
) -> npt.NDArray[np.bool_]:
    """Whether each pair conflicts, by sampling [0, T] every ``step_s`` with geodesic flight.

    Sampling decides every pair whose violations overlap for longer than ``step_s``; pairs
    closer than that to a threshold are the ones :func:`compare_pairs` excuses anyway.
    """
    if i.size == 0:
        return np.zeros(0, dtype=np.bool_)
    t = np.arange(0.0, lookahead_s + step_s / 2, step_s)
    out = np.empty(i.size, dtype=np.bool_)
    for s in range(0, i.size, 64):  # bounded memory
        ii, jj = i[s : s + 64], j[s : s + 64]
        d = _reference_distance(scene, ii, jj, np.broadcast_to(t, (ii.size, t.size)))
        dalt = (scene.alt_ft[jj] - scene.alt_ft[ii])[:, None] + (
            scene.vs_fpm[jj] - scene.vs_fpm[ii]
        )[:, None] * (t / 60.0)
        out[s : s + 64] = np.any((d < nm_to_m(hsep_nm)) & (np.abs(dalt) < vsep_ft), axis=1)
    return out


def describe_pair(
    scene: Scene | Kinematics,
    i: int,
    j: int,
    *,
    hsep_nm: float,
    vsep_ft: float,
    lookahead_s: float,
) -> dict[str, float]:
    """skyparley's view of one pair, in aviation units, for reports."""
    k = scene.kinematics() if isinstance(scene, Scene) else scene
    hsep_m, vsep_m = nm_to_m(hsep_nm), ft_to_m(vsep_ft)
    g = pair_geometry(k, [i], [j], hsep_m=hsep_m, vsep_m=vsep_m, lookahead_s=lookahead_s)
    ii, jj = np.array([i]), np.array([j])
    crit = critical_values(k, ii, jj, hsep_m, vsep_m, lookahead_s)
    return {
        "i": i,
        "j": j,
        "conflict": bool(g.conflict[0]),
        "tin_s": float(g.tin_s[0]),
        "tout_s": float(g.tout_s[0]),
        "tcpa_s": float(g.tcpa_s[0]),
        "dcpa_nm": float(m_to_nm(g.dcpa_m[0])),
        "hdist_nm": float(m_to_nm(g.hdist_m[0])),
        "vdist_ft": float(m_to_ft(g.vdist_m[0])),
        "crit_hsep_nm": float(m_to_nm(crit["hsep"][0])),
        "crit_vsep_ft": float(m_to_ft(crit["vsep"][0])),
        "crit_tin_s": float(crit["tin"][0]),
        "crit_tout_s": float(crit["tout"][0]),
    }


def compare_pairs(
    ours: PairConflicts,
    theirs: Mapping[str, Any],
    scene: Scene,
    hsep_nm: float,
    vsep_ft: float,
    lookahead_s: float,
    *,
    rel_tol: float = 0.01,
    tcpa_tol_s: float = 1.0,
    dcpa_tol_nm: float = 0.05,
) -> Comparison:
    """Compare skyparley's pairs with another detector's (the BlueSky peer's dict).

    The rule (see :class:`Comparison`): a pair found by one side only is excused when it
    lies within ``rel_tol`` of a threshold with skyparley's geometry: the least horizontal
    distance while vertically too close within 1 % of hsep, the least altitude difference
    while horizontally too close within 1 % of vsep, the conflict starting within 1 % of the
    lookahead of its end, or ending within 1 % of the lookahead of now. Otherwise it is
    excused only if the WGS84 geodesic reference gives skyparley's verdict. On common pairs
    tcpa and dcpa should agree within ``tcpa_tol_s`` and ``dcpa_tol_nm``; where they do not,
    skyparley must match the geodesic reference (dcpa within 0.002 NM, tcpa within 0.1 s
    plus the time that changes the distance near the CPA by 1 m).
    """
    n = len(scene)
    hsep_m, vsep_m = nm_to_m(hsep_nm), ft_to_m(vsep_ft)
    k = scene.kinematics()
    ko = _pair_keys(ours.i, ours.j, n)
    kt = _pair_keys(theirs["i"], theirs["j"], n)
    if np.unique(ko).size != ko.size or np.unique(kt).size != kt.size:
        raise ValueError("a detector reported the same pair twice")

    # Pairs found by both sides.
    _, io, it = np.intersect1d(ko, kt, assume_unique=True, return_indices=True)
    tcpa_o = ours.tcpa_s[io]
    dcpa_o = m_to_nm(ours.dcpa_m[io])
    tcpa_t = np.asarray(theirs["tcpa_s"], dtype=np.float64)[it]
    dcpa_t = np.asarray(theirs["dcpa_nm"], dtype=np.float64)[it]
    n_nan = int(np.count_nonzero(~np.isfinite(tcpa_t) | ~np.isfinite(dcpa_t)))
    window = (tcpa_o >= -lookahead_s) & (tcpa_o <= 2.0 * lookahead_s)
    with np.errstate(invalid="ignore"):
        dtcpa = np.where(window, np.abs(tcpa_o - tcpa_t), np.nan)
        ddcpa = np.where(window, np.abs(dcpa_o - dcpa_t), np.nan)
        beyond = window & ~((dtcpa <= tcpa_tol_s) & (ddcpa <= dcpa_tol_nm))
    ci = np.minimum(ours.i[io], ours.j[io])[beyond]
    cj = np.maximum(ours.i[io], ours.j[io])[beyond]
    ref_t, ref_d = geodesic_reference(
        scene, ci, cj, t0_s=-lookahead_s - 2.0, t1_s=2.0 * lookahead_s + 2.0
    )
    speed = np.linalg.norm(_relative(k, ci, cj)[1], axis=1)
    d_o = ours.dcpa_m[io][beyond]
    with np.errstate(divide="ignore"):
        t_tol = 0.1 + np.sqrt((d_o + 1.0) ** 2 - d_o**2) / speed
    err_t = np.abs(tcpa_o[beyond] - ref_t)
    err_d = np.abs(d_o - ref_d)
    off = (err_t > t_tol) | (err_d > nm_to_m(0.002))
    unexplained = [
        {
            **describe_pair(
                k, int(a), int(b), hsep_nm=hsep_nm, vsep_ft=vsep_ft, lookahead_s=lookahead_s
            ),
            "ref_tcpa_s": float(rt),
            "ref_dcpa_nm": float(m_to_nm(rd)),
            "their_tcpa_s": float(tt),
            "their_dcpa_nm": float(td),
        }
        for a, b, rt, rd, tt, td in zip(
            ci[off],
            cj[off],
            ref_t[off],
            ref_d[off],
            tcpa_t[beyond][off],
            dcpa_t[beyond][off],
            strict=True,
        )
    ]

    # Pairs found by one side only.
    only_o = np.setdiff1d(ko, kt, assume_unique=True)
    only_t = np.setdiff1d(kt, ko, assume_unique=True)
    excused: Counter[str] = Counter()
    unexcused: list[list[dict[str, float]]] = []
    limits = {"hsep": hsep_m, "vsep": vsep_m, "tin": lookahead_s}
    for keys, ours_says in ((only_o, True), (only_t, False)):
        i, j = keys // n, keys % n
        crit = critical_values(k, i, j, hsep_m, vsep_m, lookahead_s)
        near = {
            name: np.abs(crit[name] - limit) <= rel_tol * limit for name, limit in limits.items()
        }
        near["tout"] = np.abs(crit["tout"]) <= rel_tol * lookahead_s
        any_near = np.zeros(len(keys), dtype=bool)
        for name in ("hsep", "vsep", "tin", "tout"):  # a pair counts under its first reason
            excused[name] += int(np.count_nonzero(near[name] & ~any_near))
            any_near |= near[name]
        ref = reference_conflict(
            scene,
            i[~any_near],
            j[~any_near],
            hsep_nm=hsep_nm,
            vsep_ft=vsep_ft,
            lookahead_s=lookahead_s,
        )
        excused[PEER_GEOMETRY] += int(np.count_nonzero(ref == ours_says))
        bad = ref != ours_says
        unexcused.append(
            [
                describe_pair(
                    k, int(a), int(b), hsep_nm=hsep_nm, vsep_ft=vsep_ft, lookahead_s=lookahead_s
                )
                for a, b in zip(i[~any_near][bad], j[~any_near][bad], strict=True)
            ]
        )

    def as_pairs(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.stack([keys // n, keys % n], axis=1)

    def top(x: Array) -> float:
        return float(np.nanmax(x, initial=0.0)) if x.size else 0.0

    def median(x: Array) -> float:
        x = x[np.isfinite(x)]
        return float(np.median(x)) if x.size else 0.0

    return Comparison(
        n_ours=len(ko),
        n_theirs=len(kt),
        n_common=len(io),
        only_ours=as_pairs(only_o),
        only_theirs=as_pairs(only_t),
        excused=+excused,  # drop the reasons that never occurred
        unexcused_ours=unexcused[0],
        unexcused_theirs=unexcused[1],
        max_tcpa_diff_s=top(dtcpa),
        max_dcpa_diff_nm=top(ddcpa),
        median_tcpa_diff_s=median(dtcpa),
        median_dcpa_diff_nm=median(ddcpa),
        n_common_checked=int(np.count_nonzero(window)),
        n_common_beyond=int(np.count_nonzero(beyond)),
        common_unexplained=unexplained,
        max_ref_tcpa_diff_s=top(err_t),
        max_ref_dcpa_diff_nm=top(m_to_nm(err_d)),
        n_nan=n_nan,
    )

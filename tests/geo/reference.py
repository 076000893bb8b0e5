"""Brute-force conflict reference in plain Python: one pair at a time, no numpy, no pruning.

It restates the model of :mod:`skyparley.geo.cpa` from first principles so the vectorised,
grid-pruned kernel can be checked against it pair by pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

A = 6378137.0
F = 1.0 / 298.257223563
E2 = F * (2.0 - F)
KT = 1852.0 / 3600.0
FT = 0.3048
FPM = 0.3048 / 60.0
NM = 1852.0

Vec = tuple[float, float, float]


@dataclass(frozen=True)
class Ac:
    """One aircraft, in aviation units."""

    lat_deg: float
    lon_deg: float
    alt_ft: float
    gs_kt: float
    trk_deg: float
    vs_fpm: float


@dataclass(frozen=True)
class RefResult:
    conflict: bool
    tin_s: float
    tout_s: float
    tcpa_s: float
    dcpa_nm: float
    hdist_nm: float
    vdist_ft: float
    vdist_cpa_ft: float
    los: bool
    vrel_kt: float = 0.0


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _sub(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _scale(a: Vec, k: float) -> Vec:
    return (a[0] * k, a[1] * k, a[2] * k)


def _add(a: Vec, b: Vec) -> Vec:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _surface_point(lat_deg: float, lon_deg: float) -> Vec:
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    n = A / math.sqrt(1.0 - E2 * math.sin(lat) ** 2)
    return (
        n * math.cos(lat) * math.cos(lon),
        n * math.cos(lat) * math.sin(lon),
        n * (1.0 - E2) * math.sin(lat),
    )


def _frame(lat_deg: float, lon_deg: float) -> tuple[Vec, Vec, Vec]:
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    east = (-math.sin(lon), math.cos(lon), 0.0)
    north = (-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat))
    up = (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))
    return east, north, up


def _velocity(ac: Ac) -> Vec:
    east, north, _ = _frame(ac.lat_deg, ac.lon_deg)
    gs = ac.gs_kt * KT
    trk = math.radians(ac.trk_deg)
    return _add(_scale(east, gs * math.sin(trk)), _scale(north, gs * math.cos(trk)))


def pair(a: Ac, b: Ac, *, hsep_nm: float, vsep_ft: float, lookahead_s: float) -> RefResult:
    """Conflict geometry of one pair; ``vsep_ft`` is the vertical threshold used as is."""
    h = hsep_nm * NM
    v = vsep_ft * FT
    up_a = _frame(a.lat_deg, a.lon_deg)[2]
    up_b = _frame(b.lat_deg, b.lon_deg)[2]
    m = _add(up_a, up_b)
    m = _scale(m, 1.0 / math.sqrt(_dot(m, m)))

    def flat(x: Vec) -> Vec:
        return _sub(x, _scale(m, _dot(x, m)))

    r = flat(_sub(_surface_point(b.lat_deg, b.lon_deg), _surface_point(a.lat_deg, a.lon_deg)))
    u = flat(_sub(_velocity(b), _velocity(a)))
    c = _dot(r, r)
    a2 = _dot(u, u)
    if a2 > 1e-9:
        tcpa = -_dot(r, u) / a2
        d = _add(r, _scale(u, tcpa))
        dcpa2 = _dot(d, d)
        if dcpa2 < h * h:
            half = math.sqrt((h * h - dcpa2) / a2)
            h_in, h_out = tcpa - half, tcpa + half
        else:
            h_in, h_out = math.inf, -math.inf
    else:
        tcpa, dcpa2 = 0.0, c
        h_in, h_out = (-math.inf, math.inf) if c < h * h else (math.inf, -math.inf)

    dz = (b.alt_ft - a.alt_ft) * FT
    dw = (b.vs_fpm - a.vs_fpm) * FPM
    if abs(dw) > 1e-9:
        t1, t2 = (-v - dz) / dw, (v - dz) / dw
        v_in, v_out = min(t1, t2), max(t1, t2)
    else:
        v_in, v_out = (-math.inf, math.inf) if abs(dz) < v else (math.inf, -math.inf)

    los = c < h * h and abs(dz) < v
    tin, tout = max(h_in, v_in), min(h_out, v_out)
    conflict = los or (tin < tout and tout > 0.0 and tin < lookahead_s)

    def clip(t: float) -> float:
        return min(max(t, -lookahead_s), lookahead_s)

    tin, tout = clip(tin), clip(tout)
    if los:
        tin = min(tin, 0.0)
    return RefResult(
        conflict=conflict,
        tin_s=tin,
        tout_s=tout,
        tcpa_s=tcpa,
        dcpa_nm=math.sqrt(dcpa2) / NM,
        hdist_nm=math.sqrt(c) / NM,
        vdist_ft=abs(dz) / FT,
        vdist_cpa_ft=abs(dz + dw * tcpa) / FT,
        los=los,
        vrel_kt=math.sqrt(a2) / KT,
    )


def all_conflicts(
    scene: list[Ac], *, hsep_nm: float, vsep_ft: float, lookahead_s: float
) -> dict[tuple[int, int], RefResult]:
    """Every conflicting pair (i < j) of the scene, by trying all pairs."""
    out = {}
    for i in range(len(scene)):
        for j in range(i + 1, len(scene)):
            res = pair(
                scene[i], scene[j], hsep_nm=hsep_nm, vsep_ft=vsep_ft, lookahead_s=lookahead_s
            )
            if res.conflict:
                out[(i, j)] = res
    return out

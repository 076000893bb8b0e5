"""Compiled loops of the conflict kernel (numba over numpy arrays).

Private: :mod:`skyparley.geo.cpa` is the public face. Everything here works in SI units on
ECEF vectors. The candidate search is a uniform hash grid over 4-D boxes (three ECEF axes and
altitude); each aircraft's box holds the path it sweeps over the lookahead, padded by half the
protected zone, so two boxes that do not touch cannot hold a conflict. No N x N structure is
ever formed: memory grows with N plus the number of grid entries and conflicts.
"""

from __future__ import annotations

import math
import sys

import numpy as np


def _load_numba_without_blas_check() -> None:
    """Import numba's array maths without its BLAS probe.

    ``numba.np.arraymath`` checks at import that a BLAS is there by importing
    ``scipy.linalg``: about 0.3 s, a quarter of loading these kernels from numba's cache.
    Nothing here does linear algebra. With ``scipy.linalg`` briefly marked as missing the
    probe answers at once (numba then takes its own inner product for the few functions that
    would call a BLAS); the mark is removed at once, so a later ``import scipy.linalg`` works.
    """
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    sys.modules["scipy.linalg"] = None  # type: ignore[assignment]
    try:
        import numba.np.arraymath  # noqa: F401, PLC0415
    finally:
        del sys.modules["scipy.linalg"]


_load_numba_without_blas_check()

from numba import njit  # noqa: E402

# A cell key packs the time slice (3 bits) and four grid indices (15 bits each, offset to be
# unsigned) into one int64.
_OFF = 16384
_MASK = 0x7FFF
_SLICE_SHIFT = 60
MAX_SLICES = 8
MAX_INDEX = 16000


@njit(cache=True, nogil=True, inline="always")
def vertical_window(z, w, i, j, vsep_m):  # type: ignore[no-untyped-def]
    """Times (v_in, v_out) between which |alt_j - alt_i| < vsep under constant vertical speed."""
    dalt = z[j] - z[i]
    dw = w[j] - w[i]
    if abs(dw) > 1e-9:
        t1 = (-vsep_m - dalt) / dw
        t2 = (vsep_m - dalt) / dw
        return min(t1, t2), max(t1, t2)
    if abs(dalt) < vsep_m:
        return -math.inf, math.inf
    return math.inf, -math.inf


@njit(cache=True, nogil=True)
def cpa_pair(p, v, u, z, w, i, j, hsep_m, vsep_m, lookahead_s):  # type: ignore[no-untyped-def]
    """Conflict geometry of the pair (i, j), returned as a tuple.

    (conflict, tin_s, tout_s, tcpa_s, dcpa_m, hdist_m, vdist_m, vdist_cpa_m, los)
    """
    # Mean surface normal: the tangent plane of the pair's midpoint. Symmetric in i and j.
    mx = u[i, 0] + u[j, 0]
    my = u[i, 1] + u[j, 1]
    mz = u[i, 2] + u[j, 2]
    mn = math.sqrt(mx * mx + my * my + mz * mz)
    mx /= mn
    my /= mn
    mz /= mn
    # Relative position and velocity of j seen from i, projected on that plane.
    rx = p[j, 0] - p[i, 0]
    ry = p[j, 1] - p[i, 1]
    rz = p[j, 2] - p[i, 2]
    rm = rx * mx + ry * my + rz * mz
    rx -= rm * mx
    ry -= rm * my
    rz -= rm * mz
    ux = v[j, 0] - v[i, 0]
    uy = v[j, 1] - v[i, 1]
    uz = v[j, 2] - v[i, 2]
    um = ux * mx + uy * my + uz * mz
    ux -= um * mx
    uy -= um * my
    uz -= um * mz

    c = rx * rx + ry * ry + rz * rz
    a2 = ux * ux + uy * uy + uz * uz
    b = rx * ux + ry * uy + rz * uz
    hdist = math.sqrt(c)
    h2 = hsep_m * hsep_m
    inf = math.inf

    # Horizontal: |r + u t| < hsep.
    if a2 > 1e-9:  # relative speed above ~3e-5 m/s
        tcpa = -b / a2
        dx = rx + ux * tcpa
        dy = ry + uy * tcpa
        dz = rz + uz * tcpa
        dcpa2 = dx * dx + dy * dy + dz * dz
        if dcpa2 < h2:
            half = math.sqrt((h2 - dcpa2) / a2)
            h_in = tcpa - half
            h_out = tcpa + half
        else:
            h_in = inf
            h_out = -inf
    else:  # no relative motion: the distance now is the distance always
        tcpa = 0.0
        dcpa2 = c
        if c < h2:
            h_in = -inf
            h_out = inf
        else:
            h_in = inf
            h_out = -inf
    dcpa = math.sqrt(dcpa2)

    # Vertical: |dalt + dw t| < vsep.
    v_in, v_out = vertical_window(z, w, i, j, vsep_m)
    dalt = z[j] - z[i]
    dw = w[j] - w[i]

    los = c < h2 and abs(dalt) < vsep_m
    tin = max(h_in, v_in)
    tout = min(h_out, v_out)
    conflict = los or (tin < tout and tout > 0.0 and tin < lookahead_s)
    # Unbounded ends (no relative motion) are reported at the edge of the prediction window.
    tin = min(max(tin, -lookahead_s), lookahead_s)
    tout = min(max(tout, -lookahead_s), lookahead_s)
    if los and tin > 0.0:  # rounding at the zone edge: LoS now means entered already
        tin = 0.0
    vdist_cpa = abs(dalt + dw * tcpa)
    return conflict, tin, tout, tcpa, dcpa, hdist, abs(dalt), vdist_cpa, los


@njit(cache=True, nogil=True)
def _grow(arr, n):  # type: ignore[no-untyped-def]
    out = np.empty(max(2 * arr.shape[0], n), dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True, nogil=True)
def build_grid(lo, hi, cell):  # type: ignore[no-untyped-def]
    """Hash every box into the grid cells it touches, bucketed by a counting sort.

    ``lo`` and ``hi`` are (N, S, 4): per aircraft, one box per time slice of the lookahead.
    Entries are grouped into hash buckets (a counting sort, linear in the number of entries);
    a bucket may hold entries of several cells, told apart by their key. Returns the owner,
    slice and key of every entry in bucket order, the buckets holding two entries or more as
    (start, end) rows, and each box's lowest cell index per axis, (N, S, 4).
    """
    n = lo.shape[0]
    ns = lo.shape[1]
    ilo = np.empty((n, ns, 4), dtype=np.int64)
    ihi = np.empty((n, ns, 4), dtype=np.int64)
    total = 0
    for a in range(n):
        for k in range(ns):
            cnt = 1
            for d in range(4):
                ilo[a, k, d] = math.floor(lo[a, k, d] / cell[d])
                ihi[a, k, d] = math.floor(hi[a, k, d] / cell[d])
                cnt *= ihi[a, k, d] - ilo[a, k, d] + 1
            total += cnt
    bits = 1
    while (1 << bits) < 2 * total:
        bits += 1
    nb = 1 << bits
    shift = np.uint64(64 - bits)
    mult = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
    keys = np.empty(total, dtype=np.int64)
    owner = np.empty(total, dtype=np.int64)
    bucket = np.empty(total, dtype=np.int64)
    start = np.zeros(nb + 1, dtype=np.int64)
    e = 0
    for a in range(n):
        for k in range(ns):
            for ix in range(ilo[a, k, 0], ihi[a, k, 0] + 1):
                for iy in range(ilo[a, k, 1], ihi[a, k, 1] + 1):
                    for iz in range(ilo[a, k, 2], ihi[a, k, 2] + 1):
                        for ia in range(ilo[a, k, 3], ihi[a, k, 3] + 1):
                            key = (
                                (k << _SLICE_SHIFT)
                                | ((ix + _OFF) << 45)
                                | ((iy + _OFF) << 30)
                                | ((iz + _OFF) << 15)
                                | (ia + _OFF)
                            )
                            hb = np.int64((np.uint64(key) * mult) >> shift)
                            keys[e] = key
                            owner[e] = a
                            bucket[e] = hb
                            start[hb + 1] += 1
                            e += 1
    nruns = 0
    for h in range(nb):
        if start[h + 1] > 1:
            nruns += 1
        start[h + 1] += start[h]
    pos = start[:nb].copy()
    sowner = np.empty(total, dtype=np.int64)
    skeys = np.empty(total, dtype=np.int64)
    for e in range(total):
        hb = bucket[e]
        t = pos[hb]
        sowner[t] = owner[e]
        skeys[t] = keys[e]
        pos[hb] = t + 1
    runs = np.empty((nruns, 2), dtype=np.int64)
    r = 0
    for h in range(nb):
        if start[h + 1] - start[h] > 1:
            runs[r, 0] = start[h]
            runs[r, 1] = start[h + 1]
            r += 1
    return sowner, skeys, runs, ilo


@njit(cache=True, nogil=True, inline="always")
def _overlap(lo, hi, a, b, k):  # type: ignore[no-untyped-def]
    for d in range(4):  # noqa: SIM110 (numba compiles loops, not generator expressions)
        if lo[a, k, d] >= hi[b, k, d] or lo[b, k, d] >= hi[a, k, d]:
            return False
    return True


@njit(cache=True, nogil=True)
def pairs_in_cells(  # type: ignore[no-untyped-def]
    sowner,
    skeys,
    runs,
    r0,
    r1,
    lo,
    hi,
    ilo,
    p,
    v,
    u,
    z,
    w,
    group,
    cross_group_only,
    hsep_m,
    vsep_m,
    lookahead_s,
):
    """Conflicting pairs (i < j) found in the buckets ``runs[r0:r1]``.

    Returns (i, j, values, los) with ``values`` of shape (7, M): tin, tout, tcpa, dcpa, hdist,
    vdist, vdist_cpa. A bucket's entries are sorted by cell key, then by the low x of their
    box; inside a cell the boxes are swept along x (sort and prune), so only pairs whose
    boxes overlap on that axis are looked at.
    """
    cap = 1024
    oi = np.empty(cap, dtype=np.int64)
    oj = np.empty(cap, dtype=np.int64)
    of = np.empty((7, cap))
    ol = np.empty(cap, dtype=np.bool_)
    m = 0
    kmax = 1
    for r in range(r0, r1):
        kmax = max(kmax, runs[r, 1] - runs[r, 0])
    ek = np.empty(kmax, dtype=np.int64)
    x0 = np.empty(kmax)
    x1 = np.empty(kmax)
    y0 = np.empty(kmax)
    y1 = np.empty(kmax)
    z0 = np.empty(kmax)
    z1 = np.empty(kmax)
    a0 = np.empty(kmax)
    a1 = np.empty(kmax)
    cl = np.empty((kmax, 4), dtype=np.int64)  # lowest cell of each gathered box
    cl1 = np.empty(kmax, dtype=np.int64)
    cl2 = np.empty(kmax, dtype=np.int64)
    cl3 = np.empty(kmax, dtype=np.int64)
    cand = np.empty(kmax, dtype=np.int64)
    bid = np.empty(kmax, dtype=np.int64)
    for r in range(r0, r1):
        s = runs[r, 0]
        kk = runs[r, 1] - s
        # Gather the bucket's boxes, insertion-sorted by (cell key, low x): buckets are small.
        for q in range(kk):
            a = sowner[s + q]
            key = skeys[s + q]
            sl = key >> _SLICE_SHIFT
            xa = lo[a, sl, 0]
            t = q
            while t > 0 and (ek[t - 1] > key or (ek[t - 1] == key and x0[t - 1] > xa)):
                ek[t] = ek[t - 1]
                bid[t] = bid[t - 1]
                x0[t] = x0[t - 1]
                x1[t] = x1[t - 1]
                y0[t] = y0[t - 1]
                y1[t] = y1[t - 1]
                z0[t] = z0[t - 1]
                z1[t] = z1[t - 1]
                a0[t] = a0[t - 1]
                a1[t] = a1[t - 1]
                for d in range(4):
                    cl[t, d] = cl[t - 1, d]
                t -= 1
            ek[t] = key
            bid[t] = a
            x0[t] = xa
            x1[t] = hi[a, sl, 0]
            y0[t] = lo[a, sl, 1]
            y1[t] = hi[a, sl, 1]
            z0[t] = lo[a, sl, 2]
            z1[t] = hi[a, sl, 2]
            a0[t] = lo[a, sl, 3]
            a1[t] = hi[a, sl, 3]
            for d in range(4):
                cl[t, d] = ilo[a, sl, d]
        for q in range(kk):
            cl1[q] = cl[q, 1]
            cl2[q] = cl[q, 2]
            cl3[q] = cl[q, 3]
        g0 = 0
        while g0 < kk:
            # One cell: the run of equal keys [g0, g1).
            key = ek[g0]
            g1 = g0 + 1
            while g1 < kk and ek[g1] == key:
                g1 += 1
            if g1 - g0 < 2:
                g0 = g1
                continue
            sl = key >> _SLICE_SHIFT
            c0 = ((key >> 45) & _MASK) - _OFF
            c1 = ((key >> 30) & _MASK) - _OFF
            c2 = ((key >> 15) & _MASK) - _OFF
            c3 = (key & _MASK) - _OFF
            # A pair is tested once: in the cell holding the low corner of its boxes'
            # intersection. Floor is monotonic, so that cell is the maximum of the boxes'
            # lowest cells. Sorted by x0, the later box's lowest x cell is that maximum: it
            # must be this cell's, so boxes that started in an earlier x cell only come first.
            h0 = g0
            while h0 < g1 and cl[h0, 0] != c0:
                h0 += 1
            for q in range(g0, g1):
                xq = x1[q]
                lo_t = max(q + 1, h0)
                # End of the x overlap: x0 is sorted, so a binary search finds it.
                hi_t = g1
                lt = lo_t
                while lt < hi_t:
                    mid = (lt + hi_t) >> 1
                    if x0[mid] < xq:
                        lt = mid + 1
                    else:
                        hi_t = mid
                hi_t = lt
                # Branch-free filter: home cell and box overlap, compacted into cand.
                nc = 0
                cq1 = cl1[q]
                cq2 = cl2[q]
                cq3 = cl3[q]
                yq0 = y0[q]
                yq1 = y1[q]
                zq0 = z0[q]
                zq1 = z1[q]
                aq0 = a0[q]
                aq1 = a1[q]
                for t in range(lo_t, hi_t):
                    ok = (
                        (max(cq1, cl1[t]) == c1)
                        & (max(cq3, cl3[t]) == c3)
                        & (max(cq2, cl2[t]) == c2)
                        & (yq0 < y1[t])
                        & (y0[t] < yq1)
                        & (aq0 < a1[t])
                        & (a0[t] < aq1)
                        & (zq0 < z1[t])
                        & (z0[t] < zq1)
                    )
                    cand[nc] = t
                    nc += ok
                for ci in range(nc):
                    t = cand[ci]
                    a = bid[q]
                    b = bid[t]
                    if cross_group_only and group[a] == group[b]:
                        continue
                    # Tested in the first time slice in which their boxes overlap.
                    first = True
                    for k in range(sl):
                        if _overlap(lo, hi, a, b, k):
                            first = False
                            break
                    if not first:
                        continue
                    i = min(a, b)
                    j = max(a, b)
                    # Cheap reject: never vertically within vsep during [0, lookahead].
                    v_in, v_out = vertical_window(z, w, i, j, vsep_m)
                    if v_out <= 0.0 or v_in >= lookahead_s:
                        continue
                    conflict, tin, tout, tcpa, dcpa, hd, vd, vdc, los = cpa_pair(
                        p, v, u, z, w, i, j, hsep_m, vsep_m, lookahead_s
                    )
                    if not conflict:
                        continue
                    if m == oi.shape[0]:
                        oi = _grow(oi, m + 1)
                        oj = _grow(oj, m + 1)
                        ol = _grow(ol, m + 1)
                        grown = np.empty((7, oi.shape[0]))
                        grown[:, :m] = of[:, :m]
                        of = grown
                    oi[m] = i
                    oj[m] = j
                    of[0, m] = tin
                    of[1, m] = tout
                    of[2, m] = tcpa
                    of[3, m] = dcpa
                    of[4, m] = hd
                    of[5, m] = vd
                    of[6, m] = vdc
                    ol[m] = los
                    m += 1
            g0 = g1
    return oi[:m], oj[:m], of[:, :m], ol[:m]


@njit(cache=True, nogil=True)
def detect_listed(p, v, u, z, w, ii, jj, hsep_m, vsep_m, lookahead_s):  # type: ignore[no-untyped-def]
    """Conflict geometry of listed pairs, whether they conflict or not."""
    m = ii.shape[0]
    of = np.empty((m, 7))
    oc = np.empty(m, dtype=np.bool_)
    ol = np.empty(m, dtype=np.bool_)
    for k in range(m):
        i = ii[k]
        j = jj[k]
        conflict, tin, tout, tcpa, dcpa, hd, vd, vdc, los = cpa_pair(
            p, v, u, z, w, i, j, hsep_m, vsep_m, lookahead_s
        )
        oc[k] = conflict
        of[k, 0] = tin
        of[k, 1] = tout
        of[k, 2] = tcpa
        of[k, 3] = dcpa
        of[k, 4] = hd
        of[k, 5] = vd
        of[k, 6] = vdc
        ol[k] = los
    return oc, of, ol

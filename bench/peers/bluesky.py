"""BlueSky (TU Delft, PyPI ``bluesky-simulator==1.1.1``) as a peer conflict detector.

Used only by the benchmarks to cross-check skyparley's conflict detection.
BlueSky is *not* a runtime dependency of skyparley: nothing from ``bluesky`` is
imported at module import time; it is loaded lazily on first use.

Install (into the bench venv; coexists with numpy 2.x, no Qt needed)::

    pip install --no-deps bluesky-simulator==1.1.1
    pip install matplotlib scipy      # the only deps its import chain needs

(``pip install bluesky-simulator==1.1.1`` with deps also works; it additionally
pulls pandas, openap, msgpack, pyzmq, the ``zmq`` shim and bluesky-navdata,
none of which detection needs.)

API
---
``available(impl="python") -> str | None``
    None when usable, else a one-line reason.
``detect(lat_deg, lon_deg, alt_ft, gs_kt, trk_deg, vs_fpm, *, hsep_nm,
vsep_ft, lookahead_s, impl="python") -> dict``
    One snapshot of N aircraft.  Returns numpy arrays ``i``, ``j`` (i < j, each
    unordered pair once), ``tcpa_s``, ``dcpa_nm``, ``tin_s``, ``tout_s``, plus
    ``seconds`` (wall time of BlueSky's detect call alone) and diagnostics
    ``impl``, ``n_directed`` (BlueSky's ownship->intruder records),
    ``n_one_sided`` (pairs BlueSky flagged in one direction only) and
    ``tout_source``.

How BlueSky is driven
---------------------
* No ``bluesky.init()``, no settings file, no sim/network/GUI.  Importing
  ``bluesky.traffic.asas.statebased`` drags in ``bluesky.traffic`` (~0.5-1 s,
  prints a few lines, which we swallow); it creates no files.  Without
  ``bluesky.init()`` the settings keep their in-code defaults.
* ``StateBased`` is a BlueSky ``Entity`` (replaceable singleton whose
  constructor registers traffic arrays and reads settings); its ``detect``
  uses no instance state, so we call it on a bare ``object.__new__`` instance.
* ownship == intruder == a minimal object with exactly the attributes the
  1.1.1 detectors read: ``ntraf, id, lat, lon, alt, gs, trk, vs``
  (python: statebased.py; C++: cstatebased.cpp reads lat/lon/trk/gs/alt/vs as
  double arrays and ``id`` via PyList_GetItem, so ``id`` must be a *list*; we
  use ``list(range(N))`` so BlueSky's confpairs are input indices).
* Units into BlueSky are SI (alt m, gs m/s, vs m/s, rpz m, hpz m, lookahead s)
  converted with BlueSky's own constants (bluesky.tools.aero: nm=1852,
  ft=0.3048, kts=0.514444, fpm=ft/60).  ``hpz`` is the full vertical
  separation (test ``|dalt| < hpz``), not a half-height.

Conflict definitions (1.1.1)
----------------------------
python (statebased.py): horizontal ``dcpa^2 < rpz^2`` (l.57), times
``tin/out_hor = tcpa -/+ sqrt(rpz^2-dcpa^2)/vrel`` (l.60-64); vertical
``tin/out_ver = min/max((dalt +/- hpz)/-dvs)`` with ``dvs`` clamped to +1e-6
when |dvs| < 1e-6 (l.74-82); ``tin = max``, ``tout = min`` (l.85-86);
conflict iff ``swhorconf and tin <= tout and tout > 0 and tin < dtlookahead[own]``
(l.88-89).  Returned tin may be negative (already in conflict).
C++ (cstatebased.hpp/.cpp): vertical tin clamped to >= 0, level pairs
(|dvs| <= 1e-6) get tin=0/tout=1e4 s iff ``|dalt| < hpz``; horizontally
diverging & separated pairs skipped; conflict iff
``tin <= tlook and tin < tout and tout > 0`` with
``tlook = max(tlook_own, tlook_int)``.  So C++ tin >= 0 always.  C++ also
computes ``dcpa = sqrt(d^2 - vreldotdx*tcpa)`` without abs(), so an exactly
head-on pair can come back with dcpa = NaN (python uses abs(), l.51), and it
divides by vrel^2 unguarded (identical velocities -> NaN/inf).

Neither implementation returns ``toutconf``.  For impl="python" we take
BlueSky's own ``toutconf`` matrix from the detect frame's locals at return
(via a sys.setprofile hook scoped to that one code object; negligible cost).
For impl="cpp" it is reconstructed from BlueSky's returned tcpa/dcpa and the
inputs with the C++ formulas (``tout_source`` tells which).
"""

from __future__ import annotations

import contextlib
import functools
import io
import sys
import time
from types import SimpleNamespace

import numpy as np

BLUESKY_VERSION = "1.1.1"
_IMPLS = ("python", "cpp")


def _installed_version() -> str:
    """The installed bluesky-simulator version; ImportError if missing or not the one targeted."""
    from importlib import metadata

    try:
        version = metadata.version("bluesky-simulator")
    except metadata.PackageNotFoundError:
        raise ImportError("bluesky-simulator not installed") from None
    if version != BLUESKY_VERSION:
        raise ImportError(
            f"bluesky-simulator {version} installed; adapter targets {BLUESKY_VERSION}"
        )
    return version


@functools.cache
def _import() -> SimpleNamespace | str:
    """Import the needed BlueSky pieces once; the namespace, or why that failed."""
    try:
        version = _installed_version()
        buf = io.StringIO()
        # BlueSky prints banners ("Using Python-based geo functions",
        # performance model loading, ...) on import; keep stdout clean.
        with contextlib.redirect_stdout(buf):
            from bluesky.tools import aero
            from bluesky.tools.geo import _geo as pygeo
            from bluesky.traffic.asas import statebased
        try:
            from bluesky.traffic.asas import cstatebased

            cerr = None
        except ImportError as exc:  # compiled extension missing / ABI mismatch
            cstatebased, cerr = None, f"BlueSky C++ cstatebased not importable: {exc}"
    except ImportError as exc:
        return str(exc).splitlines()[0] if str(exc) else repr(exc)
    except Exception as exc:  # noqa: BLE001  (any failure in BlueSky's import chain is a reason)
        return f"importing BlueSky failed: {type(exc).__name__}: {exc}".splitlines()[0]
    return SimpleNamespace(
        aero=aero,
        pygeo=pygeo,
        statebased=statebased,
        cstatebased=cstatebased,
        cerr=cerr,
        version=version,
        import_log=buf.getvalue(),  # whatever BlueSky printed while being imported
    )


def _load() -> SimpleNamespace:
    """Import the needed BlueSky pieces once (lazily); raise ImportError with a reason."""
    bs = _import()
    if isinstance(bs, SimpleNamespace):
        return bs
    raise ImportError(bs)


def available(impl: str = "python") -> str | None:
    """None if BlueSky (and the requested impl) is usable, else a one-line reason."""
    if impl not in _IMPLS:
        return f"unknown impl {impl!r}; expected one of {_IMPLS}"
    try:
        bs = _load()
    except ImportError as exc:
        return str(exc)
    if impl == "cpp" and bs.cstatebased is None:
        return bs.cerr
    return None


class _Traf:
    """Minimal stand-in for bluesky.traf / ADSB: exactly what 1.1.1's detect reads."""

    __slots__ = ("alt", "gs", "id", "lat", "lon", "ntraf", "trk", "vs")


@contextlib.contextmanager
def _python_geo(bs):
    """Make StateBased use BlueSky's pure-numpy geometry for the duration.

    statebased.py does ``from bluesky.tools import geo`` and calls
    ``geo.kwikqdrdist_matrix`` at call time.  bluesky/tools/geo/__init__.py
    binds that name to the compiled ``_cgeo`` version when the setting
    ``prefer_compiled`` is true -- which BlueSky's own resources/default.cfg
    sets (l.51), i.e. in any ``bluesky.init()``-ed process.  In 1.1.1 the
    compiled kwikqdrdist_matrix only computes the upper triangle and mirrors
    it (and doesn't wrap to [0,360)), so the bearing of every j->i pair is off
    by 180 deg and StateBased then gets the sign of dx/dy, hence tcpa, wrong
    for half the ownship/intruder records.  We therefore point statebased's
    module-global ``geo`` at the pure-python ``bluesky.tools.geo._geo`` module
    (which defines the same functions), and restore it afterwards so nothing
    else in the process is affected.
    """
    sb = bs.statebased
    saved = sb.geo
    sb.geo = bs.pygeo
    try:
        fn = sb.geo.kwikqdrdist_matrix
        if not hasattr(fn, "__code__"):  # compiled builtins have no __code__
            raise RuntimeError("BlueSky python geometry is not pure python")
        yield
    finally:
        sb.geo = saved


def _as_f64(name, x, n=None):
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} has length {a.shape[0]}, expected {n}")
    return a


def _run_python(bs, own, rpz, hpz, tlook):
    """BlueSky StateBased.detect (numpy, N x N).  Returns (out_tuple, toutconf_pairs, seconds)."""
    state_based = bs.statebased.StateBased
    inst = object.__new__(state_based)  # bare instance: skips Entity singleton/__init__
    code = state_based.detect.__code__
    grabbed = {}

    def _hook(frame, event, arg):
        if event == "return" and frame.f_code is code:
            # also fires when detect exits by exception (e.g. MemoryError):
            # locals may be incomplete then, so don't raise from the hook.
            loc = frame.f_locals
            grabbed["toutconf"] = loc.get("toutconf")
            grabbed["swconfl"] = loc.get("swconfl")

    import warnings

    prev = sys.getprofile()
    with _python_geo(bs), warnings.catch_warnings():
        # np.asmatrix -> np.matrix raises PendingDeprecationWarning on some numpys
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sys.setprofile(_hook)
        try:
            t0 = time.perf_counter()
            out = inst.detect(own, own, rpz, hpz, tlook)
            seconds = time.perf_counter() - t0
        finally:
            sys.setprofile(prev)
    tout = np.asarray(grabbed["toutconf"])[grabbed["swconfl"]]  # same row-major order as out
    grabbed.clear()
    return out, tout, seconds


def _run_cpp(bs, own, rpz, hpz, tlook):
    t0 = time.perf_counter()
    out = bs.cstatebased.detect(own, own, rpz, hpz, tlook)
    seconds = time.perf_counter() - t0
    if out is None:
        raise RuntimeError("BlueSky cstatebased.detect returned None (bad input arrays)")
    return out, seconds


def _cpp_tout(ii, jj, own, rpz, hpz, tcpa, dist):
    """Reconstruct C++ toutconf (cstatebased.hpp detect_hor/detect_ver).

    For the pairs (own=ii, int=jj).
    """
    trk1, trk2 = np.radians(own.trk[ii]), np.radians(own.trk[jj])
    du = own.gs[ii] * np.sin(trk1) - own.gs[jj] * np.sin(trk2)
    dv = own.gs[ii] * np.cos(trk1) - own.gs[jj] * np.cos(trk2)
    vrel2 = du * du + dv * dv
    r_pz = np.maximum(rpz[ii], rpz[jj])
    h_pz = np.maximum(hpz[ii], hpz[jj])
    with np.errstate(divide="ignore", invalid="ignore"):
        # C++: CPA2 = d^2 - vreldotdx*tcpa (may be slightly < 0 -> its dcpa is NaN,
        # but its tout stays finite because of the max(., 0) below)
        cpa2 = dist * dist - tcpa * tcpa * vrel2
        touthor = tcpa + np.sqrt(np.maximum(r_pz * r_pz - cpa2, 0.0) / vrel2)
        dalt = own.alt[ii] - own.alt[jj]
        dvs = own.vs[ii] - own.vs[jj]
        moving = np.abs(dvs) > 1e-6
        safe = np.where(moving, dvs, 1.0)
        toutver = np.where(moving, np.maximum((dalt + h_pz) / -safe, (dalt - h_pz) / -safe), 1e4)
    return np.minimum(touthor, toutver)


def _unique_pairs(n, ii, jj):
    """Indices selecting one record per unordered pair, preferring the i<j record."""
    lo, hi = np.minimum(ii, jj), np.maximum(ii, jj)
    key = lo * np.int64(n) + hi
    order = np.lexsort((ii > jj, key))
    ks = key[order]
    first = np.ones(ks.shape[0], dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    sel = order[first]
    counts = np.diff(np.flatnonzero(np.r_[first, True]))
    n_one_sided = int(np.count_nonzero(counts == 1))
    return sel, lo[sel], hi[sel], n_one_sided


def detect(
    lat_deg,
    lon_deg,
    alt_ft,
    gs_kt,
    trk_deg,
    vs_fpm,
    *,
    hsep_nm: float,
    vsep_ft: float,
    lookahead_s: float,
    impl: str = "python",
) -> dict:
    """Run BlueSky 1.1.1 state-based conflict detection on one snapshot.

    impl="python": bluesky.traffic.asas.statebased.StateBased.detect with the
    pure-python geometry forced (see _python_geo).  impl="cpp": the compiled
    bluesky.traffic.asas.cstatebased.detect (what CStateBased uses).
    """
    reason = available(impl)
    if reason is not None:
        raise RuntimeError(reason)
    bs = _load()
    aero = bs.aero

    lat = _as_f64("lat_deg", lat_deg)
    n = lat.shape[0]
    own = _Traf()
    own.ntraf = n
    own.id = list(range(n))  # list (C++ uses PyList_GetItem); confpairs become indices
    own.lat = lat
    own.lon = _as_f64("lon_deg", lon_deg, n)
    own.alt = _as_f64("alt_ft", alt_ft, n) * aero.ft
    own.gs = _as_f64("gs_kt", gs_kt, n) * aero.kts
    own.trk = _as_f64("trk_deg", trk_deg, n)
    own.vs = _as_f64("vs_fpm", vs_fpm, n) * aero.fpm
    rpz = np.full(n, float(hsep_nm) * aero.nm)
    hpz = np.full(n, float(vsep_ft) * aero.ft)
    tlook = np.full(n, float(lookahead_s))

    if n < 2:
        e = np.empty(0)
        return {
            "i": np.empty(0, np.int64),
            "j": np.empty(0, np.int64),
            "tcpa_s": e,
            "dcpa_nm": e,
            "tin_s": e,
            "tout_s": e,
            "seconds": 0.0,
            "impl": impl,
            "n_directed": 0,
            "n_one_sided": 0,
            "tout_source": "none",
        }

    if impl == "python":
        out, tout_all, seconds = _run_python(bs, own, rpz, hpz, tlook)
        tout_source = "bluesky"
    else:
        out, seconds = _run_cpp(bs, own, rpz, hpz, tlook)
        tout_all = None
        tout_source = "reconstructed (C++ formulas)"

    # out = confpairs, lospairs, inconf, tcpamax, qdr, dist[m], dcpa[m], tcpa[s], tinconf[s]
    confpairs = out[0]
    m = len(confpairs)
    ii = np.fromiter((p[0] for p in confpairs), dtype=np.int64, count=m)
    jj = np.fromiter((p[1] for p in confpairs), dtype=np.int64, count=m)
    dcpa_m = np.asarray(out[6], dtype=np.float64).reshape(-1)
    tcpa = np.asarray(out[7], dtype=np.float64).reshape(-1)
    tin = np.asarray(out[8], dtype=np.float64).reshape(-1)

    sel, lo, hi, n_one_sided = _unique_pairs(n, ii, jj)
    if tout_all is None:
        dist_m = np.asarray(out[5], dtype=np.float64).reshape(-1)
        tout = _cpp_tout(ii[sel], jj[sel], own, rpz, hpz, tcpa[sel], dist_m[sel])
    else:
        tout = np.asarray(tout_all, dtype=np.float64).reshape(-1)[sel]
    return {
        "i": lo,
        "j": hi,
        "tcpa_s": tcpa[sel],
        "dcpa_nm": dcpa_m[sel] / aero.nm,
        "tin_s": tin[sel],
        "tout_s": tout,
        "seconds": seconds,
        "impl": impl,
        "n_directed": m,
        "n_one_sided": n_one_sided,
        "tout_source": tout_source,
    }


# --------------------------------------------------------------------------- sanity run
def _scenario(n, seed=0):
    """n aircraft in a 600 km x 600 km box around 35N 38E, FL50-400, 250-500 kt."""
    rng = np.random.default_rng(seed)
    km_per_deg = 111.195
    lat = 35.0 + rng.uniform(-300, 300, n) / km_per_deg
    lon = 38.0 + rng.uniform(-300, 300, n) / (km_per_deg * np.cos(np.radians(35.0)))
    alt = rng.uniform(5000, 40000, n)
    gs = rng.uniform(250, 500, n)
    trk = rng.uniform(0, 360, n)
    vs = np.where(rng.random(n) < 0.6, 0.0, rng.uniform(-3000, 3000, n))  # 60% level
    return lat, lon, alt, gs, trk, vs


_KW = {"hsep_nm": 5.0, "vsep_ft": 1000.0, "lookahead_s": 300.0}


def _child(n, impl):
    import resource

    r = detect(*_scenario(n), impl=impl, **_KW)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{impl} N={n}: {len(r['i'])} pairs in {r['seconds']:.2f} s (peak RSS {rss:.1f} GiB)")


def _guarded(n, impl, limit_gib=16, timeout=900):
    """Run one detect in a child process with RLIMIT_AS = limit_gib."""
    import os
    import resource
    import subprocess

    def _limit():
        lim = int(limit_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = (
        f"import sys; sys.path.insert(0, {root!r}); "
        f"from bench.peers.bluesky import _child; _child({n}, {impl!r})"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        preexec_fn=_limit,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if p.returncode == 0:
        return p.stdout.strip()
    last = (p.stderr.strip().splitlines() or ["?"])[-1]
    return f"{impl} N={n}: failed under {limit_gib} GiB address-space limit ({last})"


def _main():
    for impl in _IMPLS:
        why = available(impl)
        print(f"available({impl!r}) -> {why}")
    if available("python") is not None:
        return
    sc = _scenario(500)
    res = {}
    for impl in _IMPLS:
        if available(impl) is None:
            detect(*sc, impl=impl, **_KW)  # warm-up
            res[impl] = r = detect(*sc, impl=impl, **_KW)
            print(
                f"{impl:6s} N=500: {len(r['i'])} conflict pairs "
                f"({r['n_directed']} directed records, {r['n_one_sided']} one-sided), "
                f"{r['seconds'] * 1e3:.1f} ms"
            )
    if len(res) == 2:
        a = set(zip(res["python"]["i"].tolist(), res["python"]["j"].tolist(), strict=True))
        b = set(zip(res["cpp"]["i"].tolist(), res["cpp"]["j"].tolist(), strict=True))
        print(
            f"python vs cpp pair sets: common {len(a & b)}, python-only {len(a - b)}, "
            f"cpp-only {len(b - a)}"
        )
    if available("cpp") is None:
        r = detect(*_scenario(10_000), impl="cpp", **_KW)
        print(f"cpp    N=10000: {len(r['i'])} conflict pairs, {r['seconds']:.2f} s")
    # python at N=10k needs ~25 N x N float64 temporaries (~20+ GiB): guard it.
    print(_guarded(10_000, "python", limit_gib=16))


if __name__ == "__main__":
    # When run as a script, this file's folder is sys.path[0] and would shadow
    # the real ``bluesky`` package with this very module; drop it.
    _here = __import__("os").path.dirname(__import__("os").path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if __import__("os").path.abspath(p or ".") != _here]
    _main()

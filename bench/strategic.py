"""Benchmark: strategic checks against many active volumes, and one hot area.

Run from the repository root::

    .venv/bin/python bench/strategic.py [--sizes 1000,10000,100000] [--queries 1000]
                                        [--hot 1000] [--hot-stacked 200] [--seed 0]

1. **Check latency.** N active volumes (grouped in notices of 1 to 3 volumes) over the
   Middle East, lat 12-42N, lon 25-63E: a third each polygons (4-10 vertices, star-shaped),
   circles and corridors (2-4 legs, half-width 0.5-3 NM), 5-150 km across (log-uniform);
   altitude bands from the surface to FL350, 1,000-15,000 ft thick; windows of 30 min to
   6 h starting anywhere in one week. A check is one new notice drawn the same way: for each
   of its volumes, :meth:`SpaceTimeIndex.candidates` and then the exact
   :func:`~skyparley.domain.volumes.overlap_4d` on every candidate, with the buffers of the
   Syria 2015 protocol (5 NM, 1,000 ft, 15 min). p50 and p99 over ``--queries`` notices.
   Peer: the same check with a brute-force numpy scan of every volume's bounding cap,
   window and band instead of the index (what a service without an index does at best).
2. **Build and updates**: :meth:`SpaceTimeIndex.add_many` for all N, then single
   ``remove``, ``add`` and ``replace`` on the full index. For scale: building a shapely
   STRtree (immutable) over N boxes, which an STRtree-only design pays per update.
3. **One hot area**: ``--hot`` single-volume notices filed one after the other into one
   50 km x 50 km square at 33.5N 36.3E, on top of the largest background: each is checked
   (index + exact) against everything active, then added. ``day``: 1-10 km shapes, windows of
   30-120 min over one day, bands up to FL150. ``stacked``: the worst case, every notice in
   the same 2 h and the same band, so only the distance keeps two notices apart (with 5 NM
   buffers, most pairs closer than about 20 km conflict); only ``--hot-stacked`` filings are
   run (the cost grows with the square of the count). The time spent in ``overlap_4d`` is
   shown apart.

Progress goes to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import os
import platform
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import shapely  # type: ignore[import-untyped]

from skyparley.domain.spatial_index import SpaceTimeIndex, bounding_cap
from skyparley.domain.volumes import AltitudeBand, TimeWindow, Volume4D, overlap_4d
from skyparley.geo.areas import Circle, Corridor, Polygon, Shape
from skyparley.geo.units import NM_M
from skyparley.geo.wgs84 import destination

TARGET_P99_MS = 5.0
TARGET_HOT_CHECKS_S = 500.0
T0 = 1_444_003_200.0  # 2015-10-05T00:00:00Z, a Monday
WEEK_S = 7 * 86_400.0
HOT_CENTRE = (33.5, 36.3)
Key = tuple[int, int]


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Buffers:
    lateral_nm: float
    vertical_ft: float
    time_min: float

    def kw(self) -> dict[str, float]:
        return {
            "lateral_nm": self.lateral_nm,
            "vertical_ft": self.vertical_ft,
            "time_min": self.time_min,
        }


# ----------------------------------------------------------------------------- volumes


def _points(
    lat: float, lon: float, bearings: np.ndarray, dists: np.ndarray
) -> list[tuple[float, float]]:
    la, lo = destination(
        np.full(bearings.shape, lat), np.full(bearings.shape, lon), bearings, dists
    )
    return [(float(x), float(y)) for x, y in zip(lo, la, strict=True)]


def make_shape(rng: np.random.Generator, lat: float, lon: float, across_m: float) -> Shape:
    """A polygon, circle or corridor about ``across_m`` across, centred near (lat, lon)."""
    kind = int(rng.integers(3))
    if kind == 0:
        return Circle(lat, lon, across_m / 2.0 / NM_M)
    if kind == 1:
        n = int(rng.integers(4, 11))
        bearings = 360.0 / n * (np.arange(n) + rng.uniform(0.0, 0.5, n))
        return Polygon(
            tuple(_points(lat, lon, bearings, across_m / 2.0 * rng.uniform(0.5, 1.0, n)))
        )
    legs = int(rng.integers(1, 4))
    heading = rng.uniform(0.0, 360.0)
    pts = [_points(lat, lon, np.array([heading + 180.0]), np.array([across_m / 2.0]))[0]]
    for _ in range(legs):
        heading += rng.uniform(-45.0, 45.0)
        la, lo = destination([pts[-1][1]], [pts[-1][0]], [heading], [across_m / legs])
        pts.append((float(lo[0]), float(la[0])))
    width_nm = min(rng.uniform(0.5, 3.0), across_m / 4.0 / NM_M)
    return Corridor(tuple(pts), width_nm)


def make_volume(
    rng: np.random.Generator,
    lat: float,
    lon: float,
    across_m: float,
    window: tuple[float, float],
    band: tuple[float, float],
) -> Volume4D:
    return Volume4D(make_shape(rng, lat, lon, across_m), AltitudeBand(*band), TimeWindow(*window))


def middle_east_volume(rng: np.random.Generator) -> Volume4D:
    lat, lon = rng.uniform(12.0, 42.0), rng.uniform(25.0, 63.0)
    across = math.exp(rng.uniform(math.log(5_000.0), math.log(150_000.0)))
    start = T0 + rng.uniform(0.0, WEEK_S)
    lower = float(rng.integers(0, 36)) * 1000.0
    upper = min(lower + float(rng.integers(1, 16)) * 1000.0, 45_000.0)
    return make_volume(
        rng, lat, lon, across, (start, start + rng.uniform(0.5, 6.0) * 3600.0), (lower, upper)
    )


def middle_east_notices(rng: np.random.Generator, volumes: int) -> list[list[Volume4D]]:
    """Notices of 1 to 3 volumes, ``volumes`` volumes in all; progress on stderr."""
    out: list[list[Volume4D]] = []
    made, t = 0, time.perf_counter()
    while made < volumes:
        k = min(int(rng.integers(1, 4)), volumes - made)
        out.append([middle_east_volume(rng) for _ in range(k)])
        made += k
        if made % 10_000 < k:
            progress(f"  built {made:,}/{volumes:,} volumes ({time.perf_counter() - t:.0f} s)")
    return out


def hot_volume(rng: np.random.Generator, scenario: str) -> Volume4D:
    across = rng.uniform(1_000.0, 10_000.0)
    room = 25_000.0 - across / 2.0
    east, north = rng.uniform(-room, room, 2)
    la, lo = destination(
        [HOT_CENTRE[0]],
        [HOT_CENTRE[1]],
        [math.degrees(math.atan2(east, north))],
        [math.hypot(east, north)],
    )
    day = T0 + 2 * 86_400.0
    if scenario == "day":
        start = day + rng.uniform(0.0, 86_400.0 - 7200.0)
        window = (start, start + rng.uniform(1800.0, 7200.0))
        lower = float(rng.integers(0, 30)) * 500.0
        band = (lower, lower + float(rng.integers(1, 11)) * 500.0)
    else:
        start = day + rng.uniform(0.0, 600.0)
        window, band = (start, start + 7200.0), (0.0, 10_000.0)
    return make_volume(rng, float(la[0]), float(lo[0]), across, window, band)


# ----------------------------------------------------------------------------- the peer


class ScanPeer:
    """Brute force: every volume's bounding cap, window and band tested with numpy."""

    def __init__(self, items: Sequence[tuple[Key, Volume4D]]) -> None:
        self.keys = [k for k, _ in items]
        self.volumes = [v for _, v in items]
        rows = []
        for _, v in items:
            c = bounding_cap(v.area)
            rows.append(
                (
                    c.x,
                    c.y,
                    c.z,
                    c.radius_rad,
                    v.window.start_s,
                    v.window.end_s,
                    v.band.lower_ft,
                    v.band.upper_ft,
                )
            )
        self.num = np.array(rows, dtype=np.float64)

    def candidates(self, v: Volume4D, b: Buffers) -> list[int]:
        c = bounding_cap(v.area)
        n = self.num
        t, z = b.time_min * 60.0 + 1e-3, b.vertical_ft + 1e-6
        angle = n[:, 3] + c.radius_rad + (1.05 * b.lateral_nm * NM_M + 1.0) / 6_335_439.3 + 1e-9
        d2 = (n[:, 0] - c.x) ** 2 + (n[:, 1] - c.y) ** 2 + (n[:, 2] - c.z) ** 2
        ok = (
            (n[:, 4] - v.window.end_s <= t)
            & (v.window.start_s - n[:, 5] <= t)
            & (n[:, 6] - v.band.upper_ft <= z)
            & (v.band.lower_ft - n[:, 7] <= z)
            & (d2 <= (2.0 * np.sin(np.minimum(angle, math.pi) / 2.0)) ** 2)
        )
        return np.flatnonzero(ok).tolist()


# ----------------------------------------------------------------------------- checks


@dataclass
class CheckStats:
    candidates: int = 0
    findings: int = 0
    exact_s: float = 0.0
    exact_calls: int = 0
    found_s: float = 0.0
    found_pairs: list[tuple[Volume4D, Volume4D]] = field(default_factory=list)


def check_with_index(
    index: SpaceTimeIndex[Key],
    notice: Sequence[Volume4D],
    b: Buffers,
    stats: CheckStats | None = None,
) -> int:
    kw = b.kw()
    findings = 0
    for v in notice:
        keys = index.candidates(v, **kw)
        if stats is None:
            findings += sum(overlap_4d(v, index.get(k), **kw) is not None for k in keys)
            continue
        stats.candidates += len(keys)
        for k in keys:
            t = time.perf_counter()
            hit = overlap_4d(v, index.get(k), **kw) is not None
            dt = time.perf_counter() - t
            stats.exact_s += dt
            stats.exact_calls += 1
            if hit:
                stats.found_s += dt
                findings += 1
                if len(stats.found_pairs) < 300:
                    stats.found_pairs.append((v, index.get(k)))
    if stats is not None:
        stats.findings += findings
    return findings


def candidates_of(
    index: SpaceTimeIndex[Key], notice: Sequence[Volume4D], kw: dict[str, float]
) -> list[list[Key]]:
    return [index.candidates(v, **kw) for v in notice]


def scan_candidates_of(peer: ScanPeer, notice: Sequence[Volume4D], b: Buffers) -> list[list[int]]:
    return [peer.candidates(v, b) for v in notice]


def check_with_scan(peer: ScanPeer, notice: Sequence[Volume4D], b: Buffers) -> int:
    kw = b.kw()
    return sum(
        overlap_4d(v, peer.volumes[i], **kw) is not None
        for v in notice
        for i in peer.candidates(v, b)
    )


def timed_ms(fn: Callable[[], object]) -> float:
    """Milliseconds one call of ``fn`` takes."""
    t = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - t) / 1e6


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q * 100.0))


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(header)] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title, "  ".join(h.rjust(w) for h, w in zip(cells[0], widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells[1:]]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- runs


def keyed(notices: Sequence[Sequence[Volume4D]], first_id: int = 0) -> list[tuple[Key, Volume4D]]:
    return [
        ((first_id + n, i), v) for n, notice in enumerate(notices) for i, v in enumerate(notice)
    ]


def run_size(
    items: list[tuple[Key, Volume4D]],
    queries: list[list[Volume4D]],
    b: Buffers,
    rng: np.random.Generator,
    cell_deg: float,
) -> tuple[list[object], list[object], list[object], SpaceTimeIndex[Key]]:
    n = len(items)
    progress(f"N={n:,}: building the index")
    t = time.perf_counter()
    index: SpaceTimeIndex[Key] = SpaceTimeIndex(cell_deg=cell_deg)
    index.add_many(items)
    build_s = time.perf_counter() - t
    peer = ScanPeer(items)
    kw = b.kw()
    for q in queries[:20]:  # warm-up
        check_with_index(index, q, b)
        check_with_scan(peer, q, b)
    progress(f"N={n:,}: {len(queries)} checks with the index, then with the scan")
    gc.collect()
    idx_only = [timed_ms(partial(candidates_of, index, q, kw)) for q in queries]
    scan_only = [timed_ms(partial(scan_candidates_of, peer, q, b)) for q in queries]
    gc.collect()
    stats = CheckStats()
    full = [timed_ms(partial(check_with_index, index, q, b, stats)) for q in queries]
    gc.collect()
    scan = [timed_ms(partial(check_with_scan, peer, q, b)) for q in queries]
    single = [ms for ms, q in zip(full, queries, strict=True) if len(q) == 1]
    qn = len(queries)
    candidate_row: list[object] = [
        f"{n:,}",
        f"{pct(idx_only, 0.5):.3f}",
        f"{pct(idx_only, 0.99):.3f}",
        f"{pct(scan_only, 0.5):.3f}",
        f"{pct(scan_only, 0.99):.3f}",
        f"{pct(scan_only, 0.5) / pct(idx_only, 0.5):.1f}x",
        f"{pct(scan_only, 0.99) / pct(idx_only, 0.99):.1f}x",
        f"{stats.candidates / qn:.1f}",
    ]
    check_row: list[object] = [
        f"{n:,}",
        f"{pct(full, 0.5):.2f}",
        f"{pct(full, 0.99):.2f}",
        f"{max(full):.1f}",
        f"{pct(single, 0.99):.2f}" if single else "-",
        f"{stats.findings / qn:.2f}",
        f"{stats.exact_s / max(1e-12, sum(full) / 1e3):.0%}",
        f"{pct(scan, 0.5):.2f}",
        f"{pct(scan, 0.99):.2f}",
        f"{pct(scan, 0.5) / pct(full, 0.5):.1f}x",
        f"{pct(scan, 0.99) / pct(full, 0.99):.1f}x",
    ]
    progress(f"N={n:,}: updates")
    keys = [k for k, _ in items]
    remove_ms, add_ms, replace_ms = [], [], []
    for j in rng.choice(len(keys), size=min(1000, len(keys)), replace=False).tolist():
        k = keys[j]
        vol = index.get(k)
        remove_ms.append(timed_ms(partial(index.remove, k)))
        add_ms.append(timed_ms(partial(index.add, k, vol)))
        other = items[int(rng.integers(n))][1]
        replace_ms.append(timed_ms(partial(index.replace, k, other)))
        index.replace(k, vol)
    boxes = shapely.box(*np.random.default_rng(0).uniform(0, 1, (4, n)))
    strtree_ms = pct([timed_ms(partial(shapely.STRtree, boxes)) for _ in range(3)], 0.5)
    update_row: list[object] = [
        f"{n:,}",
        f"{build_s:.2f}",
        f"{build_s / n * 1e6:.1f}",
        f"{pct(add_ms, 0.5) * 1e3:.0f}",
        f"{pct(add_ms, 0.99) * 1e3:.0f}",
        f"{pct(remove_ms, 0.5) * 1e3:.0f}",
        f"{pct(remove_ms, 0.99) * 1e3:.0f}",
        f"{pct(replace_ms, 0.5) * 1e3:.0f}",
        f"{pct(replace_ms, 0.99) * 1e3:.0f}",
        f"{strtree_ms:.1f}",
    ]
    return candidate_row, check_row, update_row, index


def run_hot(
    hot_pairs: list[tuple[Volume4D, Volume4D]],
    index: SpaceTimeIndex[Key],
    peer: ScanPeer | None,
    scenario: str,
    count: int,
    b: Buffers,
    rng: np.random.Generator,
) -> list[object]:
    progress(f"hot area ({scenario}): building {count} notices")
    notices = [[hot_volume(rng, scenario)] for _ in range(count)]
    background = len(index)
    stats = CheckStats()
    base = 10**9
    t = time.perf_counter()
    for n, notice in enumerate(notices):
        check_with_index(index, notice, b, stats)
        index.add((base + n, 0), notice[0])
        if n % 100 == 99:
            progress(f"  filed {n + 1}/{count} ({time.perf_counter() - t:.1f} s)")
    total_s = time.perf_counter() - t
    # The index alone (the candidates, no exact test) over the same filings.
    for n in range(count):
        index.remove((base + n, 0))
    t = time.perf_counter()
    for n, notice in enumerate(notices):
        index.candidates(notice[0], **b.kw())
        index.add((base + n, 0), notice[0])
    index_s = time.perf_counter() - t
    peer_s = math.nan
    if peer is not None:
        progress(f"hot area ({scenario}): the scan peer")
        items = list(zip(peer.keys, peer.volumes, strict=True))
        hot_items = [((base + n, 0), v[0]) for n, v in enumerate(notices)]
        # The peer scans the background plus the filings before each one (rebuilt arrays are
        # not counted: its best case).
        t_peer = 0.0
        step = max(1, count // 10)
        for lo in range(0, count, step):
            grown = ScanPeer(items + hot_items[:lo])
            t = time.perf_counter()
            for notice in notices[lo : lo + step]:
                check_with_scan(grown, notice, b)
            t_peer += time.perf_counter() - t
        peer_s = t_peer
    for n in range(count):
        index.remove((base + n, 0))
    hot_pairs.extend(stats.found_pairs)
    per_found = stats.found_s / max(1, stats.findings) * 1e3
    others = stats.exact_s - stats.found_s
    per_other = others / max(1, stats.exact_calls - stats.findings) * 1e3
    return [
        scenario,
        f"{background:,}",
        count,
        f"{count / total_s:,.0f}",
        f"{count / index_s:,.0f}",
        "-" if math.isnan(peer_s) else f"{count / peer_s:,.0f}",
        f"{stats.candidates / count:.1f}",
        f"{stats.findings / count:.1f}",
        f"{stats.exact_s / total_s:.0%}",
        f"{per_found:.2f}",
        f"{per_other:.3f}",
    ]


_STAGES = {
    "_projected": "draw both shapes, grown, in the pair's frame",
    "intersects|intersection": "intersect them (GEOS)",
    "_lonlat_polygons": "write the overlap back in lon/lat (fold, union, orient)",
    "_geodesic_area_m2": "geodesic area of the overlap",
}


def profile_overlap(pairs: Sequence[tuple[Volume4D, Volume4D]], b: Buffers) -> list[list[object]]:
    """Where the time of an overlap_4d that finds an overlap goes (shares under cProfile)."""
    kw = b.kw()
    prof = cProfile.Profile()
    prof.enable()
    for a, c in pairs:
        overlap_4d(a, c, **kw)
    prof.disable()
    raw = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(v[3] for k, v in raw.items() if k[2] == "overlap_4d")
    rows: list[list[object]] = []
    rest = total
    for name, what in _STAGES.items():
        # The calls made by overlap() itself: its geometry methods (intersects, intersection)
        # are reached through shapely's decorator, and shapely's intersection function also
        # runs inside the lon/lat writing.
        cum = sum(
            timing[3]
            for k, v in raw.items()
            if k[2] in name.split("|") and (k[2] != "intersection" or "geometry/base" in k[0])
            for caller, timing in v[4].items()
            if caller[2] in ("overlap", "wrapper")
        )
        rows.append([what, f"{cum / total:.0%}" if total else "-"])
        rest -= cum
    rows.append(["the rest (prefilters, checks, Python)", f"{rest / total:.0%}" if total else "-"])
    return rows


def environment() -> str:
    return (
        f"Machine: {platform.machine()}, {_cpu_model()}, {len(os.sched_getaffinity(0))} cores"
        f" (one used); Python {platform.python_version()}, numpy {np.__version__}, shapely "
        f"{shapely.__version__}"
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Benchmark strategic checks: the space-time index, latency and a hot area.",
        epilog="Example: .venv/bin/python bench/strategic.py --sizes 1000,10000 --hot 300",
    )
    p.add_argument("--sizes", default="1000,10000,100000", help="active volumes, comma-separated")
    p.add_argument("--queries", type=int, default=1000, help="checked notices per size")
    p.add_argument("--hot", type=int, default=1000, help="notices filed into the hot area")
    p.add_argument("--hot-stacked", type=int, default=200, help="filings of the worst case")
    p.add_argument("--cell-deg", type=float, default=0.5, help="the index's cell size")
    p.add_argument("--lateral-nm", type=float, default=5.0)
    p.add_argument("--vertical-ft", type=float, default=1000.0)
    p.add_argument("--time-min", type=float, default=15.0)
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    b = Buffers(args.lateral_nm, args.vertical_ft, args.time_min)
    rng = np.random.default_rng(args.seed)
    progress(f"building {sizes[-1]:,} active volumes and {args.queries} query notices")
    notices = middle_east_notices(rng, sizes[-1])
    queries = [
        [middle_east_volume(rng) for _ in range(int(rng.integers(1, 4)))]
        for _ in range(args.queries)
    ]
    all_items = keyed(notices)
    candidate_rows, check_rows, update_rows = [], [], []
    index: SpaceTimeIndex[Key] | None = None
    for n in sizes:
        r, c, u, index = run_size(all_items[:n], queries, b, rng, args.cell_deg)
        candidate_rows.append(r)
        check_rows.append(c)
        update_rows.append(u)
    assert index is not None
    hot_pairs: list[tuple[Volume4D, Volume4D]] = []
    hot_rows = [
        run_hot(hot_pairs, index, ScanPeer(all_items[: sizes[-1]]), "day", args.hot, b, rng)
    ]
    if args.hot_stacked > 0:
        hot_rows.append(run_hot(hot_pairs, index, None, "stacked", args.hot_stacked, b, rng))

    print(environment())
    print(
        f"Buffers: {b.lateral_nm:g} NM, {b.vertical_ft:g} ft, {b.time_min:g} min; "
        f"{args.queries} query notices of 1-3 volumes; index cell {args.cell_deg:g} deg"
    )
    print()
    print(
        table(
            "Candidates (ms per notice): the index, against a numpy scan of every volume's cap, "
            "window and band",
            [
                "active",
                "index p50",
                "index p99",
                "scan p50",
                "scan p99",
                "scan/index p50",
                "p99",
                "cands/notice",
            ],
            candidate_rows,
        )
    )
    print()
    print(
        table(
            "Check latency (ms per notice): candidates + exact overlap_4d on each; 1-vol = "
            "notices of one volume; in exact = share of the time in overlap_4d; scan = the "
            "scan's candidates + exact",
            [
                "active",
                "check p50",
                "check p99",
                "max",
                "1-vol p99",
                "findings",
                "in exact",
                "scan p50",
                "scan p99",
                "scan/check p50",
                "p99",
            ],
            check_rows,
        )
    )
    print()
    print(
        table(
            "Build and updates: add_many for N (s, us per volume); one add, remove, replace on the "
            "full index (us); an immutable shapely STRtree over N boxes, built once (ms)",
            [
                "active",
                "build s",
                "us/vol",
                "add p50",
                "add p99",
                "remove p50",
                "remove p99",
                "replace p50",
                "replace p99",
                "STRtree build ms",
            ],
            update_rows,
        )
    )
    print()
    print(
        table(
            "One hot area, 50 km x 50 km: each notice checked against all active volumes, then "
            "added (checks/s); ms per overlap_4d that finds an overlap, and per other call",
            [
                "scenario",
                "background",
                "filed",
                "checks/s",
                "index only/s",
                "scan peer/s",
                "cands/check",
                "findings",
                "in exact",
                "ms/found",
                "ms/other",
            ],
            hot_rows,
        )
    )
    print()
    print(
        table(
            f"Where overlap_4d's time goes when it finds an overlap ({len(hot_pairs)} hot-area "
            "pairs, shares of its time under cProfile)",
            ["stage (skyparley.geo.areas.overlap)", "share"],
            profile_overlap(hot_pairs, b),
        )
    )
    print()
    big = [r for r in check_rows if r[0] == f"{100_000:,}"]
    p99 = float(str(big[0][2])) if big else math.nan
    verdict = "not measured" if not big else ("met" if p99 <= TARGET_P99_MS else "NOT met")
    print(
        f"Target: A check against 100,000 active volumes: p99 at most {TARGET_P99_MS:g} ms "
        f"-> {p99:.2f} ms, {verdict}"
    )
    day = float(str(hot_rows[0][3]).replace(",", ""))
    print(
        f"Target: One hot area: at least {TARGET_HOT_CHECKS_S:g} checks per second (the InterUSS "
        f"DSS manages 6 to 8 filings per second in one hot cell) -> {day:,.0f} checks/s "
        f"({hot_rows[0][0]}), {'met' if day >= TARGET_HOT_CHECKS_S else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

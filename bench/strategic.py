"""Benchmark: strategic checks against many active volumes, and one hot area.

Run from the repository root::

    .venv/bin/python bench/strategic.py [--sizes 1000,10000,100000] [--queries 1000]
                                        [--hot 1000] [--hot-stacked 200] [--seed 0]

1. **Check latency.** N active volumes (grouped in notices of 1 to 3 volumes, filed by
   coalition and relief) over the Middle East, lat 12-42N, lon 25-63E: a third each polygons
   (4-10 vertices, star-shaped), circles and corridors (2-4 legs, half-width 0.5-3 NM),
   5-150 km across (log-uniform); altitude bands from the surface to FL350, 1,000-15,000 ft
   thick; windows of 30 min to 6 h starting anywhere in one week. A check is one new notice
   of russia's drawn the same way, checked the way the service will: :func:`check_notice`
   with ``candidates=`` a :class:`StrategicIndex` holding the N volumes (the index's
   candidates, a cheap per-pair prefilter, the exact
   :func:`~skyparley.domain.volumes.overlap_4d`, the findings), with the buffers of the
   Syria 2015 protocol (5 NM, 1,000 ft, 15 min) and no zones. p50 and p99 over
   ``--queries`` notices. Peer: a brute-force numpy scan of every volume's bounding cap,
   window and band instead of the index, then ``overlap_4d`` on each (what a service without
   an index does at best; no findings built).
2. **Build and updates**: :meth:`StrategicIndex.upsert` of the N volumes' notices, then
   single ``remove``, ``upsert`` (a new notice) and ``upsert`` of a new version (replacing
   the old) on the full index. For scale: building a shapely STRtree (immutable) over N
   boxes, which an STRtree-only design pays per update.
3. **One hot area**: ``--hot`` single-volume notices filed one after the other into one
   50 km x 50 km square at 33.5N 36.3E, on top of the largest background: each is checked
   (as above) against everything active, then upserted. ``day``: 1-10 km shapes, windows
   of 30-120 min over one day, bands up to FL150. ``stacked``: the worst case, every notice
   in the same 2 h and the same band, so only the distance keeps two notices apart (with 5 NM
   buffers, most pairs closer than about 20 km conflict); only ``--hot-stacked`` filings are
   run (the cost grows with the square of the count). The time spent in ``overlap_4d`` is
   measured apart, in a second pass with each call timed.

Progress goes to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
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
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import shapely  # type: ignore[import-untyped]

from _machine import cpu_model  # bench/ is on sys.path: these run as scripts
from skyparley.adapters.protocol_file import load_protocol
from skyparley.domain import strategic as domain_strategic
from skyparley.domain.notices import OperationNotice
from skyparley.domain.protocol import Protocol, StrategicBuffers
from skyparley.domain.spatial_index import bounding_cap
from skyparley.domain.strategic import check_notice
from skyparley.domain.strategic_index import StrategicIndex, key_of
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
PROTOCOL_FILE = Path(__file__).resolve().parents[1] / "src/skyparley/data/protocols/syria-2015.yaml"
CHECKER = "russia"
"""The party whose notices are checked; the background belongs to the other parties."""


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
    found_calls: int = 0
    found_pairs: list[tuple[Volume4D, Volume4D]] = field(default_factory=list)


def check(index: StrategicIndex, notice: OperationNotice, protocol: Protocol, now_s: float) -> int:
    """The real path: check_notice with the index's candidates; findings for the notice's party."""
    found = check_notice(notice, protocol, candidates=index.candidates, now_s=now_s)
    return sum(f.reader == notice.party for f in found)


def check_counted(
    index: StrategicIndex,
    notice: OperationNotice,
    protocol: Protocol,
    now_s: float,
    stats: CheckStats,
) -> float:
    """:func:`check` with every overlap_4d call timed (seconds in all, for the share)."""
    real = overlap_4d

    def timed(a: Volume4D, b: Volume4D, **kw: float) -> Any:
        t = time.perf_counter()
        o = real(a, b, **kw)
        dt = time.perf_counter() - t
        stats.exact_s += dt
        stats.exact_calls += 1
        if o is not None:
            stats.found_s += dt
            stats.found_calls += 1
            if len(stats.found_pairs) < 300:
                stats.found_pairs.append((a, b))
        return o

    stats.candidates += sum(len(index.candidates(v)) for v in notice.volumes)
    with patch.object(domain_strategic, "overlap_4d", timed):
        t = time.perf_counter()
        stats.findings += check(index, notice, protocol, now_s)
        return time.perf_counter() - t


def candidates_of(index: StrategicIndex, notice: OperationNotice) -> list[list[Any]]:
    return [index.candidates(v) for v in notice.volumes]


def scan_candidates_of(peer: ScanPeer, notice: OperationNotice, b: Buffers) -> list[list[int]]:
    return [peer.candidates(v, b) for v in notice.volumes]


def check_with_scan(peer: ScanPeer, notice: OperationNotice, b: Buffers) -> int:
    kw = b.kw()
    return sum(
        overlap_4d(v, peer.volumes[i], **kw) is not None
        for v in notice.volumes
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


def as_notices(
    volumes: Sequence[Sequence[Volume4D]], prefix: str, parties: Sequence[str]
) -> list[OperationNotice]:
    return [
        OperationNotice(parties[n % len(parties)], f"{prefix}-{n}", 1, "planned", tuple(vols))
        for n, vols in enumerate(volumes)
    ]


def first_volumes(notices: Sequence[OperationNotice], volumes: int) -> list[OperationNotice]:
    """The first notices, up to ``volumes`` volumes in all."""
    out, total = [], 0
    for notice in notices:
        total += len(notice.volumes)
        if total > volumes:
            break
        out.append(notice)
    return out


def run_size(
    background: list[OperationNotice],
    queries: list[OperationNotice],
    protocol: Protocol,
    b: Buffers,
    rng: np.random.Generator,
    cell_deg: float,
) -> tuple[list[object], list[object], list[object], StrategicIndex]:
    n = sum(len(x.volumes) for x in background)
    progress(f"N={n:,}: building the index")
    gc.collect()  # not the pending full collection of the 100k shapes just built
    t = time.perf_counter()
    index = StrategicIndex(protocol.strategic, cell_deg=cell_deg)
    index.upsert_many(background)
    build_s = time.perf_counter() - t
    items = keyed([x.volumes for x in background])
    peer = ScanPeer(items)
    now = T0 - 86_400.0
    for q in queries[:20]:  # warm-up
        check(index, q, protocol, now)
        check_with_scan(peer, q, b)
    progress(f"N={n:,}: {len(queries)} checks with the index, then with the scan")
    gc.collect()
    idx_only = [timed_ms(partial(candidates_of, index, q)) for q in queries]
    scan_only = [timed_ms(partial(scan_candidates_of, peer, q, b)) for q in queries]
    gc.collect()
    full = [timed_ms(partial(check, index, q, protocol, now)) for q in queries]
    gc.collect()
    scan = [timed_ms(partial(check_with_scan, peer, q, b)) for q in queries]
    stats = CheckStats()
    counted_s = sum(check_counted(index, q, protocol, now, stats) for q in queries)
    single = [ms for ms, q in zip(full, queries, strict=True) if len(q.volumes) == 1]
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
        f"{stats.exact_s / max(1e-12, counted_s):.0%}",
        f"{pct(scan, 0.5):.2f}",
        f"{pct(scan, 0.99):.2f}",
        f"{pct(scan, 0.5) / pct(full, 0.5):.1f}x",
        f"{pct(scan, 0.99) / pct(full, 0.99):.1f}x",
    ]
    progress(f"N={n:,}: updates")
    remove_ms, add_ms, replace_ms = [], [], []
    for j in rng.choice(len(background), size=min(1000, len(background)), replace=False).tolist():
        notice = background[j]
        key = key_of(notice)
        remove_ms.append(timed_ms(partial(index.remove, key)))
        add_ms.append(timed_ms(partial(index.upsert, notice)))
        other = background[int(rng.integers(len(background)))]
        newer = OperationNotice(notice.party, notice.id, 2, "planned", other.volumes)
        replace_ms.append(timed_ms(partial(index.upsert, newer)))
        # Version 3 puts the volumes of version 1 back.
        index.upsert(OperationNotice(notice.party, notice.id, 3, "planned", notice.volumes))
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
    index: StrategicIndex,
    protocol: Protocol,
    peer: ScanPeer | None,
    scenario: str,
    count: int,
    b: Buffers,
    rng: np.random.Generator,
) -> list[object]:
    progress(f"hot area ({scenario}): building {count} notices")
    notices = [
        OperationNotice(CHECKER, f"hot-{n}", 1, "planned", (hot_volume(rng, scenario),))
        for n in range(count)
    ]
    # Each filing is checked as the checker's, and indexed as another party's (so that the
    # next filings are checked against it); each of the three passes below files new ids.
    filed, counted, alone = (
        [OperationNotice("coalition", f"{x.id}-{p}", 1, "planned", x.volumes) for x in notices]
        for p in ("timed", "counted", "index")
    )
    background = sum(len(x.volumes) if isinstance(x, OperationNotice) else 1 for x in index)
    now = T0 - 86_400.0
    t = time.perf_counter()
    for n, notice in enumerate(notices):
        check(index, notice, protocol, now)
        index.upsert(filed[n])
        if n % 100 == 99:
            progress(f"  filed {n + 1}/{count} ({time.perf_counter() - t:.1f} s)")
    total_s = time.perf_counter() - t
    # The same filings again, counted (overlap_4d timed), then the index alone.
    for x in filed:
        index.remove(key_of(x))
    stats = CheckStats()
    counted_s = 0.0
    for n, notice in enumerate(notices):
        counted_s += check_counted(index, notice, protocol, now, stats)
        index.upsert(counted[n])
    for x in counted:
        index.remove(key_of(x))
    t = time.perf_counter()
    for n, notice in enumerate(notices):
        index.candidates(notice.volumes[0])
        index.upsert(alone[n])
    index_s = time.perf_counter() - t
    peer_s = math.nan
    if peer is not None:
        progress(f"hot area ({scenario}): the scan peer")
        items = list(zip(peer.keys, peer.volumes, strict=True))
        hot_items = [((10**9 + n, 0), v.volumes[0]) for n, v in enumerate(notices)]
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
    for x in alone:
        index.remove(key_of(x))
    hot_pairs.extend(stats.found_pairs)
    per_found = stats.found_s / max(1, stats.found_calls) * 1e3
    others = stats.exact_s - stats.found_s
    per_other = others / max(1, stats.exact_calls - stats.found_calls) * 1e3
    return [
        scenario,
        f"{background:,}",
        count,
        f"{count / total_s:,.0f}",
        f"{count / index_s:,.0f}",
        "-" if math.isnan(peer_s) else f"{count / peer_s:,.0f}",
        f"{stats.candidates / count:.1f}",
        f"{stats.findings / count:.1f}",
        f"{stats.exact_s / counted_s:.0%}",
        f"{per_found:.2f}",
        f"{per_other:.3f}",
    ]


_STAGES = {
    "_tile_drawings|_projected_many": (
        "draw both shapes, grown, in the pair's frame (cached per shape in a lattice frame)"
    ),
    "intersects|intersection": "intersect them (GEOS)",
    "_parts_lonlat|_simple_lonlat_polygons|_lonlat_polygons": (
        "write the overlap back in lon/lat (common path; fold, union on the hard cases)"
    ),
    "polygon_area_perimeter": "geodesic area of the overlap",
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
        f"Machine: {platform.machine()}, {cpu_model()}, {len(os.sched_getaffinity(0))} cores"
        f" (one used); Python {platform.python_version()}, numpy {np.__version__}, shapely "
        f"{shapely.__version__}"
    )


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
    notices = as_notices(middle_east_notices(rng, sizes[-1]), "bg", ("coalition", "relief"))
    queries = as_notices(
        [
            [middle_east_volume(rng) for _ in range(int(rng.integers(1, 4)))]
            for _ in range(args.queries)
        ],
        "q",
        (CHECKER,),
    )
    protocol = dataclasses.replace(
        load_protocol(PROTOCOL_FILE),
        zones=(),
        strategic=StrategicBuffers(b.lateral_nm, b.vertical_ft, b.time_min),
    )
    candidate_rows, check_rows, update_rows = [], [], []
    index: StrategicIndex | None = None
    for n in sizes:
        r, c, u, index = run_size(
            first_volumes(notices, n), queries, protocol, b, rng, args.cell_deg
        )
        candidate_rows.append(r)
        check_rows.append(c)
        update_rows.append(u)
    assert index is not None
    hot_pairs: list[tuple[Volume4D, Volume4D]] = []
    peer = ScanPeer(keyed([x.volumes for x in index if isinstance(x, OperationNotice)]))
    hot_rows = [run_hot(hot_pairs, index, protocol, peer, "day", args.hot, b, rng)]
    if args.hot_stacked > 0:
        hot_rows.append(
            run_hot(hot_pairs, index, protocol, None, "stacked", args.hot_stacked, b, rng)
        )

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
            "Check latency (ms per notice): check_notice through the StrategicIndex; 1-vol = "
            "notices of one volume; findings = conflicting volume pairs; in exact = share of "
            "the time in overlap_4d; scan = the scan's candidates + exact",
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
            "Build and updates: upsert of every notice (s, us per volume); one remove, upsert of "
            "a new notice, upsert of a new version on the full index (us per notice of 1-3 "
            "volumes); an immutable shapely STRtree over N boxes, built once (ms)",
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
            "One hot area, 50 km x 50 km: each notice checked (check_notice through the index) "
            "against all active volumes, then upserted (checks/s); ms per overlap_4d that finds "
            "an overlap, and per other call",
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

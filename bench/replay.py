"""Benchmark: ``skyparley replay`` on recorded traffic, against ``traffic``'s CPA.

Run from the repository root::

    .venv/bin/python bench/replay.py [--skip-traffic] [--skip-big] [--rows 10000000]
                                     [--repeat 3]

1. **Quickstart** (the ``traffic==2.13`` sample: Paris, 3 h, 284,505 rows at 1 Hz): the whole
   ``skyparley replay`` command (start-up, reading, detection, grading, every output file), as
   a subprocess, with 1 and 2 workers, from the JSON sample and from the same rows in
   canonical Parquet, each run ``--repeat`` times (the median wall time is shown: these
   runs take seconds and a shared machine's speed drifts). The peer is ``traffic``'s
   ``closest_point_of_approach`` on the same airborne rows, timed alone (the sample already
   loaded), in the same run. ``traffic`` needs pandas below 3, so it lives in its own
   environment and runs as a subprocess::

       python3 -m venv .venv-traffic && .venv-traffic/bin/pip install traffic==2.13 'pandas<3'

   Its LoS pairs (geodesic distance below 5 NM and altitude difference below 1,000 ft at a
   timestamp both aircraft reported) are compared with a replay under the same rule: reports
   used only at their own second (``--stale-s 0``) and no altitude tolerance.
2. **Replicated** (10 million rows by default): whole flights of the quickstart sample,
   copied with a random rotation about the sample's centre, moved to a random centre in a
   1,200 km box around 35N 38E and shifted in time over one day, with new ids and a party
   each. Built once into ``.cache/bench-replay/`` (git-ignored). Timed with 1 and 2 workers;
   peak memory is the highest sum of the resident sets of the replay's processes (driver
   and workers, sampled every 0.1 s).

Progress goes to stderr, tables to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "bench-replay"
TRAFFIC_PYTHON = REPO / ".venv-traffic" / "bin" / "python"
SKYPARLEY = REPO / ".venv" / "bin" / "skyparley"
PROTOCOL = REPO / "src/skyparley/data/protocols/syria-2015.yaml"
QUICKSTART = "collections/quickstart.json.gz"

TARGET_RATIO = 100.0
TARGET_BIG_S = 60.0
TARGET_BIG_MB = 2000.0


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ the peer


def peer_main(sample: str, out: str) -> None:
    """In ``.venv-traffic``: traffic's CPA on the sample's airborne rows; JSON to ``out``."""
    import pandas as pd
    import pyproj
    from traffic.core import Traffic

    t = Traffic.from_file(sample, dtype={"icao24": str})
    df = t.data
    keep = (
        ~df.onground.fillna(False).astype(bool)
        & df.latitude.notna()
        & df.longitude.notna()
        & df.altitude.notna()
        & df.groundspeed.notna()
        & df.track.notna()
        & df.vertical_rate.notna()
    )
    t = Traffic(df[keep])
    lat, lon = float(t.data.latitude.median()), float(t.data.longitude.median())
    proj = pyproj.Proj(
        proj="lcc", ellps="WGS84", lat_1=lat - 1, lat_2=lat + 1, lat_0=lat, lon_0=lon
    )
    invalid = sorted(
        str(f.icao24) for f in t if (shape := f.project_shape(proj)) is None or not shape.is_valid
    )
    start = time.perf_counter()
    cpa = t.closest_point_of_approach(
        lateral_separation=5 * 1852,
        vertical_separation=1000,
        projection=proj,
        round_t="d",
        max_workers=2,
    )
    elapsed = time.perf_counter() - start
    d = cpa.data if cpa is not None else pd.DataFrame()
    los = d[(d.lateral < 5) & (d.vertical < 1000)] if len(d) else d
    pairs = sorted(
        {tuple(sorted((str(a), str(b)))) for a, b in zip(los.icao24_x, los.icao24_y, strict=True)}
    )
    spans: dict[str, list[list[float]]] = {}
    for f in t:
        spans.setdefault(str(f.icao24), []).append([f.start.timestamp(), f.stop.timestamp()])
    result = {
        "spans": spans,
        "cpa_s": elapsed,
        "rows": len(t.data),
        "pairs": pairs,
        "invalid_shapes": invalid,
        "version": __import__("traffic").__version__,
        "pandas": pd.__version__,
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")


def run_peer(sample: Path) -> dict[str, Any] | None:
    if not TRAFFIC_PYTHON.is_file():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peer.json"
        progress("traffic: closest_point_of_approach on quickstart (about 5 minutes)...")
        done = subprocess.run(
            [str(TRAFFIC_PYTHON), __file__, "--peer-traffic", str(sample), str(out)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            progress(done.stderr[-3000:])
            raise RuntimeError("the traffic peer failed")
        return dict(json.loads(out.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- measuring


@dataclass(slots=True)
class Run:
    wall_s: float
    peak_mb: float
    out: Path
    stderr: str


def _median_run(tries: list[Run]) -> Run:
    """The run of median wall time, with the highest peak memory of all the tries."""
    ordered = sorted(tries, key=lambda r: r.wall_s)
    mid = ordered[(len(ordered) - 1) // 2]
    return Run(mid.wall_s, max(r.peak_mb for r in tries), mid.out, mid.stderr)


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def replay_cli(inputs: list[str], out: Path, *extra: str) -> Run:
    """``skyparley replay`` as a subprocess; wall time and peak resident memory of its tree."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [str(SKYPARLEY), "replay", *inputs, "--out", str(out), *extra]
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return Run(wall, peak / 1e6, out, err)


def incidents(out: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return list(pq.read_table(out / "incidents.parquet").to_pylist())


def alerts_raised(out: Path) -> int:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    t = pq.read_table(out / "alerts.parquet", columns=["event"])
    return int(pc.sum(pc.equal(t.column("event"), "raised")).as_py() or 0)


def los_pairs(out: Path) -> set[tuple[str, str]]:
    return {(r["a"], r["b"]) for r in incidents(out)}


def table(head: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(head)]
    lines = [
        "  ".join(
            h.rjust(w) if i else h.ljust(w)
            for i, (h, w) in enumerate(zip(head, widths, strict=True))
        ),
        "  ".join("-" * w for w in widths),
    ]
    lines.extend(
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the data


def _at_edges(out: Path, pair: tuple[str, str], spans: dict[str, list[list[float]]]) -> bool:
    """Whether every LoS second of the pair is the first or last second its two flights (as
    traffic cuts them) share."""
    seconds = [
        t
        for r in incidents(out)
        if (r["a"], r["b"]) == pair
        for t in range(int(r["start_s"]), int(r["end_s"]) + 1)
    ]
    edges = set()
    for a0, a1 in spans.get(pair[0], []):
        for b0, b1 in spans.get(pair[1], []):
            lo, hi = max(a0, b0), min(a1, b1)
            if lo <= hi:
                edges |= {int(lo), int(hi)}
    return bool(seconds) and all(t in edges for t in seconds)


def rule_protocol() -> Path:
    """The Syria 2015 protocol with traffic's rule: no altitude tolerance."""
    CACHE.mkdir(parents=True, exist_ok=True)
    text = PROTOCOL.read_text(encoding="utf-8").replace(
        "alt_tolerance_ft: 100", "alt_tolerance_ft: 0"
    )
    path = CACHE / "syria-2015-no-tolerance.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def quickstart_parquet(sample: Path) -> Path:
    """The sample's usable rows as canonical Parquet (what a replay of it reads)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from skyparley.adapters.tracks import read_tracks

    path = CACHE / "quickstart.parquet"
    if path.is_file():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    t, _ = read_tracks(sample)
    cols = {
        "time": t.time_s,
        "id": t.id.astype(str),
        "lat_deg": t.lat_deg,
        "lon_deg": t.lon_deg,
        "alt_ft": t.alt_ft,
        "gs_kt": t.gs_kt,
        "trk_deg": t.trk_deg,
        "vs_fpm": t.vs_fpm,
    }
    pq.write_table(pa.table(cols), path)
    return path


def replicated(sample: Path, rows: int, seed: int) -> tuple[Path, int]:
    """Whole flights of the sample, rotated, moved and time-shifted; built once."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from skyparley.adapters.tracks import read_tracks
    from skyparley.geo.wgs84 import destination, geodesic_inverse

    path = CACHE / f"replicated-{rows}-seed{seed}.parquet"
    t, _ = read_tracks(sample)
    copies = -(-rows // len(t))
    if path.is_file():
        return path, copies
    progress(f"building {path.name}: {copies} copies of {len(t):,} rows...")
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    clat = 0.5 * (t.lat_deg.min() + t.lat_deg.max())
    clon = 0.5 * (t.lon_deg.min() + t.lon_deg.max())
    n = len(t)
    ids, inverse = np.unique(t.id.astype(str), return_inverse=True)
    old = geodesic_inverse(np.full(n, clat), np.full(n, clon), t.lat_deg, t.lon_deg)
    parts: dict[str, list[Any]] = {
        k: []
        for k in (
            "time",
            "id",
            "party",
            "lat_deg",
            "lon_deg",
            "alt_ft",
            "gs_kt",
            "trk_deg",
            "vs_fpm",
        )
    }
    parties = np.array(["coalition", "russia", "relief"], dtype=object)
    span = t.time_s.max() - t.time_s.min()
    for copy in range(copies):
        theta = rng.uniform(0.0, 360.0)
        # A centre uniform in a 1,200 km box around 35N 38E (flat enough at this size).
        nlat = 35.0 + rng.uniform(-600e3, 600e3) / 111e3
        nlon = 38.0 + rng.uniform(-600e3, 600e3) / (111e3 * np.cos(np.radians(35.0)))
        shift = float(rng.uniform(0.0, 24 * 3600.0 - span))
        lat, lon = destination(
            np.full(n, nlat), np.full(n, nlon), old.bearing_deg + theta, old.distance_m
        )
        new = geodesic_inverse(np.full(n, nlat), np.full(n, nlon), lat, lon)
        turn = np.where(old.distance_m > 1.0, new.back_bearing_deg - old.back_bearing_deg, theta)
        party = parties[rng.integers(0, 3, len(ids))][inverse]
        parts["time"].append(t.time_s + shift)
        parts["id"].append(np.char.add(f"{copy:03d}:", ids.astype(str))[inverse])
        parts["party"].append(party)
        parts["lat_deg"].append(lat)
        parts["lon_deg"].append(lon)
        parts["alt_ft"].append(t.alt_ft)
        parts["gs_kt"].append(t.gs_kt)
        parts["trk_deg"].append(np.mod(t.trk_deg + turn, 360.0))
        parts["vs_fpm"].append(t.vs_fpm)
    cols = {k: np.concatenate(v)[:rows] for k, v in parts.items()}
    order = np.argsort(cols["time"], kind="stable")
    table_ = pa.table(
        {
            k: (v[order].astype(str) if v.dtype == object or v.dtype.kind == "U" else v[order])
            for k, v in cols.items()
        }
    )
    tmp = path.with_suffix(".part")
    pq.write_table(table_, tmp, row_group_size=262_144)
    os.replace(tmp, path)
    return path, copies


# --------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--skip-traffic", action="store_true", help="do not run traffic's CPA")
    p.add_argument("--skip-big", action="store_true", help="do not run the replicated file")
    p.add_argument("--rows", type=int, default=10_000_000, help="rows of the replicated file")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--repeat", type=int, default=3, help="runs of each quickstart replay (median shown)"
    )
    p.add_argument("--peer-traffic", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat: must be at least 1")
    if args.peer_traffic:
        peer_main(*args.peer_traffic)
        return 0

    sys.path.insert(0, str(REPO))
    import numpy as np
    import pyarrow as pa
    from bench._machine import cpu_model
    from bench.scenes import _traffic_sample

    sample = _traffic_sample(QUICKSTART)
    cores = len(os.sched_getaffinity(0))
    print(
        f"Machine: {platform.machine()}, {cpu_model()}, {cores} cores; Python "
        f"{platform.python_version()}, numpy {np.__version__}, pyarrow {pa.__version__}"
    )
    print(
        f"Protocol: {PROTOCOL.relative_to(REPO)} (5 NM, 1000 ft, tolerance 100 ft, "
        "lookahead 300 s, advisory 300 s / caution 120 s / warning 60 s, 2 of 4, 4 s, release 1.2)"
    )
    print()

    work = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    try:
        qs_parquet = quickstart_parquet(sample)
        input_rows = 284_505
        runs: list[tuple[str, str, int, Run]] = []
        for label, src in (("json.gz", sample), ("parquet", qs_parquet)):
            for w in (1, 2):
                progress(f"replay quickstart {label}, {w} worker(s), {args.repeat} times...")
                tries = [
                    replay_cli(
                        [str(src)],
                        work / f"qs-{label}-{w}-{k}",
                        "--protocol",
                        str(PROTOCOL),
                        "--workers",
                        str(w),
                    )
                    for k in range(args.repeat)
                ]
                runs.append(("skyparley replay", label, w, _median_run(tries)))
        progress("replay quickstart under traffic's rule...")
        rule = replay_cli(
            [str(sample)],
            work / "qs-rule",
            "--protocol",
            str(rule_protocol()),
            "--stale-s",
            "0",
            "--workers",
            "2",
        )
        peer = None if args.skip_traffic else run_peer(sample)

        rows = []
        for name, label, w, r in runs:
            ratio = f"{peer['cpa_s'] / r.wall_s:.0f}x" if peer else "-"
            rows.append(
                [
                    name,
                    label,
                    w,
                    f"{r.wall_s:.2f}",
                    f"{input_rows / r.wall_s:,.0f}",
                    f"{r.peak_mb:,.0f}",
                    len(incidents(r.out)),
                    len(los_pairs(r.out)),
                    alerts_raised(r.out),
                    ratio,
                ]
            )
        ratio = f"{peer['cpa_s'] / rule.wall_s:.0f}x" if peer else "-"
        rows.append(
            [
                "skyparley replay, traffic's rule",
                "json.gz",
                2,
                f"{rule.wall_s:.2f}",
                f"{input_rows / rule.wall_s:,.0f}",
                f"{rule.peak_mb:,.0f}",
                len(incidents(rule.out)),
                len(los_pairs(rule.out)),
                alerts_raised(rule.out),
                ratio,
            ]
        )
        if peer:
            rows.append(
                [
                    "traffic closest_point_of_approach",
                    "loaded",
                    2,
                    f"{peer['cpa_s']:.2f}",
                    f"{input_rows / peer['cpa_s']:,.0f}",
                    "-",
                    "-",
                    len(peer["pairs"]),
                    "-",
                    "1x",
                ]
            )
        else:
            rows.append(
                [
                    "traffic closest_point_of_approach",
                    "-",
                    "-",
                    "skipped" if args.skip_traffic else "not installed",
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                ]
            )
        print(
            "Quickstart (traffic 2.13 sample: Paris, 3 h, 284,505 rows, 1 Hz): the whole "
            "replay command against traffic's CPA call alone, in the same run (skyparley's "
            f"wall time: median of {args.repeat} runs; traffic's: one run)"
        )
        print(
            table(
                [
                    "run",
                    "input",
                    "workers",
                    "wall s",
                    "rows/s",
                    "peak MB",
                    "incidents",
                    "LoS pairs",
                    "alerts",
                    "CPA / this",
                ],
                rows,
            )
        )
        if peer:
            best = min(r.wall_s for _, label, _w, r in runs if label == "json.gz")
            mine = los_pairs(rule.out)
            theirs = {tuple(x) for x in peer["pairs"]}
            invalid = set(peer["invalid_shapes"])
            only_mine = mine - theirs
            edge = {p_ for p_ in only_mine if _at_edges(rule.out, p_, peer["spans"])}
            skipped = {p_ for p_ in only_mine - edge if p_[0] in invalid or p_[1] in invalid}
            print()
            print(
                f"LoS pairs under traffic's rule (a report at the same second, geodesic < 5 NM, "
                f"|dalt| < 1000 ft): both {len(mine & theirs)}, traffic only "
                f"{len(theirs - mine)}, skyparley only {len(only_mine)}: {len(edge)} lose "
                "separation only at the first or last second the two flights share (traffic "
                f"compares the seconds strictly inside), {len(skipped)} involve a flight traffic "
                "skips (its projected track is not a valid shape)"
            )
            skipped |= edge
            if only_mine - skipped or theirs - mine:
                print(
                    f"  unexplained: skyparley only {sorted(only_mine - skipped)}, "
                    f"traffic only {sorted(theirs - mine)}"
                )
            ok = (
                peer["cpa_s"] / best >= TARGET_RATIO
                and not (only_mine - skipped)
                and not (theirs - mine)
            )
            print(
                f"Target: quickstart at least {TARGET_RATIO:.0f}x faster than traffic's CPA with "
                f"the same LoS pairs -> {peer['cpa_s'] / best:.0f}x (whole command from the JSON "
                f"sample, best of 1-2 workers), {'met' if ok else 'not met'}"
            )
        else:
            why = "--skip-traffic" if args.skip_traffic else "traffic not installed (see above)"
            print(f"Target: quickstart at least 100x faster than traffic's CPA -> not run: {why}")
        print()

        if not args.skip_big:
            big, copies = replicated(sample, args.rows, args.seed)
            rows = []
            result: dict[int, Run] = {}
            for w in (1, 2):
                progress(f"replay {big.name}, {w} worker(s)...")
                r = replay_cli(
                    [str(big)], work / f"big-{w}", "--protocol", str(PROTOCOL), "--workers", str(w)
                )
                result[w] = r
                rows.append(
                    [
                        w,
                        f"{r.wall_s:.1f}",
                        f"{args.rows / r.wall_s:,.0f}",
                        f"{r.peak_mb:,.0f}",
                        f"{len(incidents(r.out)):,}",
                        f"{alerts_raised(r.out):,}",
                    ]
                )
            print(
                f"Replicated: {args.rows:,} rows ({copies} rotated, moved and time-shifted "
                "copies of the quickstart flights in a 1,200 km box over 24 h, 3 parties)"
            )
            print(
                table(
                    [
                        "workers",
                        "wall s",
                        "rows/s",
                        "peak MB (all processes)",
                        "incidents",
                        "alerts raised",
                    ],
                    rows,
                )
            )
            r2 = result[2]
            ok = r2.wall_s <= TARGET_BIG_S and r2.peak_mb <= TARGET_BIG_MB
            print(
                f"Target: {args.rows:,} rows in at most {TARGET_BIG_S:.0f} s on 2 cores with "
                f"peak memory at most {TARGET_BIG_MB:,.0f} MB -> {r2.wall_s:.1f} s, "
                f"{r2.peak_mb:,.0f} MB, {'met' if ok else 'not met'}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

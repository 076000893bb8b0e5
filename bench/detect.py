"""Benchmark: skyparley's tactical conflict detection against BlueSky 1.1.1.

Run from the repository root::

    .venv/bin/python bench/detect.py [--sizes 1000,2000,5000,10000,20000,100000]
                                     [--scene random|replicated|both] [--repeat R] [--markdown]

For each scene (see ``bench/scenes.py``) and size N it prints one table row: skyparley's
time per detection step (building the kinematics from aviation units plus
``detect_conflict_pairs``; median of R runs after one warm-up, which also loads or compiles
the numba kernels), BlueSky's C++ ``cstatebased.detect`` and Python ``StateBased.detect``
times (their detect call alone; median of R runs when a run takes under a second, else one
run), their ratio, the step's peak memory and whether the conflict pairs agree
(``bench.scenes.compare_pairs``). Memory is measured in a child process per size so that
nothing else in this process (BlueSky's N x N matrices) blurs it: ``peak MB`` is the peak
of traced allocations (tracemalloc sees numpy's and numba's NRT allocations), ``RSS +MB``
the rise of the resident set high-water mark during one step.

Separation minima: 5 NM, 1000 ft, lookahead 300 s (override with --hsep-nm, --vsep-ft,
--lookahead-s). Progress goes to stderr, tables to stdout. Install BlueSky with::

    .venv/bin/pip install --no-deps bluesky-simulator==1.1.1
    .venv/bin/pip install scipy matplotlib
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench._machine import cpu_model  # noqa: E402  (needs the repository root on sys.path)
from bench.peers import bluesky  # noqa: E402
from bench.scenes import (  # noqa: E402
    Comparison,
    Recording,
    Scene,
    compare_pairs,
    load_quickstart,
    random_scene,
    replicated_scene,
)

from skyparley.geo.cpa import PairConflicts, detect_conflict_pairs  # noqa: E402
from skyparley.geo.units import ft_to_m, nm_to_m  # noqa: E402

TARGET_RATIO_N = 10_000
TARGET_RATIO = 100.0
TARGET_BIG_N = 100_000
TARGET_BIG_S = 2.0
TARGET_BIG_MB = 2_000.0
SLOW_S = 1.0  # a peer run slower than this is not repeated
PYTHON_OOM_N = 5_000  # BlueSky Python's N x N matrices no longer fit above this (16+ GiB)


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- skyparley


def skyparley_step(
    scene: Scene, hsep_nm: float, vsep_ft: float, lookahead_s: float, workers: int | None
) -> PairConflicts:
    """One detection step: aviation units in, conflicting pairs out."""
    return detect_conflict_pairs(
        scene.kinematics(),
        hsep_m=nm_to_m(hsep_nm),
        vsep_m=ft_to_m(vsep_ft),
        lookahead_s=lookahead_s,
        workers=workers,
    )


def _proc_status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_rss_peak() -> bool:
    """Reset the resident set high-water mark (Linux >= 4.0); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    return True


def memory_child(path: str, hsep_nm: float, vsep_ft: float, lookahead_s: float) -> None:
    """Child process: measure one step's memory on the scene saved at ``path``; print JSON."""
    with np.load(path) as z:
        cols = {k: z[k] for k in ("lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm")}
    n = len(cols["lat_deg"])
    scene = Scene("child", **cols, ids=np.arange(n).astype(np.str_))
    warm = Scene("warm", **{k: v[:200] for k, v in cols.items()}, ids=scene.ids[:200])
    skyparley_step(warm, hsep_nm, vsep_ft, lookahead_s, None)  # load the numba kernels
    out: dict[str, Any] = {}
    before = _proc_status_kib("VmRSS")
    if before is not None and _reset_rss_peak():
        skyparley_step(scene, hsep_nm, vsep_ft, lookahead_s, None)
        peak = _proc_status_kib("VmHWM")
        if peak is not None:
            out["rss_rise_mb"] = (peak - before) * 1024 / 1e6
            out["rss_peak_mb"] = peak * 1024 / 1e6
    tracemalloc.start()
    skyparley_step(scene, hsep_nm, vsep_ft, lookahead_s, None)
    out["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(json.dumps(out))


def measure_memory(scene: Scene, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scene.npz")
        np.savez(path, **dict(zip(COLUMNS, scene.columns(), strict=True)))
        cmd = [
            sys.executable, __file__, "--memory-child", path,
            "--hsep-nm", str(args.hsep_nm), "--vsep-ft", str(args.vsep_ft),
            "--lookahead-s", str(args.lookahead_s),
        ]  # fmt: skip
        p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"memory child failed: {tail}"}
    return dict(json.loads(p.stdout.strip().splitlines()[-1]))


COLUMNS = ("lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm")


# ----------------------------------------------------------------------------- peers


@dataclass
class PeerRun:
    ms: float | None = None
    note: str = ""
    result: dict[str, Any] | None = None
    comparison: Comparison | None = None


def run_peer(impl: str, scene: Scene, args: argparse.Namespace) -> PeerRun:
    """Median time of BlueSky's detect; repeated only while a run takes under SLOW_S."""
    kw = {"hsep_nm": args.hsep_nm, "vsep_ft": args.vsep_ft, "lookahead_s": args.lookahead_s}
    times = []
    result = None
    for _ in range(max(1, args.repeat)):
        result = bluesky.detect(*scene.columns(), impl=impl, **kw)
        times.append(result["seconds"])
        if result["seconds"] > SLOW_S:
            break
    return PeerRun(ms=1e3 * statistics.median(times), result=result)


@dataclass
class Row:
    n: int
    pairs: int = 0
    ours_ms: float = 0.0
    memory: dict[str, Any] = field(default_factory=dict)
    peers: dict[str, PeerRun] = field(default_factory=dict)


def make_scene(kind: str, n: int, args: argparse.Namespace, recording: Recording | None) -> Scene:
    progress(f"[{kind} N={n}] building the scene")
    if kind == "random":
        return random_scene(n, args.seed)
    return replicated_scene(n, args.seed, recording)


def measure_ours(kind: str, scene: Scene, args: argparse.Namespace) -> tuple[Row, PairConflicts]:
    """skyparley's time and memory on one scene, and its conflicts."""
    n = len(scene)
    row = Row(n)
    step_args = (args.hsep_nm, args.vsep_ft, args.lookahead_s, args.workers)
    progress(f"[{kind} N={n}] skyparley: warm-up and {args.repeat} timed runs")
    ours = skyparley_step(scene, *step_args)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ours = skyparley_step(scene, *step_args)
        times.append(time.perf_counter() - t0)
    row.ours_ms = 1e3 * statistics.median(times)
    row.pairs = len(ours.i)
    progress(f"[{kind} N={n}] skyparley: memory (child process)")
    row.memory = measure_memory(scene, args)
    return row, ours


def _skip_note(impl: str, n: int, cpp_s: list[tuple[int, float]]) -> str:
    if impl == "python":
        if n <= PYTHON_OOM_N:
            return "skipped (--python-max)"
        gib = 25 * 8 * n * n / 2**30  # ~25 N x N float64 temporaries
        return f"out of memory (N x N, ~{gib:.0f} GiB)"
    if not cpp_s:
        return "skipped (--cpp-max)"
    n0, s0 = cpp_s[-1]
    return f"skipped (N x N, > {s0 * (n / n0) ** 2:.0f} s)"


def measure_peers(
    kind: str,
    row: Row,
    scene: Scene,
    ours: PairConflicts,
    args: argparse.Namespace,
    cpp_s: list[tuple[int, float]],
) -> None:
    """BlueSky's times on one scene and how its pairs compare with skyparley's."""
    n = len(scene)
    for impl, limit in (("cpp", args.cpp_max), ("python", args.python_max)):
        why = bluesky.available(impl)
        if why is not None:
            row.peers[impl] = PeerRun(note=f"unavailable ({why})")
            continue
        if n > limit:
            row.peers[impl] = PeerRun(note=_skip_note(impl, n, cpp_s))
            continue
        progress(f"[{kind} N={n}] BlueSky {impl}")
        run = run_peer(impl, scene, args)
        if impl == "cpp" and run.ms is not None:
            cpp_s.append((n, run.ms / 1e3))
        progress(f"[{kind} N={n}] comparing with BlueSky {impl}")
        assert run.result is not None
        run.comparison = compare_pairs(
            ours, run.result, scene, args.hsep_nm, args.vsep_ft, args.lookahead_s
        )
        row.peers[impl] = run


# ----------------------------------------------------------------------------- output

HEADERS = (
    "N",
    "pairs",
    "skyparley ms",
    "BlueSky C++ ms",
    "BlueSky py ms",
    "C++ / skyparley",
    "peak MB",
    "RSS +MB",
    "pairs vs BlueSky C++",
    "pairs vs BlueSky py",
)


def _ms(run: PeerRun | None) -> str:
    if run is None:
        return ""
    return f"{run.ms:,.1f}" if run.ms is not None else run.note


def _agree(run: PeerRun | None) -> str:
    if run is None or run.comparison is None:
        return "n/a"
    return run.comparison.verdict()


def cells(row: Row) -> list[str]:
    cpp = row.peers.get("cpp")
    py = row.peers.get("python")
    ratio = f"{cpp.ms / row.ours_ms:,.0f}x" if cpp and cpp.ms else "n/a"
    mem = row.memory
    return [
        f"{row.n:,}",
        f"{row.pairs:,}",
        f"{row.ours_ms:,.1f}",
        _ms(cpp),
        _ms(py),
        ratio,
        f"{mem['traced_peak_mb']:,.0f}" if "traced_peak_mb" in mem else mem.get("error", "n/a"),
        f"{mem['rss_rise_mb']:,.0f}" if "rss_rise_mb" in mem else "n/a",
        _agree(cpp),
        _agree(py),
    ]


def table(rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(HEADERS) + " |"]
        lines.append("|" + "|".join("---:" if k < 8 else "---" for k in range(len(HEADERS))) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(HEADERS)]

    def fmt(r: tuple[str, ...] | list[str]) -> str:
        parts = [
            c.rjust(w) if k < 8 else c.ljust(w)
            for k, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([fmt(HEADERS), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)])


def targets(rows: list[Row]) -> str:
    by_n = {r.n: r for r in rows}
    parts = []
    r = by_n.get(TARGET_RATIO_N)
    cpp = r.peers.get("cpp") if r else None
    if r and cpp and cpp.ms:
        ratio = cpp.ms / r.ours_ms
        ok = "met" if ratio >= TARGET_RATIO else "NOT met"
        parts.append(
            f"N={TARGET_RATIO_N:,} at least {TARGET_RATIO:.0f}x faster than BlueSky C++: "
            f"{ratio:,.0f}x ({ok})"
        )
    else:
        parts.append(f"N={TARGET_RATIO_N:,} vs BlueSky C++: not measured")
    r = by_n.get(TARGET_BIG_N)
    if r:
        mem = r.memory.get("rss_rise_mb", r.memory.get("traced_peak_mb"))
        s = r.ours_ms / 1e3
        ok = "met" if s <= TARGET_BIG_S and mem is not None and mem <= TARGET_BIG_MB else "NOT met"
        mem_s = f"{mem:,.0f} MB" if mem is not None else "memory n/a"
        parts.append(
            f"N={TARGET_BIG_N:,} at most {TARGET_BIG_S:.0f} s and {TARGET_BIG_MB / 1e3:.0f} GB: "
            f"{s:.2f} s, {mem_s} ({ok})"
        )
    else:
        parts.append(f"N={TARGET_BIG_N:,} at most 2 s and 2 GB: not measured")
    return "Targets: " + "; ".join(parts)


def environment() -> str:
    import numba

    bs = bluesky.available("python")
    bs_s = f"bluesky-simulator {bluesky.BLUESKY_VERSION}" if bs is None else f"BlueSky: {bs}"
    return (
        f"Machine: {platform.machine()}, {cpu_model()}, {len(os.sched_getaffinity(0))} cores; "
        f"Python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}"
        f", {bs_s}"
    )


# ----------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Benchmark skyparley's conflict detection against BlueSky 1.1.1.",
        epilog="Example: .venv/bin/python bench/detect.py --sizes 1000,10000 --scene random",
    )
    p.add_argument("--sizes", default="1000,2000,5000,10000,20000,100000")
    p.add_argument("--scene", choices=("random", "replicated", "both"), default="both")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per size (median)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--markdown", action="store_true", help="print markdown tables")
    p.add_argument("--workers", type=int, default=None, help="skyparley threads (default: auto)")
    p.add_argument("--hsep-nm", type=float, default=5.0)
    p.add_argument("--vsep-ft", type=float, default=1000.0)
    p.add_argument("--lookahead-s", type=float, default=300.0)
    p.add_argument("--cpp-max", type=int, default=20_000, help="largest N run on BlueSky C++")
    p.add_argument("--python-max", type=int, default=5_000, help="largest N on BlueSky Python")
    p.add_argument("--memory-child", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args.hsep_nm, args.vsep_ft, args.lookahead_s)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    kinds = ["random", "replicated"] if args.scene == "both" else [args.scene]
    recording = None
    if "replicated" in kinds:
        progress("loading the traffic==2.13 quickstart sample")
        recording = load_quickstart()
    bluesky.available("cpp")  # import BlueSky now, not inside a timed run
    print(environment())
    print(
        f"Separation {args.hsep_nm:g} NM / {args.vsep_ft:g} ft, lookahead {args.lookahead_s:g} s;"
        f" skyparley: median of {args.repeat} steps after a warm-up, "
        f"workers={args.workers or 'auto'}"
    )
    for kind in kinds:
        # skyparley first for every size, then the peers: BlueSky's N x N runs (GiB of
        # memory handed back to the system) would otherwise disturb the next timing.
        scenes = [make_scene(kind, n, args, recording) for n in sizes]
        measured = [measure_ours(kind, scene, args) for scene in scenes]
        cpp_s: list[tuple[int, float]] = []
        for scene, (row, ours) in zip(scenes, measured, strict=True):
            measure_peers(kind, row, scene, ours, args, cpp_s)
        rows = [row for row, _ in measured]
        title = f"Scene: {kind} (seed {args.seed})"
        print(f"\n{'### ' if args.markdown else ''}{title}\n")
        print(table([cells(r) for r in rows], args.markdown))
        print()
        print(targets(rows))
        for r in rows:
            for impl, run in r.peers.items():
                if run.comparison is not None:
                    c = run.comparison
                    print(f"- N={r.n:,} vs BlueSky {impl}: {c.summary()}")
                    for row in [*c.unexcused_ours, *c.unexcused_theirs, *c.common_unexplained]:
                        print(f"    unexplained: {row}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

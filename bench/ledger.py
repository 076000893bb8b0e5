"""Benchmark: the SQLite ledger store, appends per second and proofs in a 1M-entry log.

Run from the repository root::

    .venv/bin/python bench/ledger.py [--appends 6000] [--submitters 1,4,16]
                                     [--big 1000000] [--cache .cache/bench-ledger-1m.sqlite]
                                     [--skip-big]

1. **Signed appends per second**: a fresh :class:`SqliteLedger` (WAL, ``synchronous=FULL``,
   one writer thread, group commit) and S submitter threads, each appending its own chain
   of entries with :meth:`SqliteLedger.append` (which waits for the receipt, i.e. for the
   COMMIT). ``pre-signed``: the entries are signed before the clock starts, so the store
   alone is timed (its signature check, chain and idempotency checks, tree, checkpoint
   signature, proofs, fsync). ``end-to-end``: each submitter also builds and signs its
   entries (RFC 8785 + Ed25519), as a client would. Latency is per append, submit to receipt.
2. **Floor**: the same leaf bytes inserted into a bare SQLite table (same pragmas), one
   thread, no signature, tree or checkpoint: one row per commit, and groups of the mean
   batch size the store reached with the most submitters. What fsync alone allows.
3. **1M entries**: a log of ``--big`` entries is built once into ``--cache`` (1,000 parties
   of 1,000 entries, signed in worker processes, stored with :meth:`SqliteLedger.bulk_append`
   in transactions of 50,000: every signature and chain is checked), then inclusion and
   consistency proofs are generated through the store's reader and verified. Peer: the same
   proofs from :class:`~skyparley.domain.ledger.merkle.MemoryTree`, all hashes in memory.

Progress goes to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from _machine import cpu_model  # bench/ is on sys.path: these run as scripts
from skyparley.adapters.ledger_store import SqliteLedger
from skyparley.domain.ledger import (
    Entry,
    KeyRing,
    MemoryTree,
    SignedEntry,
    SigningKey,
    consistency_proof,
    entry_hash,
    inclusion_proof,
    open_checkpoint,
    sign_entry,
    verify_consistency,
    verify_inclusion,
    verify_receipt,
)
from skyparley.domain.ledger.receipt import Receipt

REPO = Path(__file__).resolve().parent.parent
ORIGIN = "skyparley.bench/ledger"
SERVICE = SigningKey.from_seed(ORIGIN, hashlib.sha256(b"bench service").digest())
TARGET_APPENDS_S = 2000.0
TARGET_PROOF_MS = 1.0
BIG_PARTIES = 1000
BIG_BATCH = 50_000


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class WallClock:
    """The wall clock: a benchmark is a process edge."""

    def now_s(self) -> float:
        return time.time()


def party_key(n: int) -> SigningKey:
    return SigningKey.from_seed(f"party{n}", hashlib.sha256(b"bench party %d" % n).digest())


def make_entry(party: int, n: int, prev: str | None) -> Entry:
    return Entry(
        log_id=ORIGIN,
        party=f"party{party}",
        kind="notice",
        client_time="2015-10-10T09:00:00Z",
        prev=prev,
        idem=f"party{party}-{n}",
        body={
            "notice": n,
            "state": "planned",
            "volume": {"circle": [35.0 + n * 1e-6, 38.0, 5000.0], "alt_ft": [5000, 20000]},
            "window": ["2015-10-10T09:00:00Z", "2015-10-10T11:00:00Z"],
        },
    )


def signed_chain(party: int, count: int) -> list[SignedEntry]:
    key = party_key(party)
    out: list[SignedEntry] = []
    prev: str | None = None
    for n in range(count):
        e = make_entry(party, n, prev)
        prev = entry_hash(e)
        out.append(sign_entry(e, key))
    return out


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(header)] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title, "  ".join(h.rjust(w) for h, w in zip(cells[0], widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells[1:]]
    return "\n".join(lines)


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ----------------------------------------------------------------------------- appends


def run_appends(
    workdir: Path, submitters: int, total: int, *, sign_inline: bool
) -> dict[str, float]:
    """One run: ``submitters`` threads append ``total`` entries; returns the measures."""
    per = total // submitters
    ring = KeyRing([party_key(p).verifier for p in range(submitters)])
    path = workdir / f"appends-{submitters}-{int(sign_inline)}.sqlite"
    chains = [] if sign_inline else [signed_chain(p, per) for p in range(submitters)]
    latencies: list[list[float]] = [[] for _ in range(submitters)]
    receipts: list[tuple[SignedEntry, Receipt]] = []
    barrier = threading.Barrier(submitters + 1)
    with SqliteLedger(
        path, service_key=SERVICE, origin=ORIGIN, keyring=ring, clock=WallClock()
    ) as store:

        def work(p: int) -> None:
            lat = latencies[p]
            key = party_key(p)
            prev: str | None = None
            barrier.wait()
            for n in range(per):
                t0 = time.perf_counter()
                if sign_inline:
                    e = make_entry(p, n, prev)
                    prev = entry_hash(e)
                    signed = sign_entry(e, key)
                else:
                    signed = chains[p][n]
                r = store.append(signed)
                lat.append(time.perf_counter() - t0)
                if n == per - 1:
                    receipts.append((signed, r))

        threads = [threading.Thread(target=work, args=(p,)) for p in range(submitters)]
        for t in threads:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        batches = store.batches
        size = store.size()
    for signed, r in receipts:  # the receipts are real: check the last of each submitter
        verify_receipt(r, signed.leaf_bytes(), SERVICE.verifier)
    assert size == per * submitters
    flat = [x for lat in latencies for x in lat]
    return {
        "appends": float(size),
        "seconds": elapsed,
        "rate": size / elapsed,
        "batches": float(batches),
        "mean_batch": size / batches,
        "p50_ms": pct(flat, 0.5) * 1e3,
        "p99_ms": pct(flat, 0.99) * 1e3,
    }


def run_floor(workdir: Path, leaves: list[bytes], group: int) -> float:
    """Bare SQLite: the leaves inserted ``group`` per commit; returns rows per second."""
    path = workdir / f"floor-{group}.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE leaves (idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL)")
    t0 = time.perf_counter()
    for start in range(0, len(leaves), group):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO leaves (idx, leaf) VALUES (?, ?)",
            [(i, leaves[i]) for i in range(start, min(start + group, len(leaves)))],
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return len(leaves) / elapsed


# ----------------------------------------------------------------------------- 1M entries


def _gen_party(party: int) -> list[tuple[bytes, bytes, bytes]]:
    per = _gen_party.per  # type: ignore[attr-defined]
    return [(s.canonical, s.signature, s.key_id) for s in signed_chain(party, per)]


def _init_gen(per: int) -> None:
    _gen_party.per = per  # type: ignore[attr-defined]


def big_store(path: Path, size: int) -> SqliteLedger:
    ring = KeyRing([party_key(p).verifier for p in range(BIG_PARTIES)])
    return SqliteLedger(path, service_key=SERVICE, origin=ORIGIN, keyring=ring, clock=WallClock())


def build_big(path: Path, size: int) -> float | None:
    """Build the ``size``-entry log at ``path`` unless it is there; returns the build time."""
    if path.exists():
        with big_store(path, size) as store:
            if store.size() == size:
                return None
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    per = size // BIG_PARTIES
    progress(f"building a {size:,}-entry log into {path} (once; cached)")
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    workers = max(1, len(os.sched_getaffinity(0)))
    with big_store(path, size) as store, ctx.Pool(workers, _init_gen, (per,)) as pool:
        pending: list[SignedEntry] = []
        for n, chain in enumerate(pool.imap(_gen_party, range(BIG_PARTIES), chunksize=4)):
            pending += [SignedEntry(canonical=c, signature=s, key_id=k) for c, s, k in chain]
            if len(pending) >= BIG_BATCH or n == BIG_PARTIES - 1:
                done = store.bulk_append(pending, batch_size=BIG_BATCH)
                pending = []
                progress(f"  {done:,} entries, {time.perf_counter() - t0:.0f} s")
    return time.perf_counter() - t0


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def bench_big(path: Path, size: int, samples: int) -> tuple[list[list[object]], float]:
    rng = random.Random(1)
    rows: list[list[object]] = []

    def row(what: str, times: list[float]) -> None:
        us = [t * 1e6 for t in times]
        rows.append([what, len(us), f"{statistics.median(us):.1f}", f"{pct(us, 0.99):.1f}"])

    with big_store(path, size) as store:
        note = store.checkpoint(size)
        root = open_checkpoint(note, SERVICE.verifier).checkpoint.root_hash
        idx = [rng.randrange(size) for _ in range(samples)]
        olds = [rng.randrange(1, size) for _ in range(samples)]
        proofs = {i: store.inclusion_proof(i, size) for i in idx[:10]}  # warm the reader
        it = iter(idx)
        row("inclusion proof, store", timed(lambda: store.inclusion_proof(next(it), size), samples))
        proofs = {i: store.inclusion_proof(i, size) for i in idx}
        leaves = {i: store.leaf(i) for i in idx}
        from skyparley.domain.ledger import leaf_hash

        hashes = {i: leaf_hash(leaves[i]) for i in idx}
        it = iter(idx)

        def verify_one() -> None:
            i = next(it)
            verify_inclusion(hashes[i], i, size, proofs[i], root)

        row("inclusion proof, verify", timed(verify_one, samples))
        it = iter(idx)

        def receipt_one() -> None:
            i = next(it)
            Receipt(
                leaf_index=i,
                leaf_hash=hashes[i],
                inclusion_proof=store.inclusion_proof(i, size),
                checkpoint=str(store.checkpoint()),
            )

        row("receipt (checkpoint + proof), store", timed(receipt_one, samples))
        receipts = {
            i: Receipt(
                leaf_index=i, leaf_hash=hashes[i], inclusion_proof=proofs[i], checkpoint=str(note)
            )
            for i in idx
        }
        it = iter(idx)

        def verify_receipt_one() -> None:
            i = next(it)
            verify_receipt(receipts[i], leaves[i], SERVICE.verifier)

        row("receipt verify (leaf, Ed25519, path)", timed(verify_receipt_one, samples))
        itc = iter(olds)
        row(
            "consistency proof, store",
            timed(lambda: store.consistency_proof(next(itc), size), samples),
        )
        old = olds[0]
        cproof = store.consistency_proof(old, size)
        old_root = store.root(old)
        row(
            "consistency proof, verify",
            timed(lambda: verify_consistency(old, size, old_root, root, cproof), samples),
        )
        progress("loading every leaf hash into a MemoryTree (the in-memory peer)")
        conn = sqlite3.connect(path)
        tree = MemoryTree()
        for (h,) in conn.execute("SELECT leaf_hash FROM leaves ORDER BY idx"):
            tree.append_hash(h)
        conn.close()
        assert tree.root() == root
        it = iter(idx)
        row(
            "inclusion proof, MemoryTree (peer)",
            timed(lambda: inclusion_proof(next(it), size, tree), samples),
        )
        itc = iter(olds)
        row(
            "consistency proof, MemoryTree (peer)",
            timed(lambda: consistency_proof(next(itc), size, tree), samples),
        )
        median_ms = (
            statistics.median(
                timed(lambda: store.inclusion_proof(rng.randrange(size), size), samples)
            )
            * 1e3
        )
    return rows, median_ms


# ----------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Benchmark of the SQLite ledger store.")
    p.add_argument("--appends", type=int, default=6000, help="appends per run (default 6000)")
    p.add_argument("--submitters", default="1,4,16", help="concurrent submitters per run")
    p.add_argument("--big", type=int, default=1_000_000, help="entries of the big log")
    p.add_argument("--cache", type=Path, default=REPO / ".cache" / "bench-ledger-1m.sqlite")
    p.add_argument("--samples", type=int, default=2000, help="proofs timed at the big size")
    p.add_argument("--skip-big", action="store_true", help="only the append runs")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print(
        f"Machine: {platform.machine()}, {cpu_model()}, {len(os.sched_getaffinity(0))} cores; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    subs = [int(s) for s in args.submitters.split(",")]
    rows = []
    best: dict[str, float] = {}
    mean_batch = 1.0
    with tempfile.TemporaryDirectory(
        prefix="skyparley-bench-", dir=REPO / ".cache" if (REPO / ".cache").is_dir() else None
    ) as tmp:
        work = Path(tmp)
        for mode, inline in (("pre-signed", False), ("end-to-end", True)):
            for s in subs:
                progress(f"appends: {mode}, {s} submitters")
                m = run_appends(work, s, args.appends, sign_inline=inline)
                rows.append(
                    [
                        mode,
                        s,
                        int(m["appends"]),
                        f"{m['seconds']:.2f}",
                        f"{m['rate']:,.0f}",
                        int(m["batches"]),
                        f"{m['mean_batch']:.1f}",
                        f"{m['p50_ms']:.2f}",
                        f"{m['p99_ms']:.2f}",
                    ]
                )
                best[mode] = max(best.get(mode, 0.0), m["rate"])
                if mode == "pre-signed" and s == max(subs):
                    mean_batch = m["mean_batch"]
        print()
        print(
            table(
                "Signed appends (SQLite WAL, synchronous=FULL, one writer, group commit; "
                "append returns after COMMIT)",
                [
                    "mode",
                    "submitters",
                    "appends",
                    "s",
                    "appends/s",
                    "commits",
                    "mean batch",
                    "p50 ms",
                    "p99 ms",
                ],
                rows,
            )
        )
        ok = best.get("pre-signed", 0.0) >= TARGET_APPENDS_S
        print(
            f"target: at least {TARGET_APPENDS_S:,.0f} signed appends/s -> "
            f"{'met' if ok else 'NOT met'} (best pre-signed {best.get('pre-signed', 0):,.0f}/s, "
            f"best end-to-end {best.get('end-to-end', 0):,.0f}/s)"
        )
        leaves = [s.leaf_bytes() for s in signed_chain(0, min(args.appends, 3000))]
        group = max(1, round(mean_batch))
        progress("floor: bare SQLite inserts")
        floor_rows = [
            ["bare SQLite, 1 row per commit", len(leaves), f"{run_floor(work, leaves, 1):,.0f}"],
            [
                f"bare SQLite, {group} rows per commit",
                len(leaves),
                f"{run_floor(work, leaves, group):,.0f}",
            ],
        ]
        print()
        print(
            table(
                "Floor: the same leaves into a bare table, same pragmas, no checks/tree/signing",
                ["peer", "rows", "rows/s"],
                floor_rows,
            )
        )
    if args.skip_big:
        return 0
    built = build_big(args.cache, args.big)
    rows_big, median_ms = bench_big(args.cache, args.big, args.samples)
    print()
    built_text = f"built in {built:.0f} s" if built is not None else "cached"
    mb = args.cache.stat().st_size / 1e6
    print(
        table(
            f"Proofs in a {args.big:,}-entry log ({built_text}, {mb:,.0f} MB, {args.cache.name})",
            ["operation", "n", "median us", "p99 us"],
            rows_big,
        )
    )
    ok = median_ms <= TARGET_PROOF_MS
    print(
        f"target: an inclusion proof in a 1M-entry log in at most {TARGET_PROOF_MS:g} ms -> "
        f"{'met' if ok else 'NOT met'} (median {median_ms * 1e3:.0f} us through the store)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

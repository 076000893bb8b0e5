"""Durability harness: appends from several processes while the server is SIGKILLed.

A server process (``tests/adapters/_ledger_server.py``) owns a :class:`SqliteLedger` and
serves appends on a Unix socket. ``clients`` client processes
(``tests/adapters/_ledger_client.py``) append ``entries`` chained entries each and keep
every receipt they get; on a broken connection they retry the same entry (same idempotency
key). The harness kills the server with SIGKILL ``kills`` times, each after a random
``[min_up_s, max_up_s]`` of service, and restarts it. Then it stops everything and audits
the database file with plain ``sqlite3`` and the pure ledger functions:

- **lost**: a receipt whose leaf is not in the database at its index with its bytes;
- **unanchored**: a receipt whose checkpoint is not the database's checkpoint of that size;
- **bad receipts**: a receipt that does not verify offline;
- **duplicated**: a ``(party, idem)`` with more than one leaf;
- **replayed** (a lower bound, not a failure): receipts for entries that were committed in
  an earlier group commit than the one that answered, i.e. the server was killed between
  COMMIT and the answer and the client's retry got the original leaf back;
- **tree errors**: a stored leaf hash, node hash or checkpoint root that differs from the
  tree recomputed from the leaves, a bad checkpoint signature, or a broken party chain.

``ack_before_commit_s`` runs the negative control: a server that hands out receipts before
it commits. The harness must report lost entries for it.

From the command line (repository root)::

    .venv/bin/python -m tests.adapters.ledger_harness --kills 50
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.adapters._ledger_keys import ORIGIN, SERVICE, party_name

from skyparley.domain.ledger import (
    Checkpoint,
    MemoryTree,
    Receipt,
    SignedEntry,
    leaf_hash,
    open_checkpoint,
    parse_note,
    tree_root,
    verify_chain,
    verify_receipt,
)
from skyparley.errors import SkyparleyError

__all__ = ["HarnessResult", "audit", "main", "run_harness"]

REPO = Path(__file__).resolve().parents[2]
_READY_TIMEOUT_S = 20.0


@dataclass
class HarnessResult:
    """What a harness run did and what the audit found."""

    kills: int = 0
    kills_under_load: int = 0
    receipts: int = 0
    expected: int = 0
    lost: int = 0
    unanchored: int = 0
    bad_receipts: int = 0
    duplicated: int = 0
    tree_errors: int = 0
    client_errors: int = 0
    retries: int = 0
    replayed: int = 0
    leaves: int = 0
    checkpoints: int = 0
    elapsed_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph for humans, with the first problems found."""
        text = (
            f"kills {self.kills} ({self.kills_under_load} under load), receipts "
            f"{self.receipts}/{self.expected}, lost {self.lost}, duplicated {self.duplicated}, "
            f"unanchored {self.unanchored}, bad receipts {self.bad_receipts}, tree errors "
            f"{self.tree_errors}, client errors {self.client_errors}, retried sends "
            f"{self.retries}, replayed at least {self.replayed}, "
            f"leaves {self.leaves}, checkpoints {self.checkpoints}, {self.elapsed_s:.1f} s"
        )
        if self.problems:
            text += "\n  " + "\n  ".join(self.problems[:10])
        return text


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


class _Server:
    """The server process: start, wait until it answers, kill."""

    def __init__(self, db: Path, sock: Path, clients: int, log: Path, ack_s: float) -> None:
        self.args = [
            sys.executable,
            "-m",
            "tests.adapters._ledger_server",
            "--db",
            str(db),
            "--socket",
            str(sock),
            "--clients",
            str(clients),
            "--ack-before-commit-s",
            str(ack_s),
        ]
        self.sock = sock
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.args, cwd=REPO, env=_env(), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SkyparleyError(f"the ledger server exited: see {self.log}")
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(str(self.sock))
                except OSError:
                    time.sleep(0.005)
                    continue
            return
        raise SkyparleyError(f"the ledger server did not start in {_READY_TIMEOUT_S} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


def run_harness(
    workdir: Path,
    *,
    clients: int = 3,
    entries: int = 100,
    kills: int = 10,
    pace_s: float = 0.0,
    seed: int = 0,
    ack_before_commit_s: float = 0.0,
    min_up_s: float = 0.05,
    max_up_s: float = 0.3,
    deadline_s: float = 300.0,
) -> HarnessResult:
    """Run the harness in ``workdir`` (database, receipts, logs) and audit the result.

    Bounded: after ``deadline_s`` the kills stop and every process still running is killed.
    Every process it started is gone when it returns, whatever happened.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "ledger.db"
    rng = random.Random(seed)  # noqa: S311 (kill timing, not cryptography)
    started = time.monotonic()
    end = started + deadline_s
    sock_dir = Path(tempfile.mkdtemp(prefix="skyparley-"))  # a short path: AF_UNIX limit
    server = _Server(
        db, sock_dir / "ledger.sock", clients, workdir / "server.log", ack_before_commit_s
    )
    procs: list[subprocess.Popen[bytes]] = []
    outs = [workdir / f"receipts-{n}.jsonl" for n in range(clients)]
    result = HarnessResult(expected=clients * entries)
    try:
        server.start()
        for n in range(clients):
            args = [
                *(sys.executable, "-m", "tests.adapters._ledger_client"),
                *("--socket", str(server.sock), "--party", party_name(n)),
                *("--entries", str(entries), "--out", str(outs[n])),
                *("--pace-s", str(pace_s), "--timeout-s", str(deadline_s)),
            ]
            procs.append(subprocess.Popen(args, cwd=REPO, env=_env()))
        while result.kills < kills and time.monotonic() < end:
            time.sleep(rng.uniform(min_up_s, max_up_s))
            loaded = any(p.poll() is None for p in procs)
            server.kill()
            result.kills += 1
            result.kills_under_load += loaded
            server.start()
        for p in procs:
            try:
                p.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        server.stop()
        result.client_errors = sum(p.returncode != 0 for p in procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        server.kill()
        shutil.rmtree(sock_dir, ignore_errors=True)
    audit(db, outs, result)
    result.elapsed_s = time.monotonic() - started
    return result


def _read_receipts(outs: list[Path]) -> list[tuple[str, int, bytes, Receipt, int]]:
    got = []
    for n, path in enumerate(outs):
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if "receipt" in rec:
                got.append(
                    (
                        party_name(n),
                        rec["n"],
                        base64.b64decode(rec["leaf"]),
                        Receipt.from_json(rec["receipt"]),
                        rec["retries"],
                    )
                )
    return got


def audit(db: Path, outs: list[Path], result: HarnessResult) -> HarnessResult:
    """Compare the clients' receipts with the database file; fills ``result`` and returns it."""
    uri = db.resolve().as_uri() + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        leaves = conn.execute("SELECT idx, leaf, leaf_hash FROM leaves ORDER BY idx").fetchall()
        checkpoints = dict(conn.execute("SELECT size, note FROM checkpoints").fetchall())
        nodes = conn.execute("SELECT level, idx, hash FROM nodes").fetchall()
    result.leaves = len(leaves)
    result.checkpoints = len(checkpoints)
    problems = result.problems

    # The tree, recomputed from the leaves, against every stored hash and checkpoint.
    reference = MemoryTree()
    by_party: dict[str, list[SignedEntry]] = defaultdict(list)
    keys: Counter[tuple[str, str]] = Counter()
    for i, (idx, leaf, stored_hash) in enumerate(leaves):
        if idx != i or leaf_hash(leaf) != stored_hash:
            result.tree_errors += 1
            problems.append(f"leaf row {i}: index {idx} or leaf hash does not match")
        reference.append(leaf)
        signed = SignedEntry.from_leaf(leaf)
        by_party[signed.entry.party].append(signed)
        keys[signed.entry.party, signed.entry.idem] += 1
    for level, idx, h in nodes:
        width = 1 << level
        if (idx + 1) * width > reference.size or reference.subtree_hash(
            idx * width, (idx + 1) * width
        ) != h:
            result.tree_errors += 1
            problems.append(f"node {idx} at level {level} does not match the leaves")
    for size, note in checkpoints.items():
        try:
            cp = open_checkpoint(note, SERVICE.verifier).checkpoint
        except SkyparleyError as exc:
            result.tree_errors += 1
            problems.append(f"checkpoint {size}: {exc}")
            continue
        if cp.size != size or cp.root_hash != tree_root(reference, size):
            result.tree_errors += 1
            problems.append(f"checkpoint {size}: its root differs from the recomputed tree")
    for party, chain in by_party.items():
        try:
            verify_chain([s.entry for s in chain])
        except SkyparleyError as exc:
            result.tree_errors += 1
            problems.append(f"chain of {party}: {exc}")
    result.duplicated = sum(c - 1 for c in keys.values() if c > 1)

    # Every receipt against the file.
    sizes = sorted(checkpoints)
    for party, n, leaf, receipt, retries in _read_receipts(outs):
        result.receipts += 1
        result.retries += retries
        i = receipt.leaf_index
        if i >= len(leaves) or leaves[i][1] != leaf:
            result.lost += 1
            problems.append(f"LOST: {party} entry {n} acknowledged as leaf {i}")
            continue
        try:
            verify_receipt(receipt, leaf, SERVICE.verifier)
        except SkyparleyError as exc:
            result.bad_receipts += 1
            problems.append(f"{party} entry {n}: receipt does not verify: {exc}")
            continue
        body = parse_note(receipt.checkpoint).text
        size = Checkpoint.parse(body).size
        stored = checkpoints.get(size)
        if stored is None or parse_note(stored).text != body:
            result.unanchored += 1
            problems.append(f"{party} entry {n}: its checkpoint (size {size}) is not stored")
        first = bisect.bisect_right(sizes, i)  # the first commit that held leaf i
        if first < len(sizes) and sizes[first] < size:
            result.replayed += 1
    if ORIGIN not in {Checkpoint.parse(parse_note(n).text).origin for n in checkpoints.values()}:
        problems.append("no checkpoint of the harness log")
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.adapters.ledger_harness``: run once, print the audit, 0 when clean."""
    parser = argparse.ArgumentParser(description="SIGKILL durability harness of the ledger.")
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--entries", type=int, default=1000, help="entries per client")
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--pace-s", type=float, default=0.0, help="client pause per entry")
    parser.add_argument("--min-up-s", type=float, default=0.05)
    parser.add_argument("--max-up-s", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--deadline-s", type=float, default=300.0)
    parser.add_argument(
        "--ack-before-commit-s",
        type=float,
        default=0.0,
        help="negative control: acknowledge, then commit this many seconds later",
    )
    parser.add_argument("--workdir", type=Path, default=None, help="kept (default: temporary)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="skyparley-harness-") as tmp:
        workdir = args.workdir or Path(tmp)
        result = run_harness(
            workdir,
            clients=args.clients,
            entries=args.entries,
            kills=args.kills,
            pace_s=args.pace_s,
            seed=args.seed,
            ack_before_commit_s=args.ack_before_commit_s,
            min_up_s=args.min_up_s,
            max_up_s=args.max_up_s,
            deadline_s=args.deadline_s,
        )
    print(result.summary())
    clean = not (
        result.lost
        or result.duplicated
        or result.unanchored
        or result.bad_receipts
        or result.tree_errors
        or result.client_errors
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())

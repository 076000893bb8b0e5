"""Regenerate the golden file of the losses of separation in the ``quickstart`` recording.

``tests/golden/quickstart_los_pairs.csv`` holds one line per pair of aircraft that lost
separation in the default run of::

    skyparley detect quickstart.json.gz --format jsonl

(``collections/quickstart.json.gz`` of PyPI ``traffic==2.13``: Paris area, 3 h, 1 Hz; default
minima 5 NM / 1000 ft, 1 s steps, all pairs): ``a,b,first_los,last_los,los_steps`` with RFC
3339 times, sorted by pair. ``tests/cli/test_realdata.py`` runs the same command and compares.

Run ``.venv/bin/python tools/regen_golden.py`` after a change that is meant to move the
result, and review the diff it prints before committing the new file.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "quickstart_los_pairs.csv"
SAMPLE = "collections/quickstart.json.gz"
REGEN_COMMAND = ".venv/bin/python tools/regen_golden.py"
FIELDS = ("a", "b", "first_los", "last_los", "los_steps")


@dataclass(frozen=True, order=True)
class LosPair:
    """One pair's losses of separation over the run."""

    a: str
    b: str
    first_los: str
    last_los: str
    los_steps: int


def detect_args(sample: Path, out: Path) -> list[str]:
    """The arguments of ``skyparley`` for the golden run, writing JSON Lines to ``out``."""
    return ["detect", str(sample), "--format", "jsonl", "--out", str(out)]


def los_pairs(jsonl_lines: Iterable[str]) -> list[LosPair]:
    """The pairs with loss of separation in the JSON Lines output of ``skyparley detect``."""
    from skyparley.domain.times import format_time  # noqa: PLC0415 (after sys.path is set)

    seen: dict[tuple[str, str], list[float]] = {}
    for line in jsonl_lines:
        if not line.strip():
            continue
        row = json.loads(line)
        if row["los"]:
            seen.setdefault((row["a"], row["b"]), []).append(float(row["t"]))
    return sorted(
        LosPair(a, b, format_time(min(ts)), format_time(max(ts)), len(ts))
        for (a, b), ts in seen.items()
    )


def read_golden(path: Path = GOLDEN) -> list[LosPair]:
    """The pairs stored in the golden file."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise ValueError(f"{path}: expected the columns {','.join(FIELDS)}")
        return sorted(
            LosPair(r["a"], r["b"], r["first_los"], r["last_los"], int(r["los_steps"]))
            for r in reader
        )


def write_golden(pairs: Iterable[LosPair], path: Path = GOLDEN) -> None:
    """Write the golden file (sorted by pair)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(FIELDS)
        for p in sorted(pairs):
            writer.writerow((p.a, p.b, p.first_los, p.last_los, p.los_steps))


def describe_diff(expected: list[LosPair], actual: list[LosPair], limit: int = 10) -> str:
    """A short account of how ``actual`` differs from ``expected``: pairs added, removed, moved."""
    old = {(p.a, p.b): p for p in expected}
    new = {(p.a, p.b): p for p in actual}
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    changed = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
    head = (
        f"{len(expected)} pairs expected, {len(actual)} found: {len(added)} added, "
        f"{len(removed)} removed, {len(changed)} changed"
    )
    lines = [head]

    def show(
        sign: str, keys: list[tuple[str, str]], render: Callable[[tuple[str, str]], str]
    ) -> None:
        lines.extend(f"  {sign} {render(k)}" for k in keys[:limit])
        if len(keys) > limit:
            lines.append(f"  {sign} ... and {len(keys) - limit} more")

    def fmt(p: LosPair) -> str:
        return f"{p.a},{p.b},{p.first_los},{p.last_los},{p.los_steps}"

    show("+", added, lambda k: fmt(new[k]))
    show("-", removed, lambda k: fmt(old[k]))
    show("~", changed, lambda k: f"{fmt(old[k])}  ->  {fmt(new[k])}")
    return "\n".join(lines)


def run_golden(sample: Path) -> list[LosPair]:
    """Run the golden command in this process and return its pairs with loss of separation."""
    from skyparley.cli import main  # noqa: PLC0415 (after sys.path is set)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "quickstart.jsonl"
        code = main(detect_args(sample, out))
        if code != 0:
            raise SystemExit(f"skyparley detect exited with {code}")
        with out.open(encoding="utf-8") as fh:
            return los_pairs(fh)


def main() -> int:
    """Regenerate the golden file and print how it changed."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # for tests.realdata, when run as a script
    from tests.realdata import traffic_sample  # noqa: PLC0415

    sample = traffic_sample(SAMPLE)
    before = read_golden() if GOLDEN.is_file() else []
    after = run_golden(sample)
    write_golden(after)
    print(f"wrote {GOLDEN.relative_to(ROOT)}: {len(after)} pairs with loss of separation")
    if before != after:
        print(describe_diff(before, after))
    else:
        print("unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``skyparley detect`` on recorded OpenSky traffic (PyPI ``traffic==2.13`` samples)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from skyparley.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _load_regen_golden() -> ModuleType:
    """``tools/regen_golden.py``, loaded from its path (``tools`` is not a package)."""
    spec = importlib.util.spec_from_file_location("regen_golden", ROOT / "tools/regen_golden.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


golden = _load_regen_golden()


def skyparley_cmd() -> list[str]:
    """The installed console script of this virtual environment, else ``python -m skyparley``."""
    script = Path(sys.executable).with_name("skyparley")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "skyparley"]


@pytest.mark.realdata
def test_dreamliner_formation_flight_loses_separation(
    traffic_samples: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Air France's Dreamliners flew in formation on purpose: a long loss of separation."""
    sample = traffic_samples("featured/dreamliner_airfrance.json.gz")
    out = tmp_path / "conflicts.jsonl"
    assert main(["detect", str(sample), "--format", "jsonl", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert re.search(r"\b1 pairs? in conflict \(1 with loss of separation\)", err), err

    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {(r["a"], r["b"]) for r in rows} == {("3900fb", "39c424")}
    los = [r for r in rows if r["los"]]
    assert len(los) > 600, "the formation lasted well over ten minutes"
    closest = min(los, key=lambda r: r["hdist_nm"])
    assert closest["hdist_nm"] < 0.1
    assert closest["vdist_ft"] < 1000.0
    assert min(r["vdist_ft"] for r in los) < 100.0


@pytest.mark.realdata
def test_quickstart_losses_of_separation_match_the_golden_file(
    traffic_samples: Callable[[str], Path], tmp_path: Path
) -> None:
    """The default run over 3 h of Paris traffic finds the same LoS pairs as the golden file."""
    sample = traffic_samples(golden.SAMPLE)
    out = tmp_path / "quickstart.jsonl"
    run = subprocess.run(
        [*skyparley_cmd(), *golden.detect_args(sample, out)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr

    with out.open(encoding="utf-8") as fh:
        actual = golden.los_pairs(fh)
    expected = golden.read_golden()
    if actual != expected:
        pytest.fail(
            f"the losses of separation in {golden.SAMPLE} differ from "
            f"{golden.GOLDEN.relative_to(ROOT)}:\n{golden.describe_diff(expected, actual)}\n"
            f"If the change is intended, regenerate the golden file with\n"
            f"    {golden.REGEN_COMMAND}\n"
            "and review its diff before committing.",
            pytrace=False,
        )


def test_golden_file_is_well_formed() -> None:
    """Sorted, unique pairs with a < b, RFC 3339 times in order, positive step counts."""
    pairs = golden.read_golden()
    assert pairs, "the golden file is empty"
    keys = [(p.a, p.b) for p in pairs]
    assert keys == sorted(set(keys))
    for p in pairs:
        assert p.a < p.b
        assert p.first_los.endswith("Z")
        assert p.last_los.endswith("Z")
        assert p.first_los <= p.last_los
        assert p.los_steps >= 1
    text = golden.GOLDEN.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "a,b,first_los,last_los,los_steps"


def test_golden_diff_names_added_and_removed_pairs() -> None:
    """What a failing golden test shows: the pairs added, removed and changed."""
    pair = golden.LosPair
    old = [pair("a1", "b1", "T1", "T2", 3), pair("a2", "b2", "T1", "T2", 3)]
    new = [pair("a1", "b1", "T1", "T3", 4), pair("a3", "b3", "T5", "T5", 1)]
    text = golden.describe_diff(old, new)
    assert "1 added, 1 removed, 1 changed" in text
    assert "+ a3,b3,T5,T5,1" in text
    assert "- a2,b2,T1,T2,3" in text
    assert "~ a1,b1,T1,T2,3  ->  a1,b1,T1,T3,4" in text

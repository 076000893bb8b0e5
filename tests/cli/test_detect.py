"""``skyparley detect`` and ``skyparley demo`` as a user sees them: outputs, errors, progress.

Most tests call ``skyparley.cli.main(argv)`` in-process for speed; a few run the installed
console script to prove the real entry point, its exit codes and what reaches a terminal.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import math
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyproj import Geod

from skyparley.cli import _detect, main
from skyparley.cli._demo import scenario_path

HEADER = "time,id,lat_deg,lon_deg,alt_ft,gs_kt,trk_deg,vs_fpm"
T0 = "2015-10-10T09:00:00Z"
T0_S = 1444467600
NM = 1852.0

COLUMNS = [
    "t",
    "a",
    "b",
    "tin_s",
    "tout_s",
    "tcpa_s",
    "dcpa_nm",
    "hdist_nm",
    "vdist_ft",
    "vdist_cpa_ft",
    "los",
]
NUMBERS = ["tin_s", "tout_s", "tcpa_s", "dcpa_nm", "hdist_nm", "vdist_ft", "vdist_cpa_ft"]
DEMO_PAIRS = {("RFF21", "VIPER11"), ("RFF21", "VIPER12"), ("RFF22", "VIPER11")}


def skyparley_cmd() -> list[str]:
    """The installed console script of this virtual environment, else ``python -m skyparley``."""
    script = Path(sys.executable).with_name("skyparley")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "skyparley"]


def child_env() -> dict[str, str]:
    """The environment for a child CLI, without settings that would change tqdm's output."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TQDM_")}


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*skyparley_cmd(), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        check=False,
    )


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def no_leftovers(folder: Path, name: str) -> None:
    """Neither the target nor a temporary ``.<name>.*.part`` file is in ``folder``."""
    assert not (folder / name).exists(), f"{name} was written by a failed run"
    parts = sorted(p.name for p in folder.glob(f".{name}.*.part"))
    assert not parts, f"temporary files left behind: {parts}"


# ------------------------------------------------------------------------------- scenes

_GEOD = Geod(ellps="WGS84")


def north_of(lat: float, lon: float, nm: float) -> tuple[float, float]:
    """The point ``nm`` nautical miles north along the meridian (a geodesic)."""
    lon2, lat2, _ = _GEOD.fwd(lon, lat, 0.0, nm * NM)
    return float(lat2), float(lon2)


def east_of(lat: float, lon: float, nm: float) -> tuple[float, float]:
    lon2, lat2, _ = _GEOD.fwd(lon, lat, 90.0, nm * NM)
    return float(lat2), float(lon2)


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    """One picture, every row at 09:00:00Z, no party column.

    ALPHA and ZULU fly head-on along a meridian, 20 NM apart at FL300 and 450 kt each:
    closing at 900 kt they meet in 80 s, inside 5 NM from 60 s to 100 s. MIKE and BRAVO fly
    side by side, 2 NM and 500 ft apart: loss of separation now. XRAY is alone. Ids are
    given in an order where the first of each pair sorts last.
    """
    z_lat, z_lon = north_of(35.0, 38.0, 20.0)
    b_lat, b_lon = east_of(36.0, 40.0, 2.0)
    rows = [
        f"{T0},ZULU,{z_lat:.9f},{z_lon:.9f},30000,450,180,0",
        f"{T0},MIKE,36.0,40.0,25000,400,90,0",
        f"{T0},XRAY,10.0,10.0,30000,450,45,0",
        f"{T0},ALPHA,35.0,38.0,30000,450,0,0",
        f"{T0},BRAVO,{b_lat:.9f},{b_lon:.9f},25500,400,90,0",
    ]
    path = tmp_path / "snapshot.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def by_pair(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["a"], r["b"]): r for r in rows}


# ---------------------------------------------------------------------- output formats


def test_snapshot_is_one_step_and_jsonl_rows_are_complete(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect", str(snapshot), "--format", "jsonl"]) == 0
    out, err = capsys.readouterr()
    rows = jsonl(out)

    assert re.search(r"\b1 steps?\b", err), err
    assert {r["t"] for r in rows} == {T0_S}
    assert set(by_pair(rows)) == {("ALPHA", "ZULU"), ("BRAVO", "MIKE")}
    for row in rows:
        assert list(row) == COLUMNS
        assert type(row["t"]) is int
        assert isinstance(row["a"], str)
        assert isinstance(row["b"], str)
        assert row["a"] < row["b"]
        for name in NUMBERS:
            assert type(row[name]) is float, name
            assert math.isfinite(row[name]), name
        assert type(row["los"]) is bool

    head_on = by_pair(rows)["ALPHA", "ZULU"]
    assert head_on["tcpa_s"] == pytest.approx(80.0, abs=0.5)
    assert head_on["tin_s"] == pytest.approx(60.0, abs=0.5)
    assert head_on["tout_s"] == pytest.approx(100.0, abs=0.5)
    assert head_on["dcpa_nm"] == pytest.approx(0.0, abs=0.01)
    assert head_on["hdist_nm"] == pytest.approx(20.0, abs=0.01)
    assert head_on["vdist_ft"] == 0.0
    assert head_on["vdist_cpa_ft"] == 0.0
    assert head_on["los"] is False

    side_by_side = by_pair(rows)["BRAVO", "MIKE"]
    assert side_by_side["los"] is True
    assert side_by_side["tin_s"] <= 0.0
    assert side_by_side["hdist_nm"] == pytest.approx(2.0, abs=0.01)
    assert side_by_side["vdist_ft"] == pytest.approx(500.0, abs=0.5)


def test_csv_parquet_and_jsonl_hold_the_same_rows(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect", str(snapshot), "--format", "jsonl"]) == 0
    expected = jsonl(capsys.readouterr().out)

    csv_out = tmp_path / "conflicts.csv"
    assert main(["detect", str(snapshot), "--format", "csv", "--out", str(csv_out)]) == 0
    assert capsys.readouterr().out == "", "with --out nothing goes to standard output"
    with csv_out.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        from_csv = list(reader)
    assert len(from_csv) == len(expected)
    for got, want in zip(from_csv, expected, strict=True):
        assert (float(got["t"]), got["a"], got["b"]) == (want["t"], want["a"], want["b"])
        assert [float(got[n]) for n in NUMBERS] == [want[n] for n in NUMBERS]
        assert got["los"] == ("true" if want["los"] else "false")

    pq_out = tmp_path / "conflicts.parquet"
    assert main(["detect", str(snapshot), "--format", "parquet", "--out", str(pq_out)]) == 0
    table = pq.read_table(pq_out)
    assert table.column_names == COLUMNS
    assert table.schema.field("los").type == pa.bool_()
    from_parquet = table.to_pylist()
    assert len(from_parquet) == len(expected)
    for got, want in zip(from_parquet, expected, strict=True):
        assert (got["t"], got["a"], got["b"], got["los"]) == (
            want["t"],
            want["a"],
            want["b"],
            want["los"],
        )
        assert [got[n] for n in NUMBERS] == pytest.approx([want[n] for n in NUMBERS], abs=1e-3)


def test_table_is_readable_and_ends_with_encounters(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["detect", str(snapshot)]) == 0
    out = capsys.readouterr().out
    lines = out.rstrip("\n").splitlines()
    assert lines[0].split()[:4] == ["time", "(UTC)", "a", "b"]
    alpha = next(line for line in lines if line.startswith(T0) and "ALPHA" in line)
    assert alpha.split()[1:3] == ["ALPHA", "ZULU"]
    assert not alpha.endswith("LoS")
    mike = next(line for line in lines if line.startswith(T0) and "MIKE" in line)
    assert mike.endswith("LoS")

    summary = lines[lines.index("encounters") :]
    assert summary[1].split()[:2] == ["a", "b"]
    assert [line.split()[:2] for line in summary[2:]] == [["ALPHA", "ZULU"], ["BRAVO", "MIKE"]]
    assert "20.00NM" in summary[2]
    assert "2.00NM" in summary[3]

    # The same table, summary included, when written to a file.
    target = tmp_path / "conflicts.txt"
    assert main(["detect", str(snapshot), "--out", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == out


def test_table_says_so_when_there_is_no_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "quiet.csv"
    path.write_text(f"{HEADER}\n{T0},A,35,38,30000,450,0,0\n{T0},B,45,38,30000,450,0,0\n")
    assert main(["detect", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == "no conflicts\n"
    assert "0 pairs in conflict" in err


def test_options_change_the_result(snapshot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Tighter minima drop pairs; a shorter lookahead drops the head-on pair."""
    assert main(["detect", str(snapshot), "--format", "jsonl", "--hsep-nm", "1"]) == 0
    assert by_pair(jsonl(capsys.readouterr().out)).keys() == {("ALPHA", "ZULU")}
    argv = [
        "detect",
        str(snapshot),
        "--format",
        "jsonl",
        "--vsep-ft",
        "400",
        "--alt-tolerance-ft",
        "0",
    ]
    assert main(argv) == 0
    assert by_pair(jsonl(capsys.readouterr().out)).keys() == {("ALPHA", "ZULU")}
    assert main(["detect", str(snapshot), "--format", "jsonl", "--lookahead-s", "50"]) == 0
    assert by_pair(jsonl(capsys.readouterr().out)).keys() == {("BRAVO", "MIKE")}


def test_start_end_and_step_select_the_steps(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["detect", scenario_path(), "--format", "jsonl", "--cross-party-only"]
    window = ["--start", "2015-10-10T09:11:00Z", "--end", "1444468320", "--step-s", "20"]
    assert main([*argv, *window]) == 0
    out, err = capsys.readouterr()
    times = sorted({r["t"] for r in jsonl(out)})
    assert times == list(range(1444468260, 1444468320 + 1, 20))
    assert "4 steps 2015-10-10T09:11:00Z .. 2015-10-10T09:12:00Z" in err


def test_cross_party_only_skips_same_party_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", scenario_path(), "--format", "jsonl", "--step-s", "10"]) == 0
    every = {(r["a"], r["b"]) for r in jsonl(capsys.readouterr().out)}
    assert ("VIPER11", "VIPER12") in every, "the wingmen fly in formation: a same-party pair"
    assert main(["detect", scenario_path(), "--format", "jsonl", "--cross-party-only"]) == 0
    cross = {(r["a"], r["b"]) for r in jsonl(capsys.readouterr().out)}
    assert cross == DEMO_PAIRS


# ----------------------------------------------------------------------------- the demo


def test_demo_shows_the_syria_2015_conflicts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--detect-only", "--format", "jsonl"]) == 0
    rows = jsonl(capsys.readouterr().out)
    pairs = {(r["a"], r["b"]) for r in rows}
    assert pairs == DEMO_PAIRS
    assert all(r["a"] < r["b"] for r in rows)
    assert ("VIPER11", "VIPER12") not in pairs
    assert ("RFF21", "RFF22") not in pairs

    lead = [r for r in rows if (r["a"], r["b"]) == ("RFF21", "VIPER11")]
    assert any(r["los"] for r in lead)
    closest = min(lead, key=lambda r: r["hdist_nm"])
    assert closest["hdist_nm"] == pytest.approx(3.0, abs=0.1)
    assert closest["vdist_ft"] == pytest.approx(500.0, abs=5.0)
    assert closest["los"] is True


def test_demo_table_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--detect-only"]) == 0
    out, err = capsys.readouterr()
    assert "Syria 2015" in err
    summary = out[out.index("\nencounters\n") :].strip().splitlines()[2:]
    assert {tuple(line.split()[:2]) for line in summary} == DEMO_PAIRS
    lead = next(line for line in summary if line.split()[:2] == ["RFF21", "VIPER11"])
    match = re.search(r"(\S+) \.\. (\S+)\s+([\d.]+)NM\s+(\d+)ft$", lead)
    assert match, f"no loss of separation in {lead!r}"
    assert match.group(1).startswith("2015-10-10T09:1")
    assert float(match.group(3)) == pytest.approx(3.0, abs=0.1)
    assert int(match.group(4)) == 500


def test_demo_through_the_console_script() -> None:
    run = run_cli("demo", "--detect-only")
    assert run.returncode == 0, run.stderr
    assert "\nencounters\n" in run.stdout
    for a, b in DEMO_PAIRS:
        assert re.search(rf"^{a}\s+{b}\s", run.stdout, re.MULTILINE)
    assert "VIPER12     VIPER11" not in run.stdout
    assert "Traceback" not in run.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_runs_skyparley_demo() -> None:
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        ["make", "-n", "demo"], cwd=root, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert re.search(r"skyparley demo\s*$", run.stdout, re.MULTILINE), run.stdout


# ----------------------------------------------------------------------------- bad rows

GOOD_ROWS = [
    "2015-10-10T09:00:00Z,A1,red,35.00,38.00,30000,450,90,0",
    "2015-10-10T09:00:00Z,B1,blue,35.00,38.05,30000,450,270,0",
    "2015-10-10T09:00:01Z,A1,red,35.00,38.002,30000,450,90,0",
    "2015-10-10T09:00:01Z,B1,blue,35.00,38.048,30000,450,270,0",
]
PARTY_HEADER = "time,id,party,lat_deg,lon_deg,alt_ft,gs_kt,trk_deg,vs_fpm"
FIELDS = PARTY_HEADER.split(",")

BAD_CELLS = [
    pytest.param("lat_deg", "nan", "value is NaN", id="nan"),
    pytest.param("lon_deg", "inf", "is not a finite number", id="inf"),
    pytest.param("alt_ft", "-inf", "is not a finite number", id="minus-inf"),
    pytest.param("lat_deg", "91", "latitude 91 is outside [-90, 90]", id="lat-range"),
    pytest.param("lon_deg", "-180.5", "longitude -180.5 is outside [-180, 180]", id="lon-range"),
    pytest.param("gs_kt", "-5", "ground speed -5 is negative", id="negative-speed"),
    pytest.param("time", "yesterday", "'yesterday' is not a number or an RFC 3339", id="time"),
]


def bad_file(folder: Path, column: str, value: str, row: int = 3) -> Path:
    """The good rows with data row ``row`` (1-based) spoilt in ``column``."""
    rows = [r.split(",") for r in GOOD_ROWS]
    rows[row - 1][FIELDS.index(column)] = value
    path = folder / "tracks.csv"
    path.write_text("\n".join([PARTY_HEADER, *(",".join(r) for r in rows)]) + "\n")
    return path


@pytest.mark.parametrize(("column", "value", "reason"), BAD_CELLS)
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_bad_row_stops_the_run_naming_file_row_column_and_reason(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    column: str,
    value: str,
    reason: str,
    fmt: str,
) -> None:
    path = bad_file(tmp_path, column, value)
    target = tmp_path / f"conflicts.{fmt}"
    assert main(["detect", str(path), "--format", fmt, "--out", str(target)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert str(path) in err
    assert "row 3 (line 4)" in err
    assert f"column {column}" in err
    assert reason in err
    no_leftovers(tmp_path, target.name)


def test_bad_row_leaves_an_existing_output_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_file(tmp_path, "gs_kt", "-1")
    target = tmp_path / "conflicts.csv"
    target.write_text("yesterday's results\n")
    assert main(["detect", str(path), "--format", "csv", "--out", str(target)]) == 2
    assert "ground speed -1 is negative" in capsys.readouterr().err
    assert target.read_text() == "yesterday's results\n"
    assert not list(tmp_path.glob(".conflicts.csv.*.part"))


def test_skip_bad_counts_and_skips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        *GOOD_ROWS,
        "2015-10-10T09:00:02Z,A1,red,nan,38.004,30000,450,90,0",
        "2015-10-10T09:00:02Z,B1,blue,35.00,38.046,30000,-450,270,0",
        "2015-10-10T09:00:03Z,A1,red,95,38.006,30000,450,90,0",
        "later,B1,blue,35.00,38.044,30000,450,270,0",
    ]
    path = tmp_path / "tracks.csv"
    path.write_text("\n".join([PARTY_HEADER, *rows]) + "\n")
    target = tmp_path / "conflicts.jsonl"
    argv = ["detect", str(path), "--format", "jsonl", "--out", str(target), "--skip-bad"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "skipped 4 bad rows" in err
    assert str(path) in err
    assert "1 lat_deg: NaN" in err
    assert "1 gs_kt: negative" in err
    conflicts = jsonl(target.read_text())
    assert {(r["a"], r["b"]) for r in conflicts} == {("A1", "B1")}
    assert any(r["los"] for r in conflicts)


def test_bad_row_through_the_console_script(tmp_path: Path) -> None:
    path = bad_file(tmp_path, "lat_deg", "-90.5")
    target = tmp_path / "conflicts.csv"
    run = run_cli("detect", str(path), "--format", "csv", "--out", str(target))
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert f"{path}: row 3 (line 4), column lat_deg: latitude -90.5 is outside" in run.stderr
    no_leftovers(tmp_path, target.name)
    run = run_cli("detect", str(path), "--format", "csv", "--out", str(target), "--skip-bad")
    assert run.returncode == 0, run.stderr
    assert "skipped 1 bad rows (1 lat_deg: outside [-90, 90])" in run.stderr
    assert target.read_text().startswith(",".join(COLUMNS) + "\n")


# ------------------------------------------------------------------ failures mid-way


class _FailingSink:
    """Passes conflicts on to the real sink, then fails while writing the third step."""

    def __init__(self, sink: Any, error: BaseException) -> None:
        self._sink = sink
        self._error = error
        self.steps = 0

    def write(self, conflicts: Any) -> None:
        if len(conflicts):
            self.steps += 1
            if self.steps == 3:
                raise self._error
        self._sink.write(conflicts)

    def close(self) -> None:
        self._sink.close()


@pytest.fixture
def failing_sink(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make the sink of `skyparley detect` fail mid-way with the error given."""

    def install(error: BaseException) -> None:
        real = _detect.open_sink

        @contextlib.contextmanager
        def open_sink(fmt: str, out: Any, stdout: Any) -> Iterator[Any]:
            with real(fmt, out, stdout) as sink:
                yield _FailingSink(sink, error)

        monkeypatch.setattr(_detect, "open_sink", open_sink)

    return install


@pytest.mark.parametrize("fmt", ["table", "jsonl", "csv", "parquet"])
def test_interrupted_run_leaves_no_partial_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], failing_sink: Any, fmt: str
) -> None:
    failing_sink(KeyboardInterrupt())
    target = tmp_path / f"conflicts.{fmt}"
    argv = ["detect", scenario_path(), "--format", fmt, "--out", str(target), "--step-s", "10"]
    assert main(argv) == 130
    assert "interrupted" in capsys.readouterr().err
    no_leftovers(tmp_path, target.name)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_failed_write_keeps_the_previous_output(
    tmp_path: Path, failing_sink: Any, fmt: str
) -> None:
    failing_sink(OSError(28, "No space left on device"))
    target = tmp_path / f"conflicts.{fmt}"
    target.write_bytes(b"the previous run's output")
    argv = ["detect", scenario_path(), "--format", fmt, "--out", str(target), "--step-s", "10"]
    try:
        code: int | None = main(argv)
    except OSError:
        code = None  # the error reached the caller: the shell shows a non-zero status
    assert code != 0
    assert target.read_bytes() == b"the previous run's output"
    assert not list(tmp_path.glob(f".{target.name}.*.part"))


def test_reader_going_away_is_not_an_error() -> None:
    """`skyparley detect ... | head -1`: no traceback when the pipe closes."""
    proc = subprocess.Popen(
        [*skyparley_cmd(), "detect", scenario_path(), "--format", "jsonl"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = json.loads(proc.stdout.readline())
    assert first["a"] < first["b"]
    proc.stdout.close()  # about 600 kB are still to come: far more than a pipe holds
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = proc.wait(timeout=60)
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
    assert code == 141


# -------------------------------------------------------------------------- bad arguments


@pytest.fixture
def files(tmp_path: Path, snapshot: Path) -> dict[str, str]:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "empty.json").write_text("[]")
    (tmp_path / "plain.txt").write_text("not a folder")
    return {
        "snap": str(snapshot),
        "party": scenario_path(),
        "tmp": str(tmp_path),
    }


# id: (arguments after `skyparley detect`, split on blanks; part of the message)
BAD_ARGUMENTS: dict[str, tuple[str, str]] = {
    "format": ("{snap} --format xml", "argument --format: invalid choice: 'xml'"),
    "step-neg": ("{snap} --step-s -1", "argument --step-s: must be a positive number"),
    "step-zero": ("{snap} --step-s 0", "argument --step-s: must be a positive number"),
    "step-text": ("{snap} --step-s fast", "argument --step-s: 'fast' is not a number"),
    "hsep-nan": ("{snap} --hsep-nm nan", "argument --hsep-nm: must be a positive number"),
    "stale": ("{snap} --stale-s -3", "argument --stale-s: must be zero or a positive"),
    "tolerance": (
        "{snap} --alt-tolerance-ft 1000",
        "--alt-tolerance-ft: must be smaller than --vsep-ft (1000)",
    ),
    "tolerance-vsep": (
        "{snap} --vsep-ft 500 --alt-tolerance-ft 600",
        "--alt-tolerance-ft: must be smaller than --vsep-ft (500)",
    ),
    "end-before-start": (
        "{snap} --start 2015-10-10T09:10:00Z --end 2015-10-10T09:00:00Z",
        "--end: 2015-10-10T09:00:00Z is before --start",
    ),
    "end-before-data": (
        "{snap} --end 2015-10-10T08:00:00Z",
        "--end: 2015-10-10T08:00:00Z is before the first report",
    ),
    "start-after-data": (
        "{snap} --start 2015-10-10T10:00:00Z",
        "--start: 2015-10-10T10:00:00Z is after the last report",
    ),
    "start-text": (
        "{snap} --start yesterday",
        "--start: 'yesterday' is not epoch seconds or an RFC 3339 time",
    ),
    "end-date": (
        "{snap} --end 2015-13-40T00:00:00Z",
        "--end: '2015-13-40T00:00:00Z' is not epoch seconds",
    ),
    "start-ms": (
        "{snap} --start 1444467600000",
        "--start: '1444467600000' is not a time between the years 1 and 9999",
    ),
    "too-many-steps": (
        "{snap} --start 0",
        "--step-s: 1970-01-01T00:00:00Z .. 2015-10-10T09:00:00Z every 1 s makes 1,444,467,601",
    ),
    "no-party": (
        "{snap} --cross-party-only",
        "--cross-party-only: the tracks have no party column",
    ),
    "parquet-stdout": ("{snap} --format parquet", "--out: parquet output needs a file"),
    "out-folder": (
        "{party} --out {tmp}/missing/c.jsonl",
        "--out: folder {tmp}/missing does not exist",
    ),
    "out-is-dir": ("{party} --out {tmp}", "--out: {tmp} is a directory"),
    "out-in-a-file": (
        "{party} --out {tmp}/plain.txt/c.jsonl",
        "--out: {tmp}/plain.txt is not a folder",
    ),
    "missing-file": ("{tmp}/nope.csv", "error: {tmp}/nope.csv: no such file"),
    "empty-csv": ("{tmp}/empty.csv", "error: {tmp}/empty.csv: file is empty"),
    "empty-json": ("{tmp}/empty.json", "no usable track rows in {tmp}/empty.json"),
    "input-is-dir": ("{tmp}", "is a directory, not a track file"),
    "no-file": ("", "the following arguments are required: FILE"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_arguments_exit_2_with_a_message(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    args, message = BAD_ARGUMENTS[case]
    before = sorted(tmp_path.iterdir())
    code = main(["detect", *(a.format(**files) for a in args.split())])
    out, err = capsys.readouterr()
    assert code == 2
    assert message.format(**files) in err
    assert "Traceback" not in err
    assert out == ""
    assert sorted(tmp_path.iterdir()) == before, "a failed run wrote a file"


def test_out_folder_that_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    target = tmp_path / "c.jsonl"
    assert main(["detect", scenario_path(), "--format", "jsonl", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"--out: cannot create a file in {tmp_path}: Permission denied" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["detect", "missing-file.csv"], "error: missing-file.csv: no such file"),
        (["detect", "x.csv", "--format", "xml"], "invalid choice: 'xml'"),
        (["detect", "x.csv", "--format", "parquet"], "--out: parquet output needs a file"),
        (["demo", "--detect-only", "--step-s", "-10"], "argument --step-s: must be a positive"),
    ],
)
def test_bad_arguments_through_the_console_script(argv: list[str], message: str) -> None:
    run = run_cli(*argv)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""


# ------------------------------------------------------------------------- progress bar


@pytest.fixture(scope="module")
def long_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four aircraft reporting once a second for 4 hours: about 3 s of detection."""
    seconds = 4 * 3600
    t = T0_S + np.arange(seconds, dtype=np.float64)
    n = 4
    table = pa.table(
        {
            "time": np.tile(t, n),
            "id": np.repeat([f"AC{k}" for k in range(n)], seconds),
            "lat_deg": np.repeat(40.0 + np.arange(n), seconds),
            "lon_deg": np.zeros(n * seconds),
            "alt_ft": np.full(n * seconds, 30000.0),
            "gs_kt": np.zeros(n * seconds),
            "trk_deg": np.zeros(n * seconds),
            "vs_fpm": np.zeros(n * seconds),
        }
    )
    path = tmp_path_factory.mktemp("long") / "long.parquet"
    pq.write_table(table, path)
    return path


BAR = re.compile(r"\d+%\|")


def run_on_terminal(argv: list[str], timeout: float = 120) -> tuple[int, str]:
    """Run ``argv`` with its standard error on a pseudo-terminal; return the code and the text."""
    master, slave = pty.openpty()
    # A 24 x 100 window, as a terminal has; a fresh pseudo-terminal reports 0 x 0.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=slave,
            env=child_env(),
        )
    finally:
        os.close(slave)
    received = io.BytesIO()
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                pytest.fail(f"{argv} did not finish in {timeout} s")
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer closed its side of the terminal
                break
            if not chunk:
                break
            received.write(chunk)
    finally:
        os.close(master)
    return proc.wait(timeout=timeout), received.getvalue().decode("utf-8", "replace")


def test_progress_bar_on_a_terminal(long_file: Path) -> None:
    code, text = run_on_terminal([*skyparley_cmd(), "detect", str(long_file), "--format", "jsonl"])
    assert code == 0, text
    assert BAR.search(text), f"no progress bar on the terminal:\n{text}"
    assert "100%|" in text
    assert "14400/14400" in text
    assert "step/s" in text or "s/step" in text
    assert "detect: 14400 steps" in text


def test_no_progress_bar_when_stderr_is_a_pipe(long_file: Path) -> None:
    run = run_cli("detect", str(long_file), "--format", "jsonl")
    assert run.returncode == 0, run.stderr
    assert "detect: 14400 steps" in run.stderr
    assert not BAR.search(run.stderr)
    assert "%|" not in run.stderr
    assert "step/s" not in run.stderr
    assert "s/step" not in run.stderr
    assert "\r" not in run.stderr

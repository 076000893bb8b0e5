"""``skyparley replay``: incidents, alerts and reports over recorded traffic."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skyparley.adapters.protocol_file import load_protocol
from skyparley.adapters.tracks import read_many
from skyparley.cli import main
from skyparley.domain.alerting import AlertGrader
from skyparley.domain.incidents import LosTracker, hold_minima
from skyparley.domain.separation import iter_conflicts
from skyparley.domain.traffic import step_times
from skyparley.geo.units import NM_M
from skyparley.geo.wgs84 import destination
from skyparley.replay import _ingest, _run, replay

DATA = Path(__file__).resolve().parents[2] / "src/skyparley/data"
PROTOCOL = DATA / "protocols/syria-2015.yaml"
BEAT3 = DATA / "scenarios/syria-2015-beat3.csv"
COLUMNS = ["time", "id", "party", "lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm"]
T0 = 1_444_467_600  # 2015-10-10T09:00:00Z, a multiple of the 600 s buckets


def rows_of(path: Path) -> list[dict[str, Any]]:
    rows = pq.read_table(path).to_pylist()
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
        for r in rows
    ]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["replay", *args])
    return code, capsys.readouterr().err


def crossing(
    *, t0: int = T0, seconds: int = 1200, dcpa_nm: float = 2.0, meet_s: int = 600
) -> list[list[Any]]:
    """Two aircraft of different parties flying head-on at FL250, closest at t0 + meet_s."""
    rows = []
    for k in range(seconds + 1):
        t = t0 + k
        east = (k - meet_s) * 450 / 3600  # NM from the meeting point, 450 kt each
        la, lo = destination(35.0, 38.0, 90.0, east * NM_M)
        rows.append([t, "EAST1", "russia", float(la[()]), float(lo[()]), 25000, 450, 90, 0])
        nb, ob = destination(35.0, 38.0, 0.0, dcpa_nm * NM_M)
        lb, mb = destination(float(nb[()]), float(ob[()]), 90.0, -east * NM_M)
        rows.append([t, "WEST1", "coalition", float(lb[()]), float(mb[()]), 25400, 450, 270, 0])
    return rows


def write_csv(path: Path, rows: list[list[Any]], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        w.writerows(rows)
    return path


def write_parquet(path: Path, rows: list[list[Any]]) -> Path:
    cols = list(zip(*rows, strict=True))
    pq.write_table(pa.table({name: list(c) for name, c in zip(COLUMNS, cols, strict=True)}), path)
    return path


@pytest.fixture(scope="module")
def beat3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("beat3") / "out"
    replay([str(BEAT3)], protocol=str(PROTOCOL), out=str(out), workers=1)
    return out


# ------------------------------------------------------------------------------ results


def test_beat3_incidents_are_the_three_losses_of_separation(beat3: Path) -> None:
    incidents = rows_of(beat3 / "incidents.parquet")
    assert [(r["a"], r["b"]) for r in incidents] == [
        ("RFF21", "VIPER11"),
        ("RFF21", "VIPER12"),
        ("RFF22", "VIPER11"),
    ]
    first = incidents[0]
    assert (first["party_a"], first["party_b"]) == ("russia", "coalition")
    # the loss begins between the ticks 09:11:45 and 09:11:46: its predicted start counts
    assert _epoch("2015-10-10T09:11:45Z") < first["start_s"] <= _epoch("2015-10-10T09:11:46Z")
    assert first["min_hdist_nm"] == pytest.approx(2.95, abs=0.01)
    assert first["vdist_at_min_hdist_ft"] == pytest.approx(500, abs=1)
    assert first["min_vdist_ft"] == pytest.approx(500, abs=1)
    assert first["min_hdist_t_s"] >= first["start_s"]
    assert first["end_s"] >= first["min_hdist_t_s"]
    assert first["alert_level"] == "warning"
    assert first["alert_raised_s"] < first["start_s"] - 240, "warned well before"
    for r in incidents:
        page = (beat3 / r["report"]).read_text(encoding="utf-8")
        assert page.count("<svg") == 4  # map, vertical profile, two separations
        assert r["a"] in page
        assert r["b"] in page
        assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_beat3_alerts_rise_through_every_level_before_the_loss(beat3: Path) -> None:
    alerts = rows_of(beat3 / "alerts.parquet")
    incidents = {(r["a"], r["b"]): r for r in rows_of(beat3 / "incidents.parquet")}
    for pair, inc in incidents.items():
        mine = [r for r in alerts if (r["a"], r["b"]) == pair]
        assert [(r["event"], r["level"]) for r in mine] == [
            ("raised", "advisory"),
            ("upgraded", "caution"),
            ("upgraded", "warning"),
            ("resolved", None),
        ]
        assert len({r["alert"] for r in mine}) == 1
        assert mine[2]["t_s"] < inc["start_s"], "the warning comes before the loss"
        assert 58 < mine[2]["tin_s"] <= 60


def test_beat3_summary_counts_parties_hours_and_links_reports(beat3: Path) -> None:
    page = (beat3 / "summary.html").read_text(encoding="utf-8")
    assert '<td class="l">coalition / russia</td><td>3</td><td>3</td>' in page
    assert "2015-10-10T09:00Z" in page
    assert page.count("<svg") == 2  # the distribution and the map
    links = re.findall(r'href="(incidents/[^"]+\.html)"', page)
    assert len(set(links)) == 3
    for link in links:
        assert (beat3 / link).is_file()
    assert sorted(p.name for p in beat3.iterdir()) == [
        "alerts.parquet",
        "incidents",
        "incidents.parquet",
        "summary.html",
    ]


def test_replay_raises_what_the_grader_raises_tick_by_tick(beat3: Path) -> None:
    """Equivalence: the live service's path (per-tick detection, then AlertGrader) and replay
    give the same alert events."""
    proto = load_protocol(PROTOCOL)
    table, _ = read_many([BEAT3])
    grader = AlertGrader(proto.tactical)
    times = step_times(table.start_s, table.end_s, 1.0)
    events = []
    sets = [*grader.minima, hold_minima(proto.tactical.minima)]
    per_minima = [iter_conflicts(table, times, m, cross_party_only=True) for m in sets]
    tracker = LosTracker(step_s=1.0, vsep_ft=proto.tactical.minima.effective_vsep_ft)
    closed = []
    for ticks in zip(*per_minima, strict=True):
        tables = [c for _, c in ticks]  # one per grader.minima, then hold_minima
        events.extend(grader.update(tables[:-1]))
        closed += tracker.update(tables[0], tables[-1])
    closed += tracker.close_all()
    got = rows_of(beat3 / "alerts.parquet")
    want = [(e.t_s, e.a, e.b, e.kind, e.level, e.previous, e.raised_s) for e in events]
    assert [
        (r["t_s"], r["a"], r["b"], r["event"], r["level"], r["previous"], r["raised_s"])
        for r in got
    ] == want
    los = sorted((i.a, i.b, i.start_s, i.end_s) for i in closed)
    incidents = rows_of(beat3 / "incidents.parquet")
    assert sorted((r["a"], r["b"], r["start_s"], r["end_s"]) for r in incidents) == los
    assert len(los) == 3  # one incident per pair: the live service's LosTracker


def test_an_encounter_across_a_partition_boundary_is_found_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partitions of 60 s cut the loss of separation several times: one incident, and the
    same files as with the default 600 s partitions."""
    src = write_csv(tmp_path / "cross.csv", crossing(meet_s=600))
    replay([str(src)], protocol=str(PROTOCOL), out=str(tmp_path / "wide"), workers=1)
    monkeypatch.setattr(_run, "BUCKET_S", 60.0)
    replay([str(src)], protocol=str(PROTOCOL), out=str(tmp_path / "narrow"), workers=1)
    wide = rows_of(tmp_path / "wide/incidents.parquet")
    assert len(wide) == 1
    assert wide[0]["start_s"] < T0 + 600 < wide[0]["end_s"]
    assert wide[0]["end_s"] - wide[0]["start_s"] > 30
    assert rows_of(tmp_path / "narrow/incidents.parquet") == wide
    assert rows_of(tmp_path / "narrow/alerts.parquet") == rows_of(tmp_path / "wide/alerts.parquet")


def test_streamed_batches_and_many_unsorted_files_give_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = crossing(meet_s=300, seconds=700) + crossing(t0=T0 + 2000, meet_s=200, seconds=400)
    whole = write_csv(tmp_path / "whole.csv", rows)
    replay([str(whole)], protocol=str(PROTOCOL), out=str(tmp_path / "a"), workers=1)

    rng = np.random.default_rng(3)
    shuffled = [rows[i] for i in rng.permutation(len(rows))]
    parts = tmp_path / "parts"
    parts.mkdir()
    write_parquet(parts / "one.parquet", shuffled[: len(rows) // 2])
    write_csv(parts / "two.csv", shuffled[len(rows) // 2 :])
    monkeypatch.setattr(_ingest, "BATCH_ROWS", 333)
    monkeypatch.setattr(_ingest, "CSV_BLOCK_BYTES", 4096)
    replay([str(parts)], protocol=str(PROTOCOL), out=str(tmp_path / "b"), workers=1)
    a = rows_of(tmp_path / "a/incidents.parquet")
    assert len(a) == 2
    assert rows_of(tmp_path / "b/incidents.parquet") == a
    assert rows_of(tmp_path / "b/alerts.parquet") == rows_of(tmp_path / "a/alerts.parquet")


def test_pairs_of_one_party_are_skipped_unless_the_protocol_includes_them(tmp_path: Path) -> None:
    rows = [[*r[:2], "russia", *r[3:]] for r in crossing(seconds=800)]
    src = write_csv(tmp_path / "same.csv", rows)
    replay([str(src)], protocol=str(PROTOCOL), out=str(tmp_path / "out"), workers=1)
    assert rows_of(tmp_path / "out/incidents.parquet") == []
    # Without a party column nothing tells two aircraft apart: every pair counts.
    bare = write_csv(
        tmp_path / "bare.csv",
        [[r[0], r[1], *r[3:]] for r in rows],
        [c for c in COLUMNS if c != "party"],
    )
    replay([str(bare)], protocol=str(PROTOCOL), out=str(tmp_path / "bare"), workers=1)
    (inc,) = rows_of(tmp_path / "bare/incidents.parquet")
    assert (inc["party_a"], inc["party_b"]) == (None, None)


# ---------------------------------------------------------------------------- command line


def test_the_command_writes_the_folder_and_says_what_it_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, err = run(
        [str(BEAT3), "--protocol", str(PROTOCOL), "--out", str(out), "--workers", "1"], capsys
    )
    assert code == 0, err
    assert "3 incidents, 3 alerts raised (12 events)" in err
    assert "\r" not in err, "no progress bar when stderr is not a terminal"
    assert (out / "summary.html").is_file()


def test_a_bad_row_exits_2_naming_it_and_leaves_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = crossing(seconds=600)
    rows[900][6] = -3  # gs_kt of data row 901, in the third streamed block
    src = write_csv(tmp_path / "tracks.csv", rows)
    monkeypatch.setattr(_ingest, "CSV_BLOCK_BYTES", 32768)
    out = tmp_path / "out"
    code, err = run([str(src), "--protocol", str(PROTOCOL), "--out", str(out)], capsys)
    assert code == 2
    assert err.strip() == (
        f"skyparley replay: error: {src}: row 901 (line 902), column gs_kt: "
        "ground speed -3 is negative"
    )
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tracks.csv"], "no partial folder"


def test_a_bad_parquet_row_is_named_by_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = crossing(seconds=600)
    rows[700][3] = 91.5
    src = write_parquet(tmp_path / "tracks.parquet", rows)
    monkeypatch.setattr(_ingest, "BATCH_ROWS", 256)
    code, err = run([str(src), "--protocol", str(PROTOCOL), "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "tracks.parquet: row 701, column lat_deg: latitude 91.5 is outside [-90, 90]" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--protocol", "missing.yaml"], "missing.yaml"),
        (["--protocol", str(PROTOCOL), "--scheduler", "tcp://127.0.0.1:9"], "--scheduler"),
        (["--protocol", str(PROTOCOL), "--workers", "0"], "--workers"),
        (["--protocol", str(PROTOCOL), "--stale-s", "-1"], "--stale-s"),
    ],
)
def test_bad_options_exit_2_naming_them(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setattr(_run, "CONNECT_TIMEOUT_S", 1.0)
    src = write_csv(tmp_path / "t.csv", crossing(seconds=30))
    code, err = run([str(src), "--out", str(tmp_path / "out"), *args], capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_an_existing_folder_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, err = run([str(BEAT3), "--protocol", str(PROTOCOL), "--out", str(out)], capsys)
    assert code == 2
    assert "--out" in err
    assert "not empty" in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_folder_without_track_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    code, err = run(
        [str(tmp_path / "empty"), "--protocol", str(PROTOCOL), "--out", str(tmp_path / "out")],
        capsys,
    )
    assert code == 2
    assert "holds no track file" in err


# ------------------------------------------------------------------------------ parallel


@pytest.mark.slow
def test_worker_processes_give_the_same_files(beat3: Path, tmp_path: Path) -> None:
    replay([str(BEAT3)], protocol=str(PROTOCOL), out=str(tmp_path / "two"), workers=2)
    for name in ("incidents.parquet", "alerts.parquet"):
        assert rows_of(tmp_path / "two" / name) == rows_of(beat3 / name)


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_files(beat3: Path, tmp_path: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        replay(
            [str(BEAT3)],
            protocol=str(PROTOCOL),
            out=str(tmp_path / "dask"),
            scheduler=cluster.scheduler_address,
        )
    for name in ("incidents.parquet", "alerts.parquet"):
        assert rows_of(tmp_path / "dask" / name) == rows_of(beat3 / name)


# ------------------------------------------------------------------------------ real data


@pytest.mark.realdata
def test_dreamliner_formation_is_one_long_incident(
    traffic_samples: Callable[[str], Path], tmp_path: Path
) -> None:
    sample = traffic_samples("featured/dreamliner_airfrance.json.gz")
    replay([str(sample)], protocol=str(PROTOCOL), out=str(tmp_path / "out"), workers=1)
    incidents = rows_of(tmp_path / "out/incidents.parquet")
    assert {(r["a"], r["b"]) for r in incidents} == {("3900fb", "39c424")}
    longest = max(incidents, key=lambda r: r["duration_s"])
    assert longest["duration_s"] > 600
    assert min(r["min_hdist_nm"] for r in incidents) < 0.1


@pytest.mark.realdata
def test_quickstart_incidents_are_the_golden_losses_of_separation(
    traffic_samples: Callable[[str], Path], tmp_path: Path
) -> None:
    """Replay finds the pairs ``detect`` finds (tests/golden/quickstart_los_pairs.csv), from
    the same first tick."""
    sample = traffic_samples("collections/quickstart.json.gz")
    replay([str(sample)], protocol=str(PROTOCOL), out=str(tmp_path / "out"))
    golden = Path(__file__).resolve().parents[1] / "golden/quickstart_los_pairs.csv"
    with golden.open(encoding="utf-8") as fh:
        want = {(r["a"], r["b"]): r for r in csv.DictReader(fh)}
    first: dict[tuple[str, str], float] = {}
    last: dict[tuple[str, str], float] = {}
    for r in rows_of(tmp_path / "out/incidents.parquet"):
        key = (r["a"], r["b"])
        first[key] = min(first.get(key, math.inf), r["start_s"])
        last[key] = max(last.get(key, -math.inf), r["end_s"])
    assert set(first) == set(want)
    for key, r in want.items():
        # the first tick in LoS, or the predicted start of the loss in the second before it
        # (or detect's box pruning dropped the first ticks at an exact tie, as below)
        assert 0 <= _epoch(r["first_los"]) - first[key] <= 2
        # Replay computes every candidate pair exactly; detect's box pruning can drop a pair
        # at an exact tie at the threshold (docs/replay.md): a second or two at most.
        assert 0 <= last[key] - _epoch(r["last_los"]) <= 2


def _epoch(text: str) -> float:
    from skyparley.domain.times import parse_time

    return parse_time(text, field="t")

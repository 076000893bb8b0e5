"""``skyparley tracks push``: a recorded file replayed into a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.service_server import Server, running_server

from skyparley.adapters.tracks import read_tracks
from skyparley.cli import main
from skyparley.cli._tracks import PushSummary, push_table
from skyparley.client import Client

T0 = 1_444_467_600.0  # 2015-10-10T09:00:00Z
HEADER = "time,id,party,lat_deg,lon_deg,alt_ft,gs_kt,trk_deg,vs_fpm"
SECONDS = 10


def _rows(t0: float, seconds: int = SECONDS, *, party: bool = True) -> list[str]:
    rows = []
    for k in range(seconds):
        for ident, who, lat in (("VIPER11", "coalition", 35.0), ("VIPER12", "coalition", 35.1),
                                ("RFF21", "russia", 36.0)):  # fmt: skip
            cells = [f"{t0 + k:.0f}", ident, who, f"{lat}", f"{39.0 + k * 0.002:.4f}",
                     "24500", "420", "90", "0"]  # fmt: skip
            if not party:
                del cells[2]
            rows.append(",".join(cells))
    return rows


def _csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path, t0=T0 + SECONDS - 1) as s:
        yield s


def as_party(monkeypatch: pytest.MonkeyPatch, server: Server, party: str, home: Path) -> None:
    monkeypatch.setenv("SKYPARLEY_URL", server.url)
    monkeypatch.setenv("SKYPARLEY_TOKEN", server.token(party))
    monkeypatch.setenv("HOME", str(home))  # no stray ~/.config/skyparley/client.toml


def _picture(server: Server, party: str, advance_s: float = 1.0) -> dict[str, dict[str, Any]]:
    """The party's picture at a tick ``advance_s`` after the server's clock."""
    server.clock.advance(advance_s)
    server.app.state.runtime.live.tick()
    with server.client(party) as c:
        return {a["id"]: a for a in c.get("/v1/picture").json()["aircraft"]}


def test_a_push_sends_the_tokens_partys_rows_and_the_picture_shows_them(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _csv(tmp_path / "recorded.csv", _rows(T0))
    as_party(monkeypatch, server, "coalition", tmp_path)
    assert main(["tracks", "push", str(path), "--speed", "1000", "--format", "jsonl"]) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert summary["party"] == "coalition"
    assert (summary["sent"], summary["accepted"], summary["rejected"]) == (20, 20, {})
    assert summary["batches"] == SECONDS
    assert summary["skipped_other_parties"] == SECONDS
    assert out.err.strip().splitlines()[-1] == (
        f"tracks push: {path}: sent 20 states of coalition in 10 batches: accepted 20, "
        "rejected 0; skipped 10 rows of other parties"
    )
    seen = _picture(server, "coalition")
    assert sorted(k for k, a in seen.items() if a["own"]) == ["VIPER11", "VIPER12"]
    assert seen["VIPER11"]["lon_deg"] == pytest.approx(39.0 + (SECONDS - 1) * 0.002)

    as_party(monkeypatch, server, "russia", tmp_path)
    assert main(["tracks", "push", str(path), "--speed", "1000"]) == 0
    assert "sent 10 states of russia in 10 batches: accepted 10, rejected 0" in (
        capsys.readouterr().err
    )
    assert server.app.state.runtime.live.stats["states_accepted"] == 30


def test_an_old_recording_is_refused_as_clock_skew_unless_rebased(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = T0 - 86_400  # the day before the service's clock
    path = _csv(tmp_path / "yesterday.csv", _rows(old, 4, party=False), HEADER.replace(
        ",party", ""))  # fmt: skip
    as_party(monkeypatch, server, "russia", tmp_path)
    assert main(["tracks", "push", str(path), "--speed", "1000"]) == 0
    err = capsys.readouterr().err
    assert "accepted 0, rejected 12 (clock_skew 12)" in err
    assert "use --rebase" in err

    assert main(["tracks", "push", str(path), "--speed", "1000", "--rebase"]) == 0
    err = capsys.readouterr().err
    assert "sent 12 states of russia in 4 batches: accepted 12, rejected 0" in err
    assert f"times shifted by +{86_400 + SECONDS - 1} s (--rebase)" in err
    seen = _picture(server, "russia", advance_s=4)
    assert sorted(seen) == ["RFF21", "VIPER11", "VIPER12"]  # no party column: every row
    assert seen["RFF21"]["time"] == "2015-10-10T09:00:12Z"  # the last report, now + 3 s


def test_a_bad_row_exits_2_naming_the_file_row_and_column_and_sends_nothing(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = _rows(T0)
    rows[4] = rows[4].replace(",35.1,", ",95.1,")
    path = _csv(tmp_path / "bad.csv", rows)
    as_party(monkeypatch, server, "coalition", tmp_path)
    assert main(["tracks", "push", str(path), "--speed", "1000"]) == 2
    err = capsys.readouterr().err
    assert f"skyparley tracks: error: {path}: row 5 (line 6), column lat_deg: latitude 95.1" in err
    assert server.app.state.runtime.live.stats["states_accepted"] == 0


def test_a_file_without_rows_of_the_party_is_refused(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _csv(tmp_path / "others.csv", _rows(T0))
    as_party(monkeypatch, server, "relief", tmp_path)
    assert main(["tracks", "push", str(path), "--speed", "1000"]) == 2
    err = capsys.readouterr().err
    assert "no rows of 'relief'" in err
    assert "coalition, russia" in err


def test_ctrl_c_stops_with_130_and_the_summary(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _csv(tmp_path / "recorded.csv", _rows(T0))
    real = Client.push_tracks
    calls: list[int] = []

    def interrupted_on_the_third(self: Client, columns: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, columns)

    monkeypatch.setattr(Client, "push_tracks", interrupted_on_the_third)
    as_party(monkeypatch, server, "coalition", tmp_path)
    assert main(["tracks", "push", str(path), "--speed", "1000"]) == 130
    err = capsys.readouterr().err
    assert "sent 4 states of coalition in 2 batches: accepted 4, rejected 0" in err
    assert err.rstrip().endswith("; interrupted")


class _FakeClient:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def push_tracks(self, columns: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(columns)
        return {"accepted": len(columns["id"]), "reordered": 0, "rejected": {}}


def test_batches_are_paced_in_recording_time_divided_by_the_speed(tmp_path: Path) -> None:
    rows = [r for r in _rows(T0, 4) if ",coalition," in r]
    rows += [r.replace(f"{T0 + 3:.0f}", f"{T0 + 3.5:.1f}") for r in rows if r.startswith(
        f"{T0 + 3:.0f}")]  # fmt: skip
    table, _ = read_tracks(_csv(tmp_path / "r.csv", rows))
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    client = _FakeClient()
    summary = PushSummary("r.csv", "coalition")
    push_table(client, table, summary, speed=4.0, batch_s=1.0, rebase=False,  # type: ignore[arg-type]
               sleep=sleep, monotonic=lambda: now[0])  # fmt: skip
    assert slept == [0.25, 0.25, 0.25]  # batches due at 0, 1/4, 2/4, 3/4 s
    assert [len(c["id"]) for c in client.sent] == [2, 2, 2, 4]  # 3.0 and 3.5 in one batch
    assert summary.accepted == summary.sent == 10

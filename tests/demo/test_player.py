"""The scenario player against a real server on loopback, on a clock the player moves.

A :class:`~skyparley.adapters.clock.ManualClock` makes the run exact: every second of the
beat-3 tracks is pushed and ticked at its own time, however slow the machine. The checks
are what each duty officer would see, beat by beat, then the summary against the store.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.service_server import PROTOCOL_PATH, Server, running_server

from skyparley.adapters.store_sqlite import SqliteStore
from skyparley.cli import main
from skyparley.domain.ledger.keys import demo_key
from skyparley.scenario import BEAT_TIMES, Player, daily_summary, escalate_until, format_summary

PARTIES = ("coalition", "russia", "relief")
LEVELS = ["advisory", "caution", "warning"]


class Played:
    def __init__(self, server: Server, player: Player, out: str) -> None:
        self.server = server
        self.player = player
        self.out = out

    def events(self, party: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.player.clients[party].events(limit=1000)["events"]
        return events


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    with running_server(tmp_path_factory.mktemp("demo"), t0=BEAT_TIMES[1] - 60) as server:
        out = io.StringIO()
        player = Player(
            url=server.url,
            tokens={p: server.token(p) for p in PARTIES},
            keys={p: demo_key(p) for p in PARTIES},
            clock=server.clock,
            out=out,
            auto_ack=True,
            tick=server.app.state.runtime.live.tick,
            catch_up=lambda t_s: escalate_until(
                server.app.state.runtime.service, server.clock, t_s
            ),  # as skyparley demo does
            beat3_s=(360, 780),  # the encounter, with margins (as tests/live do)
        )
        with player:
            player.play()
            yield Played(server, player, out.getvalue())


def test_the_beats_are_announced_in_order(played: Played) -> None:
    starts = [line.split(":")[0] for line in played.out.splitlines() if line.startswith("beat")]
    assert starts == ["beat 1", "beat 2", "beat 3", "beat 4", "beat 5"]
    assert "beat 3: 10 Oct 2015 09:00Z, live tracks over eastern Syria" in played.out


def test_beat1_russia_sees_only_the_overlap_and_relief_is_told(played: Played) -> None:
    russia, relief = played.player.clients["russia"], played.player.clients["relief"]
    notice = played.player.results["beat1"]["notice"]
    (finding,) = notice["findings"]
    assert finding["kind"] == "protected_area"
    mine = [f for f in russia.findings(all=True) if f["subject"]["id"] == notice["notice"]["id"]]
    assert [f["id"] for f in mine] == [finding["id"]]
    assert finding["overlap"] is not None
    assert "relief-hama-hospital" not in json.dumps(russia.findings(all=True))
    assert russia.areas() == []
    told = relief.findings()
    assert [(f["kind"], f["other"]) for f in told] == [("protected_area", "russia")]
    mid = played.player.results["beat1"]["finding_message"]
    assert [a["party"] for a in russia.message(mid)["acks"]] == ["russia"]


def test_beat2_the_conflict_rises_then_clears_after_the_hotline_exchange(played: Played) -> None:
    b2 = played.player.results["beat2"]
    assert [(f["kind"], f["other"]) for f in b2["v1"]["findings"]] == [
        ("notice_conflict", "coalition")
    ]
    assert b2["v2"]["clear"] is True
    coalition, russia = played.player.clients["coalition"], played.player.clients["russia"]
    conflicts = [f for f in coalition.findings(all=True) if f["kind"] == "notice_conflict"]
    assert [f["current"] for f in conflicts] == [False]
    assert [f for f in russia.findings() if f["kind"] == "notice_conflict"] == []
    request = russia.message(b2["request"]["id"])
    assert request["content"]["template"] == "request_shift"
    assert [a["party"] for a in request["acks"]] == ["russia"]
    thread = coalition.thread(request["thread"])
    assert [m["kind"] for m in thread] == ["request", "reply"]
    assert thread[1]["content"]["template"] == "reply_accept"
    for client in (coalition, russia):
        assert any(e["type"] == "finding_cleared" for e in client.events(limit=1000)["events"])


@pytest.mark.parametrize("party", ["coalition", "russia"])
def test_beat3_alerts_rise_one_to_three_on_both_streams(played: Played, party: str) -> None:
    alerts = [
        e["data"]
        for e in played.events(party)
        if e["type"] == "alert" and e["data"]["pair"] == ["RFF21", "VIPER11"]
    ]
    assert [a["level"] for a in alerts if a["kind"] in ("raised", "upgraded")] == LEVELS
    assert alerts[-1]["kind"] == "resolved"


def test_beat3_the_loss_of_separation_is_an_incident_of_3_nm_and_500_ft(played: Played) -> None:
    with played.server.client("coalition") as c:
        incidents = c.get("/v1/incidents").json()
    inc = next(i for i in incidents if i["pair"] == ["RFF21", "VIPER11"])
    assert inc["min_hdist_nm"] == pytest.approx(3.0, abs=0.1)
    assert inc["min_vdist_ft"] == pytest.approx(500.0, abs=50.0)
    assert "closest 3.0 NM / 500 ft" in played.out


@pytest.mark.parametrize(
    ("reader", "lang", "request_text"),
    [("coalition", "en", "Request: please call"), ("russia", "ru", "Запрос")],
)
def test_beat4_the_thread_is_rendered_for_each_reader(
    played: Played, reader: str, lang: str, request_text: str
) -> None:
    thread = played.player.clients[reader].thread(played.player.results["beat4"]["thread"])
    assert [m["from"] for m in thread] == ["coalition", "russia", "coalition"]
    first, answer, request = (m["rendered"] for m in thread)
    assert first["text"].startswith("Summary of today's video conference")
    assert answer["text"].startswith("Подтверждаем")
    assert (first["source_lang"] or first["lang"], answer["source_lang"] or answer["lang"]) == (
        "en",
        "ru",
    )
    assert request["lang"] == lang
    assert request["text"].startswith(request_text)


def test_beat5_the_notice_escalates_to_levels_2_and_3_and_the_ledger_proves_it(
    played: Played, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b5 = played.player.results["beat5"]
    assert [f["other"] for f in b5["notice"]["findings"] if f["kind"] == "zone_notice"] == [
        "euphrates-line"
    ]
    msg = played.player.clients["russia"].message(b5["message_id"])
    assert [a["party"] for a in msg["acks"]] == ["relief"]
    assert [(e["party"], e["level"], e["level_name"]) for e in msg["escalations"]] == [
        ("coalition", 2, "operations commander"),
        ("coalition", 3, "chief of staff"),
    ]
    bundle = tmp_path / "bundle.json"
    capsys.readouterr()
    db = str(played.server.db_path)
    assert main(["ledger", "export", "--db", db, "--out", str(bundle)]) == 0
    assert main(["ledger", "verify", str(bundle), "--protocol", str(PROTOCOL_PATH)]) == 0
    lines = capsys.readouterr().out.splitlines()
    k = next(k for k, line in enumerate(lines) if "ru-20170910-deir-ez-zor" in line)
    after = "\n".join(lines[k : k + 6])
    assert "NOT acknowledged by coalition" in after
    assert "acknowledged by relief at 2017-09-10T06:02:00Z" in after


def test_beat5_tracks_fly_without_alerts(played: Played) -> None:
    pushed = played.player.results["beat5"]["pushed"]
    assert pushed["accepted"] == 2404
    assert pushed["rejected"] == 0
    assert pushed["alerts"] == []


def test_beat6_the_summary_agrees_with_the_store(played: Played) -> None:
    store = SqliteStore(played.server.db_path)
    try:
        rows = daily_summary(store, PARTIES)
        by = {(r.day, r.party): r for r in rows}
        assert {r.day for r in rows} == {"2015-09-30", "2015-10-10", "2017-09-10"}
        assert sum(r.notices for r in rows if r.party == "russia") == 4  # v1, v1, v2, v1
        assert sum(r.notices for r in rows if r.party == "coalition") == 1
        for party in ("coalition", "russia"):
            day = by[("2015-10-10", party)]
            alert_msgs = [m for m in store.inbox(party, limit=1000) if m.kind == "alert"]
            assert day.alert_messages == len(alert_msgs) >= 3
            assert day.alerts == len({m.about for m in alert_msgs}) >= 1
            assert day.acked == day.alert_messages  # --auto-ack
            acks = sorted(
                a.acked_s - m.sent_s
                for m in alert_msgs
                for a in store.acks(m.id)
                if a.party == party
            )
            assert day.worst_ack_s == pytest.approx(acks[-1])
            assert day.incidents == len(store.incidents(party)) >= 1
        assert by[("2017-09-10", "coalition")].escalations >= 2
        assert by[("2015-10-10", "relief")].alerts == 0
        table = format_summary(rows)
        assert table.splitlines()[0].split()[:3] == ["day", "party", "notices"]
        assert len(table.splitlines()) == 1 + len(rows)
    finally:
        store.close()

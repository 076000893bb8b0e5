"""Beat 3 of the Syria 2015 scenario, live: tracks pushed over HTTP to a real server.

A coalition pair and a Russian pair converge over eastern Syria on 10 Oct 2015. The tracks
of the shipped scenario are pushed second by second (the server's clock set to each
second), each party acknowledges every alert message as it arrives, and the test checks
what the duty officers would see: alert levels rising 1 to 3 in order on both streams, the
acknowledgements recorded, no escalation of an acknowledged alert, and an incident whose
minimum separation is the scripted one (3 NM and 500 ft) with its report.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.service_server import Server, running_server

from skyparley.domain.ledger.entry import SignedEntry

SCENARIO = Path(__file__).resolve().parents[2] / "src/skyparley/data/scenarios/syria-2015-beat3.csv"
LEVELS = ["advisory", "caution", "warning"]
WINDOW = (360, 780)  # seconds after 09:00Z: the encounter, with margins on both sides


def _rows() -> dict[int, dict[str, dict[str, list[Any]]]]:
    """Rows by time and party, as the columns of POST /v1/tracks."""
    out: dict[int, dict[str, dict[str, list[Any]]]] = defaultdict(dict)
    with SCENARIO.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            cols = out[int(r["time"])].setdefault(
                r["party"],
                {k: [] for k in ("time", "id", "lat_deg", "lon_deg", "alt_ft", "gs_kt",
                                 "trk_deg", "vs_fpm")},
            )  # fmt: skip
            cols["time"].append(float(r["time"]))
            cols["id"].append(r["id"])
            for k in ("lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm"):
                cols[k].append(float(r[k]))
    return out


class Run:
    """The pushed encounter: what each party received and acknowledged."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.clients = {p: server.client(p) for p in ("coalition", "russia")}
        self.acked: dict[str, list[dict[str, Any]]] = {p: [] for p in self.clients}
        self.cursor = dict.fromkeys(self.clients, 0)
        self.ingest: list[dict[str, Any]] = []

    def ack_new_alerts(self) -> None:
        for party, c in self.clients.items():
            page = c.get("/v1/messages", params={"after": self.cursor[party]}).json()
            self.cursor[party] = page["cursor"]
            for m in page["messages"]:
                if m["kind"] == "alert":
                    r = c.post(f"/v1/messages/{m['id']}/ack", json={})
                    assert r.status_code == 200, r.text
                    self.acked[party].append(m)

    def push(self) -> None:
        rows = _rows()
        t0 = min(rows)
        live = self.server.app.state.runtime.live
        for t in range(t0 + WINDOW[0], t0 + WINDOW[1]):
            self.server.clock.set(float(t))
            for party, cols in rows[t].items():
                r = self.clients[party].post("/v1/tracks", json={"states": cols})
                assert r.status_code == 200, r.text
                self.ingest.append(r.json())
            live.tick()  # the server ticks by itself too; a tick already run is skipped
            self.ack_new_alerts()

    def events(self, party: str) -> list[dict[str, Any]]:
        return self.clients[party].get("/v1/events", params={"limit": 1000}).json()["events"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    rows = _rows()
    t0 = min(rows)
    with running_server(tmp_path_factory.mktemp("beat3"), t0=float(t0 + WINDOW[0])) as server:
        r = Run(server)
        r.push()
        yield r
        for c in r.clients.values():
            c.close()


def test_every_state_is_accepted(run: Run) -> None:
    assert all(not r["rejected"] for r in run.ingest)
    assert sum(r["accepted"] for r in run.ingest) > 2000


@pytest.mark.parametrize("party", ["coalition", "russia"])
def test_levels_rise_one_to_three_in_order_on_both_streams(run: Run, party: str) -> None:
    alerts = [
        e["data"] for e in run.events(party)
        if e["type"] == "alert" and e["data"]["pair"] == ["RFF21", "VIPER11"]
    ]  # fmt: skip
    rising = [a["level"] for a in alerts if a["kind"] in ("raised", "upgraded")]
    assert rising == LEVELS
    assert alerts[0]["kind"] == "raised"
    assert alerts[-1]["kind"] == "resolved"
    # the intruder's state is always shown, and the reader's own aircraft gets advice
    own = "VIPER11" if party == "coalition" else "RFF21"
    intruder = "RFF21" if party == "coalition" else "VIPER11"
    for a in alerts[:-1]:
        assert a["own"] == [own]
        assert a["intruder"] == [intruder]
        assert a["states"][intruder]["alt_ft"] > 20000
        assert a["advice"][own]["heading_deg"]["free"], "some heading clears the conflict"
    warning = next(a for a in alerts if a["level"] == "warning")
    assert 0 < warning["time_to_los_s"] <= 60


@pytest.mark.parametrize("party", ["coalition", "russia"])
def test_both_parties_receive_and_acknowledge_each_level(run: Run, party: str) -> None:
    mine = [m for m in run.acked[party] if m["content"]["args"]["other"] in ("RFF21", "VIPER11")
            and m["content"]["args"]["own"] in ("RFF21", "VIPER11")]  # fmt: skip
    assert [m["content"]["args"]["level"] for m in mine] == LEVELS
    for m in mine:
        assert m["requires_ack"] is True
        assert m["deadline"] is not None
        full = run.clients[party].get(f"/v1/messages/{m['id']}").json()
        assert [a["party"] for a in full["acks"]] == [party]
        assert full["escalations"] == []  # acknowledged in time: nothing escalated
    lang = {"coalition": "en", "russia": "ru"}[party]
    assert mine[0]["rendered"]["lang"] == lang


def test_the_loss_of_separation_is_an_incident_with_the_scripted_minimum(run: Run) -> None:
    incidents = run.clients["coalition"].get("/v1/incidents").json()
    assert incidents == run.clients["russia"].get("/v1/incidents").json()
    inc = next(i for i in incidents if i["pair"] == ["RFF21", "VIPER11"])
    assert inc["min_hdist_nm"] == pytest.approx(3.0, abs=0.1)
    assert inc["min_vdist_ft"] == pytest.approx(500.0, abs=50.0)
    assert inc["start"] < "2015-10-10T09:12:10Z" < inc["end"]
    view = run.clients["russia"].get(f"/v1/incidents/{inc['incident_id']}").json()
    evidence = view["evidence"]
    assert set(evidence["tracks"]) == {"RFF21", "VIPER11"}
    assert len(evidence["tracks"]["RFF21"]["time"]) > 100  # two minutes before, and during
    # the alerts and acknowledgements that came before it
    (alert,) = evidence["alerts"]
    levels = [m["level"] for m in alert["messages"]]
    assert sorted(levels) == sorted(LEVELS * 2)  # each level, to each party
    assert all(m["acks"] for m in alert["messages"])
    # and it is a signed ledger entry of the service, addressed to both parties
    receipt = run.clients["coalition"].get(f"/v1/ledger/receipts/{view['ledger_index']}")
    assert receipt.status_code == 200
    leaf = SignedEntry.from_leaf(receipt.json()["leaf"].encode())
    assert leaf.entry.kind == "incident"
    assert leaf.entry.body["to"] == ["coalition", "russia"]  # type: ignore[index]
    assert leaf.hash == view["entry_hash"]


@pytest.mark.parametrize(
    ("party", "lang", "title", "raised"),
    [
        ("coalition", "en", "Incident report", "<td>raised</td>"),
        ("russia", "ru", "Отчёт об инциденте", "<td>объявлено</td>"),  # noqa: RUF001
    ],
)
def test_the_report_is_in_the_readers_language_with_three_plots(
    run: Run, party: str, lang: str, title: str, raised: str
) -> None:
    inc = run.clients[party].get("/v1/incidents").json()[0]
    r = run.clients[party].get(f"/v1/incidents/{inc['incident_id']}/report")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert f'<html lang="{lang}"' in page
    assert title in page
    assert page.count("<svg") == 3  # map, vertical profile, separation over time
    assert raised in page  # an alert's changes in the reader's words too
    if lang != "en":
        assert "<td>raised</td>" not in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # works offline


def test_relief_sees_no_incident_of_others(run: Run) -> None:
    with run.server.client("relief") as c:
        assert c.get("/v1/incidents").json() == []
        inc = run.clients["coalition"].get("/v1/incidents").json()[0]["incident_id"]
        assert c.get(f"/v1/incidents/{inc}").status_code == 404
        assert c.get("/v1/alerts").json() == []


def test_an_unknown_token_cannot_push_tracks(run: Run) -> None:
    r = httpx.post(
        run.server.url + "/v1/tracks",
        json={"states": {"time": [], "id": [], "lat_deg": [], "lon_deg": [], "alt_ft": [],
                         "gs_kt": [], "trk_deg": []}},
        headers={"Authorization": "Bearer skp_" + "x" * 43},
    )  # fmt: skip
    assert r.status_code == 401

"""Beats 1, 2 and 5 of the Syria 2015 scenario, end to end through ``skyparley.client``.

A real server on loopback with a real SQLite file; every party signs with its demo key, and
every step is checked in the ledger: a receipt that verifies against the service key, and an
entry signed by its author (the party, not the service on its behalf).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from tests.service_server import PROTOCOL_PATH, SCENARIO_DIR, Server, running_server

from skyparley.cli import main
from skyparley.client import Client
from skyparley.domain.ledger import Receipt, SignedEntry, verify_entry, verify_receipt
from skyparley.domain.ledger.keys import demo_key
from skyparley.domain.times import parse_time

PARTIES = ("coalition", "russia", "relief")


def scenario(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCENARIO_DIR / name).read_text(encoding="utf-8"))
    return data


def at(text: str) -> float:
    return parse_time(text, field="t")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path) as s:
        yield s


@pytest.fixture
def clients(server: Server) -> Iterator[dict[str, Client]]:
    made = {
        p: Client(server.url, server.token(p), key=server.key(p), party=p, clock=server.clock.now_s)
        for p in PARTIES
    }
    yield made
    for c in made.values():
        c.close()


def all_events(client: Client) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = client.events(after=0, limit=1000)["events"]
    return events


def wait_for(what: str, probe: Callable[[], Any], attempts: int = 400) -> Any:
    """Poll ``probe`` until it returns something truthy (the server ticks every 50 ms)."""
    for _ in range(attempts):
        found = probe()
        if found:
            return found
        time.sleep(0.025)
    raise AssertionError(f"never happened: {what}")


def assert_signed_by(server: Server, client: Client, index: int, party: str, kind: str) -> None:
    """Leaf ``index`` has a receipt that verifies against the service key, and is an entry
    of ``kind`` signed with ``party``'s own key (not attested by the service)."""
    got = client.receipt(index)
    leaf = got["leaf"].encode("utf-8")
    verify_receipt(Receipt.from_json(got["receipt"]), leaf, server.service_key.verifier)
    signed = SignedEntry.from_leaf(leaf)
    entry = verify_entry(signed, {party: demo_key(party).verifier})
    assert (entry.party, entry.kind) == (party, kind)
    assert signed.key_id == demo_key(party).verifier.key_id
    assert isinstance(entry.body, dict)
    assert "attested_for" not in entry.body


def coordinates(obj: Any) -> list[tuple[float, float]]:
    """Every [lon, lat] pair anywhere in a JSON value."""
    out: list[tuple[float, float]] = []
    if isinstance(obj, dict):
        for v in obj.values():
            out += coordinates(v)
    elif isinstance(obj, list):
        if len(obj) == 2 and all(isinstance(x, float | int) for x in obj):
            out.append((float(obj[0]), float(obj[1])))
        else:
            for v in obj:
                out += coordinates(v)
    return out


def view_of(client: Client) -> str:
    """Everything a party can read about the others, as one text."""
    return json.dumps(
        {
            "findings": client.findings(all=True),
            "inbox": client.inbox(limit=1000),
            "events": all_events(client),
            "areas": client.areas(),
        }
    )


def test_beat1_russia_is_told_only_the_overlap_of_the_relief_hospital(
    server: Server, clients: dict[str, Client]
) -> None:
    relief, russia = clients["relief"], clients["russia"]
    server.clock.set(at("2015-09-30T04:00:00Z"))
    hospital = scenario("beat1-relief-hama-hospital.json")
    declared = relief.declare_area(hospital)
    assert declared["findings"] == []
    assert_signed_by(server, relief, declared["ledger_index"], "relief", "protected_area")

    filed = russia.file_notice(scenario("beat1-russia-homs-hama.json"))
    assert filed["attested"] is False
    assert_signed_by(server, russia, filed["ledger_index"], "russia", "notice")
    (finding,) = filed["findings"]
    assert finding["kind"] == "protected_area"
    assert "relief" in finding["other"]
    assert "other_volume" not in finding
    overlap = finding["overlap"]
    assert overlap is not None
    assert (overlap["start"], overlap["end"]) < ("2015-09-30T06:00:00Z", "2015-09-30T09:00:01Z")

    # russia learns that a humanitarian site of relief is there, and where it overlaps its
    # own notice, but neither the site's id nor its shape: no vertex it is shown lies
    # farther from the site than the overlap does (the strategic buffers' half), and none of
    # its notice corners is moved into view
    seen = view_of(russia)
    assert "relief-hama-hospital" not in seen
    assert "radius_nm" not in seen
    assert json.loads(seen)["areas"] == []
    ru_findings = russia.findings()
    assert [f["id"] for f in ru_findings] == [finding["id"]]
    assert ru_findings[0]["overlap"] == overlap
    center_lon, center_lat = hospital["volume"]["area"]["center"]
    for lon, lat in coordinates(overlap["area"]):
        assert abs(lon - center_lon) < 0.1, (lon, lat)
        assert abs(lat - center_lat) < 0.1, (lon, lat)

    # relief is told that russia was notified over its site, and nothing of russia's
    # notice beyond the overlap (its corners are 30 to 60 km away)
    (told,) = relief.findings()
    assert (told["kind"], told["other"]) == ("protected_area", "russia")
    assert told["subject"]["id"] == "relief-hama-hospital"
    relief_view = json.loads(view_of(relief))
    notice_corners = coordinates(scenario("beat1-russia-homs-hama.json")["volumes"][0]["area"])
    leaked = set(coordinates(relief_view)) & set(notice_corners)
    assert not leaked
    relief_inbox = relief.inbox()["messages"]
    assert any(
        m["kind"] == "notice" and m["about"] == "russia/ru-20150930-homs-hama@1"
        for m in relief_inbox
    )

    # russia acknowledges the finding message: a statement it signs
    mid = next(m["id"] for m in russia.inbox()["messages"] if m["kind"] == "finding")
    assert mid == next(f["message_id"] for f in russia.findings())
    ack = russia.ack(mid)
    assert ack["party"] == "russia"
    assert ack["late"] is False
    assert [a["party"] for a in russia.message(mid)["acks"]] == ["russia"]
    ack_index = ack["receipt"]["leaf_index"]
    assert_signed_by(server, russia, ack_index, "russia", "ack")
    # the finding message itself is the service's statement, signed with the service key
    finding_msg = russia.message(mid)
    got = russia.receipt(finding_msg["ledger_index"])
    service_entry = SignedEntry.from_leaf(got["leaf"].encode())
    assert service_entry.entry.party == server.service_key.name
    verify_entry(service_entry, {server.service_key.name: server.service_key.verifier})


def test_beat2_a_hotline_request_shifts_russias_notice_and_the_conflict_clears(
    server: Server, clients: dict[str, Client]
) -> None:
    coalition, russia = clients["coalition"], clients["russia"]
    server.clock.set(at("2015-09-30T04:00:00Z"))
    co = coalition.file_notice(scenario("beat2-coalition-raqqa.json"))
    assert co["findings"] == []

    server.clock.set(at("2015-09-30T04:10:00Z"))
    v1 = russia.file_notice(scenario("beat2-russia-raqqa-v1.json"))
    assert_signed_by(server, russia, v1["ledger_index"], "russia", "notice")
    assert [(f["kind"], f["other"]) for f in v1["findings"]] == [("notice_conflict", "coalition")]
    assert v1["clear"] is False
    co_findings = coalition.findings()
    assert [(f["kind"], f["other"]) for f in co_findings] == [("notice_conflict", "russia")]
    assert co_findings[0]["subject"]["id"] == "co-20150930-raqqa"

    server.clock.set(at("2015-09-30T04:20:00Z"))
    request = coalition.send(
        "request",
        ["russia"],
        {"template": "request_shift", "args": {"notice": v1_ref(v1), "minutes": 60}},
        about=v1_ref(v1),
    )
    assert request["requires_ack"] is True
    assert_signed_by(server, coalition, request["ledger_index"], "coalition", "request")
    got = next(m for m in russia.inbox()["messages"] if m["id"] == request["id"])
    assert got["from"] == "coalition"
    assert got["rendered"]["lang"] == "ru"
    assert got["rendered"]["translated"] is True

    server.clock.set(at("2015-09-30T04:30:00Z"))
    russia.ack(request["id"])
    reply = russia.send(
        "reply",
        ["coalition"],
        {"template": "reply_accept", "args": {"message": request["id"]}},
        reply_to=request["id"],
    )
    assert reply["thread"] == request["thread"]
    assert_signed_by(server, russia, reply["ledger_index"], "russia", "reply")
    thread = coalition.thread(request["thread"])
    assert [m["id"] for m in thread] == [request["id"], reply["id"]]
    assert thread[0]["acks"][0]["party"] == "russia"

    server.clock.set(at("2015-09-30T04:40:00Z"))
    v2 = russia.file_notice(scenario("beat2-russia-raqqa-v2.json"))
    assert_signed_by(server, russia, v2["ledger_index"], "russia", "notice")
    assert v2["findings"] == []
    assert v2["clear"] is True
    assert russia.findings() == []
    assert coalition.findings() == []
    conflict_id = co_findings[0]["id"]
    for client in (coalition, russia):
        cleared = [e for e in all_events(client) if e["type"] == "finding_cleared"]
        assert cleared, "no finding_cleared event"
        assert conflict_id in cleared[-1]["data"]["findings"]
    assert {n["notice"]["id"]: n["notice"]["version"] for n in russia.notices()} == {
        "ru-20150930-raqqa": 2
    }
    # the history keeps the old finding, no longer current
    assert [f["current"] for f in coalition.findings(all=True)] == [False]


def v1_ref(out: dict[str, Any]) -> str:
    n = out["notice"]
    return f"{n['party']}/{n['id']}@{n['version']}"


def test_beat5_unacknowledged_notice_escalates_and_the_ledger_proves_it(
    server: Server,
    clients: dict[str, Client],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    coalition, russia = clients["coalition"], clients["russia"]
    server.clock.set(at("2017-09-10T06:00:00Z"))
    filed = russia.file_notice(scenario("beat5-russia-deir-ez-zor.json"))
    assert_signed_by(server, russia, filed["ledger_index"], "russia", "notice")
    zone = [f for f in filed["findings"] if f["kind"] == "zone_notice"]
    assert [f["other"] for f in zone] == ["euphrates-line"]
    notice_msg = filed["message_id"]
    assert coalition.message(notice_msg)["deadline"] == "2017-09-10T06:15:00Z"

    # relief, also told of every notice, acknowledges in time; coalition never does
    server.clock.set(at("2017-09-10T06:02:00Z"))
    relief_ack = clients["relief"].ack(notice_msg)
    assert_signed_by(
        server, clients["relief"], relief_ack["receipt"]["leaf_index"], "relief", "ack"
    )

    server.clock.set(at("2017-09-10T06:05:00Z"))
    area = coalition.declare_area(scenario("beat5-coalition-partner-forces.json"))
    assert_signed_by(server, coalition, area["ledger_index"], "coalition", "protected_area")
    assert [f["kind"] for f in area["findings"]] == ["protected_area"]
    assert any(f["kind"] == "protected_area" for f in russia.findings())

    def escalations(client: Client, level: int) -> list[dict[str, Any]]:
        return [
            e
            for e in all_events(client)
            if e["type"] == "escalation"
            and e["data"]["message_id"] == notice_msg
            and e["data"]["party"] == "coalition"
            and e["data"]["level"] == level
        ]

    # coalition never acknowledges: past the 900 s deadline, level 2; 600 s on, level 3
    server.clock.set(at("2017-09-10T06:00:00Z") + 901)
    for client in (coalition, russia):
        (esc,) = wait_for("level 2 on both streams", partial(escalations, client, 2))
        assert esc["data"]["level_name"] == "operations commander"
    assert not escalations(russia, 3)
    server.clock.advance(600)
    for client in (coalition, russia):
        (esc,) = wait_for("level 3 on both streams", partial(escalations, client, 3))
        assert esc["data"]["level_name"] == "chief of staff"
    msg = russia.message(notice_msg)
    assert [a["party"] for a in msg["acks"]] == ["relief"]
    assert [(e["party"], e["level"]) for e in msg["escalations"]] == [
        ("coalition", 2),
        ("coalition", 3),
    ]
    for client in (coalition, russia):
        kinds = [m["kind"] for m in client.inbox(limit=1000)["messages"]]
        assert kinds.count("escalation") >= 2

    # the record, offline: exported from the server's database, verified from signatures
    bundle = tmp_path / "deir-ez-zor.json"
    capsys.readouterr()
    assert main(["ledger", "export", "--db", str(server.db_path), "--out", str(bundle)]) == 0
    # the notice entry is the party's statement and states no deadline: the protocol does
    assert main(["ledger", "verify", str(bundle), "--protocol", str(PROTOCOL_PATH)]) == 0
    out = capsys.readouterr().out
    notice_line = next(
        k for k, line in enumerate(out.splitlines()) if "russia -> " in line and "notice" in line
    )
    after = "\n".join(out.splitlines()[notice_line : notice_line + 6])
    assert "NOT acknowledged by coalition" in after
    assert "acknowledged by relief at 2017-09-10T06:02:00Z" in after

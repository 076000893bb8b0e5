"""Escalation timing with an injected clock, at the service layer (no HTTP).

The Syria protocol gives a notice message a deadline of 900 s and an escalation ladder
(duty officer, then operations commander 600 s later, then chief of staff 1800 s later):
a notice sent at t and left unacknowledged reaches level 2 at t+900 and level 3 at t+1500,
and nothing after. Time moves only when the test moves the :class:`ManualClock`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.service_server import PROTOCOL_PATH, SERVICE_KEY_NAME, T0

from skyparley.adapters.catalogs import Catalogs
from skyparley.adapters.clock import ManualClock
from skyparley.adapters.ledger_store import SqliteLedger
from skyparley.adapters.protocol_file import load_protocol
from skyparley.adapters.store_memory import MemoryStore
from skyparley.adapters.store_sqlite import SqliteStore
from skyparley.domain.ledger.entry import KeyRing, verify_entry
from skyparley.domain.ledger.keys import demo_key
from skyparley.domain.ports import Store
from skyparley.scenario import escalate_until
from skyparley.service import Principal, Service

DEADLINE_S = 900.0  # the protocol's notice deadline
LEVEL3_S = DEADLINE_S + 600.0  # then the ladder's second rung
SENDER = Principal("russia", "operator", "tok_russia")
ADDRESSEE = Principal("coalition", "operator", "tok_coalition")


@dataclass
class Rig:
    """A service on a store and a ledger, with the clock that drives it."""

    service: Service
    store: Store
    ledger: SqliteLedger
    clock: ManualClock
    keyring: KeyRing

    def send_notice(self, text: str = "Operations over Deir ez-Zor 08:00-10:00") -> str:
        out = self.service.send(
            SENDER, kind="notice", to=["coalition"], content={"text": text, "lang": "en"}
        )
        assert out["requires_ack"] is True
        mid: str = out["id"]
        return mid

    def at(self, dt_s: float) -> int:
        """Set the clock to T0 + ``dt_s`` and run the escalation tick."""
        self.clock.set(T0 + dt_s)
        return self.service.escalate_due()

    def levels(self, mid: str) -> list[tuple[str, int]]:
        return sorted((e.party, e.level) for e in self.store.escalations(mid))

    def escalation_events(self, party: str, mid: str) -> list[dict[str, Any]]:
        return [
            e.data
            for e in self.store.events(party, after=0, limit=1000)
            if e.type == "escalation" and e.data["message_id"] == mid
        ]


def _open(store: Store, ledger_path: Path, clock: ManualClock) -> Rig:
    protocol = load_protocol(PROTOCOL_PATH)
    service_key = demo_key(SERVICE_KEY_NAME)
    ring = dict(protocol.keyring())
    ring[service_key.name] = service_key.verifier
    keyring = KeyRing(ring)
    ledger = SqliteLedger(
        ledger_path,
        service_key=service_key,
        origin=f"skyparley/{protocol.id}",
        keyring=keyring,
        clock=clock,
        protocol_hash=protocol.content_hash,
    )
    service = Service(
        protocol=protocol,
        store=store,
        ledger=ledger,
        service_key=service_key,
        clock=clock,
        renderer=Catalogs(),
    )
    return Rig(service, store, ledger, clock, keyring)


@contextmanager
def _rig(tmp_path: Path, store: Store | None = None) -> Iterator[Rig]:
    rig = _open(
        store if store is not None else MemoryStore(), tmp_path / "ledger.db", ManualClock(T0)
    )
    try:
        yield rig
    finally:
        rig.ledger.close()
        rig.store.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with _rig(tmp_path) as r:
        yield r


def test_the_ladder_fires_at_the_deadline_and_at_each_rung_exactly(rig: Rig) -> None:
    mid = rig.send_notice()
    assert rig.at(DEADLINE_S - 0.1) == 0
    assert rig.levels(mid) == []
    assert rig.at(DEADLINE_S) == 1
    assert rig.levels(mid) == [("coalition", 2)]
    assert rig.at(LEVEL3_S - 0.1) == 0
    assert rig.at(LEVEL3_S) == 1
    assert rig.levels(mid) == [("coalition", 2), ("coalition", 3)]
    for later in (LEVEL3_S + 1, LEVEL3_S + 1800, 86_400.0 * 7):
        assert rig.at(later) == 0
    assert rig.levels(mid) == [("coalition", 2), ("coalition", 3)]
    assert rig.service.next_deadline_s() is None
    names = [e.level_name for e in rig.store.escalations(mid)]
    assert names == ["operations commander", "chief of staff"]


def test_a_late_tick_escalates_one_rung_at_a_time(rig: Rig) -> None:
    """A tick long after both rungs catches up, each escalation recorded once."""
    mid = rig.send_notice()
    while rig.at(10_000.0):
        pass
    assert rig.levels(mid) == [("coalition", 2), ("coalition", 3)]


def test_an_ack_before_the_deadline_means_no_escalation_ever(rig: Rig) -> None:
    mid = rig.send_notice()
    rig.clock.set(T0 + DEADLINE_S - 1)
    ack = rig.service.ack(ADDRESSEE, mid)
    assert ack["late"] is False
    for t in (DEADLINE_S, LEVEL3_S, 100_000.0):
        assert rig.at(t) == 0
    assert rig.levels(mid) == []
    assert rig.escalation_events("russia", mid) == []
    assert rig.service.next_deadline_s() is None


def test_an_ack_after_level_2_stops_level_3(rig: Rig) -> None:
    mid = rig.send_notice()
    assert rig.at(DEADLINE_S) == 1
    rig.clock.set(T0 + DEADLINE_S + 60)
    first = rig.service.ack(ADDRESSEE, mid)
    assert first["late"] is True
    rig.clock.set(T0 + DEADLINE_S + 120)
    again = rig.service.ack(ADDRESSEE, mid)  # answered as the first was, not acked again
    assert again.pop("replayed") is True
    assert again == first | {"receipt": None}
    assert rig.at(LEVEL3_S) == 0
    assert rig.at(LEVEL3_S + 3600) == 0
    assert rig.levels(mid) == [("coalition", 2)]


def test_escalating_twice_at_the_same_time_does_not_double(rig: Rig) -> None:
    mid = rig.send_notice()
    size = rig.ledger.size()
    assert rig.at(DEADLINE_S) == 1
    assert rig.at(DEADLINE_S) == 0
    assert rig.service.escalate_due() == 0
    assert rig.levels(mid) == [("coalition", 2)]
    assert rig.ledger.size() == size + 1
    assert len(rig.escalation_events("coalition", mid)) == 1


def test_escalations_are_service_signed_ledger_entries_and_events_to_both(rig: Rig) -> None:
    mid = rig.send_notice()
    rig.at(DEADLINE_S)
    rig.at(LEVEL3_S)
    logged = [rig.ledger.entry(i) for i in range(rig.ledger.size())]
    esc = [x for x in logged if x.signed.entry.kind == "escalation"]
    assert len(esc) == 2
    levels = []
    for x in esc:
        entry = verify_entry(x.signed, rig.keyring, log_id=rig.ledger.origin)
        assert entry.party == SERVICE_KEY_NAME
        assert isinstance(entry.body, dict)
        assert entry.body["message"] == mid
        assert entry.body["party"] == "coalition"
        assert entry.body["to"] == ["coalition", "russia"]
        levels.append(entry.body["level"])
    assert levels == [2, 3]
    for party in ("russia", "coalition"):
        events = rig.escalation_events(party, mid)
        assert [(e["level"], e["party"]) for e in events] == [(2, "coalition"), (3, "coalition")]
        assert {e["entry_hash"] for e in events} == {x.signed.hash for x in esc}
    assert rig.escalation_events("relief", mid) == []


def test_a_notice_filed_escalates_for_every_party_that_does_not_ack(rig: Rig) -> None:
    """A notice goes to both other parties; each addressee has its own ladder."""
    mid = rig.service.file_notice(SENDER, _NOTICE, new=True)["message_id"]
    rig.service.ack(ADDRESSEE, mid)
    assert rig.at(DEADLINE_S) == 1
    assert rig.at(LEVEL3_S) == 1
    assert rig.levels(mid) == [("relief", 2), ("relief", 3)]


_NOTICE: dict[str, Any] = {
    "type": "operation_notice",
    "party": "russia",
    "id": "ru-esc",
    "version": 1,
    "state": "planned",
    "volumes": [
        {
            "area": {"type": "Circle", "center": [40.35, 35.45], "radius_nm": 10.0},
            "lower": "FL100",
            "upper": "FL300",
            "start": "2015-10-01T08:00:00Z",
            "end": "2015-10-01T10:00:00Z",
        }
    ],
}


def test_each_addressee_sees_its_own_ack_and_escalations_and_the_sender_sees_all(
    rig: Rig,
) -> None:
    """coalition acks russia's notice, relief does not and escalates: what each is shown."""
    mid = rig.service.file_notice(SENDER, _NOTICE, new=True)["message_id"]
    rig.service.ack(ADDRESSEE, mid)
    assert rig.at(DEADLINE_S) == 1
    relief = Principal("relief", "viewer", "tok_relief")

    def shown(who: Principal) -> tuple[list[str], list[str]]:
        m = rig.service.message(who, mid)
        return [a["party"] for a in m["acks"]], [e["party"] for e in m["escalations"]]

    assert shown(SENDER) == (["coalition"], ["relief"])
    assert shown(ADDRESSEE) == (["coalition"], [])
    assert shown(relief) == ([], ["relief"])
    inbox = rig.service.inbox(relief)["messages"]
    assert [(m["acks"], len(m["escalations"])) for m in inbox if m["id"] == mid] == [([], 1)]


def test_a_player_s_jump_escalates_each_deadline_at_its_own_time(rig: Rig) -> None:
    """A scenario jumps its clock between beats, days at a time; the ticker then ran the
    deadlines passed on the way at the jump, all dated there (the demo's level-3 alerts of
    beat 3 showed days later). escalate_until steps the clock through them first."""
    mid = rig.send_notice()
    assert escalate_until(rig.service, rig.clock, T0 + 5 * 86_400) == 2
    assert [e.at_s for e in rig.store.escalations(mid)] == [T0 + DEADLINE_S, T0 + LEVEL3_S]
    assert rig.clock.now_s() == T0 + LEVEL3_S  # the jump itself is the player's
    assert escalate_until(rig.service, rig.clock, T0 + 5 * 86_400) == 0


def _restart_case(tmp_path: Path, make_store: Any) -> None:
    ledger_path = tmp_path / "ledger.db"
    clock = ManualClock(T0)
    rig = _open(make_store(), ledger_path, clock)
    try:
        mid = rig.send_notice()
        other = rig.send_notice("Operations over Raqqa")  # escalates once before the restart
        rig.clock.set(T0 + DEADLINE_S)
        rig.service.ack(ADDRESSEE, mid)  # mid is acked exactly at its deadline
    finally:
        rig.ledger.close()
        store = rig.store
    if isinstance(store, SqliteStore):  # a restart: nothing of the process survives
        store.close()
        store = make_store()
    rig = _open(store, ledger_path, clock)
    try:
        assert rig.service.next_deadline_s() is not None  # re-armed from the store
        assert rig.at(DEADLINE_S) == 1
        assert rig.levels(other) == [("coalition", 2)]
        assert rig.levels(mid) == []
    finally:
        rig.ledger.close()
        store = rig.store
    if isinstance(store, SqliteStore):
        store.close()
        store = make_store()
    rig = _open(store, ledger_path, clock)
    try:
        assert rig.at(DEADLINE_S) == 0  # not again after a second restart
        assert rig.at(LEVEL3_S) == 1
        assert rig.levels(other) == [("coalition", 2), ("coalition", 3)]
        assert len(rig.escalation_events("russia", other)) == 2
        esc = [
            i
            for i in range(rig.ledger.size())
            if rig.ledger.entry(i).signed.entry.kind == "escalation"
        ]
        assert len(esc) == 2
    finally:
        rig.ledger.close()
        rig.store.close()


def test_a_rebuilt_service_re_arms_deadlines_from_a_memory_store(tmp_path: Path) -> None:
    store = MemoryStore()
    _restart_case(tmp_path, lambda: store)


def test_a_restarted_service_re_arms_deadlines_from_a_sqlite_file(tmp_path: Path) -> None:
    _restart_case(tmp_path, lambda: SqliteStore(tmp_path / "store.db"))

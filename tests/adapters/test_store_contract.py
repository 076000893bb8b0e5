"""The contract of the :class:`~skyparley.domain.ports.Store` port, run against every backend.

One suite, parametrised by the ``backend`` fixture: ``memory`` and ``sqlite`` always run;
``postgres`` runs when ``SKYPARLEY_TEST_POSTGRES`` names a database and is skipped, saying so,
when it does not. What only a durable backend can promise (close and reopen) runs on the
``durable`` fixture. The last tests are SQLite's own: the file it shares with the ledger, and
its schema versions.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.adapters._ledger_keys import ORIGIN, SERVICE, keyring, party_name, signed_chain_entry

from skyparley.adapters.ledger_store import SCHEMA as LEDGER_SCHEMA
from skyparley.adapters.ledger_store import SqliteLedger
from skyparley.adapters.store_memory import MemoryStore
from skyparley.adapters.store_sqlite import MIGRATIONS, SqliteStore, store_schema_version
from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.domain.ports import Store
from skyparley.domain.records import (
    AckRecord,
    Changes,
    DeadlineRecord,
    EscalationRecord,
    Event,
    FindingRecord,
    MessageRecord,
    NoticeRecord,
    ProtectedAreaRecord,
    TokenRecord,
)
from skyparley.errors import ConflictError, InputError, NotFoundError, SkyparleyError

T0 = 1_444_467_600.0  # 2015-10-10T09:00:00Z
POSTGRES_ENV = "SKYPARLEY_TEST_POSTGRES"

# ---------------------------------------------------------------------------- backends


class Backend:
    """Opens stores of one kind. ``new()`` gives an empty store; ``reopen(store)`` closes it
    and opens the same data again (durable backends only). Every store is closed at the end."""

    def __init__(self, name: str, tmp_path: Path) -> None:
        self.name = name
        self.durable = name != "memory"
        self._tmp = tmp_path
        self._count = 0
        self._open: list[Store] = []
        self._where: dict[int, Path] = {}

    def _open_at(self, where: Path) -> Store:
        if self.name == "memory":
            store: Store = MemoryStore()
        elif self.name == "sqlite":
            store = SqliteStore(where)
        else:
            store = _postgres_store(os.environ[POSTGRES_ENV], where.name)
        self._open.append(store)
        self._where[id(store)] = where
        return store

    def new(self) -> Store:
        self._count += 1
        return self._open_at(self._tmp / f"store-{self._count}.db")

    def reopen(self, store: Store) -> Store:
        assert self.durable, f"the {self.name} backend keeps nothing across a close"
        store.close()
        return self._open_at(self._where[id(store)])

    def close_all(self) -> None:
        for store in self._open:
            store.close()


def _postgres_store(url: str, schema: str) -> Store:
    """The hook for the PostgreSQL adapter: open a store on a fresh schema at ``url``."""
    del url, schema
    raise NotImplementedError(
        f"{POSTGRES_ENV} is set, but skyparley has no PostgreSQL store adapter yet"
    )


def _backend(name: str, tmp_path: Path) -> Backend:
    if name == "postgres" and not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"PostgreSQL is not configured: set {POSTGRES_ENV} to a database URL")
    return Backend(name, tmp_path)


_POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(params=["memory", "sqlite", _POSTGRES])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = _backend(request.param, tmp_path)
    yield b
    b.close_all()


@pytest.fixture(params=["sqlite", _POSTGRES])
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = _backend(request.param, tmp_path)
    yield b
    b.close_all()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.new()


# Hypothesis runs many examples in one test: each opens its own store from the backend.
_EXAMPLES = settings(
    max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)

# ---------------------------------------------------------------------------- records

VOLUME: dict[str, Any] = {
    "area": {"type": "Circle", "center": [36.75, 35.13], "radius_nm": 20},
    "lower": "FL150",
    "upper": "FL300",
    "start": "2015-10-10T10:00:00Z",
    "end": "2015-10-10T12:00:00Z",
}
POLYGON_VOLUME: dict[str, Any] = {
    "area": {
        "type": "Polygon",
        "coordinates": [[[36.6, 35.0], [37.0, 35.0], [37.0, 35.3], [36.6, 35.3], [36.6, 35.0]]],
    },
    "lower": 0,
    "upper": "FL450",
    "start": "2015-10-09T00:00:00Z",
    "end": "2015-10-12T00:00:00.250Z",
}


def notice(
    party: str = "russia",
    nid: str = "ru-1",
    version: int = 1,
    state: str = "planned",
    **extra: Any,
) -> NoticeRecord:
    n = OperationNotice.from_dict(
        {
            "party": party,
            "id": nid,
            "version": version,
            "state": state,
            "filed": "2015-10-10T08:00:00Z",
            "volumes": [copy.deepcopy(VOLUME)],
            **extra,
        }
    )
    return NoticeRecord(
        notice=n, recorded_s=T0 + version, entry_hash=f"{version:064x}", ledger_index=version
    )


def area(
    owner: str = "relief", aid: str = "hama-hospital", version: int = 1
) -> ProtectedAreaRecord:
    a = ProtectedArea.from_dict(
        {
            "owner": owner,
            "id": aid,
            "version": version,
            "kind": "humanitarian",
            "disclosure": "on_conflict",
            "volume": copy.deepcopy(POLYGON_VOLUME),
        }
    )
    return ProtectedAreaRecord(
        area=a, recorded_s=T0, entry_hash="ab" * 32, ledger_index=7, attested=True
    )


def message(
    mid: str,
    *,
    sender: str = "russia",
    to: tuple[str, ...] = ("coalition",),
    thread: str | None = None,
    **kw: Any,
) -> MessageRecord:
    fields: dict[str, Any] = {
        "id": mid,
        "thread": thread or mid,
        "sender": sender,
        "to": to,
        "kind": "text",
        "content": {"text": f"message {mid}", "lang": "en"},
        "sent_s": T0,
        "requires_ack": True,
        "deadline_s": T0 + 300.0,
        "entry_hash": "cd" * 32,
        "ledger_index": 3,
    }
    fields.update(kw)
    return MessageRecord(**fields)


def event(party: str, n: int = 0, type_: str = "message") -> Event:
    return Event(party=party, type=type_, data={"n": n, "label": f"event {n}"}, at_s=T0 + n)


def token(tid: str, party: str = "russia", *, created_s: float = T0, sha: str = "") -> TokenRecord:
    return TokenRecord(
        id=tid,
        party=party,
        role="operator",
        token_sha256=sha or f"sha-of-{tid}",
        created_s=created_s,
        label=f"desk {tid}",
    )


def finding(fid: str, reader: str = "coalition") -> FindingRecord:
    return FindingRecord(
        id=fid,
        reader=reader,
        notice="russia/ru-1@1",
        data={"kind": "overlap", "with": "coalition/co-1@1", "min_sep_m": 1200.5},
        created_s=T0,
        message_id="m-finding",
    )


def ack(mid: str, party: str, at_s: float = T0 + 60) -> AckRecord:
    return AckRecord(
        message_id=mid, party=party, acked_s=at_s, entry_hash="ef" * 32, ledger_index=9
    )


def escalation(mid: str, party: str, level: int, at_s: float = T0 + 300) -> EscalationRecord:
    return EscalationRecord(
        message_id=mid,
        party=party,
        level=level,
        level_name=f"level {level}",
        at_s=at_s,
        entry_hash="12" * 32,
        ledger_index=11,
    )


def deadline(mid: str, party: str, due_s: float, level: int = 1) -> DeadlineRecord:
    return DeadlineRecord(message_id=mid, party=party, level=level, due_s=due_s)


def ids(records: list[MessageRecord]) -> list[str]:
    return [m.id for m in records]


def snapshot(store: Store, parties: tuple[str, ...] = ("russia", "coalition", "relief")) -> Any:
    """Everything a user could read from ``store`` about ``parties``, for comparisons."""
    out: dict[str, Any] = {
        "tokens": store.tokens(),
        "notices": store.notices(),
        "areas": store.protected_areas(),
        "due": store.due_deadlines(math.inf, limit=10_000),
        "last_cursor": store.last_cursor(),
    }
    for p in parties:
        out[p] = (
            store.inbox(p, limit=10_000),
            store.sent(p, limit=10_000),
            store.events(p, limit=10_000),
            store.findings(p),
        )
    return out


# ---------------------------------------------------------------------------- commit


def test_every_backend_is_a_store(store: Store) -> None:
    assert isinstance(store, MemoryStore | SqliteStore)
    assert store.last_cursor() == 0
    assert store.next_deadline_s() is None
    assert store.inbox("coalition") == []


def test_commit_assigns_seq_and_cursor_from_1_in_the_order_given(store: Store) -> None:
    first = store.commit(
        Changes(
            messages=[message("m-1"), message("m-2", sender="coalition", to=("russia",))],
            events=[event("coalition", 1), event("russia", 2), event("coalition", 3)],
        )
    )
    assert [(m.id, m.seq) for m in first.messages] == [("m-1", 1), ("m-2", 2)]
    assert [(e.party, e.data["n"], e.cursor) for e in first.events] == [
        ("coalition", 1, 1),
        ("russia", 2, 2),
        ("coalition", 3, 3),
    ]
    second = store.commit(Changes(messages=[message("m-3")], events=[event("russia", 4)]))
    assert [m.seq for m in second.messages] == [3]
    assert [e.cursor for e in second.events] == [4]
    # What commit returned is what a read gives back.
    assert store.message("m-2") == first.messages[1]
    assert store.events("coalition") == [first.events[0], first.events[2]]
    assert store.last_cursor() == 4


def test_an_empty_commit_writes_nothing(store: Store) -> None:
    assert store.commit(Changes()) == store.commit(Changes())
    assert store.last_cursor() == 0
    assert store.commit(Changes(messages=[message("m-1")])).messages[0].seq == 1


# Each kind of key written twice: (what the first commit holds, the record written again,
# the Changes list it goes into, the field and the name the conflict must give).
_DUPLICATES: dict[str, tuple[Changes, Callable[[], Any], str, str]] = {
    "notice version": (
        Changes(notices=[notice()]),
        lambda: notice(state="active"),
        "notices",
        "notice russia/ru-1@1",
    ),
    "protected area version": (
        Changes(protected_areas=[area()]),
        area,
        "protected_areas",
        "protected area relief/hama-hospital@1",
    ),
    "finding for a reader": (
        Changes(findings=[finding("f-1")]),
        lambda: finding("f-1"),
        "findings",
        "finding f-1 for coalition",
    ),
    "message id": (
        Changes(messages=[message("m-1")]),
        lambda: message("m-1", sender="coalition", to=("russia",)),
        "messages",
        "message m-1",
    ),
    "ack": (
        Changes(acks=[ack("m-1", "coalition")]),
        lambda: ack("m-1", "coalition", T0 + 99),
        "acks",
        "ack of message m-1 by coalition",
    ),
    "escalation level": (
        Changes(escalations=[escalation("m-1", "coalition", 1)]),
        lambda: escalation("m-1", "coalition", 1, T0 + 999),
        "escalations",
        "escalation of message m-1 for coalition to level 1",
    ),
    "token id": (
        Changes(tokens=[token("t-1")]),
        lambda: token("t-1", sha="another-hash"),
        "tokens",
        "token t-1",
    ),
    "token hash": (
        Changes(tokens=[token("t-1")]),
        lambda: token("t-9", sha="sha-of-t-1"),
        "tokens",
        "the hash of token t-9",
    ),
}


def _fresh_changes() -> Changes:
    """One new record of every kind (no key clashes with ``_DUPLICATES``' first commits)."""
    return Changes(
        notices=[notice(nid="ru-new"), notice(nid="ru-new", version=2, state="active")],
        protected_areas=[area(aid="new-area")],
        findings=[finding("f-new", "russia")],
        messages=[message("m-new-1"), message("m-new-2", sender="coalition", to=("russia",))],
        acks=[ack("m-new-1", "coalition")],
        escalations=[escalation("m-new-1", "coalition", 1)],
        deadlines=[deadline("m-new-1", "coalition", T0 + 10)],
        cleared_deadlines=[("m-0", "coalition")],
        events=[event("coalition", 10), event("russia", 11)],
        tokens=[token("t-new", "coalition")],
        revoked_tokens=[("t-0", T0 + 5)],
    )


def _insert_in_middle(changes: Changes, field: str, record: Any) -> None:
    items = getattr(changes, field)
    items.insert(len(items) // 2 + 1, record)


def _base(store: Store) -> Any:
    """A store with a message, an event, a pending deadline and a live token, and its view."""
    store.commit(
        Changes(
            messages=[message("m-0")],
            events=[event("coalition", 0)],
            deadlines=[deadline("m-0", "coalition", T0 + 300)],
            tokens=[token("t-0")],
        )
    )
    return snapshot(store)


def _assert_fresh_changes_absent(store: Store) -> None:
    assert store.notice("russia", "ru-new") is None
    assert store.protected_area("relief", "new-area") is None
    assert store.findings("russia") == []
    assert store.message("m-new-1") is None
    assert store.message("m-new-2") is None
    assert store.acks("m-new-1") == []
    assert store.escalations("m-new-1") == []
    assert store.deadline("m-new-1", "coalition") is None
    assert store.deadline("m-0", "coalition") == deadline("m-0", "coalition", T0 + 300)
    assert store.token_by_sha256("sha-of-t-new") is None
    t0 = store.token_by_sha256("sha-of-t-0")
    assert t0 is not None
    assert t0.revoked_s is None


@pytest.mark.parametrize("kind", list(_DUPLICATES))
def test_a_key_written_again_is_a_conflict_and_nothing_of_that_commit_is_written(
    store: Store, kind: str
) -> None:
    held, again, field, name = _DUPLICATES[kind]
    store.commit(held)
    before = _base(store)
    changes = _fresh_changes()
    _insert_in_middle(changes, field, again())
    with pytest.raises(ConflictError) as err:
        store.commit(changes)
    assert err.value.field == field
    assert name in err.value.reason
    _assert_fresh_changes_absent(store)
    assert snapshot(store) == before
    # The refused commit took no seq and no cursor: the next ones follow without a hole.
    after = store.commit(Changes(messages=[message("m-next")], events=[event("russia", 99)]))
    last_seq = max(m.seq for p in ("russia", "coalition") for m in before[p][0] + before[p][1])
    assert after.messages[0].seq == last_seq + 1
    assert after.events[0].cursor == before["last_cursor"] + 1


@pytest.mark.parametrize("kind", list(_DUPLICATES))
def test_a_key_twice_within_one_commit_is_a_conflict(store: Store, kind: str) -> None:
    held, again, field, name = _DUPLICATES[kind]
    before = _base(store)
    changes = _fresh_changes()
    for record in getattr(held, field):
        _insert_in_middle(changes, field, record)
    _insert_in_middle(changes, field, again())
    with pytest.raises(ConflictError) as err:
        store.commit(changes)
    assert err.value.field == field
    assert name in err.value.reason
    _assert_fresh_changes_absent(store)
    assert snapshot(store) == before


def test_data_json_cannot_hold_is_refused_before_anything_is_written(store: Store) -> None:
    before = _base(store)
    changes = _fresh_changes()
    changes.events.append(Event(party="russia", type="x", data={"v": math.nan}, at_s=T0))
    with pytest.raises(ValueError, match="JSON"):
        store.commit(changes)
    _assert_fresh_changes_absent(store)
    assert snapshot(store) == before


def test_revoking_an_unknown_token_writes_nothing(store: Store) -> None:
    before = _base(store)
    changes = _fresh_changes()
    changes.revoked_tokens.append(("t-nobody", T0))
    with pytest.raises(NotFoundError) as err:
        store.commit(changes)
    assert err.value.field == "revoked_tokens"
    assert "t-nobody" in err.value.reason
    _assert_fresh_changes_absent(store)
    assert snapshot(store) == before


# ---------------------------------------------------------------------------- tokens


def test_tokens_by_hash_by_party_in_creation_order_and_revoked(store: Store) -> None:
    store.commit(
        Changes(
            tokens=[
                token("t-late", created_s=T0 + 20),
                token("t-early", created_s=T0 + 10),
                token("t-co", "coalition", created_s=T0 + 15),
            ]
        )
    )
    assert store.token_by_sha256("sha-of-t-co") == token("t-co", "coalition", created_s=T0 + 15)
    assert store.token_by_sha256("sha-of-nobody") is None
    assert [t.id for t in store.tokens()] == ["t-early", "t-co", "t-late"]
    assert [t.id for t in store.tokens("russia")] == ["t-early", "t-late"]
    assert store.tokens("relief") == []

    store.commit(Changes(revoked_tokens=[("t-late", T0 + 100)]))
    revoked = store.token_by_sha256("sha-of-t-late")
    assert revoked is not None
    assert revoked.revoked_s == T0 + 100
    # A second revocation keeps the first time; the other tokens are untouched.
    store.commit(Changes(revoked_tokens=[("t-late", T0 + 500)]))
    assert [t.revoked_s for t in store.tokens("russia")] == [None, T0 + 100]
    # A token created and revoked in one commit is stored revoked.
    store.commit(Changes(tokens=[token("t-brief")], revoked_tokens=[("t-brief", T0 + 1)]))
    brief = store.token_by_sha256("sha-of-t-brief")
    assert brief is not None
    assert brief.revoked_s == T0 + 1


# ---------------------------------------------------------------------------- notices


def test_notices_read_back_equal_and_latest_version_wins(store: Store) -> None:
    v1 = notice(remark="hotline staffed throughout; звоните 24/7")
    v3 = notice(version=3, state="active")
    v2 = notice(version=2)
    store.commit(Changes(notices=[v1, v3]))
    store.commit(Changes(notices=[v2]))  # versions need not arrive in order
    assert store.notice("russia", "ru-1") == v3
    assert store.notice("russia", "ru-1", 1) == v1
    assert store.notice("russia", "ru-1", 2) == v2
    assert store.notice("russia", "ru-1", 9) is None
    assert store.notice("russia", "nothing") is None
    assert store.notice("coalition", "ru-1") is None
    assert store.notice_versions("russia", "ru-1") == [v1, v2, v3]
    assert store.notice_versions("russia", "nothing") == []


def test_notices_lists_latest_versions_by_party_then_id_and_live_only(store: Store) -> None:
    cancelled = notice(nid="ru-1", version=2, state="cancelled")
    active = notice(nid="ru-2", state="active")
    ended = notice("coalition", "co-1", state="ended")
    planned = notice("coalition", "co-2")
    store.commit(Changes(notices=[notice(nid="ru-1"), active, planned]))
    store.commit(Changes(notices=[ended, cancelled]))
    assert store.notices() == [ended, planned, cancelled, active]
    assert store.notices(live_only=True) == [planned, active]
    assert store.notices("russia") == [cancelled, active]
    assert store.notices("russia", live_only=True) == [active]
    assert store.notices("relief") == []


def test_a_notice_keeps_what_its_json_form_keeps(store: Store) -> None:
    """Times finer than the millisecond are not kept (the notice's RFC 3339 form)."""
    exact = notice()
    fine = dataclasses.replace(
        exact, notice=dataclasses.replace(exact.notice, filed_s=T0 + 0.1234567)
    )
    store.commit(Changes(notices=[fine]))
    got = store.notice("russia", "ru-1")
    assert got is not None
    assert got.notice.filed_s == pytest.approx(T0 + 0.123, abs=1e-6)
    assert got == dataclasses.replace(fine, notice=OperationNotice.from_dict(fine.notice.to_dict()))


def test_protected_areas_read_back_equal_latest_first_by_owner_then_id(store: Store) -> None:
    a1 = area()
    a2 = area(version=2)
    b1 = area(aid="aleppo-convoy")
    c1 = area("coalition", "tanf-55km")
    store.commit(Changes(protected_areas=[a1, b1, c1]))
    store.commit(Changes(protected_areas=[a2]))
    assert store.protected_area("relief", "hama-hospital") == a2
    assert store.protected_area("relief", "hama-hospital", 1) == a1
    assert store.protected_area("relief", "hama-hospital", 3) is None
    assert store.protected_area("russia", "hama-hospital") is None
    assert store.protected_areas() == [c1, b1, a2]
    assert store.protected_areas("relief") == [b1, a2]
    assert store.protected_areas("nobody") == []


# ---------------------------------------------------------------------------- findings


def test_findings_per_reader_in_commit_order(store: Store) -> None:
    store.commit(Changes(findings=[finding("f-2"), finding("f-1"), finding("f-1", "russia")]))
    store.commit(Changes(findings=[finding("f-0")]))
    assert [f.id for f in store.findings("coalition")] == ["f-2", "f-1", "f-0"]
    assert store.findings("russia") == [finding("f-1", "russia")]
    assert store.findings("relief") == []


def test_a_finding_keeps_the_ref_of_its_other_side(durable: Backend) -> None:
    store = durable.new()
    f = dataclasses.replace(finding("f-1"), other_ref="relief/hama-hospital@1")
    store.commit(Changes(findings=[f]))
    assert store.findings("coalition")[0].other_ref == "relief/hama-hospital@1"
    store = durable.reopen(store)
    assert store.findings("coalition") == [f]


# ---------------------------------------------------------------------------- incidents


def incident(iid: str, start: float, parties: tuple[str, ...] = ("coalition", "russia")) -> Any:
    from skyparley.domain.records import IncidentRecord

    return IncidentRecord(
        id=iid,
        kind="los",
        parties=parties,
        a="RFF21",
        b="VIPER11",
        start_s=start,
        end_s=start + 20,
        min_hdist_nm=3.0,
        min_hdist_s=start + 10,
        min_vdist_ft=500.0,
        min_vdist_s=start + 5,
        data={"tracks": {"RFF21": {"time": [start], "lat_deg": [35.1]}}, "alerts": []},
        entry_hash="cd" * 32,
        ledger_index=3,
    )


def test_incidents_by_party_in_start_order_and_unique(store: Store) -> None:
    late, early = incident("i-2", T0 + 100), incident("i-1", T0)
    other = incident("i-3", T0 + 50, parties=("relief", "russia"))
    store.commit(Changes(incidents=[late, early]))
    store.commit(Changes(incidents=[other]))
    assert [i.id for i in store.incidents()] == ["i-1", "i-3", "i-2"]
    assert [i.id for i in store.incidents("coalition")] == ["i-1", "i-2"]
    assert [i.id for i in store.incidents("relief")] == ["i-3"]
    assert store.incidents("nobody") == []
    assert store.incident("i-1") == early
    assert store.incident("i-9") is None
    with pytest.raises(ConflictError, match="incident i-1"):
        store.commit(Changes(incidents=[incident("i-1", T0)], events=[event("russia", 1)]))
    assert store.last_cursor() == 0  # nothing of the refused commit was written


# ---------------------------------------------------------------------------- hotline


def test_messages_read_back_equal_with_their_seq(store: Store) -> None:
    m = message(
        "m-1",
        to=("coalition", "relief"),
        content={"template": "notice.filed", "args": {"ref": "russia/ru-1@1"}, "text": "مرحبا"},
        reply_to="m-0",
        about="russia/ru-1@1",
        attested=True,
        requires_ack=False,
        deadline_s=None,
    )
    committed = store.commit(Changes(messages=[m])).messages[0]
    assert committed == dataclasses.replace(m, seq=1)
    assert store.message("m-1") == committed
    assert store.message("m-nothing") is None


def test_free_data_comes_back_as_json_gives_it(store: Store) -> None:
    m = message("m-1", content={"points": (1, 2), "nested": {"b": [1.5, None, True]}})
    committed = store.commit(Changes(messages=[m])).messages[0]
    expected = {"points": [1, 2], "nested": {"b": [1.5, None, True]}}
    assert committed.content == expected
    got = store.message("m-1")
    assert got is not None
    assert got.content == expected


def test_inbox_sent_and_thread_in_seq_order(store: Store) -> None:
    store.commit(
        Changes(
            messages=[
                message("m-1", to=("coalition", "relief")),
                message("m-2", sender="coalition", to=("russia",), thread="m-1", reply_to="m-1"),
            ]
        )
    )
    store.commit(
        Changes(
            messages=[
                message("m-3", sender="relief", to=("russia", "coalition")),
                message("m-4", to=("coalition",), thread="m-1"),
            ]
        )
    )
    assert ids(store.inbox("coalition")) == ["m-1", "m-3", "m-4"]
    assert ids(store.inbox("russia")) == ["m-2", "m-3"]
    assert ids(store.inbox("relief")) == ["m-1"]
    assert ids(store.sent("russia")) == ["m-1", "m-4"]
    assert ids(store.sent("coalition")) == ["m-2"]
    assert ids(store.thread("m-1")) == ["m-1", "m-2", "m-4"]
    assert ids(store.thread("m-3")) == ["m-3"]
    assert store.thread("nothing") == []
    # Paging: after a seq, at most limit.
    assert ids(store.inbox("coalition", after=1)) == ["m-3", "m-4"]
    assert ids(store.inbox("coalition", after=1, limit=1)) == ["m-3"]
    assert ids(store.inbox("coalition", after=3, limit=1)) == ["m-4"]
    assert store.inbox("coalition", after=4) == []
    assert store.inbox("coalition", limit=0) == []
    assert ids(store.sent("russia", after=1)) == ["m-4"]


def test_a_party_named_twice_gets_a_message_once(store: Store) -> None:
    store.commit(Changes(messages=[message("m-1", to=("coalition", "coalition"))]))
    assert ids(store.inbox("coalition")) == ["m-1"]


@pytest.mark.parametrize("read", ["inbox", "sent", "events", "due_deadlines"])
def test_a_negative_limit_is_refused(store: Store, read: str) -> None:
    with pytest.raises(InputError) as err:
        getattr(store, read)(*((T0,) if read == "due_deadlines" else ("coalition",)), limit=-1)
    assert err.value.field == "limit"


def test_acks_by_time_and_escalations_by_time_then_level(store: Store) -> None:
    store.commit(
        Changes(
            acks=[ack("m-1", "relief", T0 + 20)],
            escalations=[escalation("m-1", "russia", 2, T0 + 30)],
        )
    )
    store.commit(
        Changes(
            acks=[ack("m-1", "coalition", T0 + 10), ack("m-2", "coalition", T0 + 5)],
            escalations=[
                escalation("m-1", "russia", 1, T0 + 30),
                escalation("m-1", "coalition", 1, T0 + 10),
            ],
        )
    )
    assert store.acks("m-1") == [ack("m-1", "coalition", T0 + 10), ack("m-1", "relief", T0 + 20)]
    assert [(e.party, e.level) for e in store.escalations("m-1")] == [
        ("coalition", 1),
        ("russia", 1),
        ("russia", 2),
    ]
    assert store.escalations("m-1")[0] == escalation("m-1", "coalition", 1, T0 + 10)
    assert store.acks("m-nothing") == []
    assert store.escalations("m-2") == []


def test_deadlines_set_replace_clear_and_fall_due_in_order(store: Store) -> None:
    store.commit(
        Changes(
            deadlines=[
                deadline("m-1", "relief", T0 + 100),
                deadline("m-1", "russia", T0 + 50),
                deadline("m-0", "russia", T0 + 50),
                deadline("m-2", "coalition", T0 + 10),
            ]
        )
    )
    assert store.next_deadline_s() == T0 + 10
    assert store.due_deadlines(T0) == []
    due = store.due_deadlines(T0 + 50)
    assert [(d.message_id, d.party) for d in due] == [
        ("m-2", "coalition"),
        ("m-0", "russia"),
        ("m-1", "russia"),
    ]
    assert store.due_deadlines(T0 + 50, limit=2) == due[:2]
    # Set replaces by (message_id, party); cleared removes.
    store.commit(
        Changes(
            deadlines=[deadline("m-2", "coalition", T0 + 400, level=2)],
            cleared_deadlines=[("m-0", "russia"), ("m-9", "nobody")],
        )
    )
    assert store.deadline("m-2", "coalition") == deadline("m-2", "coalition", T0 + 400, level=2)
    assert store.deadline("m-0", "russia") is None
    assert store.next_deadline_s() == T0 + 50
    assert [d.message_id for d in store.due_deadlines(T0 + 1000)] == ["m-1", "m-1", "m-2"]
    # Cleared and set in one commit: it stays set (the clears go first).
    store.commit(
        Changes(
            deadlines=[deadline("m-1", "russia", T0 + 70, level=3)],
            cleared_deadlines=[("m-1", "russia"), ("m-1", "relief"), ("m-2", "coalition")],
        )
    )
    assert store.due_deadlines(T0 + 1000) == [deadline("m-1", "russia", T0 + 70, level=3)]
    store.commit(Changes(cleared_deadlines=[("m-1", "russia")]))
    assert store.next_deadline_s() is None
    assert store.due_deadlines(math.inf) == []


# ---------------------------------------------------------------------------- streams


def test_events_per_party_with_increasing_cursors(store: Store) -> None:
    store.commit(Changes(events=[event("russia", 1), event("coalition", 2)]))
    store.commit(Changes(events=[event("russia", 3, "ack")]))
    russia = store.events("russia")
    assert [(e.cursor, e.type, e.data) for e in russia] == [
        (1, "message", {"n": 1, "label": "event 1"}),
        (3, "ack", {"n": 3, "label": "event 3"}),
    ]
    assert russia[1] == dataclasses.replace(event("russia", 3, "ack"), cursor=3)
    assert [e.cursor for e in store.events("coalition")] == [2]
    assert [e.cursor for e in store.events("russia", after=1)] == [3]
    assert [e.cursor for e in store.events("russia", limit=1)] == [1]
    assert store.events("russia", after=3) == []
    assert store.events("relief") == []
    assert store.last_cursor() == 3


_PARTIES = ("alpha", "bravo", "charlie")
_op: st.SearchStrategy[tuple[str, str, list[str]]] = st.one_of(
    st.tuples(
        st.just("message"),
        st.sampled_from(_PARTIES),
        st.lists(st.sampled_from(_PARTIES), min_size=1, max_size=3),
    ),
    st.tuples(st.just("event"), st.sampled_from(_PARTIES), st.just([])),
)


@_EXAMPLES
@given(commits=st.lists(st.lists(_op, max_size=6), min_size=1, max_size=8), data=st.data())
def test_paging_in_any_page_sizes_gives_every_item_once_in_order(
    backend: Backend, commits: list[list[tuple[str, str, list[str]]]], data: st.DataObject
) -> None:
    store = backend.new()
    inbox: dict[str, list[str]] = {p: [] for p in _PARTIES}
    sent: dict[str, list[str]] = {p: [] for p in _PARTIES}
    events: dict[str, list[int]] = {p: [] for p in _PARTIES}
    seqs: list[int] = []
    cursors: list[int] = []
    n = 0
    for ops in commits:
        changes = Changes()
        for kind, party, to in ops:
            n += 1
            if kind == "message":
                changes.messages.append(message(f"m-{n}", sender=party, to=tuple(to)))
            else:
                changes.events.append(event(party, n))
        done = store.commit(changes)
        for m in done.messages:
            seqs.append(m.seq)
            sent[m.sender].append(m.id)
            for p in dict.fromkeys(m.to):
                inbox[p].append(m.id)
        for e in done.events:
            cursors.append(e.cursor)
            events[e.party].append(e.cursor)
    assert seqs == list(range(1, len(seqs) + 1))
    assert cursors == list(range(1, len(cursors) + 1))
    assert store.last_cursor() == len(cursors)

    def page_through(read: Callable[..., list[Any]], key: Callable[[Any], int]) -> list[Any]:
        got: list[Any] = []
        after = 0
        while True:
            limit = data.draw(st.integers(1, 4), label="page size")
            page = read(after=after, limit=limit)
            assert len(page) <= limit
            if not page:
                return got
            got.extend(page)
            after = key(page[-1])

    for p in _PARTIES:
        got_inbox = page_through(functools.partial(store.inbox, p), lambda m: m.seq)
        assert ids(got_inbox) == inbox[p]
        got_sent = page_through(functools.partial(store.sent, p), lambda m: m.seq)
        assert ids(got_sent) == sent[p]
        got_events = page_through(functools.partial(store.events, p), lambda e: e.cursor)
        assert [e.cursor for e in got_events] == events[p]
    store.close()


# ---------------------------------------------------------------------------- concurrency


def test_concurrent_commits_and_reads_never_show_a_gap(backend: Backend) -> None:
    """Writers commit messages and events to one party while readers page its streams: every
    read is a gap-free prefix 1..k, and every seq is given once."""
    store = backend.new()
    writers, commits_each = 4, 25
    stop = threading.Event()
    seen_lengths: list[int] = []

    def write(w: int) -> list[int]:
        seqs: list[int] = []
        for k in range(commits_each):
            done = store.commit(
                Changes(
                    messages=[message(f"m-{w}-{k}", sender=f"w{w}", to=("hq",))],
                    events=[event("hq", w * 1000 + k)],
                )
            )
            seqs.extend(m.seq for m in done.messages)
        return seqs

    def read() -> None:
        while not stop.is_set():
            inbox = [m.seq for m in store.inbox("hq", limit=10_000)]
            assert inbox == list(range(1, len(inbox) + 1))
            cursors = [e.cursor for e in store.events("hq", limit=10_000)]
            assert cursors == list(range(1, len(cursors) + 1))
            assert store.last_cursor() >= len(cursors)
            seen_lengths.append(len(inbox))

    with ThreadPoolExecutor(max_workers=writers + 2) as pool:
        readers = [pool.submit(read) for _ in range(2)]
        written = [pool.submit(write, w) for w in range(writers)]
        seqs = [s for f in written for s in f.result()]
        stop.set()
        for r in readers:
            r.result()  # a reader's failed assertion fails the test here
    total = writers * commits_each
    assert sorted(seqs) == list(range(1, total + 1))
    assert len(store.inbox("hq", limit=10_000)) == total
    assert store.last_cursor() == total
    assert seen_lengths  # the readers did read


# ---------------------------------------------------------------------------- lifecycle


def test_a_closed_store_refuses_calls(backend: Backend) -> None:
    store = backend.new()
    store.close()
    store.close()  # a second close does nothing
    with pytest.raises(SkyparleyError, match="closed"):
        store.commit(Changes(messages=[message("m-1")]))
    with pytest.raises(SkyparleyError, match="closed"):
        store.inbox("coalition")


def test_everything_survives_close_and_reopen(durable: Backend) -> None:
    store = durable.new()
    store.commit(
        Changes(
            tokens=[token("t-1"), token("t-2", "coalition")],
            notices=[notice(), notice(version=2, state="active"), notice("coalition", "co-1")],
            protected_areas=[area()],
            findings=[finding("f-1")],
            messages=[message("m-1"), message("m-2", sender="coalition", to=("russia",))],
            acks=[ack("m-1", "coalition")],
            escalations=[escalation("m-2", "russia", 1)],
            deadlines=[deadline("m-2", "russia", T0 + 600, level=2)],
            events=[event("coalition", 1), event("russia", 2)],
        )
    )
    store.commit(Changes(revoked_tokens=[("t-2", T0 + 9)], events=[event("russia", 3)]))
    before = snapshot(store)
    details = (
        store.notice_versions("russia", "ru-1"),
        store.acks("m-1"),
        store.escalations("m-2"),
        store.thread("m-1"),
        store.deadline("m-2", "russia"),
        store.next_deadline_s(),
    )

    store = durable.reopen(store)
    assert snapshot(store) == before
    assert (
        store.notice_versions("russia", "ru-1"),
        store.acks("m-1"),
        store.escalations("m-2"),
        store.thread("m-1"),
        store.deadline("m-2", "russia"),
        store.next_deadline_s(),
    ) == details
    # Seqs and cursors go on from where they were, and the keys are still taken.
    done = store.commit(Changes(messages=[message("m-3")], events=[event("coalition", 4)]))
    assert done.messages[0].seq == 3
    assert done.events[0].cursor == 4
    with pytest.raises(ConflictError, match="message m-1"):
        store.commit(Changes(messages=[message("m-1")]))

    store = durable.reopen(store)
    assert [m.seq for m in store.inbox("coalition")] == [1, 3]
    assert store.commit(Changes(events=[event("relief", 5)])).events[0].cursor == 5


def test_seq_and_cursor_are_not_reused_after_a_refused_commit_and_a_reopen(
    durable: Backend,
) -> None:
    store = durable.new()
    store.commit(Changes(messages=[message("m-1")], events=[event("russia", 1)]))
    with pytest.raises(ConflictError):
        store.commit(
            Changes(messages=[message("m-2"), message("m-1")], events=[event("russia", 2)])
        )
    store = durable.reopen(store)
    done = store.commit(Changes(messages=[message("m-2")], events=[event("russia", 2)]))
    assert (done.messages[0].seq, done.events[0].cursor) == (2, 2)


# ---------------------------------------------------------------------------- SQLite's own


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _store_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return store_schema_version(conn)
    finally:
        conn.close()


class _Clock:
    def now_s(self) -> float:
        return T0


def _ledger(path: Path) -> SqliteLedger:
    return SqliteLedger(
        path, service_key=SERVICE, origin=ORIGIN, keyring=keyring(1), clock=_Clock()
    )


def test_the_ledger_and_the_store_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "skyparley.db"
    party = party_name(0)
    # The store first: it leaves the ledger's user_version alone.
    with SqliteStore(path) as store:
        store.commit(Changes(messages=[message("m-1")], events=[event("russia", 1)]))
    assert _user_version(path) == 0
    assert _store_version(path) == len(MIGRATIONS)

    signed, prev = signed_chain_entry(party, 0, None)
    with _ledger(path) as ledger, SqliteStore(path) as store:
        receipt = ledger.append(signed)
        store.commit(Changes(messages=[message("m-2")], events=[event("russia", 2)]))
        assert receipt.leaf_index == 0
    assert _user_version(path) == len(LEDGER_SCHEMA)
    assert _store_version(path) == len(MIGRATIONS)

    # Reopened, in the other order: each finds its own data and its own schema version.
    with SqliteStore(path) as store, _ledger(path) as ledger:
        assert store.schema_found == len(MIGRATIONS)
        assert ids(store.inbox("coalition")) == ["m-1", "m-2"]
        assert [e.cursor for e in store.events("russia")] == [1, 2]
        assert ledger.size() == 1
        assert ledger.entry(0).signed == signed
        ledger.append(signed_chain_entry(party, 1, prev)[0])
        done = store.commit(Changes(messages=[message("m-3")]))
        assert done.messages[0].seq == 3
        assert ledger.size() == 2
    assert _user_version(path) == len(LEDGER_SCHEMA)
    assert _store_version(path) == len(MIGRATIONS)


def test_a_version_1_store_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    from skyparley.adapters._sqlite import connect_writer
    from skyparley.adapters.store_sqlite import _migrate

    path = tmp_path / "store.db"
    conn = connect_writer(path)
    _migrate(conn, MIGRATIONS[:1])  # the schema as version 1 left it
    conn.execute(
        "INSERT INTO findings (id, reader, notice, data, created_s, message_id)"
        " VALUES ('f-1', 'coalition', 'russia/ru-1@1', '{}', 0, 'm-1')"
    )
    conn.close()
    assert _store_version(path) == 1
    with SqliteStore(path) as store:
        assert store.schema_found == 1
        assert [(f.id, f.other_ref) for f in store.findings("coalition")] == [("f-1", None)]
        store.commit(Changes(incidents=[incident("i-1", T0)]))
        assert [i.id for i in store.incidents("russia")] == ["i-1"]
    assert _store_version(path) == len(MIGRATIONS) == 2


def test_a_store_newer_than_this_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE store_schema SET version = ? WHERE id = 1", (len(MIGRATIONS) + 1,))
    conn.close()
    with pytest.raises(SkyparleyError, match="newer than this skyparley"):
        SqliteStore(path)


def test_the_store_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteStore(path):
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    assert {"store_schema", "messages", "recipients", "events", "deadlines"} <= tables
    assert not {"meta", "leaves", "nodes", "checkpoints", "cosignatures"} & tables


def test_inbox_events_and_due_deadlines_use_their_indexes(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    queries = {
        "SELECT m.seq FROM recipients r JOIN messages m ON m.seq = r.seq"
        " WHERE r.party = ? AND r.seq > ? ORDER BY r.seq LIMIT ?": ("hq", 0, 10),
        "SELECT cursor FROM events WHERE party = ? AND cursor > ? ORDER BY cursor LIMIT ?": (
            "hq",
            0,
            10,
        ),
        "SELECT message_id FROM deadlines WHERE due_s <= ?"
        " ORDER BY due_s, message_id, party LIMIT ?": (T0, 10),
    }
    with SqliteStore(path):
        conn = sqlite3.connect(path)
        try:
            for sql, params in queries.items():
                plan = " ".join(
                    str(row[-1]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)
                )
                assert "SCAN" not in plan, (sql, plan)
                assert "TEMP B-TREE" not in plan, (sql, plan)
        finally:
            conn.close()

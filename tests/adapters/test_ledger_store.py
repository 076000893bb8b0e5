"""The SQLite ledger store: receipts, idempotency, refusals, reopen, proofs, concurrency.

The durability under SIGKILL is tested by ``tests/adapters/ledger_harness.py`` (the last
tests here run it).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.adapters.ledger_harness import HarnessResult, run_harness

from skyparley.adapters.ledger_store import LedgerReader, SqliteLedger
from skyparley.domain.ledger import (
    COSIGNATURE_V1,
    Entry,
    KeyRing,
    MemoryTree,
    Receipt,
    SignedEntry,
    SigningKey,
    VerifierKey,
    Witness,
    entry_hash,
    inclusion_proof,
    leaf_hash,
    open_checkpoint,
    parse_note,
    sign_entry,
    tree_root,
    verify_consistency,
    verify_inclusion,
    verify_receipt,
)
from skyparley.domain.ports import LedgerStore
from skyparley.errors import LedgerError, LedgerInputError, SkyparleyError, VerificationError

LOG = "skyparley.example/syria-2015"
SERVICE = SigningKey.from_seed(LOG, bytes(range(32)))
PARTY_KEYS = {
    name: SigningKey.from_seed(name, bytes([n + 1]) * 32)
    for n, name in enumerate(["blue", "red", *(f"p{i}" for i in range(8))])
}
RING = KeyRing([k.verifier for k in PARTY_KEYS.values()])


class ManualClock:
    """A clock the test sets."""

    def __init__(self, t: float = 1_444_467_600.0) -> None:
        self.t = t

    def now_s(self) -> float:
        return self.t


class Author:
    """A party writing its chain of entries."""

    def __init__(self, party: str, log_id: str = LOG) -> None:
        self.party = party
        self.key = PARTY_KEYS[party]
        self.log_id = log_id
        self.prev: str | None = None
        self.n = 0

    def next(self, **kw: object) -> SignedEntry:
        """The next entry of the chain, signed (the chain moves on)."""
        fields: dict[str, object] = {
            "log_id": self.log_id,
            "party": self.party,
            "kind": "text",
            "client_time": f"2015-10-10T09:{self.n % 60:02d}:00Z",
            "prev": self.prev,
            "idem": f"{self.party}-{self.n}",
            "body": {"text": f"message {self.n}", "lang": "en"},
        }
        fields.update(kw)
        e = Entry(**fields)  # type: ignore[arg-type]
        self.prev = entry_hash(e)
        self.n += 1
        return sign_entry(e, self.key)


def open_ledger(path: Path, clock: ManualClock | None = None, **kw: object) -> SqliteLedger:
    return SqliteLedger(
        path,
        service_key=kw.pop("service_key", SERVICE),  # type: ignore[arg-type]
        origin=kw.pop("origin", LOG),  # type: ignore[arg-type]
        keyring=RING,
        clock=clock or ManualClock(),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SqliteLedger]:
    with open_ledger(tmp_path / "ledger.db") as store:
        yield store


def test_the_sqlite_ledger_is_a_ledger_store(ledger: SqliteLedger) -> None:
    store: LedgerStore = ledger
    assert store.origin == LOG


def test_a_new_log_has_a_signed_empty_checkpoint(ledger: SqliteLedger) -> None:
    assert ledger.size() == 0
    cp = open_checkpoint(ledger.checkpoint(), SERVICE.verifier).checkpoint
    assert (cp.origin, cp.size) == (LOG, 0)
    assert ledger.checkpoint_sizes() == [0]


def test_receipts_verify_offline_against_a_stored_checkpoint(ledger: SqliteLedger) -> None:
    blue = Author("blue")
    signed = [blue.next() for _ in range(5)]
    for n, s in enumerate(signed):
        receipt = ledger.append(s)
        assert receipt.leaf_index == n
        cp = verify_receipt(receipt, s.leaf_bytes(), SERVICE.verifier).checkpoint
        assert cp.size == n + 1
        assert ledger.checkpoint(cp.size).text == parse_note(receipt.checkpoint).text
    assert ledger.size() == 5
    assert ledger.leaf(3) == signed[3].leaf_bytes()
    assert ledger.entry(3).signed == signed[3]
    # The receipt survives a JSON round trip and still verifies.
    again = type(receipt).from_json(receipt.to_json())
    verify_receipt(again, signed[-1].leaf_bytes(), SERVICE.verifier)


def test_a_receipt_does_not_verify_for_another_leaf(ledger: SqliteLedger) -> None:
    blue = Author("blue")
    a, b = blue.next(), blue.next()
    ra = ledger.append(a)
    ledger.append(b)
    with pytest.raises(VerificationError, match="leaf hash"):
        verify_receipt(ra, b.leaf_bytes(), SERVICE.verifier)


def test_a_retry_returns_the_original_leaf_and_no_second_one(ledger: SqliteLedger) -> None:
    blue, red = Author("blue"), Author("red")
    first = blue.next()
    original = ledger.append(first)
    assert ledger.append(first).leaf_index == original.leaf_index == 0
    for _ in range(3):
        ledger.append(red.next())
        ledger.append(blue.next())
    late = ledger.append(first)  # a retry after the log moved on
    assert late.leaf_index == 0
    assert ledger.size() == 7
    # Both receipts verify: the original against its checkpoint, the retry against the latest.
    assert verify_receipt(original, first.leaf_bytes(), SERVICE.verifier).checkpoint.size == 1
    assert verify_receipt(late, first.leaf_bytes(), SERVICE.verifier).checkpoint.size == 7


def test_a_reused_idempotency_key_for_another_entry_is_refused(ledger: SqliteLedger) -> None:
    blue = Author("blue")
    ledger.append(blue.next())
    other = Author("blue")  # restarts the chain: same idem "blue-0", other content
    with pytest.raises(LedgerInputError, match="already used idempotency key 'blue-0'") as exc:
        ledger.append(other.next(body={"text": "something else"}))
    assert exc.value.field == "idem"
    assert ledger.size() == 1


def test_the_same_entry_twice_in_one_batch_gets_one_leaf(tmp_path: Path) -> None:
    entered, gate = threading.Event(), threading.Event()

    def hold(_conn: sqlite3.Connection) -> None:
        entered.set()
        assert gate.wait(10)

    with open_ledger(tmp_path / "l.db") as store:
        # Hold the writer in a call so that the appends below queue up for one group commit.
        blocker = threading.Thread(target=store._call, args=(hold,))
        blocker.start()
        assert entered.wait(10)
        s = Author("blue").next()
        futures = [store.submit(s) for _ in range(3)]
        gate.set()
        blocker.join()
        receipts = [f.result(10) for f in futures]
        assert {r.leaf_index for r in receipts} == {0}
        assert store.batches == 1
        assert store.size() == 1
        for r in receipts:
            verify_receipt(r, s.leaf_bytes(), SERVICE.verifier)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: sign_entry(Author("blue").next().entry, PARTY_KEYS["red"]), "key id"),
        (
            lambda: SignedEntry(
                canonical=(s := Author("blue").next()).canonical,
                signature=bytes([s.signature[0] ^ 1]) + s.signature[1:],
                key_id=s.key_id,
            ),
            "does not verify",
        ),
        (lambda: Author("blue", log_id="other.example/log").next(), "not skyparley"),
        (
            lambda: sign_entry(
                Author("blue").next(party="green").entry, SigningKey.from_seed("green", bytes(32))
            ),
            "no key",
        ),
    ],
    ids=["key-of-another-party", "flipped-bit", "another-log", "unknown-party"],
)
def test_a_bad_signature_is_refused_and_nothing_is_written(
    ledger: SqliteLedger, make: object, match: str
) -> None:
    with pytest.raises(VerificationError, match=match):
        ledger.append(make())  # type: ignore[operator]
    assert ledger.size() == 0


def test_a_broken_chain_is_refused(ledger: SqliteLedger) -> None:
    blue = Author("blue")
    ledger.append(blue.next())
    skipped = blue.next()  # never appended: the next entry's prev is a hash the log lacks
    with pytest.raises(VerificationError, match="entry chain") as exc:
        ledger.append(blue.next())
    assert "party blue, idem blue-2" in str(exc.value)
    with pytest.raises(VerificationError, match="but the party's last entry hashes to null"):
        ledger.append(Author("red").next(prev="0" * 64))
    assert ledger.size() == 1
    ledger.append(skipped)  # the chain goes on once the missing link comes
    assert ledger.size() == 2


def test_proofs_and_chains_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    blue, red = Author("blue"), Author("red")
    with open_ledger(path) as store:
        receipts = [(s, store.append(s)) for s in (blue.next(), red.next(), blue.next())]
    with open_ledger(path) as store:
        assert store.size() == 3
        for s, r in receipts:  # old receipts still verify, their checkpoints are kept
            verify_receipt(r, s.leaf_bytes(), SERVICE.verifier)
            assert store.checkpoint(r.leaf_index + 1).text == parse_note(r.checkpoint).text
        with pytest.raises(VerificationError, match="entry chain"):
            store.append(Author("blue").next(idem="fresh"))  # the chain head came from disk
        s = blue.next()
        r = store.append(s)
        assert r.leaf_index == 3
        latest = open_checkpoint(store.checkpoint(), SERVICE.verifier).checkpoint
        for i in range(4):
            proof = store.inclusion_proof(i, 4)
            verify_inclusion(leaf_hash(store.leaf(i)), i, 4, proof, latest.root_hash)


def test_reopening_with_another_origin_or_service_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    open_ledger(path).close()
    with pytest.raises(LedgerInputError, match="is the log"):
        open_ledger(path, origin="other.example/log")
    with pytest.raises(LedgerInputError, match="is signed by"):
        open_ledger(path, service_key=SigningKey.from_seed(LOG, bytes(32)))


def test_the_schema_is_versioned_and_a_newer_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    open_ledger(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.execute("PRAGMA user_version=2")
    with pytest.raises(SkyparleyError, match="newer than this skyparley"):
        open_ledger(path)


def test_stored_tree_matches_the_reference_across_batches(ledger: SqliteLedger) -> None:
    authors = [Author(p) for p in ("blue", "red", "p0")]
    reference = MemoryTree()
    for batch in (1, 2, 5, 3, 8, 16, 1, 27, 64, 4):  # odd batch ends cross subtree edges
        signed = [authors[i % 3].next() for i in range(batch)]
        ledger.bulk_append(signed)
        for s in signed:
            reference.append(s.leaf_bytes())
    size = reference.size
    assert ledger.size() == size
    sizes = ledger.checkpoint_sizes()
    assert sizes == [0, 1, 3, 8, 11, 19, 35, 36, 63, 127, 131]
    for n in sizes:
        cp = open_checkpoint(ledger.checkpoint(n), SERVICE.verifier).checkpoint
        assert cp.root_hash == tree_root(reference, n) == ledger.root(n)
    for i in range(size):
        for n in (i + 1, size):
            assert ledger.inclusion_proof(i, n) == inclusion_proof(i, n, reference)


def test_consistency_proofs_between_checkpoints_verify(ledger: SqliteLedger) -> None:
    blue = Author("blue")
    for batch in (3, 1, 4, 1, 5, 9):
        ledger.bulk_append([blue.next() for _ in range(batch)])
    cps = [
        open_checkpoint(ledger.checkpoint(s), SERVICE.verifier).checkpoint
        for s in ledger.checkpoint_sizes()
        if s
    ]
    for old in cps:
        for new in cps:
            if old.size <= new.size:
                proof = ledger.consistency_proof(old.size, new.size)
                verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
    proof = ledger.consistency_proof(4, 23)
    with pytest.raises(VerificationError, match="does not lead"):  # size 3 root, not 4
        verify_consistency(4, 23, cps[0].root_hash, cps[-1].root_hash, proof)


def test_cosignatures_are_verified_stored_and_served(ledger: SqliteLedger) -> None:
    blue = Author("blue")
    ledger.append(blue.next())
    witness = Witness(
        key=PARTY_KEYS["red"].with_type(COSIGNATURE_V1), log_key=SERVICE.verifier, origin=LOG
    )
    step = witness.cosign(ledger.checkpoint(1), (), time_s=1_444_467_600)
    assert ledger.store_cosignature(1, "red", step.cosignature.to_line()) is True
    assert ledger.store_cosignature(1, "red", step.cosignature.to_line()) is True  # kept once
    later = witness.cosign(ledger.checkpoint(1), (), time_s=1_444_467_601).cosignature
    assert ledger.store_cosignature(1, "red", later.to_line()) is False  # the first stays
    assert ledger.cosignatures(1) == [step.cosignature]
    signed = open_checkpoint(
        ledger.checkpoint(1),
        SERVICE.verifier,
        witnesses=[PARTY_KEYS["red"].verifier.with_type(COSIGNATURE_V1)],
        quorum=1,
    )
    assert signed.cosignatures[0].time_s == 1_444_467_600
    # blue's key cannot pass for red's, and a cosignature of another size does not verify.
    blue_line = (
        Witness(
            key=PARTY_KEYS["blue"].with_type(COSIGNATURE_V1), log_key=SERVICE.verifier, origin=LOG
        )
        .cosign(ledger.checkpoint(1), (), time_s=1)
        .cosignature.to_line()
    )
    with pytest.raises(VerificationError, match="not by the party's cosigning key"):
        ledger.store_cosignature(1, "red", blue_line)
    with pytest.raises(VerificationError, match="does not verify"):
        ledger.store_cosignature(0, "red", step.cosignature.to_line())
    with pytest.raises(LedgerInputError, match="no checkpoint at size 5"):
        ledger.store_cosignature(5, "red", step.cosignature.to_line())
    assert ledger.cosignatures(0) == []


def test_a_cosignature_timed_before_its_checkpoint_or_far_ahead_is_refused(
    tmp_path: Path,
) -> None:
    """A party's first cosignature of a size is kept for good, and a verifier holds every
    entry of a cosigned checkpoint to have been logged by the cosignature's time: one timed
    before that made every later export fail verification. Refused now, as is one timed
    far ahead of the service's clock, and a line that is several lines."""
    clock = ManualClock(10_000.0)
    with open_ledger(tmp_path / "l.db", clock) as store:
        store.append(Author("blue").next())
        witness = Witness(
            key=PARTY_KEYS["red"].with_type(COSIGNATURE_V1), log_key=SERVICE.verifier, origin=LOG
        )

        def line(time_s: int) -> str:
            return witness.cosign(store.checkpoint(1), (), time_s=time_s).cosignature.to_line()

        with pytest.raises(LedgerInputError, match="before the log held size 1") as early:
            store.store_cosignature(1, "red", line(9_999))
        assert early.value.field == "cosignature"
        with pytest.raises(LedgerInputError, match="after the service's clock"):
            store.store_cosignature(1, "red", line(10_000 + 301))
        with pytest.raises(LedgerInputError, match="one signature line"):
            store.store_cosignature(1, "red", line(10_000) + "\n" + line(10_001))
        assert store.cosignatures(1) == []
        store.store_cosignature(1, "red", line(10_000 + 299))  # a clock a little ahead
        assert len(store.cosignatures(1)) == 1


def test_entries_by_logged_time(tmp_path: Path) -> None:
    clock = ManualClock(1000.0)
    with open_ledger(tmp_path / "l.db", clock) as store:
        blue = Author("blue")
        for t in (1000.0, 1010.0, 1020.0, 1030.0):
            clock.t = t
            store.append(blue.next())
        got = store.entries(1010.0, 1030.0)
        assert [(e.index, e.logged_s) for e in got] == [(1, 1010.0), (2, 1020.0)]
        assert [e.index for e in store.entries()] == [0, 1, 2, 3]
        assert [e.index for e in store.entries(from_s=1025.0)] == [3]
        assert got[0].signed.entry.idem == "blue-1"


class GatedKey(SigningKey):
    """A service key whose signing waits on a gate: holds the writer inside its transaction."""

    gate: threading.Event
    entered: threading.Event

    def sign(self, message: bytes) -> bytes:
        self.entered.set()
        assert self.gate.wait(10)
        return super().sign(message)


def test_readers_see_committed_data_only(tmp_path: Path) -> None:
    key = GatedKey(name=LOG, private_key=SERVICE.private_key)
    object.__setattr__(key, "gate", threading.Event())
    object.__setattr__(key, "entered", threading.Event())
    key.gate.set()
    with open_ledger(tmp_path / "l.db", service_key=key) as store:
        blue = Author("blue")
        store.append(blue.next())
        key.gate.clear()
        key.entered.clear()
        pending = store.submit(blue.next())
        assert key.entered.wait(10)  # the leaf is inserted, the checkpoint being signed
        assert store.size() == 1
        with pytest.raises(LedgerInputError, match="no leaf 1"):
            store.leaf(1)
        assert open_checkpoint(store.checkpoint(), SERVICE.verifier).checkpoint.size == 1
        assert not pending.done()  # no receipt before the commit
        key.gate.set()
        receipt = pending.result(10)
        assert store.size() == 2
        assert receipt.leaf_index == 1


def test_many_threads_get_distinct_leaves_and_valid_receipts(tmp_path: Path) -> None:
    parties = [f"p{i}" for i in range(8)]
    per = 40
    with open_ledger(tmp_path / "l.db") as store:

        def run(party: str) -> list[tuple[SignedEntry, Receipt]]:
            author = Author(party)
            out = []
            for _ in range(per):
                s = author.next()
                out.append((s, store.append(s)))
            return out

        with ThreadPoolExecutor(len(parties)) as pool:
            results = [r for chunk in pool.map(run, parties) for r in chunk]
        assert sorted(r.leaf_index for _, r in results) == list(range(len(parties) * per))
        for s, r in results:
            verify_receipt(r, s.leaf_bytes(), SERVICE.verifier)
        assert store.batches < len(results)  # some appends shared a group commit
        size = store.size()
        reference = MemoryTree()
        for i in range(size):
            reference.append(store.leaf(i))
        assert ledger_root(store) == reference.root()


def ledger_root(store: SqliteLedger) -> bytes:
    cp = open_checkpoint(store.checkpoint(), SERVICE.verifier).checkpoint
    return cp.root_hash


def test_a_closed_store_refuses_appends(tmp_path: Path) -> None:
    store = open_ledger(tmp_path / "l.db")
    store.close()
    store.close()  # twice is fine
    with pytest.raises(LedgerError, match="closed"):
        store.append(Author("blue").next())


def test_a_refused_bulk_batch_writes_nothing(ledger: SqliteLedger) -> None:
    blue = Author("blue")
    good = [blue.next() for _ in range(3)]
    ledger.bulk_append(good)
    batch = [blue.next(), blue.next()]
    Author("blue")
    broken = Author("blue").next(idem="x", prev="f" * 64)
    with pytest.raises(VerificationError, match="entry chain"):
        ledger.bulk_append([*batch, broken])
    assert ledger.size() == 3
    assert ledger.bulk_append(batch) == 5


# ----------------------------------------------------------------------------- durability


def _assert_clean(result: HarnessResult) -> None:
    assert result.lost == 0, result.summary()
    assert result.duplicated == 0, result.summary()
    assert result.unanchored == 0, result.summary()
    assert result.bad_receipts == 0, result.summary()
    assert result.tree_errors == 0, result.summary()
    assert result.client_errors == 0, result.summary()


@pytest.mark.slow
def test_no_acknowledged_entry_is_lost_or_duplicated_over_sigkills(tmp_path: Path) -> None:
    result = run_harness(
        tmp_path, clients=3, entries=100, kills=10, pace_s=0.02, seed=4, deadline_s=90.0
    )
    assert result.kills == 10
    assert result.kills_under_load == 10, result.summary()
    assert result.receipts == 300
    _assert_clean(result)
    assert result.leaves == 300


@pytest.mark.slow
def test_the_harness_catches_a_server_that_acks_before_it_commits(tmp_path: Path) -> None:
    result = run_harness(
        tmp_path,
        clients=3,
        entries=50,
        kills=3,
        seed=5,
        ack_before_commit_s=0.3,
        min_up_s=0.15,
        max_up_s=0.45,
        deadline_s=60.0,
    )
    assert result.lost > 0, result.summary()


def test_the_log_records_party_keys_and_protocol_hash_for_export(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with open_ledger(path, protocol_hash="ab" * 32) as store:
        store.append(Author("blue").next())
    with LedgerReader(path) as reader:
        assert reader.origin == LOG
        assert reader.service_key == SERVICE.verifier.to_text()
        assert reader.party_keys == {p: k.verifier.to_text() for p, k in PARTY_KEYS.items()}
        assert reader.protocol_hash == "ab" * 32
        with reader.snapshot():
            assert reader.latest_size() == 1
            reader.check_leaves(1)
    # another key for a party the log already knows is refused on open
    other = SigningKey.from_seed("blue", bytes([99]) * 32).verifier
    ring = KeyRing([other, *(k.verifier for p, k in PARTY_KEYS.items() if p != "blue")])
    with pytest.raises(LedgerInputError, match="party blue's key") as exc:
        SqliteLedger(path, service_key=SERVICE, origin=LOG, keyring=ring, clock=ManualClock())
    assert exc.value.field == "keyring"


def test_the_reader_refuses_what_is_not_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(LedgerInputError, match="no such ledger file"):
        LedgerReader(tmp_path / "none.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(LedgerInputError, match="not a ledger database"):
        LedgerReader(junk)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(LedgerInputError, match="is not a skyparley ledger"):
        LedgerReader(empty)


def test_entries_the_service_key_signed_here_are_not_verified_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = KeyRing([SERVICE.verifier, *RING.values()])
    ledger = SqliteLedger(
        tmp_path / "l.db", service_key=SERVICE, origin=LOG, keyring=ring, clock=ManualClock()
    )
    verified: list[str] = []
    real = VerifierKey.verify

    def counting(self: VerifierKey, message: bytes, signature: bytes) -> bool:
        verified.append(self.name)
        return real(self, message, signature)

    monkeypatch.setattr(VerifierKey, "verify", counting)

    def service_entry(n: int, prev: str | None) -> Entry:
        body = {"n": n}
        return Entry(LOG, SERVICE.name, "finding", "2015-10-10T09:00:00Z", prev, f"s-{n}", body)

    with ledger:
        own = sign_entry(service_entry(0, None), SERVICE)
        assert own.signed_by is SERVICE
        ledger.append(own)
        assert verified == []  # signed by the ledger's own key object, here: taken as is
        # the same bytes without the mark, or signed by an equal key held elsewhere: verified
        again = service_entry(1, own.hash)
        twin = SigningKey.from_seed(LOG, bytes(range(32)))
        ledger.append(sign_entry(again, twin))
        plain = sign_entry(service_entry(2, entry_hash(again)), SERVICE)
        ledger.append(SignedEntry(plain.canonical, plain.signature, plain.key_id))
        assert verified == [SERVICE.name, SERVICE.name]
        ledger.append(Author("blue").next())
        assert verified[-1] == "blue"
        # a party's entry is always verified, even one the service key signed
        forged = sign_entry(
            Entry(LOG, "red", "text", "2015-10-10T09:00:00Z", None, "r-0", {"t": 1}), SERVICE
        )
        with pytest.raises(VerificationError):
            ledger.append(forged)

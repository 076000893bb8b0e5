"""Ledger bundles: the format round-trips, verification names the first bad entry or
checkpoint, held checkpoints are checked, and the timeline states acknowledgements honestly."""

from __future__ import annotations

import dataclasses
import json

import pytest

from skyparley.domain.ledger import (
    COSIGNATURE_V1,
    Checkpoint,
    Entry,
    MemoryTree,
    Note,
    SigningKey,
    consistency_proof,
    cosign_checkpoint,
    entry_hash,
    inclusion_proof,
    sign_checkpoint,
    sign_entry,
)
from skyparley.domain.ledger.bundle import (
    AckRule,
    Bundle,
    BundleEntry,
    ConsistencyProof,
    HeldCheckpoint,
    format_timeline,
    select_checkpoint_sizes,
    timeline,
    verify_bundle,
)
from skyparley.domain.times import format_time
from skyparley.errors import LedgerInputError

ORIGIN = "log.example/test"
SERVICE = SigningKey.from_seed("log.example", bytes(32))
KEYS = {p: SigningKey.from_seed(p, bytes([n + 1]) * 32) for n, p in enumerate(["blue", "red"])}
T0 = 1_444_467_600.0


class Log:
    """An in-memory log: entries, a checkpoint after each one, cosignatures on demand."""

    def __init__(self) -> None:
        self.tree = MemoryTree()
        self.leaves: list[bytes] = []
        self.logged: list[float] = []
        self.hashes: list[str] = []
        self.heads: dict[str, str | None] = {}
        self.notes: dict[int, Note] = {}

    def add(self, party: str, kind: str, body: object, minute: float, **kw: object) -> str:
        t = T0 + 60 * minute
        entry = Entry(
            log_id=kw.get("log_id", ORIGIN),  # type: ignore[arg-type]
            party=party,
            kind=kind,
            client_time=format_time(t),
            prev=self.heads.get(party),
            idem=f"{party}-{len(self.leaves)}",
            body=body,  # type: ignore[arg-type]
        )
        self.heads[party] = entry_hash(entry)
        leaf = sign_entry(entry, KEYS[party]).leaf_bytes()
        self.tree.append(leaf)
        self.leaves.append(leaf)
        self.logged.append(t)
        self.hashes.append(entry_hash(entry))
        size = len(self.leaves)
        self.notes[size] = sign_checkpoint(Checkpoint(ORIGIN, size, self.tree.root()), SERVICE)
        return self.hashes[-1]

    def cosign(self, size: int, party: str, minute: float) -> None:
        key = KEYS[party].with_type(COSIGNATURE_V1)
        sig = cosign_checkpoint(self.notes[size], key, time_s=int(T0 + 60 * minute))
        self.notes[size] = self.notes[size].with_signatures(sig)

    def bundle(self, lo: int = 0, hi: int | None = None, sizes: list[int] | None = None) -> Bundle:
        latest = len(self.leaves)
        hi = latest if hi is None else hi
        sizes = sorted(self.notes) if sizes is None else sizes
        return Bundle(
            origin=ORIGIN,
            service_key=SERVICE.verifier.to_text(),
            party_keys={p: k.verifier.to_text() for p, k in KEYS.items()},
            protocol_hash=None,
            exported_s=self.logged[-1] + 1,
            first_index=lo,
            end_index=hi,
            entries=tuple(
                BundleEntry(i, leaf, t, inclusion_proof(i, latest, self.tree))
                for i, (leaf, t) in enumerate(zip(self.leaves, self.logged, strict=True))
                if lo <= i < hi
            ),
            checkpoints=tuple(str(self.notes[s]) for s in sizes),
            consistency=tuple(
                ConsistencyProof(s, latest, consistency_proof(s, latest, self.tree))
                for s in sizes
                if 0 < s < latest
            ),
        )


def five() -> Log:
    """blue notifies red (deadline 10 min); red acks; red texts; blue texts twice."""
    log = Log()
    notice = log.add("blue", "notice", {"to": ["red"], "deadline_s": 600, "text": "ops"}, 0)
    log.cosign(1, "red", 1)
    log.add("red", "ack", {"acks": notice}, 3)
    log.add("red", "text", {"text": "hello"}, 4)
    log.add("blue", "text", {"text": "more"}, 5)
    log.add("blue", "text", {"text": "end"}, 20)
    log.cosign(5, "red", 21)
    return log


def test_a_bundle_round_trips_through_its_file_bytes() -> None:
    b = five().bundle()
    again = Bundle.loads(b.dumps())
    assert again == b
    assert json.loads(b.dumps())["format"] == "skyparley-ledger-bundle"


def test_an_honest_bundle_verifies() -> None:
    report = verify_bundle(five().bundle())
    assert report.ok, report.problems
    assert report.latest_size == 5
    assert [v.index for v in report.entries] == [0, 1, 2, 3, 4]
    assert [(c.size, c.cosignatures) for c in report.checkpoints if c.cosignatures] == [
        (1, (("red", int(T0 + 60)),)),
        (5, (("red", int(T0 + 21 * 60)),)),
    ]


@pytest.mark.parametrize("index", range(5))
def test_a_flipped_bit_in_any_leaf_names_that_entry(index: int) -> None:
    b = five().bundle()
    leaf = bytearray(b.entries[index].leaf)
    leaf[len(leaf) // 2] ^= 0x01
    entries = list(b.entries)
    entries[index] = dataclasses.replace(entries[index], leaf=bytes(leaf))
    report = verify_bundle(dataclasses.replace(b, entries=tuple(entries)))
    assert not report.ok
    bad = report.first_bad_entry
    assert bad is not None
    assert bad.index == index


@pytest.mark.parametrize("index", range(5))
def test_a_flipped_bit_in_any_inclusion_proof_names_that_entry(index: int) -> None:
    b = five().bundle()
    proof = list(b.entries[index].inclusion_proof)
    proof[0] = bytes([proof[0][0] ^ 0x80]) + proof[0][1:]
    entries = list(b.entries)
    entries[index] = dataclasses.replace(entries[index], inclusion_proof=tuple(proof))
    report = verify_bundle(dataclasses.replace(b, entries=tuple(entries)))
    bad = report.first_bad_entry
    assert bad is not None
    assert (bad.index, bad.what) == (index, "inclusion proof")


def test_a_flipped_bit_in_a_consistency_proof_names_that_checkpoint() -> None:
    b = five().bundle()
    proofs = list(b.consistency)
    c = proofs[1]
    proofs[1] = dataclasses.replace(c, proof=(bytes([c.proof[0][0] ^ 1]) + c.proof[0][1:],))
    report = verify_bundle(dataclasses.replace(b, consistency=tuple(proofs)))
    bad = report.first_bad_checkpoint
    assert bad is not None
    assert (bad.index, bad.what) == (c.from_size, "consistency")
    assert report.first_bad_entry is None


def test_a_flipped_bit_in_a_cosignature_names_the_checkpoint() -> None:
    b = five().bundle()
    text = b.checkpoints[0]
    line = text.rstrip("\n").rsplit("\n", 1)[1]
    flipped = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
    cps = (text.replace(line, flipped), *b.checkpoints[1:])
    report = verify_bundle(dataclasses.replace(b, checkpoints=cps))
    bad = report.first_bad_checkpoint
    assert bad is not None
    assert bad.index == 1
    assert "red" in bad.reason


def test_an_entry_repeated_or_for_another_log_is_named() -> None:
    b = five().bundle()
    report = verify_bundle(dataclasses.replace(b, entries=(*b.entries[:3], *b.entries[2:])))
    bad = report.first_bad_entry
    assert bad is not None
    assert (bad.index, bad.what) == (2, "repeated")
    other = Log()
    other.add("blue", "text", {"text": "x"}, 0, log_id="other.example/log")
    report = verify_bundle(other.bundle())
    bad = report.first_bad_entry
    assert bad is not None
    assert (bad.index, bad.what) == (0, "entry")
    assert "other.example/log" in bad.reason


def test_pinned_keys_and_protocol_hash() -> None:
    b = dataclasses.replace(five().bundle(), protocol_hash="ab" * 32)
    mine = {p: k.verifier for p, k in KEYS.items()}
    assert verify_bundle(b, party_keys=mine, protocol_hash="ab" * 32).ok
    assert verify_bundle(b, service_key=SERVICE.verifier).ok
    stranger = SigningKey.from_seed("red", bytes([9]) * 32).verifier
    report = verify_bundle(b, party_keys={**mine, "red": stranger})
    assert [p.what for p in report.problems] == ["key of red"]
    report = verify_bundle(b, party_keys={"blue": mine["blue"]})
    assert "the party is not in the protocol" in report.problems[0].reason
    report = verify_bundle(b, protocol_hash="cd" * 32)
    assert [p.what for p in report.problems] == ["protocol hash"]
    report = verify_bundle(b, service_key=KEYS["blue"].verifier)
    assert [p.what for p in report.problems] == ["service key"]


def test_held_checkpoints() -> None:
    log = five()
    held_1 = HeldCheckpoint("red-1", str(log.notes[1]))
    # in the bundle, same root
    report = verify_bundle(log.bundle(), held=[held_1])
    assert report.ok
    assert any("red-1" in n for n in report.notes)
    # not in the bundle, but the bundle holds leaves 0..size-1: their root is compared
    report = verify_bundle(log.bundle(sizes=[5]), held=[HeldCheckpoint("x", str(log.notes[3]))])
    assert report.ok, report.problems
    # a range bundle without that checkpoint: only a consistency proof can tell
    ranged = log.bundle(lo=3, sizes=[5])
    report = verify_bundle(ranged, held=[HeldCheckpoint("x", str(log.notes[2]))])
    bad = report.first_bad_checkpoint
    assert bad is not None
    assert bad.what == "consistency"
    assert "export again with --checkpoint" in bad.reason
    with_proof = dataclasses.replace(
        ranged, consistency=(ConsistencyProof(2, 5, consistency_proof(2, 5, log.tree)),)
    )
    assert verify_bundle(with_proof, held=[HeldCheckpoint("x", str(log.notes[2]))]).ok
    # a checkpoint of another service key
    forged = sign_checkpoint(Checkpoint(ORIGIN, 2, bytes(32)), KEYS["blue"])
    report = verify_bundle(log.bundle(), held=[HeldCheckpoint("f", str(forged))])
    bad = report.first_bad_checkpoint
    assert bad is not None
    assert "not a checkpoint signed by this bundle's service key" in bad.reason


def test_a_truncated_log_against_a_held_larger_checkpoint() -> None:
    log = five()
    held = HeldCheckpoint("red-5", str(log.notes[5]))
    short = Log()
    for leaf, t in zip(log.leaves[:3], log.logged[:3], strict=True):
        short.tree.append(leaf)
        short.leaves.append(leaf)
        short.logged.append(t)
    short.notes[3] = sign_checkpoint(Checkpoint(ORIGIN, 3, short.tree.root()), SERVICE)
    assert verify_bundle(short.bundle()).ok  # the documented limit
    report = verify_bundle(short.bundle(), held=[held])
    bad = report.first_bad_checkpoint
    assert bad is not None
    assert (bad.index, bad.what) == (5, "truncation")


def test_select_checkpoint_sizes_keeps_cosigned_held_and_latest() -> None:
    sizes = [0, 1, 2, 3, 4, 5, 8]
    assert select_checkpoint_sizes(sizes, [1, 8], 2, 4, extra=[1]) == [1, 3, 4, 8]
    assert select_checkpoint_sizes(sizes, [], 8, 8) == [8]
    assert select_checkpoint_sizes([], [], 0, 0) == []


def test_malformed_bundles_name_the_field() -> None:
    good = five().bundle().to_json()

    def load(obj: object) -> str:
        with pytest.raises(LedgerInputError) as exc:
            Bundle.from_json(obj)
        return exc.value.field

    assert load([]) == "bundle"
    assert load({**good, "format": "x"}) == "format"
    assert load({**good, "version": 2}) == "version"
    assert load({k: v for k, v in good.items() if k != "checkpoints"}) == "checkpoints"
    keys = {**good["party_keys"], "red": good["party_keys"]["blue"]}  # type: ignore[dict-item]
    assert load({**good, "party_keys": keys}) == "party_keys.red"
    entries = json.loads(json.dumps(good["entries"]))
    entries[1]["leaf"] = "not base64!"
    assert load({**good, "entries": entries}) == "entries[1].leaf"
    with pytest.raises(LedgerInputError, match="not a JSON file"):
        Bundle.loads(b"\xff")


# ----------------------------------------------------------------------------- timeline


def states(log: Log, bundle: Bundle | None = None, **kw: object) -> dict[int, list[str]]:
    report = verify_bundle(bundle or log.bundle())
    assert report.ok, report.problems
    items = timeline(report, **kw)  # type: ignore[arg-type]
    return {it.index: [a.state for a in it.acks] for it in items if it.acks}


def test_acknowledged_and_seen() -> None:
    log = five()
    report = verify_bundle(log.bundle())
    (first, *_) = timeline(report)
    assert first.to == ("red",)
    assert first.seen == (("red", 1, int(T0 + 60)),)
    (ack,) = first.acks
    assert (ack.state, ack.ack_index, ack.ack_s) == ("acknowledged", 1, T0 + 180)
    text = format_timeline(timeline(report))
    assert "acknowledged by red at 2015-10-10T09:03:00Z (entry #1)" in text
    assert "acknowledges #0 (blue notice)" in text


def test_not_acknowledged_late_pending_and_unknown() -> None:
    log = Log()
    log.add("blue", "notice", {"to": ["red"], "deadline_s": 60, "text": "a"}, 0)
    log.add("blue", "alert", {"to": ["red"], "deadline_s": 60, "text": "b"}, 1)
    log.add("red", "ack", {"acks": log.hashes[1]}, 5)  # late
    log.add("blue", "request", {"to": ["red"], "text": "c"}, 6)  # no deadline
    log.add("blue", "notice", {"to": ["red"], "deadline_s": 3600, "text": "d"}, 7)
    log.cosign(5, "red", 10)
    assert states(log) == {
        0: ["not_acknowledged"],
        1: ["late"],
        3: ["unknown"],
        4: ["pending"],
    }
    # the protocol's rule gives the request a deadline; a text never demands an ack
    rules = {"request": AckRule(True, 60.0), "text": AckRule(False, None)}
    assert states(log, rules=rules)[3] == ["not_acknowledged"]
    report = verify_bundle(log.bundle())
    (item,) = [it for it in timeline(report) if it.index == 0]
    assert item.acks[0].evidence == (5, int(T0 + 600))  # red's own view after the deadline
    text = format_timeline(timeline(report))
    assert "NOT acknowledged by red (deadline 2015-10-10T09:01:00Z passed); red itself " in text
    assert "LATE: deadline 2015-10-10T09:02:00Z" in text
    assert "not acknowledged by red yet (deadline 2015-10-10T10:07:00Z" in text


def test_a_bundle_that_stops_short_claims_no_more_than_it_shows() -> None:
    log = Log()
    log.add("blue", "notice", {"to": ["red"], "deadline_s": 60, "text": "a"}, 0)
    log.add("blue", "text", {"text": "b"}, 5)
    log.add("red", "ack", {"acks": log.hashes[0]}, 6)  # the ack lies beyond the bundle
    short = log.bundle(hi=2)
    assert states(log, short) == {0: ["not_in_bundle"]}
    report = verify_bundle(short)
    assert "one may follow it" in format_timeline(timeline(report))
    # unless red itself cosigned, after the deadline, a checkpoint the bundle shows in full
    log.cosign(2, "red", 5)
    assert states(log, log.bundle(hi=2)) == {0: ["not_acknowledged"]}

"""``skyparley ledger export`` / ``verify``: the Syria beat-5 timeline and the tamper matrix.

A small log is built with :class:`SqliteLedger` and the demo keys (beat 5 of the Syria 2015
scenario): russia files a notice east of the Euphrates line that demands coalition's
acknowledgement within 15 minutes; coalition cosigns checkpoints (it saw the notice) but
never acknowledges; coalition files a protected area that russia acknowledges; russia logs
the escalation. Every tamper case (an edited, deleted or reordered row; a log cut short and
re-signed; a fork), on the exported bundle and on the database, must make ``verify`` (or
``export``) exit 1 and name the first bad entry or checkpoint.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tools.demo_keys import demo_key

from skyparley.adapters.ledger_store import SqliteLedger
from skyparley.adapters.protocol_file import load_protocol
from skyparley.cli import main
from skyparley.domain.ledger import (
    COSIGNATURE_V1,
    Checkpoint,
    Entry,
    KeyRing,
    MemoryTree,
    SignedEntry,
    SigningKey,
    Witness,
    canonical_json,
    entry_hash,
    inclusion_proof,
    sign_checkpoint,
    sign_entry,
    tree_root,
)
from skyparley.domain.times import parse_time

ORIGIN = "skyparley.example/syria-2015"
SERVICE = demo_key("skyparley-demo-service")
PARTIES = ("coalition", "russia", "relief")
KEYS = {p: demo_key(p) for p in PARTIES}
RING = KeyRing([k.verifier for k in KEYS.values()])
PROTOCOL = Path(__file__).resolve().parents[2] / "src/skyparley/data/protocols/syria-2015.yaml"
T0 = parse_time("2017-09-16T04:00:00Z", field="t")
EXIT_TAMPERED = 1


class ManualClock:
    """A clock the test sets."""

    def __init__(self, t: float) -> None:
        self.t = t

    def now_s(self) -> float:
        return self.t


@dataclass
class Log:
    """The test's ledger: its file, clock, the parties' chains and witnesses."""

    path: Path
    clock: ManualClock
    heads: dict[str, str | None] = field(default_factory=dict)
    witnesses: dict[str, Witness] = field(default_factory=dict)
    hashes: list[str] = field(default_factory=list)
    held: dict[tuple[str, int], str] = field(default_factory=dict)

    def open(self) -> SqliteLedger:
        return SqliteLedger(
            self.path,
            service_key=SERVICE,
            origin=ORIGIN,
            keyring=RING,
            clock=self.clock,
            protocol_hash=load_protocol(PROTOCOL).content_hash,
        )

    def append(self, store: SqliteLedger, at_min: float, party: str, kind: str, body: Any) -> int:
        self.clock.t = T0 + 60 * at_min
        entry = Entry(
            log_id=ORIGIN,
            party=party,
            kind=kind,
            client_time=_rfc3339(self.clock.t),
            prev=self.heads.get(party),
            idem=f"{party}-{len(self.hashes)}",
            body=body,
        )
        self.heads[party] = entry_hash(entry)
        self.hashes.append(entry_hash(entry))
        return store.append(sign_entry(entry, KEYS[party])).leaf_index

    def cosign(self, store: SqliteLedger, at_min: float, party: str) -> int:
        """``party`` cosigns the latest checkpoint (after checking consistency) and keeps it."""
        self.clock.t = T0 + 60 * at_min
        w = self.witnesses.get(party) or Witness(
            key=KEYS[party].with_type(COSIGNATURE_V1), log_key=SERVICE.verifier, origin=ORIGIN
        )
        note = store.checkpoint()
        size = store.size()
        old = 0 if w.latest is None else w.latest.size
        proof = store.consistency_proof(old, size) if old else ()
        step = w.cosign(note, proof, time_s=int(self.clock.t))
        self.witnesses[party] = step.witness
        store.store_cosignature(size, party, step.cosignature.to_line())
        self.held[(party, size)] = str(note.with_signatures(step.cosignature))
        return size


def _rfc3339(t: float) -> str:
    from skyparley.domain.times import format_time

    return format_time(t)


NOTICE = {
    "text": "Operations east of the Euphrates line near Deir ez-Zor, FL150-FL300, 06:00-08:00Z",
    "to": ["coalition"],
    "deadline_s": 900,
}


def build_log(path: Path) -> Log:
    """Beat 5: the notice (entry 0) is seen by coalition but never acknowledged."""
    log = Log(path=path, clock=ManualClock(T0))
    with log.open() as store:
        log.append(store, 0, "russia", "notice", NOTICE)  # 0
        log.cosign(store, 1, "coalition")  # size 1: coalition saw the notice at 04:01
        log.append(
            store,
            5,
            "coalition",
            "notice",
            {"text": "Protected area: partner ground forces east of Deir ez-Zor", "to": ["russia"]},
        )  # 1
        log.append(store, 7, "russia", "ack", {"acks": log.hashes[1]})  # 2
        log.append(
            store,
            16,
            "russia",
            "escalation",
            {"text": "Notice #0 not acknowledged: escalated to the operations commander"},
        )  # 3
        log.cosign(store, 20, "coalition")  # size 4, after the 04:15 deadline, no ack in it
        log.cosign(store, 21, "russia")
    return log


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return build_log(tmp_path / "ledger.db")


def export(log: Log, out: Path, *extra: str) -> int:
    return main(["ledger", "export", "--db", str(log.path), "--out", str(out), *extra])


def verify(bundle: Path, *extra: str) -> int:
    return main(["ledger", "verify", str(bundle), *extra])


@pytest.fixture
def bundle(log: Log, tmp_path: Path) -> Path:
    out = tmp_path / "record.json"
    assert export(log, out) == 0
    return out


def held_file(log: Log, tmp_path: Path, party: str, size: int) -> Path:
    path = tmp_path / f"{party}-{size}.cp"
    path.write_text(log.held[(party, size)], encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- happy path


def test_syria_beat5_timeline_settles_the_dispute(
    bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(bundle) == 0
    out, err = capsys.readouterr()
    assert "ledger verify: OK" in err
    assert "cosigned     size 1 by coalition at 2017-09-16T04:01:00Z" in out
    assert "size 4 by coalition at 2017-09-16T04:20:00Z, russia at 2017-09-16T04:21:00Z" in out
    block = out.split("#0 ", 1)[1].split("#1 ", 1)[0]
    # who notified what, when the log took it
    assert block.startswith("   2017-09-16T04:00:00Z  russia -> coalition  notice  ")
    assert '"Operations east of the Euphrates line near Deir ez-Zor' in block
    # delivered: coalition's own cosignature of a checkpoint that includes it
    assert "seen by coalition (cosigned checkpoint size 1 at 2017-09-16T04:01:00Z)" in block
    # and no acknowledgement came, with coalition's signed view after the deadline
    assert "NOT acknowledged by coalition (deadline 2017-09-16T04:15:00Z passed)" in block
    assert "coalition itself cosigned checkpoint size 4 at 2017-09-16T04:20:00Z" in block
    # the other notice was acknowledged
    assert "acknowledged by russia at 2017-09-16T04:07:00Z (entry #2)" in out
    assert "acknowledges #1 (coalition notice)" in out


def test_verify_pins_the_protocol_keys_and_takes_its_deadlines(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(bundle, "--protocol", str(PROTOCOL)) == 0
    out = capsys.readouterr().out
    assert f"sha256 {load_protocol(PROTOCOL).content_hash}" in out
    # coalition's notice states no deadline: the protocol's 900 s for notices applies
    assert "acknowledged by russia at 2017-09-16T04:07:00Z (entry #2)" in out
    # a bundle whose coalition key is not the protocol's is refused
    data = json.loads(bundle.read_text(encoding="utf-8"))
    stranger = SigningKey.from_seed("coalition", bytes(32)).verifier
    data["party_keys"]["coalition"] = stranger.to_text()
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps(data), encoding="utf-8")
    assert verify(swapped, "--protocol", str(PROTOCOL)) == EXIT_TAMPERED
    err = capsys.readouterr().err
    assert "keys: key of coalition" in err


def test_verify_with_the_held_checkpoint_of_a_party(
    log: Log, bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = held_file(log, tmp_path, "coalition", 1)
    assert verify(bundle, "--checkpoint", str(held)) == 0
    assert "held checkpoint" in capsys.readouterr().out


def test_export_a_time_range(log: Log, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "range.json"
    assert export(log, out, "--from", "2017-09-16T04:05:00Z", "--to", "2017-09-16T04:10:00Z") == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [e["index"] for e in data["entries"]] == [1, 2]
    assert data["range"]["first_index"] == 1
    assert data["protocol_hash"] == load_protocol(PROTOCOL).content_hash
    assert set(data["party_keys"]) == set(PARTIES)
    assert verify(out) == 0
    text = capsys.readouterr().out
    assert "acknowledged by russia" in text
    assert "#0 " not in text


def test_export_refuses_to_before_from(
    log: Log, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "none.json"
    assert export(log, out, "--from", "2017-09-16T05:00:00Z", "--to", "2017-09-16T04:00:00Z") == 2
    assert "--to: 2017-09-16T04:00:00Z is before --from" in capsys.readouterr().err
    assert not out.exists()


def test_the_bundle_file_is_written_atomically_and_refuses_a_missing_folder(
    log: Log, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export(log, tmp_path / "nowhere" / "b.json") == 2
    assert "--out" in capsys.readouterr().err
    assert main(["ledger", "export", "--db", str(tmp_path / "none.db"), "--out", "x"]) == 2
    assert "no such ledger file" in capsys.readouterr().err


def test_a_malformed_bundle_exits_2_naming_the_field(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("not json", encoding="utf-8")
    assert verify(bad) == 2
    assert "bundle: not a ledger bundle: not a JSON file" in capsys.readouterr().err
    data = json.loads(bundle.read_text(encoding="utf-8"))
    del data["entries"]
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert verify(bad) == 2
    err = capsys.readouterr().err
    assert f"{bad}: entries: not a ledger bundle: is missing" in err
    assert "Traceback" not in err
    data = json.loads(bundle.read_text(encoding="utf-8"))
    data["entries"][1]["inclusion_proof"][0] = "AAAA"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert verify(bad) == 2
    assert "entries[1].inclusion_proof[0]" in capsys.readouterr().err


# ----------------------------------------------------------------------------- tamper: bundle


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _save(data: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _edit_leaf(leaf_b64: str, text: str) -> str:
    leaf = json.loads(base64.b64decode(leaf_b64))
    leaf["entry"]["body"]["text"] = text
    return base64.b64encode(canonical_json(leaf)).decode("ascii")


def _failure(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert "timeline" not in out  # nothing unverified is presented as the record
    assert "Traceback" not in err
    return err


def test_tamper_bundle_edit_an_entry(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _load(bundle)
    data["entries"][1]["leaf"] = _edit_leaf(data["entries"][1]["leaf"], "No protected area")
    assert verify(_save(data, tmp_path / "t.json")) == EXIT_TAMPERED
    err = _failure(capsys)
    assert (
        "first bad entry: entry 1 (coalition notice, idem coalition-1): entry signature: "
        "the signature does not verify" in err
    )


@pytest.mark.parametrize(
    ("entry", "shift_s", "reason"),
    [
        (2, 7200.0, "after coalition cosigned checkpoint"),  # moved after a signed cosignature
        (2, -3.0 * 86400, "the log's times never go backwards"),  # moved before entry 1
    ],
)
def test_tamper_bundle_edit_a_log_time(
    bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    entry: int,
    shift_s: float,
    reason: str,
) -> None:
    # Nobody signs logged_s, but the times must fit the order of the log and the times the
    # witnesses signed: a moved delivery time is caught.
    data = _load(bundle)
    data["entries"][entry]["logged_s"] += shift_s
    assert verify(_save(data, tmp_path / "t.json")) == EXIT_TAMPERED
    err = _failure(capsys)
    assert f"first bad entry: entry {entry} " in err
    assert reason in err


def test_tamper_bundle_header_range_is_checked(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _load(bundle)
    data["range"]["end_index"] = 0
    assert verify(_save(data, tmp_path / "t.json")) == EXIT_TAMPERED
    assert "range" in _failure(capsys)


def test_a_malformed_protocol_hash_is_refused(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _load(bundle)
    data["protocol_hash"] = "x"
    assert verify(_save(data, tmp_path / "t.json")) == 2
    assert "protocol_hash: not a ledger bundle: must be 64 lowercase hex digits" in (
        capsys.readouterr().err
    )


def test_tamper_bundle_delete_an_entry(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _load(bundle)
    del data["entries"][2]  # russia's ack
    assert verify(_save(data, tmp_path / "t.json")) == EXIT_TAMPERED
    assert "first bad entry: entry 2: missing: the bundle goes from entry 1 to entry 3" in (
        _failure(capsys)
    )


def test_tamper_bundle_delete_the_last_entry(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _load(bundle)
    del data["entries"][-1]
    assert verify(_save(data, tmp_path / "t.json")) == EXIT_TAMPERED
    assert "first bad entry: entry 3: missing" in _failure(capsys)


def test_tamper_bundle_reorder_entries(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _load(bundle)
    data["entries"][1], data["entries"][2] = data["entries"][2], data["entries"][1]
    assert verify(_save(data, tmp_path / "t.json")) == EXIT_TAMPERED
    assert "first bad entry: entry 1: order: the bundle lists entry 2 where entry 1" in (
        _failure(capsys)
    )


def test_tamper_bundle_swap_two_leaves_in_place(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _load(bundle)
    e1, e2 = data["entries"][1], data["entries"][2]
    e1["leaf"], e2["leaf"] = e2["leaf"], e1["leaf"]
    assert verify(_save(data, tmp_path / "t.json")) == EXIT_TAMPERED
    err = _failure(capsys)
    assert "first bad entry: entry 1 (russia ack, idem russia-2): inclusion proof" in err


def _truncated_bundle(data: dict[str, Any], keep: int, keep_checkpoints: bool) -> dict[str, Any]:
    """The service cuts the log to ``keep`` leaves and re-signs a checkpoint for it."""
    leaves = [base64.b64decode(e["leaf"]) for e in data["entries"][:keep]]
    tree = MemoryTree()
    for leaf in leaves:
        tree.append(leaf)
    note = sign_checkpoint(Checkpoint(ORIGIN, keep, tree_root(tree, keep)), SERVICE)
    data["entries"] = data["entries"][:keep]
    for n, e in enumerate(data["entries"]):
        e["inclusion_proof"] = [
            base64.b64encode(h).decode("ascii") for h in inclusion_proof(n, keep, tree)
        ]
    data["range"]["end_index"] = keep
    if keep_checkpoints:
        data["checkpoints"].append(str(note))
    else:
        data["checkpoints"] = [str(note)]
        data["consistency"] = []
    return data


def test_tamper_bundle_truncate_and_resign_is_caught_by_a_held_checkpoint(
    log: Log, bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = _save(_truncated_bundle(_load(bundle), 2, keep_checkpoints=False), tmp_path / "t.json")
    # The documented limit: with no earlier checkpoint and no cosignature of a larger tree,
    # a log cut short and re-signed by the service's own key is a valid (shorter) log.
    assert verify(cut) == 0
    capsys.readouterr()
    held = held_file(log, tmp_path, "coalition", 4)
    assert verify(cut, "--checkpoint", str(held)) == EXIT_TAMPERED
    err = _failure(capsys)
    assert f"first bad checkpoint: checkpoint size 4 (held in {held}): truncation" in err


def test_tamper_bundle_truncate_keeping_a_cosigned_larger_checkpoint(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = _save(_truncated_bundle(_load(bundle), 2, keep_checkpoints=True), tmp_path / "t.json")
    assert verify(cut) == EXIT_TAMPERED
    err = _failure(capsys)
    # coalition's cosigned size-4 checkpoint stays the latest (the re-signed size 2 is an
    # honest prefix of it), and the re-made proofs do not lead to its root
    assert "first bad entry: entry 0 (russia notice, idem russia-0): inclusion proof" in err


def test_tamper_bundle_fork_two_checkpoints_of_one_size(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _load(bundle)
    other = sign_checkpoint(Checkpoint(ORIGIN, 4, bytes(range(32))), SERVICE)
    data["checkpoints"].insert(0, str(other))
    assert verify(_save(data, tmp_path / "t.json")) == EXIT_TAMPERED
    assert "first bad checkpoint: checkpoint size 4: fork: two checkpoints of size 4" in (
        _failure(capsys)
    )


def test_tamper_bundle_a_checkpoint_not_signed_by_the_service(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _load(bundle)
    data["checkpoints"][0] = data["checkpoints"][0].replace("\u2014 skyparley-demo-service", "x")
    assert verify(_save(data, tmp_path / "t.json")) == EXIT_TAMPERED
    assert "first bad checkpoint: checkpoint" in _failure(capsys)


# ----------------------------------------------------------------------------- tamper: database


@pytest.fixture
def db(log: Log) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(log.path, isolation_level=None)
    yield conn
    conn.close()


def test_tamper_db_edit_a_row(
    log: Log, db: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (leaf,) = db.execute("SELECT leaf FROM leaves WHERE idx = 0").fetchone()
    edited = _edit_leaf(base64.b64encode(leaf).decode("ascii"), "Operations west of the line")
    db.execute("UPDATE leaves SET leaf = ? WHERE idx = 0", (base64.b64decode(edited),))
    out = tmp_path / "t.json"
    assert export(log, out) == 0
    assert verify(out) == EXIT_TAMPERED
    assert "first bad entry: entry 0 (russia notice, idem russia-0): entry signature" in (
        _failure(capsys)
    )


def test_tamper_db_delete_a_row(
    log: Log, db: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db.execute("DELETE FROM leaves WHERE idx = 2")
    assert export(log, tmp_path / "t.json") == EXIT_TAMPERED
    err = capsys.readouterr().err
    assert "database (leaf 2): the row is missing, yet the latest checkpoint covers 4" in err
    assert not (tmp_path / "t.json").exists()


def test_tamper_db_add_a_row(
    log: Log, db: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db.execute(
        "INSERT INTO leaves SELECT 4, party, 'x', kind, client_time, entry_hash, leaf,"
        " leaf_hash, logged_s FROM leaves WHERE idx = 0"
    )
    assert export(log, tmp_path / "t.json") == EXIT_TAMPERED
    assert "database (leaf 4): the row lies beyond the latest checkpoint" in (
        capsys.readouterr().err
    )


def _swap_rows(db: sqlite3.Connection, a: int, b: int) -> None:
    db.execute("UPDATE leaves SET idx = -1 WHERE idx = ?", (a,))
    db.execute("UPDATE leaves SET idx = ? WHERE idx = ?", (a, b))
    db.execute("UPDATE leaves SET idx = ? WHERE idx = -1", (b,))


def test_tamper_db_reorder_rows_of_two_parties(
    log: Log, db: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db.execute("PRAGMA ignore_check_constraints = ON")
    _swap_rows(db, 0, 1)  # coalition's notice before russia's
    out = tmp_path / "t.json"
    assert export(log, out) == 0
    assert verify(out) == EXIT_TAMPERED
    # Caught twice over: the log times now contradict coalition's signed cosignature time,
    # and the leaf is not the one the log committed to; the first reported is entry 0.
    err = _failure(capsys)
    assert "first bad entry: entry 0 (coalition notice, idem coalition-1): " in err
    assert "inclusion proof" in err


def test_tamper_db_reorder_rows_of_one_party(
    log: Log, db: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db.execute("PRAGMA ignore_check_constraints = ON")
    _swap_rows(db, 2, 3)  # russia's escalation before its ack
    out = tmp_path / "t.json"
    assert export(log, out) == 0
    assert verify(out) == EXIT_TAMPERED
    assert "first bad entry: entry 2 (russia escalation, idem russia-3): entry chain" in (
        _failure(capsys)
    )


def _truncate(db: sqlite3.Connection, keep: int) -> None:
    db.execute("DELETE FROM leaves WHERE idx >= ?", (keep,))
    db.execute("DELETE FROM nodes WHERE (idx + 1) * (1 << level) > ?", (keep,))
    db.execute("DELETE FROM cosignatures WHERE size > ?", (keep,))
    db.execute("DELETE FROM checkpoints WHERE size > ?", (keep,))


def test_tamper_db_truncate_and_resign(
    log: Log, db: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = held_file(log, tmp_path, "coalition", 4)
    _truncate(db, 2)  # russia's ack and escalation go
    with log.open() as store:  # the service signs a new history from there
        log.heads["russia"] = log.hashes[0]
        log.append(store, 30, "relief", "text", {"text": "Convoy Homs-Palmyra departed"})
    out = tmp_path / "t.json"
    assert export(log, out) == 0
    assert verify(out) == 0  # the documented limit: a shorter log is a valid log
    capsys.readouterr()
    assert verify(out, "--checkpoint", str(held)) == EXIT_TAMPERED
    err = _failure(capsys)
    assert f"first bad checkpoint: checkpoint size 4 (held in {held}): truncation" in err


def test_tamper_db_truncate_and_regrow_to_the_held_size_is_a_fork(
    log: Log, db: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = held_file(log, tmp_path, "coalition", 4)
    _truncate(db, 2)
    with log.open() as store:
        log.append(store, 30, "relief", "text", {"text": "Convoy Homs-Palmyra departed"})
        log.append(store, 31, "relief", "text", {"text": "Convoy arrived"})
    out = tmp_path / "t.json"
    assert export(log, out, "--checkpoint", str(held)) == 0
    assert verify(out, "--checkpoint", str(held)) == EXIT_TAMPERED
    err = _failure(capsys)
    assert f"first bad checkpoint: checkpoint size 4 (held in {held}): fork" in err


def test_tamper_db_fork_resign_a_checkpoint_with_another_root(
    log: Log, db: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = held_file(log, tmp_path, "coalition", 1)
    other = sign_checkpoint(Checkpoint(ORIGIN, 1, bytes(range(32))), SERVICE)
    db.execute("UPDATE checkpoints SET note = ?, root = ? WHERE size = 1", (str(other), bytes(32)))
    out = tmp_path / "t.json"
    assert export(log, out) == 0
    assert verify(out) == EXIT_TAMPERED
    # coalition's cosignature of the real size-1 checkpoint does not sign the forged one
    err = _failure(capsys)
    assert "first bad checkpoint: checkpoint size 1: note signature" in err
    # and the checkpoint coalition kept names the fork when the cosignature row is gone too
    db.execute("DELETE FROM cosignatures WHERE size = 1")
    assert export(log, out) == 0
    assert verify(out, "--checkpoint", str(held)) == EXIT_TAMPERED
    err = _failure(capsys)
    assert "first bad checkpoint: checkpoint size 1" in err
    assert "fork" in err


def test_an_untampered_db_export_verifies_after_reopening(
    log: Log, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with log.open() as store:  # reopening keeps the recorded keys and protocol hash
        log.append(store, 40, "coalition", "ack", {"acks": log.hashes[0]})
    out = tmp_path / "late.json"
    assert export(log, out) == 0
    assert verify(out) == 0
    text = capsys.readouterr().out
    assert "acknowledged by coalition at 2017-09-16T04:40:00Z (entry #4, LATE" in text


def test_signed_entry_round_trip_of_the_export(bundle: Path) -> None:
    data = _load(bundle)
    leaves = [SignedEntry.from_leaf(base64.b64decode(e["leaf"])) for e in data["entries"]]
    assert [s.entry.party for s in leaves] == ["russia", "coalition", "russia", "russia"]

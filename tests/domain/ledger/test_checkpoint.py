"""Checkpoints and witnesses: growth is cosigned; forks, shrinks and forgeries are refused."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import bit_of, flip_bit, ledger_leaves

from skyparley.domain.ledger import (
    COSIGNATURE_V1,
    Checkpoint,
    MemoryTree,
    Note,
    NoteSignature,
    SigningKey,
    Witness,
    consistency_proof,
    cosign_checkpoint,
    open_checkpoint,
    sign_checkpoint,
    verify_note,
)
from skyparley.errors import LedgerInputError, SplitViewError, VerificationError

ORIGIN = "skyparley.example/syria-2015"
SERVICE = SigningKey.from_seed(ORIGIN, bytes(range(32)))
BLUE = SigningKey.from_seed("blue.example", bytes(range(1, 33)), COSIGNATURE_V1)
RED = SigningKey.from_seed("red.example", bytes(range(2, 34)), COSIGNATURE_V1)
T0 = 1444467600


def witness(key: SigningKey = BLUE) -> Witness:
    return Witness(key=key, log_key=SERVICE.verifier, origin=ORIGIN)


def tree_of(n: int, tag: bytes = b"") -> MemoryTree:
    tree = MemoryTree()
    for i in range(n):
        tree.append(tag + b"entry %d" % i)
    return tree


def checkpoint_note(tree: MemoryTree, size: int, key: SigningKey = SERVICE) -> Note:
    return sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), key)


def test_checkpoint_body_round_trips_with_extension_lines() -> None:
    cp = Checkpoint(ORIGIN, 12, bytes(range(32)), extensions=("protocol sha256:abc",))
    assert cp.body().splitlines() == [
        ORIGIN,
        "12",
        base64.b64encode(bytes(range(32))).decode(),
        "protocol sha256:abc",
    ]
    assert Checkpoint.parse(cp.body()) == cp


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n12\n",
        f"{ORIGIN}\n012\n{base64.b64encode(bytes(32)).decode()}\n",
        f"{ORIGIN}\n-1\n{base64.b64encode(bytes(32)).decode()}\n",
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(31)).decode()}\n",
        f"{ORIGIN}\n1\nnot base64\n",
        f"\n1\n{base64.b64encode(bytes(32)).decode()}\n",
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode()}\n\n",
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode()}",
    ],
)
def test_malformed_checkpoints_are_input_errors(body: str) -> None:
    with pytest.raises(LedgerInputError):
        Checkpoint.parse(body)


@given(ledger_leaves(min_size=2, max_size=120), st.data())
def test_a_witness_cosigns_consistent_growth(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MemoryTree()
    for leaf in leaves:
        tree.append(leaf)
    sizes = sorted(data.draw(st.sets(st.integers(0, len(leaves)), min_size=1, max_size=6)))
    w, last, notes = witness(), 0, []
    for step, size in enumerate(sizes):
        note = checkpoint_note(tree, size)
        proof = consistency_proof(last, size, tree)
        result = w.cosign(note, proof, time_s=T0 + step)
        w, last = result.witness, size
        assert w.latest == result.checkpoint == Checkpoint.parse(note.text)
        notes.append(note.with_signatures(result.cosignature))
    # The same checkpoint again (a retry) is cosigned again, with the new time.
    again = w.cosign(notes[-1], (), time_s=T0 + 100)
    assert again.witness == w
    for note in notes:
        signed = open_checkpoint(str(note), SERVICE.verifier, witnesses=[BLUE.verifier], quorum=1)
        assert signed.cosignatures[0].witness == BLUE.verifier


def test_a_witness_refuses_a_fork_at_the_same_size() -> None:
    honest, forked = tree_of(8), tree_of(8, tag=b"rewritten ")
    w = witness().cosign(checkpoint_note(honest, 8), (), time_s=T0).witness
    with pytest.raises(SplitViewError) as info:
        w.cosign(checkpoint_note(forked, 8), (), time_s=T0 + 1)
    err = info.value
    assert (err.old_size, err.new_size) == (8, 8)
    assert (err.old_root, err.new_root) == (honest.root(), forked.root())
    assert base64.b64encode(honest.root()).decode() in str(err)
    assert base64.b64encode(forked.root()).decode() in str(err)


def test_a_witness_refuses_a_fork_that_grew() -> None:
    """A log that shows blue one history and red another is caught when blue sees red's."""
    honest = tree_of(5)
    forked_leaves = [b"entry %d" % i for i in range(3)] + [b"other %d" % i for i in range(3, 9)]
    forked = MemoryTree()
    for leaf in forked_leaves:
        forked.append(leaf)
    w = witness().cosign(checkpoint_note(honest, 5), (), time_s=T0).witness
    # The log can only offer a proof from its own forked size-5 tree.
    with pytest.raises(SplitViewError, match="not proven consistent"):
        w.cosign(checkpoint_note(forked, 9), consistency_proof(5, 9, forked), time_s=T0 + 1)
    assert w.latest is not None
    assert w.latest.size == 5  # the state is unchanged: the caller keeps the old witness


@given(st.data())
def test_a_witness_refuses_any_flipped_bit_in_the_consistency_proof(data: st.DataObject) -> None:
    tree = tree_of(21)
    w = witness().cosign(checkpoint_note(tree, 6), (), time_s=T0).witness
    proof = list(consistency_proof(6, 21, tree))
    k = data.draw(st.integers(0, len(proof) - 1))
    proof[k] = flip_bit(proof[k], data.draw(bit_of(proof[k])))
    with pytest.raises(SplitViewError):
        w.cosign(checkpoint_note(tree, 21), proof, time_s=T0 + 1)


def test_a_witness_refuses_a_shrink() -> None:
    tree = tree_of(10)
    w = witness().cosign(checkpoint_note(tree, 10), (), time_s=T0).witness
    with pytest.raises(VerificationError, match="smaller than the size 10 already cosigned"):
        w.cosign(checkpoint_note(tree, 7), (), time_s=T0 + 1)


def test_a_witness_refuses_a_bad_service_signature() -> None:
    tree = tree_of(4)
    impostor = SigningKey.from_seed(ORIGIN, bytes(32))
    with pytest.raises(VerificationError, match="no signature by a known key"):
        witness().cosign(checkpoint_note(tree, 4, impostor), (), time_s=T0)
    good = checkpoint_note(tree, 4)
    (sig,) = good.signatures
    forged = Note(good.text, (NoteSignature(sig.name, sig.key_id, flip_bit(sig.signature, 3)),))
    with pytest.raises(VerificationError, match="does not verify"):
        witness().cosign(forged, (), time_s=T0)
    # A checkpoint signed only by a witness is not signed by the service.
    only_cosigned = Note(good.text, (cosign_checkpoint(good, RED, time_s=T0),))
    with pytest.raises(VerificationError):
        witness().cosign(only_cosigned, (), time_s=T0)


def test_a_witness_refuses_another_log_and_a_first_proof() -> None:
    other = SigningKey.from_seed("other.example/log", bytes(range(32)))
    tree = tree_of(3)
    w = Witness(key=BLUE, log_key=other.verifier, origin="other.example/log")
    with pytest.raises(VerificationError, match="another log"):
        w.cosign(sign_checkpoint(Checkpoint(ORIGIN, 3, tree.root()), other), (), time_s=T0)
    with pytest.raises(VerificationError, match="must be empty"):
        witness().cosign(checkpoint_note(tree, 3), [tree.root()], time_s=T0)


def test_cosignature_format_is_tlog_cosignature_v1() -> None:
    tree = tree_of(3)
    note = checkpoint_note(tree, 3)
    sig = witness().cosign(note, (), time_s=T0).cosignature
    assert sig.name == "blue.example"
    assert sig.key_id == BLUE.key_id
    assert len(sig.signature) == 8 + 64
    assert int.from_bytes(sig.signature[:8], "big") == T0
    message = b"cosignature/v1\ntime %d\n" % T0 + note.text.encode()
    assert BLUE.verifier.verify(message, sig.signature[8:])
    # The same key as a plain Ed25519 key (type 0x01) does not accept it: types do not mix.
    plain = BLUE.verifier.with_type(0x01)
    with pytest.raises(VerificationError):
        verify_note(
            note.with_signatures(NoteSignature(sig.name, plain.key_id, sig.signature)), [plain]
        )


def test_a_quorum_of_witnesses_is_enforced() -> None:
    tree = tree_of(3)
    note = checkpoint_note(tree, 3)
    blue = witness(BLUE).cosign(note, (), time_s=T0).cosignature
    red = witness(RED).cosign(note, (), time_s=T0 + 5).cosignature
    both = note.with_signatures(blue, red)
    signed = open_checkpoint(
        both, SERVICE.verifier, witnesses=[BLUE.verifier, RED.verifier], quorum=2
    )
    assert [(c.witness.name, c.time_s) for c in signed.cosignatures] == [
        ("blue.example", T0),
        ("red.example", T0 + 5),
    ]
    with pytest.raises(VerificationError, match="1 of the required 2"):
        open_checkpoint(
            note.with_signatures(blue),
            SERVICE.verifier,
            witnesses=[BLUE.verifier, RED.verifier],
            quorum=2,
        )
    with pytest.raises(LedgerInputError, match="not a type 0x04 key"):
        open_checkpoint(both, SERVICE.verifier, witnesses=[SERVICE.verifier])

"""Entries, leaves and receipts: canonical bytes, author signatures, per-party chains, receipts."""

from __future__ import annotations

import base64
import dataclasses
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import bit_of, flip_bit

from skyparley.domain.ledger import (
    COSIGNATURE_V1,
    ENTRY_SIGNATURE_CONTEXT,
    Checkpoint,
    Entry,
    KeyRing,
    MemoryTree,
    Receipt,
    SignedEntry,
    SigningKey,
    Witness,
    canonical_json,
    entry_hash,
    inclusion_proof,
    leaf_hash,
    sign_checkpoint,
    sign_entry,
    verify_chain,
    verify_entry,
    verify_receipt,
)
from skyparley.errors import LedgerInputError, VerificationError

LOG = "skyparley.example/syria-2015"
SERVICE = SigningKey.from_seed(LOG, bytes(range(32)))
BLUE = SigningKey.from_seed("blue", bytes(range(1, 33)))
RED = SigningKey.from_seed("red", bytes(range(2, 34)))
RING = KeyRing([BLUE.verifier, RED.verifier])


def entry(party: str = "blue", n: int = 1, prev: str | None = None, **kw: object) -> Entry:
    fields: dict[str, object] = {
        "log_id": LOG,
        "party": party,
        "kind": "text",
        "client_time": f"2015-10-10T09:{n % 60:02d}:00Z",
        "prev": prev,
        "idem": f"{party}-{n}",
        "body": {"text": f"message {n}", "lang": "en"},
    }
    fields.update(kw)
    return Entry(**fields)  # type: ignore[arg-type]


def chain(party: str, count: int) -> list[Entry]:
    out: list[Entry] = []
    prev = None
    for n in range(count):
        e = entry(party, n, prev)
        out.append(e)
        prev = entry_hash(e)
    return out


def test_canonical_bytes_are_the_golden_example() -> None:
    e = Entry(
        log_id=LOG,
        party="red",
        kind="ack",
        client_time="2015-10-10T09:00:00.250Z",
        prev="ab" * 32,
        idem="red-7",
        body={"of": "blue-3", "\u00e9t\u00e9": 1.5e-7, "n": 10, "list": [True, None, "\u2014"]},
    )
    assert e.canonical_bytes() == (
        b'{"body":{"list":[true,null,"\xe2\x80\x94"],"n":10,"of":"blue-3","\xc3\xa9t\xc3\xa9":'
        b'1.5e-7},"client_time":"2015-10-10T09:00:00.250Z","idem":"red-7","kind":"ack",'
        b'"log_id":"skyparley.example/syria-2015","party":"red","prev":"' + b"ab" * 32 + b'"}'
    )
    assert Entry.from_canonical(e.canonical_bytes()) == e


def test_an_entry_with_only_the_body_hash() -> None:
    e = entry(body=None, body_sha256="0f" * 32)
    assert b'"body_sha256":"' in e.canonical_bytes()
    assert b'"body"' not in e.canonical_bytes().replace(b'"body_sha256"', b"")
    assert Entry.from_canonical(e.canonical_bytes()) == e


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"client_time": "2015-10-10 09:00:00"}, "client_time"),
        ({"client_time": "2015-10-10T09:00:00+00:00"}, "client_time"),
        ({"client_time": "2015-02-30T09:00:00Z"}, "client_time"),
        ({"prev": "AB" * 32}, "prev"),
        ({"party": ""}, "party"),
        ({"body_sha256": "00" * 32}, "body"),
        ({"body": None, "body_sha256": "xyz"}, "body_sha256"),
        ({"body": {"x": float("nan")}}, "body"),
        ({"body": 2**60}, "body"),
    ],
)
def test_bad_entries_are_input_errors(changes: dict[str, object], field: str) -> None:
    with pytest.raises(LedgerInputError) as info:
        entry(**changes)
    assert info.value.field == field


def test_non_canonical_or_incomplete_json_is_refused() -> None:
    data = entry().canonical_bytes()
    obj = json.loads(data)
    with pytest.raises(LedgerInputError, match="canonical"):
        Entry.from_canonical(json.dumps(obj, indent=1).encode())
    with pytest.raises(LedgerInputError, match="repeats"):
        Entry.from_canonical(data[:-1] + b',"party":"red"}')
    with pytest.raises(LedgerInputError, match="not JSON"):
        SignedEntry(canonical=data[:-1], signature=bytes(64), key_id=bytes(4))
    del obj["idem"]
    with pytest.raises(LedgerInputError, match="missing \\['idem'\\]"):
        Entry.from_json(obj)
    with pytest.raises(LedgerInputError, match="unknown \\['x'\\]"):
        Entry.from_json({**json.loads(data), "x": 1})


def test_a_signed_entry_verifies_and_its_leaf_round_trips() -> None:
    e = entry()
    signed = sign_entry(e, BLUE)
    assert verify_entry(signed, RING) == e
    leaf = signed.leaf_bytes()
    assert leaf.startswith(b'{"entry":' + e.canonical_bytes() + b',"kid":"')
    assert SignedEntry.from_leaf(leaf) == signed


_BODIES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53) + 1, 2**53 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=500)
@given(_BODIES | st.just({"x": 2.0**53}), st.one_of(st.none(), st.just("ab" * 32)))
def test_the_quick_ways_give_the_bytes_and_entries_of_the_general_ones(
    body: object, prev: str | None
) -> None:
    # canonical_bytes splices the body's bytes kept from construction; sign_entry keeps the
    # entry rather than parsing its bytes back; the leaf is a concatenation
    e = entry(body=body, prev=prev)
    assert e.canonical_bytes() == canonical_json(e.to_json())
    signature = BLUE.sign(ENTRY_SIGNATURE_CONTEXT + e.canonical_bytes())
    try:
        general = SignedEntry(e.canonical_bytes(), signature, BLUE.key_id)
    except LedgerInputError as exc:  # a float from 2**53 up: its integer text is refused
        with pytest.raises(LedgerInputError, match=re.escape(str(exc))):
            sign_entry(e, BLUE)
        with pytest.raises(LedgerInputError, match=re.escape(str(exc))):
            SignedEntry.of(e, signature, BLUE.key_id)
        return
    signed = sign_entry(e, BLUE)
    assert SignedEntry.of(e, signature, BLUE.key_id) == signed
    assert signed == general
    assert signed.entry == general.entry == e
    assert signed.leaf_bytes() == canonical_json(
        {
            "entry": json.loads(signed.canonical),
            "kid": BLUE.key_id.hex(),
            "sig": base64.b64encode(signed.signature).decode("ascii"),
        }
    )
    hashed = Entry(LOG, "blue", "text", "2015-10-10T09:00:00Z", prev, "b1", body_sha256="cd" * 32)
    assert hashed.canonical_bytes() == canonical_json(hashed.to_json())


def test_signing_keeps_the_entry_it_signs() -> None:
    e = entry()
    assert sign_entry(e, BLUE).entry is e  # not parsed back from its bytes


def test_a_wrong_key_is_refused() -> None:
    e = entry("blue")
    with pytest.raises(VerificationError, match=r"party blue, idem blue-1.*key id"):
        verify_entry(sign_entry(e, RED), RING)
    # Red's key under blue's name (same key id as claimed, wrong key) does not verify either.
    fake_blue = SigningKey.from_seed("blue", bytes(range(2, 34)))
    with pytest.raises(VerificationError, match="key id"):
        verify_entry(sign_entry(e, fake_blue), RING)
    with pytest.raises(VerificationError, match="no key in the keyring"):
        verify_entry(sign_entry(entry("green"), RED), RING)


def test_an_entry_for_another_log_is_refused() -> None:
    signed = sign_entry(entry(log_id="other.example/log"), BLUE)
    assert verify_entry(signed, RING)  # the signature itself is fine
    with pytest.raises(VerificationError, match=r"written for log other\.example/log"):
        verify_entry(signed, RING, log_id=LOG)


@given(st.data())
def test_any_flipped_bit_in_a_signed_entry_fails(data: st.DataObject) -> None:
    signed = sign_entry(entry(), BLUE)
    target = data.draw(st.sampled_from(["signature", "canonical"]))
    value: bytes = getattr(signed, target)
    flipped = flip_bit(value, data.draw(bit_of(value)))
    # A flipped bit in the text either breaks the JSON (an input error) or the signature.
    with pytest.raises((VerificationError, LedgerInputError)):
        verify_entry(dataclasses.replace(signed, **{target: flipped}), RING)


def test_the_per_party_chain_is_checked() -> None:
    entries = chain("blue", 5)
    assert verify_chain(entries) == entry_hash(entries[-1])
    assert verify_chain(entries[2:], prev=entry_hash(entries[1])) == entry_hash(entries[-1])
    with pytest.raises(VerificationError, match="entry 2, idem blue-3"):  # one deleted
        verify_chain(entries[:2] + entries[3:])
    with pytest.raises(VerificationError, match="entry 1"):  # two swapped
        verify_chain([entries[0], entries[2], entries[1], *entries[3:]])
    with pytest.raises(VerificationError, match="entry 0"):  # the start cut off
        verify_chain(entries[1:])
    edited = dataclasses.replace(entries[1], body={"text": "rewritten"})
    with pytest.raises(VerificationError, match="entry 2"):  # one rewritten
        verify_chain([entries[0], edited, *entries[2:]])
    with pytest.raises(VerificationError, match="not an entry of party blue"):
        verify_chain([entries[0], entry("red", 1, entry_hash(entries[0]))])


def test_keyring_is_read_only_and_refuses_duplicates() -> None:
    assert set(RING) == {"blue", "red"}
    assert RING["blue"] == BLUE.verifier
    with pytest.raises(LedgerInputError, match="listed twice"):
        KeyRing([BLUE.verifier, BLUE.verifier])
    assert KeyRing({"blue-ops": BLUE.verifier})["blue-ops"] == BLUE.verifier
    with pytest.raises(TypeError):
        RING["green"] = RED.verifier  # type: ignore[index]


def log_with_receipts(count: int) -> tuple[list[bytes], list[Receipt]]:
    tree = MemoryTree()
    leaves = [sign_entry(e, BLUE).leaf_bytes() for e in chain("blue", count)]
    for leaf in leaves:
        tree.append(leaf)
    note = sign_checkpoint(Checkpoint(LOG, count, tree.root()), SERVICE)
    receipts = [
        Receipt(i, leaf_hash(leaf), inclusion_proof(i, count, tree), str(note))
        for i, leaf in enumerate(leaves)
    ]
    return leaves, receipts


def test_receipts_verify_offline_and_round_trip_as_json() -> None:
    leaves, receipts = log_with_receipts(13)
    for leaf, receipt in zip(leaves, receipts, strict=True):
        signed = verify_receipt(receipt, leaf, SERVICE.verifier)
        assert signed.checkpoint.size == 13
        back = Receipt.from_json(json.loads(json.dumps(receipt.to_json())))
        assert back == receipt


def test_a_receipt_for_other_bytes_or_another_log_fails() -> None:
    leaves, receipts = log_with_receipts(6)
    with pytest.raises(VerificationError, match="leaf does not hash"):
        verify_receipt(receipts[2], leaves[3], SERVICE.verifier)
    wrong_index = dataclasses.replace(receipts[2], leaf_index=3)
    with pytest.raises(VerificationError, match="inclusion proof"):
        verify_receipt(wrong_index, leaves[2], SERVICE.verifier)
    with pytest.raises(VerificationError, match="no signature by a known key"):
        verify_receipt(receipts[2], leaves[2], RED.verifier)


def test_a_receipt_can_demand_cosignatures() -> None:
    leaves, receipts = log_with_receipts(4)
    witness_key = BLUE.with_type(COSIGNATURE_V1)
    with pytest.raises(VerificationError, match="0 of the required 1"):
        verify_receipt(
            receipts[0], leaves[0], SERVICE.verifier, witnesses=(witness_key.verifier,), quorum=1
        )
    w = Witness(key=witness_key, log_key=SERVICE.verifier, origin=LOG)
    cosig = w.cosign(receipts[0].checkpoint, (), time_s=1444467600).cosignature
    cosigned = dataclasses.replace(receipts[0], checkpoint=receipts[0].checkpoint + cosig.to_line())
    signed = verify_receipt(
        cosigned, leaves[0], SERVICE.verifier, witnesses=(witness_key.verifier,), quorum=1
    )
    assert signed.cosignatures[0].time_s == 1444467600

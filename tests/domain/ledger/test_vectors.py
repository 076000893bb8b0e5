"""Test vectors: transparency-dev/merkle's (when present) and the project's own (always).

- ``../shared/data/merkle-testvectors/testdata/{inclusion,consistency}`` relative to the
  repository root (transparency-dev/merkle, Apache-2.0): every file, with its ``wantErr``.
  The tests are skipped, with the path in the reason, when that folder is not there.
- ``tests/domain/ledger/vectors.json``, made by ``tools/make_ledger_vectors.py`` from the
  recursive definitions of RFC 9162 and raw Ed25519, independently of the package.
- Public interoperability anchors: the signed-note example of golang.org/x/mod/sumdb/note
  and a real checkpoint of a Certificate Transparency log cosigned by public witnesses.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from skyparley.domain.ledger import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    Entry,
    KeyRing,
    MemoryTree,
    SignedEntry,
    SigningKey,
    Witness,
    consistency_proof,
    entry_hash,
    inclusion_proof,
    leaf_hash,
    open_checkpoint,
    parse_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_entry,
    sign_note,
    tree_root,
    verify_consistency,
    verify_entry,
    verify_inclusion,
    verify_note,
)
from skyparley.errors import VerificationError

REPO = Path(__file__).resolve().parents[3]
EXTERNAL = REPO.parent / "shared" / "data" / "merkle-testvectors" / "testdata"
OWN = Path(__file__).with_name("vectors.json")
REGEN = "regenerate with: .venv/bin/python tools/make_ledger_vectors.py (and review the diff)"


def b64(text: str | None) -> bytes:
    return base64.b64decode(text or "")


def external_files(kind: str) -> list[Any]:
    if not (EXTERNAL / kind).is_dir():
        reason = f"transparency-dev/merkle vectors not found at {EXTERNAL / kind}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="absent")]
    files = sorted((EXTERNAL / kind).rglob("*.json"))
    return [pytest.param(f, id=str(f.relative_to(EXTERNAL / kind))) for f in files]


@pytest.mark.parametrize("path", external_files("inclusion"))
def test_transparency_dev_inclusion_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    proof = [b64(p) for p in v["proof"] or []]
    args = (b64(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(VerificationError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", external_files("consistency"))
def test_transparency_dev_consistency_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    proof = [b64(p) for p in v["proof"] or []]
    args = (v["size1"], v["size2"], b64(v["root1"]), b64(v["root2"]), proof)
    if v["wantErr"]:
        with pytest.raises(VerificationError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_transparency_dev_vectors_are_all_there() -> None:
    """Guard against a half-copied folder making the parametrised tests vacuous."""
    if not EXTERNAL.is_dir():
        pytest.skip(f"transparency-dev/merkle vectors not found at {EXTERNAL}")
    for kind in ("inclusion", "consistency"):
        files = list((EXTERNAL / kind).rglob("*.json"))
        assert len(files) >= 90, f"only {len(files)} {kind} vectors in {EXTERNAL / kind}"
        happy = [f for f in files if not json.loads(f.read_text())["wantErr"]]
        assert len(happy) >= 5, f"only {len(happy)} {kind} vectors that must verify"


@pytest.fixture(scope="module")
def own() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(OWN.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def vector_tree() -> MemoryTree:
    tree = MemoryTree()
    for i in range(1000):
        tree.append(f"skyparley vector leaf {i}".encode())
    return tree


def test_own_roots(own: dict[str, Any], vector_tree: MemoryTree) -> None:
    for v in own["merkle"]["roots"]:
        assert tree_root(vector_tree, v["size"]) == b64(v["root"]), f"size {v['size']}; {REGEN}"


def test_own_inclusion_vectors(own: dict[str, Any], vector_tree: MemoryTree) -> None:
    vectors = own["merkle"]["inclusion"]
    assert len(vectors) > 150
    for v in vectors:
        proof = [b64(p) for p in v["proof"]]
        i, n = v["leaf_index"], v["tree_size"]
        assert list(inclusion_proof(i, n, vector_tree)) == proof, f"leaf {i} of {n}; {REGEN}"
        verify_inclusion(leaf_hash(b64(v["leaf"])), i, n, proof, b64(v["root"]))


def test_own_consistency_vectors(own: dict[str, Any], vector_tree: MemoryTree) -> None:
    vectors = own["merkle"]["consistency"]
    assert len(vectors) > 150
    for v in vectors:
        proof = [b64(p) for p in v["proof"]]
        m, n = v["old_size"], v["new_size"]
        assert list(consistency_proof(m, n, vector_tree)) == proof, f"{m} -> {n}; {REGEN}"
        verify_consistency(m, n, b64(v["old_root"]), b64(v["new_root"]), proof)


def keys_of(own: dict[str, Any]) -> dict[str, SigningKey]:
    return {
        k["name"]: SigningKey.from_seed(k["name"], bytes.fromhex(k["seed"]), k["type"])
        for k in own["keys"]
    }


def test_own_key_vectors(own: dict[str, Any]) -> None:
    keys = keys_of(own)
    for k in own["keys"]:
        assert keys[k["name"]].verifier.to_text() == k["vkey"], REGEN
        assert parse_verifier_key(k["vkey"]) == keys[k["name"]].verifier


def test_own_note_and_checkpoint_vectors(own: dict[str, Any]) -> None:
    keys = keys_of(own)
    service, witness = keys["skyparley.example/log"], keys["blue.example/witness"]
    assert str(sign_note(own["note"]["text"], service)) == own["note"]["signed"], REGEN
    cp = own["checkpoint"]
    note = sign_checkpoint(Checkpoint.parse(cp["body"]), service)
    step = Witness(key=witness, log_key=service.verifier, origin=service.name).cosign(
        note, (), time_s=cp["time_s"]
    )
    assert str(note.with_signatures(step.cosignature)) == cp["signed"], REGEN
    signed = open_checkpoint(cp["signed"], service.verifier, witnesses=[witness.verifier])
    assert signed.checkpoint.size == 17
    assert [(c.witness.name, c.time_s) for c in signed.cosignatures] == [
        ("blue.example/witness", cp["time_s"])
    ]


def test_own_entry_vector_is_the_golden_entry_format(own: dict[str, Any]) -> None:
    keys = keys_of(own)
    v = own["entry"]
    entry = Entry.from_json(v["json"])
    assert entry.canonical_bytes().decode("utf-8") == v["canonical"], REGEN
    assert entry_hash(entry) == v["entry_hash"]
    signed = sign_entry(entry, keys["blue"])
    assert signed.key_id.hex() == v["kid"]
    assert base64.b64encode(signed.signature).decode() == v["sig"]
    assert signed.leaf_bytes().decode("utf-8") == v["leaf"], REGEN
    assert leaf_hash(signed.leaf_bytes()) == b64(v["leaf_hash"])
    back = SignedEntry.from_leaf(v["leaf"].encode("utf-8"))
    assert verify_entry(back, KeyRing([keys["blue"].verifier])) == entry


# Public anchors. The note and key of golang.org/x/mod/sumdb/note (package documentation):
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY_MATERIAL = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # type byte 0x01 + seed
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2p"
    "ZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_go_signed_note_example_is_reproduced_byte_for_byte() -> None:
    seed = base64.b64decode(GO_SKEY_MATERIAL)[1:]
    key = SigningKey.from_seed("PeterNeumann", seed, ED25519)
    assert key.verifier.to_text() == GO_VKEY
    assert str(sign_note(GO_TEXT, key)) == GO_NOTE
    assert verify_note(GO_NOTE, [parse_verifier_key(GO_VKEY)])[0].name == "PeterNeumann"
    with pytest.raises(VerificationError):
        verify_note(GO_NOTE.replace("cryptography", "cryptographY"), [key.verifier])


# A checkpoint of the CT log arche2025h1.staging.ct.transparency.dev, signed by the log
# (Ed25519 and an RFC 6962 signature, type 0x05, unknown here) and cosigned (type 0x04) by
# public witnesses, among them remora.n621.de.
CT_CHECKPOINT = """\
arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

\u2014 arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
\u2014 arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
\u2014 transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
\u2014 witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==
\u2014 remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
\u2014 witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==
"""  # noqa: E501 (signature lines are what they are)
CT_LOG_VKEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)
CT_WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def test_a_real_cosigned_checkpoint_verifies() -> None:
    log, witness = parse_verifier_key(CT_LOG_VKEY), parse_verifier_key(CT_WITNESS_VKEY)
    assert witness.sig_type == COSIGNATURE_V1
    signed = open_checkpoint(CT_CHECKPOINT, log, witnesses=[witness], quorum=1)
    assert signed.checkpoint.size == 1432088532
    (cosig,) = signed.cosignatures
    assert cosig.witness == witness
    assert cosig.time_s > 1_700_000_000  # a 2026 timestamp, as the line says
    forged = CT_CHECKPOINT.replace("1432088532", "1432088533")
    with pytest.raises(VerificationError):
        open_checkpoint(forged, log, witnesses=[witness])
    with pytest.raises(VerificationError):
        verify_note(forged, [witness])
    assert len(parse_note(CT_CHECKPOINT).signatures) == 6

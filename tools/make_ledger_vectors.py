"""Generate the ledger's own test vectors, ``tests/domain/ledger/vectors.json``.

The vectors come from code written here straight from the specifications, independently of
``skyparley.domain.ledger`` (nothing is imported from it):

- ``merkle``: the recursive definitions of RFC 9162 section 2.1 (MTH, PATH, PROOF/SUBPROOF)
  over the leaves ``b"skyparley vector leaf <i>"``: every root up to 40 leaves, every
  inclusion proof and every consistency proof up to 17 leaves, and a sample in trees of
  31, 32, 33, 100 and 1000 leaves (hashes in base64, as in transparency-dev/merkle);
- ``keys``, ``note``, ``checkpoint``: C2SP signed-note keys, a signed note, a checkpoint
  signed by the service and cosigned (tlog-cosignature v1) by a witness, from fixed seeds
  (Ed25519 signatures are deterministic);
- ``entry``: one signed entry, its RFC 8785 canonical bytes, its leaf bytes and leaf hash
  (the golden example of the entry format).

``tests/domain/ledger/test_vectors.py`` checks the package against them. Run
``.venv/bin/python tools/make_ledger_vectors.py`` and review the diff it prints; the vectors
should only change together with a deliberate change of format.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import struct
import sys
from pathlib import Path

import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "domain" / "ledger" / "vectors.json"
REGEN_COMMAND = ".venv/bin/python tools/make_ledger_vectors.py"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---------------------------------------------------------------- RFC 9162, section 2.1
def leaf(i: int) -> bytes:
    return f"skyparley vector leaf {i}".encode()


def mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def merkle_vectors() -> dict[str, object]:
    leaves = [leaf(i) for i in range(1000)]
    roots = [{"size": n, "root": b64(mth(leaves[:n]))} for n in range(41)]
    inclusion = []
    consistency = []
    cases: list[tuple[int, list[int]]] = [(n, list(range(n))) for n in range(1, 18)]
    cases += [(n, sorted({0, 1, n // 2, n - 2, n - 1})) for n in (31, 32, 33, 100, 1000)]
    for n, indexes in cases:
        root = b64(mth(leaves[:n]))
        inclusion.extend(
            {
                "leaf_index": i,
                "tree_size": n,
                "leaf": b64(leaves[i]),
                "root": root,
                "proof": [b64(h) for h in path(i, leaves[:n])],
            }
            for i in indexes
        )
    pairs = [(m, n) for n in range(1, 18) for m in range(1, n + 1)]
    pairs += [(1, 100), (7, 1000), (31, 33), (32, 33), (64, 100), (500, 1000), (512, 1000)]
    pairs += [(999, 1000), (1000, 1000)]
    consistency.extend(
        {
            "old_size": m,
            "new_size": n,
            "old_root": b64(mth(leaves[:m])),
            "new_root": b64(mth(leaves[:n])),
            "proof": [b64(h) for h in subproof(m, leaves[:n], True)],
        }
        for m, n in pairs
    )
    return {
        "leaf": "UTF-8 of 'skyparley vector leaf <i>'",
        "roots": roots,
        "inclusion": inclusion,
        "consistency": consistency,
    }


# ---------------------------------------------------------------- C2SP signed-note
def key(seed: bytes) -> tuple[Ed25519PrivateKey, bytes]:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return private, public


def key_id(name: str, sig_type: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()[:4]


def vkey(name: str, sig_type: int, public: bytes) -> str:
    return f"{name}+{key_id(name, sig_type, public).hex()}+{b64(bytes([sig_type]) + public)}"


def signature_line(name: str, kid: bytes, signature: bytes) -> str:
    return f"\u2014 {name} {b64(kid + signature)}\n"


def signed_vectors() -> dict[str, object]:
    service_name, service_seed = "skyparley.example/log", bytes(range(32))
    witness_name, witness_seed = "blue.example/witness", bytes(range(32, 64))
    party_name, party_seed = "blue", bytes(range(64, 96))
    service, service_pub = key(service_seed)
    witness, witness_pub = key(witness_seed)
    party, party_pub = key(party_seed)

    note_text = "If you think cryptography is the answer to your problem,\n\nsign it twice.\n"
    note = (
        note_text
        + "\n"
        + signature_line(
            service_name, key_id(service_name, 1, service_pub), service.sign(note_text.encode())
        )
    )

    # A checkpoint over the first 17 vector leaves, signed by the service, cosigned at T.
    body = f"{service_name}\n17\n{b64(mth([leaf(i) for i in range(17)]))}\n"
    time_s = 1444467600
    cosigned = b"cosignature/v1\ntime %d\n" % time_s + body.encode()
    checkpoint = (
        body
        + "\n"
        + signature_line(
            service_name, key_id(service_name, 1, service_pub), service.sign(body.encode())
        )
        + signature_line(
            witness_name,
            key_id(witness_name, 4, witness_pub),
            struct.pack(">Q", time_s) + witness.sign(cosigned),
        )
    )

    entry = {
        "log_id": service_name,
        "party": party_name,
        "kind": "notice",
        "body": {"notice": "NOTAM-like text", "alt_ft": [1000, 25000], "lang": "ru", "note": "é"},
        "client_time": "2015-10-10T09:00:00Z",
        "prev": None,
        "idem": "blue-0001",
    }
    canonical = rfc8785.dumps(entry)
    sig = party.sign(b"skyparley/entry/v1\n" + canonical)
    kid = key_id(party_name, 1, party_pub)
    leaf_bytes = rfc8785.dumps({"entry": entry, "kid": kid.hex(), "sig": b64(sig)})
    return {
        "keys": [
            {"name": service_name, "seed": service_seed.hex(), "type": 1,
             "vkey": vkey(service_name, 1, service_pub)},
            {"name": witness_name, "seed": witness_seed.hex(), "type": 4,
             "vkey": vkey(witness_name, 4, witness_pub)},
            {"name": party_name, "seed": party_seed.hex(), "type": 1,
             "vkey": vkey(party_name, 1, party_pub)},
        ],
        "note": {"text": note_text, "signed": note},
        "checkpoint": {"body": body, "time_s": time_s, "signed": checkpoint},
        "entry": {
            "json": entry,
            "canonical": canonical.decode("utf-8"),
            "kid": kid.hex(),
            "sig": b64(sig),
            "leaf": leaf_bytes.decode("utf-8"),
            "leaf_hash": b64(hashlib.sha256(b"\x00" + leaf_bytes).digest()),
            "entry_hash": hashlib.sha256(canonical).hexdigest(),
        },
    }  # fmt: skip


def main() -> int:
    vectors = {
        "generator": REGEN_COMMAND,
        "merkle": merkle_vectors(),
        **signed_vectors(),
    }
    text = json.dumps(vectors, indent=1, ensure_ascii=False) + "\n"
    old = VECTORS.read_text(encoding="utf-8") if VECTORS.exists() else ""
    if old == text:
        print(f"{VECTORS.relative_to(ROOT)} is up to date")
        return 0
    diff = difflib.unified_diff(old.splitlines(), text.splitlines(), "old", "new", lineterm="", n=1)
    for line in list(diff)[:200]:
        print(line)
    VECTORS.write_text(text, encoding="utf-8")
    print(f"wrote {VECTORS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Keys and entries shared by the durability harness, its server and its clients.

Deterministic (seeded) keys, so that every process derives the same ones without files.
"""

from __future__ import annotations

import hashlib

from skyparley.domain.ledger import Entry, KeyRing, SignedEntry, SigningKey, entry_hash, sign_entry

__all__ = ["ORIGIN", "SERVICE", "keyring", "party_key", "party_name", "signed_chain_entry"]

ORIGIN = "skyparley.test/durability"
SERVICE = SigningKey.from_seed(ORIGIN, hashlib.sha256(b"service").digest())


def party_name(n: int) -> str:
    """The party id of client ``n``."""
    return f"client{n}"


def party_key(party: str) -> SigningKey:
    """The signing key of ``party`` (seeded from its name)."""
    return SigningKey.from_seed(party, hashlib.sha256(b"party:" + party.encode()).digest())


def keyring(clients: int) -> KeyRing:
    """The keys of parties ``client0`` .. ``client{clients-1}``."""
    return KeyRing([party_key(party_name(n)).verifier for n in range(clients)])


def signed_chain_entry(party: str, n: int, prev: str | None) -> tuple[SignedEntry, str]:
    """Entry ``n`` of ``party``'s chain, signed, and its hash (the next one's ``prev``)."""
    entry = Entry(
        log_id=ORIGIN,
        party=party,
        kind="text",
        client_time="2015-10-10T09:00:00Z",
        prev=prev,
        idem=f"{party}-{n}",
        body={"n": n, "text": f"message {n} from {party}"},
    )
    return sign_entry(entry, party_key(party)), entry_hash(entry)

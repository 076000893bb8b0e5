"""Receipts: the proof an author gets that its entry is in the log.

A receipt holds the leaf index, the leaf hash, the inclusion proof and the signed checkpoint
(a note, possibly cosigned) the proof leads to. Anyone holding the leaf bytes and the
service's verifier key checks it offline with :func:`verify_receipt`.

JSON form (:meth:`Receipt.to_json`)::

    {"checkpoint": "<signed note text>", "inclusion_proof": ["<base64>", ...],
     "leaf_hash": "<base64>", "leaf_index": 17}
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from skyparley.domain.ledger.checkpoint import SignedCheckpoint, open_checkpoint
from skyparley.domain.ledger.keys import VerifierKey
from skyparley.domain.ledger.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from skyparley.errors import LedgerInputError, VerificationError

__all__ = ["Receipt", "verify_receipt"]


def _b64(value: object, field: str) -> bytes:
    if not isinstance(value, str):
        raise LedgerInputError(field=field, reason="must be base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise LedgerInputError(field=field, reason="must be base64 text") from None
    if len(raw) != HASH_SIZE:
        raise LedgerInputError(field=field, reason=f"must be a {HASH_SIZE}-byte hash")
    return raw


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof of inclusion of leaf ``leaf_index`` in the tree of a signed checkpoint."""

    leaf_index: int
    leaf_hash: bytes
    inclusion_proof: tuple[bytes, ...]
    checkpoint: str

    def to_json(self) -> dict[str, object]:
        """The receipt as a JSON object (see the module notes)."""
        return {
            "checkpoint": self.checkpoint,
            "inclusion_proof": [base64.b64encode(h).decode("ascii") for h in self.inclusion_proof],
            "leaf_hash": base64.b64encode(self.leaf_hash).decode("ascii"),
            "leaf_index": self.leaf_index,
        }

    @classmethod
    def from_json(cls, obj: object) -> Receipt:
        """A receipt from its JSON object; raises :class:`~skyparley.errors.LedgerInputError`."""
        keys = {"checkpoint", "inclusion_proof", "leaf_hash", "leaf_index"}
        if not isinstance(obj, dict) or set(obj) != keys:
            raise LedgerInputError(field="receipt", reason=f"members must be {sorted(keys)}")
        index, proof, note = obj["leaf_index"], obj["inclusion_proof"], obj["checkpoint"]
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise LedgerInputError(field="leaf_index", reason="must be an integer >= 0")
        if not isinstance(proof, list):
            raise LedgerInputError(field="inclusion_proof", reason="must be a list of hashes")
        if not isinstance(note, str):
            raise LedgerInputError(field="checkpoint", reason="must be signed note text")
        return cls(
            leaf_index=index,
            leaf_hash=_b64(obj["leaf_hash"], "leaf_hash"),
            inclusion_proof=tuple(_b64(h, "inclusion_proof") for h in proof),
            checkpoint=note,
        )


def verify_receipt(
    receipt: Receipt,
    leaf: bytes,
    service_key: VerifierKey,
    *,
    witnesses: tuple[VerifierKey, ...] = (),
    quorum: int = 0,
) -> SignedCheckpoint:
    """Check a receipt for ``leaf`` (the leaf bytes); returns the checkpoint it proves against.

    Checks, in order: the leaf hashes to the receipt's leaf hash, the checkpoint is signed by
    the service (and cosigned by ``quorum`` of ``witnesses``), the inclusion proof leads from
    the leaf to the checkpoint's root. Raises :class:`~skyparley.errors.VerificationError`.
    """
    where = f"leaf {receipt.leaf_index}"
    if leaf_hash(leaf) != receipt.leaf_hash:
        raise VerificationError(
            what="receipt", where=where, reason="the leaf does not hash to the receipt's leaf hash"
        )
    signed = open_checkpoint(receipt.checkpoint, service_key, witnesses=witnesses, quorum=quorum)
    cp = signed.checkpoint
    verify_inclusion(
        receipt.leaf_hash, receipt.leaf_index, cp.size, receipt.inclusion_proof, cp.root_hash
    )
    return signed

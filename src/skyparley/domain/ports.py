"""Ports: what the domain and the use cases need from the outside world, as protocols.

Adapters implement them (:class:`~skyparley.adapters.ledger_store.SqliteLedger` is the SQLite
ledger store); the layers above take them as parameters, never import an adapter. A port
says what a call promises, not how it is kept: the contract tests run the same assertions
against every implementation.

- :class:`Clock`: the time, injected (nothing reads the system clock behind the caller's back).
- :class:`LedgerStore`: the append-only signed log of issue 4: appends that return receipts
  once committed, and the reads an auditor or an exporter needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from skyparley.domain.ledger.entry import SignedEntry
from skyparley.domain.ledger.note import Note, NoteSignature
from skyparley.domain.ledger.receipt import Receipt

__all__ = ["Clock", "LedgerStore", "LoggedEntry"]


class Clock(Protocol):
    """A source of the current time, injected wherever the time is needed."""

    def now_s(self) -> float:
        """The current UTC time in POSIX seconds."""
        ...


@dataclass(frozen=True, slots=True)
class LoggedEntry:
    """A signed entry as the log holds it: its leaf index and when the log took it.

    ``logged_s`` is the store's clock at the append (POSIX seconds), not the author's
    ``client_time``: the author says when it wrote, the log says when it received.
    """

    index: int
    signed: SignedEntry
    logged_s: float


class LedgerStore(Protocol):
    """The ledger's storage: an append-only RFC 9162 log of signed entries.

    Promises of every implementation:

    - :meth:`append` verifies the author's signature for this log, checks the author's hash
      chain and returns a :class:`~skyparley.domain.ledger.receipt.Receipt` only once the
      entry is durable. The same ``(party, idem)`` appended again gets the original leaf
      back (never a second leaf); another entry under a used ``(party, idem)`` is refused.
    - every checkpoint is signed by the service key, and each one is consistent with every
      earlier one;
    - readers see committed data only.
    """

    @property
    def origin(self) -> str:
        """The log's origin line (also the ``log_id`` its entries must name)."""
        ...

    def append(self, signed: SignedEntry) -> Receipt:
        """Log one signed entry; returns its receipt once it is committed."""
        ...

    def size(self) -> int:
        """Number of leaves committed."""
        ...

    def leaf(self, index: int) -> bytes:
        """The leaf bytes of leaf ``index``."""
        ...

    def entry(self, index: int) -> LoggedEntry:
        """Leaf ``index`` as a :class:`LoggedEntry`."""
        ...

    def entries(self, from_s: float | None = None, to_s: float | None = None) -> list[LoggedEntry]:
        """The entries logged in ``[from_s, to_s)`` (POSIX seconds; ``None``: no bound)."""
        ...

    def checkpoint(self, size: int | None = None) -> Note:
        """The signed checkpoint at ``size`` (the latest when ``None``) with its cosignatures."""
        ...

    def checkpoint_sizes(self) -> list[int]:
        """The sizes at which the log signed a checkpoint, ascending."""
        ...

    def inclusion_proof(self, index: int, size: int) -> tuple[bytes, ...]:
        """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size``."""
        ...

    def consistency_proof(self, old_size: int, new_size: int) -> tuple[bytes, ...]:
        """The RFC 9162 consistency proof from the tree of ``old_size`` to ``new_size``."""
        ...

    def store_cosignature(self, size: int, party: str, signature_line: str) -> None:
        """Keep a party's cosignature line on the checkpoint at ``size``, once it verifies."""
        ...

    def cosignatures(self, size: int) -> Sequence[NoteSignature]:
        """The cosignature lines kept for the checkpoint at ``size``."""
        ...

    def close(self) -> None:
        """Finish pending appends and release the store."""
        ...

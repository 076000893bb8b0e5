"""The ledger side of every use case: party-signed entries in, service-signed entries out.

The service has its own identity in the log: its key's name is its party id, and the log's
keyring holds its verifier key beside the parties'. What the service itself says (a
finding, an escalation, a statement attested on a party's behalf) is an entry it signs,
chained like any party's.

Idempotency makes the two commits of a use case (the ledger's, then the store's) safe
across a crash in between: every service entry has an idempotency key derived from what it
is about (``esc:<message>:<party>:<level>``), so doing the use case again finds the entry
already logged and reuses it instead of logging a second one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from skyparley.domain.ledger.entry import Entry, JSONValue, SignedEntry, sign_entry
from skyparley.domain.ledger.keys import SigningKey
from skyparley.domain.ledger.receipt import Receipt
from skyparley.domain.ports import Clock, LedgerStore
from skyparley.domain.times import format_time
from skyparley.errors import ConflictError, InputError, VerificationError

__all__ = ["Logged", "ServiceSigner"]


@dataclass(frozen=True, slots=True)
class Logged:
    """An entry as logged: its hash, leaf index and receipt (None when it was logged before
    and found again by its idempotency key)."""

    entry_hash: str
    index: int
    receipt: Receipt | None
    entry: Entry


class ServiceSigner:
    """Appends party entries (checked) and the service's own entries (signed here)."""

    def __init__(self, ledger: LedgerStore, key: SigningKey, clock: Clock) -> None:
        self._ledger = ledger
        self._key = key
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def party(self) -> str:
        """The service's party id in the log: its key's name."""
        return self._key.name

    @property
    def log_id(self) -> str:
        """The log's origin, which every entry names."""
        return self._ledger.origin

    def append_together(
        self, signed: SignedEntry | None, items: Sequence[tuple[str, JSONValue, str]]
    ) -> tuple[Logged | None, list[Logged]]:
        """Log a party's signed entry and the service's statements about it in one group
        commit (one fsync), the party's first.

        The party's entry is checked here before anything is queued (its signature, its
        chain head, its idempotency key), so it cannot fail in the writer and leave the
        service's statements about it orphaned in the log. A retry finds it again.
        """
        with self._lock:
            party_logged: Logged | None = None
            queue: list[SignedEntry] = []
            if signed is not None:
                e = signed.entry
                found = self._ledger.find(e.party, e.idem)
                if found is not None:
                    if found.signed.hash != signed.hash:
                        raise ConflictError(
                            field="signature.idem",
                            reason=f"party {e.party} already used idempotency key {e.idem!r}"
                            f" for another statement (leaf {found.index})",
                        )
                    party_logged = Logged(found.signed.hash, found.index, None, e)
                else:
                    head = self._ledger.head(e.party)
                    if e.prev != head:
                        raise ConflictError(
                            field="signature.prev",
                            reason=f"prev is {e.prev or 'null'} but the party's last entry "
                            f"hashes to {head or 'null'}; fetch GET /v1/ledger/head and sign "
                            "again",
                        )
                    queue.append(signed)
            pending, service = self._chain(items)
            queue += [s for _, s in pending]
            submit_many = getattr(self._ledger, "submit_many", None)
            try:
                if submit_many is not None:
                    receipts = [f.result() for f in submit_many(queue)]
                else:
                    receipts = [self._ledger.append(x) for x in queue]
            except VerificationError as exc:
                raise InputError(field="signature", reason=str(exc)) from None
            k = 0
            if signed is not None and party_logged is None:
                party_logged = Logged(
                    signed.hash, receipts[0].leaf_index, receipts[0], signed.entry
                )
                k = 1
            for (slot, s), receipt in zip(pending, receipts[k:], strict=True):
                service[slot] = Logged(s.hash, receipt.leaf_index, receipt, s.entry)
        return party_logged, [x for x in service if x is not None]

    def _chain(
        self, items: Sequence[tuple[str, JSONValue, str]]
    ) -> tuple[list[tuple[int, SignedEntry]], list[Logged | None]]:
        """The service's statements signed and chained from its head (those logged before
        found again by their idempotency key): what to queue, and the slots of each."""
        out: list[Logged | None] = []
        fresh: list[tuple[int, SignedEntry]] = []
        prev = self._ledger.head(self.party)
        now = format_time(self._clock.now_s())
        for kind, body, idem in items:
            found = self._ledger.find(self.party, idem)
            if found is not None:
                out.append(Logged(found.signed.hash, found.index, None, found.signed.entry))
                continue
            entry = Entry(
                log_id=self.log_id,
                party=self.party,
                kind=kind,
                client_time=now,
                prev=prev,
                idem=idem,
                body=body,
            )
            signed = sign_entry(entry, self._key)
            prev = signed.hash
            fresh.append((len(out), signed))
            out.append(None)
        return fresh, out

    def append_service(self, kind: str, body: JSONValue, *, idem: str) -> Logged:
        """Log a statement of the service (signed here), once per ``idem``."""
        return self.append_service_many([(kind, body, idem)])[0]

    def append_service_many(self, items: Sequence[tuple[str, JSONValue, str]]) -> list[Logged]:
        """Log several service statements ``(kind, body, idem)``, in order, each once.

        Those already logged under their idempotency key are found again; the others are
        chained, signed and submitted together so that one group commit takes them.
        """
        return self.append_together(None, items)[1]

"""The in-process fan-out of committed events to the parties' live streams.

The store is the truth: every event is committed (with its cursor) before it is published
here, and a stream that resumes reads what it missed from the store. The hub only wakes
the streams that are connected now. Publishing is called from the service's threads;
subscribers are asyncio queues, woken on their own event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

from skyparley.domain.records import Event

__all__ = ["EventHub", "Subscription"]


class Subscription:
    """One live stream of one party: an asyncio queue of events, fed from any thread."""

    def __init__(self, hub: EventHub, party: str, loop: asyncio.AbstractEventLoop) -> None:
        self.party = party
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self._hub = hub
        self._loop = loop

    def _push(self, event: Event) -> None:
        self._loop.call_soon_threadsafe(self.queue.put_nowait, event)

    def close(self) -> None:
        """Stop receiving events."""
        self._hub.unsubscribe(self)


class EventHub:
    """Subscriptions by party; :meth:`publish` hands each committed event to its party's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}

    def subscribe(self, party: str, loop: asyncio.AbstractEventLoop) -> Subscription:
        """A new subscription for ``party``'s events, delivered on ``loop``."""
        sub = Subscription(self, party, loop)
        with self._lock:
            self._subs.setdefault(party, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Remove a subscription (idempotent)."""
        with self._lock:
            subs = self._subs.get(sub.party)
            if subs is not None:
                subs.discard(sub)

    def publish(self, events: Iterable[Event]) -> None:
        """Wake the streams of every committed event's party."""
        with self._lock:
            targets = [(e, list(self._subs.get(e.party, ()))) for e in events]
        for event, subs in targets:
            for sub in subs:
                try:
                    sub._push(event)
                except RuntimeError:  # the subscriber's loop is closed: it is gone
                    self.unsubscribe(sub)

    def count(self) -> int:
        """Live subscriptions, all parties together."""
        with self._lock:
            return sum(len(s) for s in self._subs.values())

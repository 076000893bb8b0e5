"""Clocks: the system's, and one a test or a replay sets by hand."""

from __future__ import annotations

import threading
import time

__all__ = ["ManualClock", "SystemClock"]


class SystemClock:
    """The system's UTC clock (POSIX seconds)."""

    def now_s(self) -> float:
        """The current time."""
        return time.time()


class ManualClock:
    """A clock that moves only when told: tests, and replays on a compressed clock.

    Examples
    --------
    >>> c = ManualClock(100.0)
    >>> c.advance(5); c.now_s()
    105.0
    """

    def __init__(self, t_s: float) -> None:
        self._t = float(t_s)
        self._lock = threading.Lock()

    def now_s(self) -> float:
        """The time it was set to."""
        with self._lock:
            return self._t

    def set(self, t_s: float) -> None:
        """Set the time (it may go backwards: a test's choice)."""
        with self._lock:
            self._t = float(t_s)

    def advance(self, dt_s: float) -> None:
        """Move the time on by ``dt_s`` seconds."""
        with self._lock:
            self._t += float(dt_s)

"""Clocks: the system's, one a test or a replay sets by hand, and a compressed one for the
demo (scenario time running ``speed`` times faster than the wall clock)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["ManualClock", "ScaledClock", "SystemClock"]


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

    def jump_to(self, t_s: float) -> None:
        """Move the time on to ``t_s``; a time already past leaves it as it is."""
        with self._lock:
            self._t = max(self._t, float(t_s))

    def wait_until(self, t_s: float) -> None:
        """What a scenario player does to let time pass: here, :meth:`jump_to` at once."""
        self.jump_to(t_s)


class ScaledClock:
    """A compressed clock: scenario time ``start_s + (wall time elapsed) * speed``.

    The wall time is the monotonic clock, so changes of the system's time do not move it.
    :meth:`jump_to` moves it on to a later time (the next beat of a scenario), never back;
    :meth:`wait_until` sleeps the wall time that scenario time needs to get somewhere.
    Thread-safe: the service reads it while a player jumps it.

    Examples
    --------
    >>> c = ScaledClock(1_000.0, speed=20)
    >>> 1_000.0 <= c.now_s() < 1_020.0
    True
    >>> c.jump_to(5_000.0); c.now_s() >= 5_000.0
    True
    >>> c.jump_to(10.0); c.now_s() >= 5_000.0
    True
    """

    def __init__(
        self,
        start_s: float,
        speed: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        if not math.isfinite(start_s):
            raise ValueError(f"start_s must be finite, got {start_s!r}")
        self.speed = float(speed)
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._base_s = float(start_s)
        self._wall0 = monotonic()

    def _now(self) -> float:
        return self._base_s + (self._monotonic() - self._wall0) * self.speed

    def now_s(self) -> float:
        """The scenario time now."""
        with self._lock:
            return self._now()

    def jump_to(self, t_s: float) -> None:
        """Move the scenario time on to ``t_s`` (from there it runs on at ``speed``); a time
        already past leaves it as it is."""
        with self._lock:
            if float(t_s) > self._now():
                self._base_s = float(t_s)
                self._wall0 = self._monotonic()

    def wait_until(self, t_s: float) -> None:
        """Sleep until the scenario time is ``t_s`` or later (at once if it already is)."""
        while True:
            with self._lock:
                left = (float(t_s) - self._now()) / self.speed
            if left <= 0:
                return
            self._sleep(min(left, 0.5))

"""Alert grading: conflicts graded into the protocol's alert levels, with hysteresis.

This is the one grading code path of skyparley: the live service and ``skyparley replay``
both feed an :class:`AlertGrader` tick by tick, so that replaying recorded traffic raises the
alerts the service would have raised.

Levels
------
The protocol lists its alert levels from least to most severe (``tactical.alert_levels``),
each with a time to loss of separation and, optionally, its own ``hsep_nm``/``vsep_ft``
(default: the protocol's minima). At one tick a pair's **raw level** is the most severe level
``L`` for which the pair is predicted to lose separation, against ``L``'s thresholds, within
``L.time_to_los_s`` (``tin_s <= time_to_los_s``); a pair that has lost separation
(``tin_s <= 0``) meets every level. With the default levels a pair is *advisory* within
300 s, *caution* within 120 s and *warning* within 60 s or in loss of separation.

Hysteresis (DAIDALUS style)
---------------------------
A pair's raw levels are kept over its last ``n`` ticks (ticks where it was not in conflict
count as no level).

- **Up: M-of-N.** The alert rises to the highest level ``L`` that at least ``m`` of the last
  ``n`` raw levels reach (this tick included). With 2 of 4, a single noisy tick raises
  nothing.
- **Down: all N.** The alert goes down only when none of the last ``n`` raw levels reaches
  its level, and then to the highest level among them (resolved when none was in
  conflict). With 4 ticks, up to 3 missed ticks in a row never clear an alert: noise at a
  threshold gives one alert per encounter, not a string of them.
- **Persistence.** An alert keeps its level for at least ``persistence_s`` seconds after it
  was raised or last changed before it may go down. Rising is never delayed beyond the
  M-of-N filter.
- **Release.** While an alert is on, the pair's raw level at a tick is at least the alert's
  level (never more) if the pair still conflicts against the protocol's minima enlarged by
  ``release_factor`` (1.2: 6 NM and 1,200 ft) within the level's time, also enlarged. A
  pair whose predicted closest approach sits right on the minimum, where track noise turns
  the raw conflict on and off from tick to tick, keeps its one alert until it is clearly
  away, instead of a string of alerts. The detection gives one more table for this: the
  last of :func:`detection_minima`.

Lifecycle
---------
Each change of a pair's filtered level is an :class:`AlertEvent`: ``raised`` (from no
alert), ``upgraded``, ``downgraded`` or ``resolved`` (back to no alert). An alert is named by
its pair and the time it was raised. Acknowledgement belongs to the hotline, not here.

The grader depends only on what each tick holds, never on the order of the pairs within a
tick: events come sorted by pair.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from skyparley.domain.protocol import TacticalSettings
from skyparley.domain.separation import Conflicts, SeparationMinima
from skyparley.errors import InputError

__all__ = [
    "EVENT_KINDS",
    "Alert",
    "AlertEvent",
    "AlertGrader",
    "detection_minima",
    "raw_levels",
]

EVENT_KINDS: Final = ("raised", "upgraded", "downgraded", "resolved")

_NAN: Final = float("nan")


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A change of one pair's alert level at time ``t_s``.

    ``kind`` is one of :data:`EVENT_KINDS`; ``level`` is the level after the change (``None``
    when resolved) and ``previous`` the one before (``None`` when raised). ``raised_s``
    names the alert together with the pair. ``tin_s``, ``tcpa_s``, ``dcpa_nm``, ``hdist_nm``
    and ``vdist_ft`` describe the pair's conflict at that tick against the protocol's minima
    (NaN when it was not in conflict then, as is usual when an alert is resolved).
    """

    t_s: float
    a: str
    b: str
    kind: str
    level: str | None
    previous: str | None
    raised_s: float
    tin_s: float = _NAN
    tcpa_s: float = _NAN
    dcpa_nm: float = _NAN
    hdist_nm: float = _NAN
    vdist_ft: float = _NAN


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert that is on now: its pair, level, when it was raised and when its level was
    set, and the most severe level it has reached."""

    a: str
    b: str
    level: str
    raised_s: float
    level_since_s: float
    peak: str


def detection_minima(settings: TacticalSettings) -> tuple[SeparationMinima, ...]:
    """The separation minima grading needs conflicts for, one :class:`Conflicts` each.

    The first is the protocol's own minima; each further one is a distinct ``(hsep_nm,
    vsep_ft)`` of an alert level that differs from them. All share the protocol's altitude
    tolerance and lookahead (every level's time to LoS is within the lookahead).

    Examples
    --------
    >>> from skyparley.domain.protocol import AlertLevel, Hysteresis
    >>> m = SeparationMinima()
    >>> s = TacticalSettings(m, False, (AlertLevel("advisory", 300, 5, 1000),
    ...                                 AlertLevel("warning", 60, 3, 1000)), Hysteresis())
    >>> [(x.hsep_nm, x.vsep_ft) for x in detection_minima(s)]
    [(5.0, 1000.0), (3, 1000), (6.0, 1200.0)]

    The last is the release table (see the module), when ``release_factor`` exceeds 1.
    """
    base = settings.minima
    out = [base]
    for i, level in enumerate(settings.alert_levels):
        if any(level.hsep_nm == x.hsep_nm and level.vsep_ft == x.vsep_ft for x in out):
            continue
        if level.vsep_ft <= base.alt_tolerance_ft:
            raise InputError(
                field=f"tactical.alert_levels[{i}].vsep_ft",
                reason=f"must exceed alt_tolerance_ft ({base.alt_tolerance_ft:g}), "
                f"got {level.vsep_ft:g}",
            )
        out.append(
            SeparationMinima(
                hsep_nm=level.hsep_nm,
                vsep_ft=level.vsep_ft,
                alt_tolerance_ft=base.alt_tolerance_ft,
                lookahead_s=base.lookahead_s,
            )
        )
    f = settings.hysteresis.release_factor
    if f > 1.0:
        out.append(
            SeparationMinima(
                hsep_nm=base.hsep_nm * f,
                vsep_ft=base.vsep_ft * f,
                alt_tolerance_ft=base.alt_tolerance_ft,
                lookahead_s=base.lookahead_s * f,
            )
        )
    return tuple(out)


def _release_levels(settings: TacticalSettings, table: Conflicts) -> dict[tuple[str, str], int]:
    """Each pair's level against the enlarged (release) minima and times."""
    f = settings.hysteresis.release_factor
    times = [level.time_to_los_s * f for level in settings.alert_levels]
    out: dict[tuple[str, str], int] = {}
    for x, y, tin in zip(table.a.tolist(), table.b.tolist(), table.tin_s.tolist(), strict=True):
        a, b = str(x), str(y)
        rank = 0
        for k, ttl in enumerate(times):
            if tin <= ttl:
                rank = k + 1
        if rank:
            out[(a, b) if a < b else (b, a)] = rank
    return out


def _level_sets(settings: TacticalSettings, minima: tuple[SeparationMinima, ...]) -> list[int]:
    """For each level, the index in ``minima`` of the thresholds it is judged against."""
    return [
        next(
            k
            for k, m in enumerate(minima)
            if m.hsep_nm == level.hsep_nm and m.vsep_ft == level.vsep_ft
        )
        for level in settings.alert_levels
    ]


def _as_list(
    conflicts: Conflicts | Sequence[Conflicts], expected: int, *, release: bool = False
) -> tuple[float, list[Conflicts]]:
    """The tick's tables; with ``release``, the last (release) table may be left out."""
    tables = [conflicts] if isinstance(conflicts, Conflicts) else list(conflicts)
    if len(tables) != expected and not (release and len(tables) == expected - 1):
        raise InputError(
            field="conflicts",
            reason=f"expected {expected} conflict tables (one per detection_minima), "
            f"got {len(tables)}",
        )
    t_s = float(tables[0].t_s)
    if not math.isfinite(t_s):
        raise InputError(field="t_s", reason=f"must be a finite time, got {t_s!r}")
    for c in tables[1:]:
        if float(c.t_s) != t_s:
            raise InputError(
                field="t_s", reason=f"conflict tables of one tick disagree: {c.t_s} != {t_s}"
            )
    return t_s, tables


def raw_levels(
    settings: TacticalSettings, conflicts: Conflicts | Sequence[Conflicts]
) -> dict[tuple[str, str], int]:
    """Each conflicting pair's raw level at one tick: 1 for the least severe level, up to
    ``len(settings.alert_levels)``; pairs that meet no level are left out.

    ``conflicts`` holds one table per entry of :func:`detection_minima` (a single table when
    every level uses the protocol's minima). Pairs are keyed ``(a, b)`` with ``a < b``.
    """
    minima = detection_minima(settings)
    release = settings.hysteresis.release_factor > 1.0
    _, tables = _as_list(conflicts, len(minima), release=release)
    return _raw_levels(settings, tables[: len(minima) - release], _level_sets(settings, minima))


def _raw_levels(
    settings: TacticalSettings, tables: list[Conflicts], sets: list[int]
) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for k, table in enumerate(tables):
        if not len(table):
            continue
        # Levels go from least to most severe with shorter times: walking them in order, the
        # last one a pair meets is the most severe it meets.
        levels = [
            (i + 1, settings.alert_levels[i].time_to_los_s) for i, s in enumerate(sets) if s == k
        ]
        if not levels:
            continue
        seen: set[tuple[str, str]] = set()
        rows = zip(table.a.tolist(), table.b.tolist(), table.tin_s.tolist(), strict=True)
        for x, y, tin in rows:
            a, b = str(x), str(y)
            key = (a, b) if a < b else (b, a)
            if key in seen:
                raise InputError(
                    field="conflicts", reason=f"pair {key[0]}-{key[1]} appears twice in a tick"
                )
            seen.add(key)
            rank = 0
            for level, ttl in levels:
                if tin <= ttl:
                    rank = level
            if rank > out.get(key, 0):
                out[key] = rank
    return out


def _rows_of(base: Conflicts, pairs: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    """The row of each of ``pairs`` in the table ``base``."""
    rows: dict[tuple[str, str], int] = {}
    if pairs and len(base):
        ids = zip(map(str, base.a.tolist()), map(str, base.b.tolist()), strict=True)
        for n, (a, b) in enumerate(ids):
            key = (a, b) if a < b else (b, a)
            if key in pairs:
                rows[key] = n
    return rows


def _by_pair(e: AlertEvent) -> tuple[str, str]:
    return e.a, e.b


class _PairState:
    """One pair's recent raw levels and its alert, if any."""

    __slots__ = ("history", "level", "peak", "raised_s", "since_s")

    def __init__(self) -> None:
        self.history: list[int] = []
        self.level = 0
        self.peak = 0
        self.raised_s = _NAN
        self.since_s = _NAN


class AlertGrader:
    """Grades conflicts into alerts tick by tick and keeps each alert's lifecycle.

    Feed :meth:`update` every tick, in time order, with the tick's conflicts (also when there
    are none: a tick without a pair counts against its M-of-N window). It returns the tick's
    events; :meth:`alerts` lists the alerts that are on.

    Examples
    --------
    >>> import numpy as np
    >>> from skyparley.domain.protocol import AlertLevel, Hysteresis
    >>> s = TacticalSettings(SeparationMinima(), False,
    ...                      (AlertLevel("advisory", 300, 5, 1000),
    ...                       AlertLevel("warning", 60, 5, 1000)), Hysteresis(2, 4, 4))
    >>> g = AlertGrader(s)
    >>> def tick(t, tin):  # one pair, A-B, predicted to lose separation in tin seconds
    ...     a, b = np.array(["A"], dtype=object), np.array(["B"], dtype=object)
    ...     f = np.array([float(tin)])
    ...     return Conflicts(t, a, b, f, f + 30, f, f, f, f, f, f <= 0)
    >>> [e.kind for t, tin in enumerate([200, 150, 50, 40]) for e in g.update(tick(t, tin))]
    ['raised', 'upgraded']
    >>> [(a.level, a.raised_s) for a in g.alerts()]
    [('warning', 1.0)]
    """

    def __init__(self, settings: TacticalSettings) -> None:
        if not settings.alert_levels:
            raise InputError(field="tactical.alert_levels", reason="needs at least one level")
        h = settings.hysteresis
        if not (1 <= h.m <= h.n):
            raise InputError(
                field="tactical.hysteresis.m", reason=f"must be 1..n ({h.n}), got {h.m}"
            )
        if not (math.isfinite(h.persistence_s) and h.persistence_s >= 0):
            raise InputError(
                field="tactical.hysteresis.persistence_s",
                reason=f"must be zero or positive, got {h.persistence_s!r}",
            )
        self.settings = settings
        self.minima = detection_minima(settings)
        self._sets = _level_sets(settings, self.minima)
        self._names = ("", *(level.name for level in settings.alert_levels))
        self._m = h.m
        self._n = h.n
        self._persistence_s = float(h.persistence_s)
        self._pairs: dict[tuple[str, str], _PairState] = {}
        self._last_s = -math.inf

    @property
    def levels(self) -> tuple[str, ...]:
        """The level names, least severe first."""
        return self._names[1:]

    @property
    def last_s(self) -> float:
        """The time of the last tick fed (``-inf`` before the first)."""
        return self._last_s

    def update(self, conflicts: Conflicts | Sequence[Conflicts]) -> list[AlertEvent]:
        """Grade one tick; returns its events sorted by pair.

        ``conflicts`` is the tick's conflict table, or one table per entry of
        :attr:`minima` (see :func:`detection_minima`), all at the same ``t_s``; the last,
        release table may be left out (then no alert holds on it). Ticks must come in
        increasing time.
        """
        has_release = self.settings.hysteresis.release_factor > 1.0
        t_s, tables = _as_list(conflicts, len(self.minima), release=has_release)
        if not t_s > self._last_s:
            raise InputError(
                field="t_s",
                reason=f"ticks must come in increasing time: {t_s} after {self._last_s}",
            )
        self._last_s = t_s
        with_release = has_release and len(tables) == len(self.minima)
        raw = _raw_levels(self.settings, tables[: len(self.minima) - has_release], self._sets)
        release: dict[tuple[str, str], int] | None = None if with_release else {}
        base = tables[0]
        rows: dict[tuple[str, str], int] | None = None  # built at the tick's first event
        for key in raw:
            if key not in self._pairs:
                self._pairs[key] = _PairState()

        events: list[AlertEvent] = []
        done: list[tuple[str, str]] = []
        m, n = self._m, self._n
        for key, st in self._pairs.items():  # events are sorted by pair below
            hist = st.history
            level = raw.get(key, 0)
            old = st.level
            if old:
                if release is None:
                    release = _release_levels(self.settings, tables[-1])
                if key in release:  # an alert holds while the pair is not clear
                    level = max(level, min(release[key], old))
            hist.append(level)
            if len(hist) > n:
                del hist[0]
            if level == old and len(hist) >= m and hist.count(old) == len(hist):
                # Steady: the whole window is at the alert's level, so the alert neither
                # rises nor falls; a pair with no alert and a quiet window is let go.
                if not old:
                    done.append(key)
                continue
            up = sorted(hist, reverse=True)[m - 1] if len(hist) >= m else 0
            top = max(hist)
            if up > old:
                kind = "raised" if old == 0 else "upgraded"
                filtered = up
            elif top < old and t_s - st.since_s >= self._persistence_s:
                kind = "resolved" if top == 0 else "downgraded"
                filtered = top
            else:
                if old == 0 and not any(hist):
                    done.append(key)
                continue
            if old == 0:
                st.raised_s = t_s
                st.peak = 0
            st.level = filtered
            st.since_s = t_s
            st.peak = max(st.peak, filtered)
            if rows is None:
                rows = _rows_of(base, raw)
            events.append(self._event(t_s, key, kind, filtered, old, st.raised_s, base, rows))
            if filtered == 0 and not any(hist):
                done.append(key)
        for key in done:
            del self._pairs[key]
        if len(events) > 1:
            events.sort(key=_by_pair)
        return events

    def _event(
        self,
        t_s: float,
        key: tuple[str, str],
        kind: str,
        level: int,
        old: int,
        raised_s: float,
        base: Conflicts,
        rows: dict[tuple[str, str], int],
    ) -> AlertEvent:
        r = rows.get(key)
        ctx = (_NAN,) * 5
        if r is not None:
            ctx = (
                float(base.tin_s[r]),
                float(base.tcpa_s[r]),
                float(base.dcpa_nm[r]),
                float(base.hdist_nm[r]),
                float(base.vdist_ft[r]),
            )
        return AlertEvent(
            t_s,
            key[0],
            key[1],
            kind,
            self._names[level] or None,
            self._names[old] or None,
            raised_s,
            *ctx,
        )

    @property
    def idle(self) -> bool:
        """Whether no pair is being watched: a tick without conflicts would change nothing."""
        return not self._pairs

    def alert(self, a: str, b: str) -> Alert | None:
        """The alert of the pair ``a``-``b`` that is on now, if any."""
        key = (a, b) if a < b else (b, a)
        st = self._pairs.get(key)
        if st is None or not st.level:
            return None
        return self._alert(key, st)

    def _alert(self, key: tuple[str, str], st: _PairState) -> Alert:
        return Alert(
            a=key[0],
            b=key[1],
            level=self._names[st.level],
            raised_s=st.raised_s,
            level_since_s=st.since_s,
            peak=self._names[st.peak],
        )

    def alerts(self) -> list[Alert]:
        """The alerts that are on after the last tick, sorted by pair."""
        return [self._alert(key, st) for key, st in sorted(self._pairs.items()) if st.level]

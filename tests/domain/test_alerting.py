"""Alert grading: levels by time to loss of separation, M-of-N, persistence, the lifecycle."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyparley.domain import AircraftStates, SeparationMinima, detect_conflicts
from skyparley.domain.alerting import AlertEvent, AlertGrader, detection_minima, raw_levels
from skyparley.domain.protocol import AlertLevel, Hysteresis, TacticalSettings
from skyparley.domain.separation import Conflicts
from skyparley.errors import InputError
from skyparley.geo.units import NM_M
from skyparley.geo.wgs84 import destination

LEVELS = (
    AlertLevel("advisory", 300.0, 5.0, 1000.0),
    AlertLevel("caution", 120.0, 5.0, 1000.0),
    AlertLevel("warning", 60.0, 5.0, 1000.0),
)
SETTINGS = TacticalSettings(SeparationMinima(), False, LEVELS, Hysteresis(2, 4, 4.0))


def table(t: float, rows: list[tuple[str, str, float]]) -> Conflicts:
    """A conflict table at ``t`` from (a, b, tin_s) rows; LoS when tin_s <= 0."""
    tin = np.array([r[2] for r in rows], dtype=float)
    a = np.array([r[0] for r in rows], dtype=object)
    b = np.array([r[1] for r in rows], dtype=object)
    dummy = np.ones(len(rows))
    return Conflicts(t, a, b, tin, tin + 60, tin, dummy, dummy, dummy, dummy, tin <= 0)


def feed(grader: AlertGrader, ticks: list[list[tuple[str, str, float]]]) -> list[AlertEvent]:
    events: list[AlertEvent] = []
    for t, rows in enumerate(ticks):
        events.extend(grader.update(table(float(t), rows)))
    return events


def kinds(events: list[AlertEvent]) -> list[tuple[str, str | None]]:
    return [(e.kind, e.level) for e in events]


# ------------------------------------------------------------------------------ named cases


def test_levels_rise_in_order_on_a_converging_pair() -> None:
    """Two jets head-on at FL300, 40 NM apart: advisory, then caution, then warning."""
    la, lo = destination(35.0, 38.0, 90.0, 40 * NM_M)
    grader = AlertGrader(SETTINGS)
    events: list[AlertEvent] = []
    tin_at: dict[str, float] = {}
    for t in range(200):
        if t == 150:  # closest approach at 160 s
            alert = grader.alert("WEST", "EAST")
            assert alert is not None
            assert (alert.level, alert.peak) == ("warning", "warning")
        s = AircraftStates(
            id=["EAST", "WEST"],
            party=["russia", "coalition"],
            time_s=[0.0, 0.0],
            lat_deg=[35.0, float(la[()])],
            lon_deg=[38.0, float(lo[()])],
            alt_ft=[30000, 30200],
            gs_kt=[450, 450],
            trk_deg=[90, 270],
            vs_fpm=[0, 0],
        )
        c = detect_conflicts(s, at_s=float(t))
        new = grader.update(c)
        for e in new:
            tin_at[e.level or ""] = e.tin_s
        events.extend(new)
    assert kinds(events) == [
        ("raised", "advisory"),
        ("upgraded", "caution"),
        ("upgraded", "warning"),
        ("resolved", None),  # they have passed each other and are diverging
    ]
    # Each level comes one tick after the prediction first met it (2 of 4).
    assert 118.0 < tin_at["caution"] <= 119.0
    assert 58.0 < tin_at["warning"] <= 59.0
    assert [e.previous for e in events] == [None, "advisory", "caution", "warning"]
    assert {e.raised_s for e in events} == {events[0].t_s}


def test_noisy_tracks_near_the_threshold_give_one_alert_per_encounter() -> None:
    """Two aircraft pass about 5 NM apart (the threshold) with noisy reported positions: the
    raw conflict flickers, the alert does not."""
    rng = random.Random(7)  # noqa: S311 (position noise, not secrets)
    grader = AlertGrader(SETTINGS)
    events: list[AlertEvent] = []
    flags = []
    for t in range(400):
        # A flies east along 35N; B flies west 4.97 NM north of it.
        ea, eb = -30 + 0.125 * t, 30 - 0.125 * t  # NM east of 38E at 450 kt
        pa = destination(35.0, 38.0, 90.0, ea * NM_M)
        pb0 = destination(35.0, 38.0, 0.0, 4.97 * NM_M)
        pb = destination(float(pb0[0][()]), float(pb0[1][()]), 90.0, eb * NM_M)
        noise = [rng.gauss(0.0, 0.0004) for _ in range(4)]  # about 0.02 NM
        s = AircraftStates(
            id=["A", "B"],
            party=None,
            time_s=[float(t)] * 2,
            lat_deg=[float(pa[0][()]) + noise[0], float(pb[0][()]) + noise[1]],
            lon_deg=[float(pa[1][()]) + noise[2], float(pb[1][()]) + noise[3]],
            alt_ft=[30000, 30000],
            gs_kt=[450, 450],
            trk_deg=[90, 270],
            vs_fpm=[0, 0],
        )
        c = detect_conflicts(s, at_s=float(t))
        flags.append(len(c) > 0)
        events.extend(grader.update(c))
    flips = sum(1 for x, y in itertools.pairwise(flags) if x != y)
    assert flips >= 6, "the scenario must sit on the threshold"
    raised = [e for e in events if e.kind == "raised"]
    assert len(raised) == 1
    assert events[-1].kind == "resolved"


def test_a_single_noisy_tick_raises_nothing() -> None:
    grader = AlertGrader(SETTINGS)
    ticks = [[], [("A", "B", 30.0)], [], [], [], [("A", "B", 30.0)], [], [], [], []]
    assert feed(grader, ticks) == []
    assert grader.idle


def test_a_single_missed_tick_does_not_clear_an_alert() -> None:
    grader = AlertGrader(SETTINGS)
    on = [("A", "B", 200.0)]
    events = feed(grader, [on, on, on, [], on, [], [], [], on, on, [], [], [], [], [], []])
    assert kinds(events) == [("raised", "advisory"), ("resolved", None)]
    # Three missed ticks in a row do not clear it; four do.
    assert events[1].t_s == 13.0


def test_persistence_keeps_a_level_for_at_least_its_time() -> None:
    s = TacticalSettings(SeparationMinima(), False, LEVELS, Hysteresis(1, 1, 10.0))
    grader = AlertGrader(s)
    events = feed(grader, [[("A", "B", 30.0)]] + [[("A", "B", 200.0)]] * 12 + [[]] * 12)
    assert kinds(events) == [("raised", "warning"), ("downgraded", "advisory"), ("resolved", None)]
    assert [e.t_s for e in events] == [0.0, 10.0, 20.0]


def test_events_carry_the_conflict_and_name_the_alert() -> None:
    grader = AlertGrader(SETTINGS)
    events = feed(grader, [[("B", "A", 90.0)], [("B", "A", 80.0)]])
    (e,) = events
    assert (e.a, e.b, e.kind, e.level, e.raised_s) == ("A", "B", "raised", "caution", 1.0)
    assert e.tin_s == 80.0
    assert e.tcpa_s == 80.0


def test_a_level_with_its_own_thresholds_is_judged_on_its_own_table() -> None:
    levels = (AlertLevel("advisory", 300.0, 5.0, 1000.0), AlertLevel("close", 300.0, 2.0, 1000.0))
    # Levels must shorten their time; use a shorter time for the inner zone.
    levels = (levels[0], AlertLevel("close", 200.0, 2.0, 1000.0))
    s = TacticalSettings(SeparationMinima(), False, levels, Hysteresis(1, 1, 0.0))
    minima = detection_minima(s)
    assert [(m.hsep_nm, m.vsep_ft) for m in minima] == [
        (5.0, 1000.0),
        (2.0, 1000.0),
        (6.0, 1200.0),  # the release table (its factor defaults to 1.2)
    ]
    wide = table(0.0, [("A", "B", 100.0), ("C", "D", 100.0)])
    narrow = table(0.0, [("A", "B", 150.0)])
    assert raw_levels(s, [wide, narrow]) == {("A", "B"): 2, ("C", "D"): 1}
    with pytest.raises(InputError, match="expected 3 conflict tables"):
        raw_levels(s, wide)


def test_ticks_must_increase() -> None:
    grader = AlertGrader(SETTINGS)
    grader.update(table(5.0, []))
    with pytest.raises(InputError) as err:
        grader.update(table(5.0, []))
    assert err.value.field == "t_s"


def test_a_pair_twice_in_one_tick_is_refused() -> None:
    with pytest.raises(InputError, match="appears twice"):
        AlertGrader(SETTINGS).update(table(0.0, [("A", "B", 10.0), ("B", "A", 20.0)]))


# --------------------------------------------------------------------------- properties

PAIRS = [("A", "B"), ("A", "C"), ("B", "C"), ("C", "D")]
tin_values = st.one_of(st.none(), st.sampled_from([-5.0, 0.0, 30.0, 60.0, 90.0, 120.0, 250.0]))
tick_rows = st.lists(st.tuples(*(tin_values for _ in PAIRS)), min_size=1, max_size=60)
hysteresis = st.builds(
    lambda m, extra, p: Hysteresis(m, m + extra, p),
    st.integers(1, 3),
    st.integers(0, 3),
    st.sampled_from([0.0, 1.0, 4.0, 7.5]),
)


def _ticks(rows: list[tuple[float | None, ...]]) -> list[list[tuple[str, str, float]]]:
    return [
        [(a, b, tin) for (a, b), tin in zip(PAIRS, row, strict=True) if tin is not None]
        for row in rows
    ]


def _raw(tin: float | None) -> int:
    if tin is None:
        return 0
    return sum(1 for lv in LEVELS if tin <= lv.time_to_los_s)


@settings(max_examples=150)
@given(rows=tick_rows, h=hysteresis, seed=st.integers(0, 2**16))
def test_grading_does_not_depend_on_the_order_of_pairs(
    rows: list[tuple[float | None, ...]], h: Hysteresis, seed: int
) -> None:
    s = TacticalSettings(SeparationMinima(), False, LEVELS, h)
    ticks = _ticks(rows)
    rng = random.Random(seed)  # noqa: S311 (a shuffle, not secrets)
    shuffled = [rng.sample(t, len(t)) for t in ticks]
    flipped = [
        [(b, a, tin) if rng.random() < 0.5 else (a, b, tin) for a, b, tin in t] for t in shuffled
    ]
    assert feed(AlertGrader(s), ticks) == feed(AlertGrader(s), flipped)


@settings(max_examples=150)
@given(rows=tick_rows, h=hysteresis)
def test_lifecycle_m_of_n_and_persistence_hold(
    rows: list[tuple[float | None, ...]], h: Hysteresis
) -> None:
    s = TacticalSettings(SeparationMinima(), False, LEVELS, h)
    grader = AlertGrader(s)
    ticks = _ticks(rows)
    events = feed(grader, ticks)
    names = ("", *(lv.name for lv in LEVELS))
    for k, (a, b) in enumerate(PAIRS):
        raw = [_raw(row[k]) for row in rows]
        mine = [e for e in events if (e.a, e.b) == (a, b)]
        level, since, raised = 0, None, None
        for e in mine:
            t = int(e.t_s)
            window = raw[max(0, t - h.n + 1) : t + 1]
            new = names.index(e.level or "")
            up = sorted(window, reverse=True)[h.m - 1] if len(window) >= h.m else 0
            if e.kind in ("raised", "upgraded"):
                assert new == up > level, "up to the level M of the last N ticks reach"
                assert (e.kind == "raised") == (level == 0)
                if e.kind == "raised":
                    raised = e.t_s
            else:
                assert max(window) < level, "down only when none of the last N reach it"
                assert new == max(window)
                assert since is not None
                assert e.t_s - since >= h.persistence_s, "no level goes down too soon"
                assert e.kind == ("resolved" if new == 0 else "downgraded")
            assert e.raised_s == raised
            assert e.previous == (names[level] or None)
            level, since = new, e.t_s
        # No N empty ticks in a row between a pair's first and last conflict: one alert.
        hits = [i for i, r in enumerate(raw) if r > 0]
        if hits and all(b - a <= h.n for a, b in itertools.pairwise(hits)):
            assert Counter(e.kind for e in mine)["raised"] <= 1
    on = {(x.a, x.b) for x in grader.alerts()}
    last = {}
    for e in events:
        last[(e.a, e.b)] = e.kind
    assert on == {p for p, kind in last.items() if kind != "resolved"}


def test_bad_hysteresis_is_refused() -> None:
    with pytest.raises(InputError) as err:
        AlertGrader(TacticalSettings(SeparationMinima(), False, LEVELS, Hysteresis(3, 2, 4.0)))
    assert err.value.field == "tactical.hysteresis.m"


def test_an_alert_holds_while_the_pair_is_within_the_release_minima() -> None:
    """Raw conflicts on and off at the threshold, but the pair never clear of the enlarged
    minima: one alert, resolved only once the pair is clear of those too."""
    s = TacticalSettings(
        SeparationMinima(), False, (AlertLevel("advisory", 300.0, 5.0, 1000.0),),
        Hysteresis(2, 4, 4.0, release_factor=1.2),
    )  # fmt: skip
    g = AlertGrader(s)
    kinds = []
    for t in range(40):
        on = t < 30 and t % 7 in (0, 1)  # in conflict 2 ticks of 7, then never
        raw = table(float(t), [("A", "B", 200.0)] if on else [])
        held = table(float(t), [("A", "B", 250.0)] if t < 30 else [])
        kinds += [e.kind for e in g.update([raw, held])]
    assert kinds == ["raised", "resolved"]
    # without the release table, the same raw conflicts flicker
    g = AlertGrader(s)
    flicker = []
    for t in range(30):
        raw = table(float(t), [("A", "B", 200.0)] if t % 7 in (0, 1) else [])
        flicker += [e.kind for e in g.update(raw)]
    assert flicker.count("raised") > 1

"""``snapshot_rows``: the picture at every step at once, checked against a plain reading of
its definition (each aircraft's latest report at or before the step, no older than stale)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyparley.domain.traffic import TrackTable, iter_snapshots, snapshot_rows, sorted_codes
from skyparley.errors import InputError


def _table(ids: list[str], times: list[float]) -> TrackTable:
    order = np.argsort(np.asarray(times), kind="stable")
    n = len(ids)
    return TrackTable(
        id=[ids[k] for k in order], party=None, time_s=[times[k] for k in order],
        lat_deg=list(np.linspace(30.0, 31.0, n)), lon_deg=[38.0] * n, alt_ft=[30000.0] * n,
        gs_kt=[400.0] * n, trk_deg=[0.0] * n, vs_fpm=[0.0] * n,
    )  # fmt: skip


def _reference(table: TrackTable, steps: np.ndarray, stale_s: float) -> list[tuple[int, int]]:
    out = []
    ids = [str(i) for i in table.id]
    for n, t in enumerate(steps.tolist()):
        latest: dict[str, int] = {}
        for r, (i, ts) in enumerate(zip(ids, table.time_s.tolist(), strict=True)):
            if ts <= t:
                latest[i] = r  # the last in table order wins a tie
        for i in sorted(latest):
            r = latest[i]
            if table.time_s[r] >= t - stale_s:
                out.append((n, r))
    return out


@settings(max_examples=200, deadline=None)
@given(
    reports=st.lists(
        st.tuples(st.sampled_from(["A", "B", "C", "D10", "D2"]), st.integers(0, 60)),
        max_size=40,
    ),
    steps=st.lists(st.integers(-5, 80), max_size=25).map(sorted),
    stale_s=st.sampled_from([0.0, 1.0, 7.5, 30.0]),
)
def test_rows_match_the_definition(
    reports: list[tuple[str, int]], steps: list[int], stale_s: float
) -> None:
    table = _table([r[0] for r in reports], [float(r[1]) for r in reports])
    times = np.asarray(steps, dtype=np.float64)
    step, row = snapshot_rows(table, times, stale_s=stale_s)
    assert list(zip(step.tolist(), row.tolist(), strict=True)) == _reference(table, times, stale_s)
    pictures = list(iter_snapshots(table, times, stale_s=stale_s))
    assert [t for t, _ in pictures] == times.tolist()
    assert sum(len(s) for _, s in pictures) == len(row)


def test_fractional_times_and_a_late_duplicate() -> None:
    table = _table(["A", "A", "B"], [0.25, 0.25, 0.5])
    step, row = snapshot_rows(table, np.array([0.2, 0.25, 0.75]), stale_s=0.4)
    assert list(zip(step.tolist(), row.tolist(), strict=True)) == [(1, 1), (2, 2)]


def test_descending_steps_and_negative_stale_are_refused() -> None:
    table = _table(["A"], [0.0])
    with pytest.raises(InputError, match="ascending"):
        snapshot_rows(table, np.array([2.0, 1.0]))
    with pytest.raises(InputError, match="stale_s"):
        snapshot_rows(table, np.array([1.0]), stale_s=-1.0)


def test_freshness_at_the_stale_edge_is_judged_as_the_definition_says() -> None:
    # 0.7000000000000001 - 0.2 rounds to 0.5: the report at 0.5 is exactly stale_s old.
    table = _table(["A", "B"], [0.5, 0.1])
    times = np.array([0.3, 0.7000000000000001])
    step, row = snapshot_rows(table, times, stale_s=0.2)
    got = list(zip(step.tolist(), row.tolist(), strict=True))
    assert got == _reference(table, times, 0.2)
    assert (1, 1) in got


@settings(max_examples=300, deadline=None)
@given(
    reports=st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 40).map(lambda k: k / 10)),
        max_size=20,
    ),
    steps=st.lists(st.integers(0, 50).map(lambda k: k / 10), max_size=15).map(sorted),
    stale_s=st.sampled_from([0.1, 0.2, 0.3, 0.7]),
)
def test_fractional_times_match_the_definition(
    reports: list[tuple[str, float]], steps: list[float], stale_s: float
) -> None:
    table = _table([r[0] for r in reports], [r[1] for r in reports])
    times = np.asarray(steps, dtype=np.float64)
    step, row = snapshot_rows(table, times, stale_s=stale_s)
    assert list(zip(step.tolist(), row.tolist(), strict=True)) == _reference(table, times, stale_s)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=4), max_size=40))
def test_sorted_codes_rank_ids_as_sorted_text(ids: list[str]) -> None:
    """Codes follow the ids' text order: equal ids share a code, and codes are ranks among
    the distinct ids sorted (the order each picture lists its aircraft in)."""
    values = np.array(ids, dtype=object)
    uniq, codes = sorted_codes(values)
    assert uniq == sorted(set(ids))
    assert codes.dtype == np.int64
    assert [uniq[c] for c in codes.tolist()] == ids

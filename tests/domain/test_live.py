"""The live track table: what a batch does to the picture, whatever its order or faults."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyparley.domain.incidents import LosTracker
from skyparley.domain.live import MAX_BATCH, IngestLimits, LiveTable, StateBatch
from skyparley.domain.separation import SeparationMinima, detect_conflicts
from skyparley.errors import InputError

T0 = 1_444_467_600.0


def batch(rows: list[tuple[float, str, float, float]]) -> StateBatch:
    """Rows of (time, id, lat, lon), the rest constant."""
    n = len(rows)
    return StateBatch(
        time_s=np.array([r[0] for r in rows], float),
        id=np.array([r[1] for r in rows], dtype=object),
        lat_deg=np.array([r[2] for r in rows], float),
        lon_deg=np.array([r[3] for r in rows], float),
        alt_ft=np.full(n, 30000.0), gs_kt=np.full(n, 420.0), trk_deg=np.full(n, 0.0),
        vs_fpm=np.zeros(n),
    )  # fmt: skip


rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 20).map(lambda k: T0 + k),
        st.sampled_from(["A", "B", "C"]),
        st.floats(34.9, 35.1),
        st.floats(37.9, 38.1),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(rows=rows_strategy, seed=st.integers(0, 2**32 - 1))
def test_the_picture_does_not_depend_on_the_order_of_a_batch(
    rows: list[tuple[float, str, float, float]], seed: int
) -> None:
    shuffled = list(rows)
    np.random.default_rng(seed).shuffle(shuffled)
    pictures = []
    for r in (rows, shuffled):
        table = LiveTable(IngestLimits(max_speed_kt=1e9))
        res = table.ingest("coalition", batch(r), now_s=T0 + 20)
        assert res.accepted + res.reordered + sum(res.rejected.values()) == len(r)
        pic = table.picture(T0 + 20, stale_s=60)
        order = np.argsort(pic.id.astype(str))
        pictures.append((pic.id[order].tolist(), pic.time_s[order].tolist(),
                         pic.lat_deg[order].tolist()))  # fmt: skip
    assert pictures[0] == pictures[1]


def test_each_aircraft_keeps_its_newest_state_and_stale_ones_drop_out() -> None:
    table = LiveTable()
    table.ingest("russia", batch([(T0, "A", 35.0, 38.0), (T0 + 2, "A", 35.01, 38.0),
                                  (T0, "B", 36.0, 38.0)]), now_s=T0 + 2)  # fmt: skip
    pic = table.picture(T0 + 20, stale_s=30)
    assert dict(zip(pic.id.tolist(), pic.time_s.tolist(), strict=True)) == {
        "A": T0 + 2, "B": T0,
    }  # fmt: skip
    assert pic.party.tolist() == ["russia", "russia"]  # type: ignore[union-attr]
    assert table.picture(T0 + 31, stale_s=30).id.tolist() == ["A"]
    assert table.picture(T0 + 40, stale_s=30).id.tolist() == []
    assert table.forget_before(T0 + 1) == 1
    assert table.aircraft() == ["A"]


def test_an_aircraft_whose_source_clock_runs_a_little_ahead_is_in_the_picture() -> None:
    """Ingest takes states up to future_s ahead of the service's clock: the picture at the
    service's time holds them (they used to stay out for as long as the aircraft reported,
    hence out of the detection too)."""
    table = LiveTable(IngestLimits(future_s=5.0))
    res = table.ingest(
        "russia", batch([(T0 + 0.2, "A", 35.0, 38.0), (T0 + 4.9, "B", 36.0, 38.0)]), now_s=T0
    )
    assert res.accepted == 2
    assert sorted(table.picture(T0, stale_s=30).id.tolist()) == ["A", "B"]
    assert table.picture(T0 - 5.5, stale_s=30).id.tolist() == []  # more than 5 s ahead


def test_a_teleport_is_refused_and_does_not_move_the_aircraft() -> None:
    table = LiveTable(IngestLimits(max_speed_kt=1000))
    table.ingest("coalition", batch([(T0, "A", 35.0, 38.0)]), now_s=T0)
    res = table.ingest("coalition", batch([(T0 + 1, "A", 36.0, 38.0)]), now_s=T0 + 1)
    assert res.rejected == {"teleport": 1}
    assert res.errors[0]["field"] == "lat_deg"
    assert "kt" in res.errors[0]["detail"]
    assert table.picture(T0 + 1, stale_s=30).lat_deg.tolist() == [35.0]


@pytest.mark.parametrize("aircraft", [" ", "EDGE1 ", " EDGE1", "\u00a0EDGE1"])
def test_an_id_with_a_space_at_either_end_is_refused(aircraft: str) -> None:
    """Else "EDGE1 " is another aircraft than "EDGE1", and another party may report it."""
    cols = {"time": [T0], "id": [aircraft], "lat_deg": [35.0], "lon_deg": [38.0],
            "alt_ft": [1.0], "gs_kt": [1.0], "trk_deg": [1.0]}  # fmt: skip
    with pytest.raises(InputError) as err:
        StateBatch.from_columns(cols)
    assert err.value.field == "states.id[0]"


@pytest.mark.parametrize("alone", [True, False], ids=["alone", "with-later-row"])
def test_a_late_row_too_far_away_is_a_teleport_not_history(alone: bool) -> None:
    """A row a few seconds late is kept in the history (incident evidence) only if the
    aircraft could have been there: 600 NM away 2 s before is refused, by either path."""
    table = LiveTable(IngestLimits(max_speed_kt=1000))
    table.ingest("coalition", batch([(T0, "A", 35.0, 38.0)]), now_s=T0)
    rows = [(T0 - 2, "A", 45.0, 38.0)]
    if not alone:  # two rows of one aircraft in a batch take the one-by-one path
        rows.append((T0 + 1, "A", 35.001, 38.0))
    res = table.ingest("coalition", batch(rows), now_s=T0 + 1)
    assert res.rejected == {"teleport": 1}
    assert res.reordered == 0
    assert 45.0 not in table.history("A")["lat_deg"]
    near = table.ingest("coalition", batch([(T0 - 1, "A", 35.0, 37.999)]), now_s=T0 + 1)
    assert near.reordered == 1


def test_columns_are_checked_before_any_row() -> None:
    good = {"time": [T0], "id": ["A"], "lat_deg": [35.0], "lon_deg": [38.0], "alt_ft": [1.0],
            "gs_kt": [1.0], "trk_deg": [1.0]}  # fmt: skip
    assert len(StateBatch.from_columns(good)) == 1
    for change, field in [
        ({"target": [1]}, "states.target"),
        ({"id": "A"}, "states.id"),
        ({"id": [7]}, "states.id[0]"),
        ({"alt_ft": ["high"]}, "states.alt_ft[0]"),
        ({"gs_kt": [1.0, 2.0]}, "states.gs_kt"),
    ]:
        with pytest.raises(InputError) as err:
            StateBatch.from_columns({**good, **change})
        assert err.value.field == field
    with pytest.raises(InputError, match=f"at most {MAX_BATCH}"):
        StateBatch.from_columns({**good, "id": ["A"] * (MAX_BATCH + 1)})


def test_an_incident_holds_while_the_pair_stays_close() -> None:
    """A loss of separation, a 1,000 ft step (separated but close), LoS again: one incident."""
    tracker = LosTracker(step_s=1.0, vsep_ft=900.0)
    minima = SeparationMinima()
    closed = []
    for k, dalt in enumerate([500, 500, 1000, 1000, 400, 300, 5000]):
        from skyparley.domain.traffic import AircraftStates

        states = AircraftStates(
            id=["A", "B"], party=None, time_s=[T0 + k] * 2, lat_deg=[35.0, 35.0],
            lon_deg=[38.0, 38.01], alt_ft=[30000.0, 30000.0 + dalt], gs_kt=[400.0, 400.0],
            trk_deg=[0.0, 0.0], vs_fpm=[0.0, 0.0],
        )  # fmt: skip
        c = detect_conflicts(states, minima)
        held = {("A", "B")} if dalt < 2000 else set()  # still within twice the minima
        closed += tracker.update(c, held)
    (inc,) = closed
    assert (inc.start_s, inc.end_s) == (T0, T0 + 5)
    assert inc.min_vdist_ft == pytest.approx(300.0)
    assert inc.ticks == 4


def test_a_loss_of_separation_shorter_than_a_tick_is_not_missed() -> None:
    """Between two ticks the pair dips under the minima for 0.4 s: still an incident."""
    a, b = np.array(["A"], dtype=object), np.array(["B"], dtype=object)

    def f(x: float) -> np.ndarray:
        return np.array([x])

    from skyparley.domain.separation import Conflicts

    tracker = LosTracker(step_s=1.0, vsep_ft=900.0)
    dip = Conflicts(T0, a, b, f(0.4), f(0.8), f(0.6), f(4.9), f(5.2), f(950.0), f(880.0),
                    np.array([False]))  # fmt: skip
    assert tracker.update(dip) == []
    empty = np.zeros(0)
    clear = Conflicts(T0 + 1, empty.astype(object), empty.astype(object), *[empty] * 7,
                      np.zeros(0, dtype=bool))  # fmt: skip
    (inc,) = tracker.update(clear)
    assert (inc.start_s, inc.end_s) == (T0 + 0.4, T0 + 0.8)
    assert (inc.min_hdist_nm, inc.min_hdist_s) == (4.9, T0 + 0.6)
    assert inc.min_vdist_ft == 880.0

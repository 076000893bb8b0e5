"""The compressed clock of the demo: scenario time runs ``speed`` times the wall clock."""

from __future__ import annotations

import threading

import pytest

from skyparley.adapters.clock import ManualClock, ScaledClock


class FakeWall:
    """A monotonic clock the test moves; ``sleep`` moves it too."""

    def __init__(self) -> None:
        self.t = 500.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, dt: float) -> None:
        self.slept.append(dt)
        self.t += dt


def test_scenario_time_runs_speed_times_the_wall_clock() -> None:
    wall = FakeWall()
    c = ScaledClock(1_000.0, 20, monotonic=wall)
    assert c.now_s() == 1_000.0
    wall.t += 3.0
    assert c.now_s() == 1_060.0


def test_jump_to_moves_on_and_runs_from_there_but_never_back() -> None:
    wall = FakeWall()
    c = ScaledClock(1_000.0, 10, monotonic=wall)
    c.jump_to(50_000.0)
    assert c.now_s() == 50_000.0
    wall.t += 1.0
    assert c.now_s() == 50_010.0
    c.jump_to(50_005.0)  # already past: nothing moves
    assert c.now_s() == 50_010.0
    c.jump_to(0.0)
    assert c.now_s() == 50_010.0


def test_wait_until_sleeps_the_wall_time_the_scenario_needs() -> None:
    wall = FakeWall()
    c = ScaledClock(0.0, 20, monotonic=wall, sleep=wall.sleep)
    c.wait_until(30.0)  # 1.5 s of wall time, in sleeps of at most 0.5 s
    assert c.now_s() == pytest.approx(30.0)
    assert sum(wall.slept) == pytest.approx(1.5)
    assert max(wall.slept) <= 0.5
    wall.slept.clear()
    c.wait_until(10.0)  # already past
    assert wall.slept == []


def test_a_jump_by_another_thread_ends_a_wait() -> None:
    wall = FakeWall()
    c = ScaledClock(0.0, 1, monotonic=wall)
    done = threading.Event()

    def wait() -> None:
        c.wait_until(1e9)
        done.set()

    t = threading.Thread(target=wait, daemon=True)
    t.start()
    c.jump_to(2e9)
    t.join(timeout=30)
    assert done.is_set()


def test_the_real_monotonic_clock_only_moves_forward() -> None:
    c = ScaledClock(1_444_467_600.0, 1_000)
    readings = [c.now_s() for _ in range(1_000)]
    assert readings == sorted(readings)
    assert readings[0] >= 1_444_467_600.0


@pytest.mark.parametrize("speed", [0, -1, float("nan"), float("inf")])
def test_a_speed_that_is_not_a_positive_number_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="speed must be a positive number"):
        ScaledClock(0.0, speed)


def test_threads_reading_while_one_jumps_see_time_never_go_back() -> None:
    c = ScaledClock(0.0, 100)
    bad: list[tuple[float, float]] = []

    def read() -> None:
        last = c.now_s()
        for _ in range(5_000):
            now = c.now_s()
            if now < last:
                bad.append((last, now))
            last = now

    readers = [threading.Thread(target=read) for _ in range(4)]
    for r in readers:
        r.start()
    for k in range(1, 2_000):
        c.jump_to(k * 10.0)
    for r in readers:
        r.join()
    assert bad == []


def test_the_manual_clock_jumps_forward_only_and_waits_by_jumping() -> None:
    c = ManualClock(100.0)
    c.wait_until(200.0)
    assert c.now_s() == 200.0
    c.jump_to(150.0)
    assert c.now_s() == 200.0

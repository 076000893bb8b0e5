"""The service under SIGKILL: no hotline message, ack or escalation lost or doubled, and
streams resumed by cursor see no gap and no duplicate (``tests/api/service_harness.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.api.service_harness import HarnessResult, fast_protocol, run_harness

from skyparley.adapters.protocol_file import load_protocol


def _assert_clean(result: HarnessResult) -> None:
    summary = result.summary()
    assert result.sent > 0, summary
    assert result.present == result.sent, summary
    assert result.lost == 0, summary
    assert result.duplicated == 0, summary
    assert result.acks > 0, summary
    assert result.acks_present == result.acks, summary
    assert result.escalations_expected > 0, summary
    assert result.escalations_missing == 0, summary
    assert result.escalations_doubled == 0, summary
    assert result.escalations_after_ack == 0, summary
    assert result.ledger_escalations == result.escalations_found, summary
    assert result.events > 0, summary
    assert result.stream_gaps == 0, summary
    assert result.stream_duplicates == 0, summary
    assert result.server_errors == 0, summary
    assert result.client_errors == 0, summary
    assert result.clean, summary


def test_the_fast_protocol_keeps_the_syria_parties_and_shortens_the_deadlines(
    tmp_path: Path,
) -> None:
    protocol = load_protocol(fast_protocol(tmp_path / "p.yaml", deadline_s=1.5, rung_s=1.0))
    assert [p.id for p in protocol.parties] == ["coalition", "russia", "relief"]
    assert protocol.messages["request"].deadline_s == 1.5
    assert protocol.messages["alert"].deadline_s == 1.5
    assert [e.deadline_s for e in protocol.escalation[1:]] == [1.0, 1.0]


def test_three_sigkills_lose_and_double_nothing(tmp_path: Path) -> None:
    result = run_harness(tmp_path, kills=3, seed=1, time_limit_s=120.0)
    assert result.kills == 3
    assert result.kills_under_load == 3, result.summary()
    assert result.resumes >= 3 * 3, result.summary()  # every party's stream came back
    _assert_clean(result)


@pytest.mark.slow
def test_twenty_sigkills_lose_and_double_nothing(tmp_path: Path) -> None:
    result = run_harness(tmp_path, kills=20, seed=2, min_up_s=0.2, max_up_s=1.0, time_limit_s=150.0)
    assert result.kills == 20
    assert result.kills_under_load == 20, result.summary()
    _assert_clean(result)


def _view(mid: str, escalations: list[tuple[str, int, str]], acks: dict[str, str]) -> dict:
    return {
        "id": mid,
        "to": ["russia"],
        "requires_ack": True,
        "escalations": [{"party": p, "level": lv, "at": at} for p, lv, at in escalations],
        "acks": [{"party": p, "at": at} for p, at in acks.items()],
    }


def test_the_escalation_audit_catches_missing_doubled_and_late_escalations() -> None:
    from tests.api.service_harness import _escalation_faults, _Sent

    sent = [_Sent("coalition", n, "request", "russia", False, f"m{n}", f"h{n}") for n in range(4)]
    t1, t2, t3 = "2030-01-01T00:00:01Z", "2030-01-01T00:00:02Z", "2030-01-01T00:00:03Z"
    views = {
        "m0": _view("m0", [("russia", 2, t1), ("russia", 3, t2)], {}),  # as it should be
        "m1": _view("m1", [("russia", 2, t1)], {}),  # level 3 missing
        "m2": _view("m2", [("russia", 2, t1), ("russia", 2, t2), ("russia", 3, t3)], {}),
        "m3": _view("m3", [("russia", 2, t3)], {"russia": t2}),  # escalated after the ack
    }
    missing, doubled, after_ack, expected, found = _escalation_faults(views, sent, 3)
    assert (missing, doubled, after_ack) == (1, 1, 1)
    assert (expected, found) == (6, 7)

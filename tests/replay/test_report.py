"""The replay summary's areas: each incident's protocol zone, else its 1-degree cell."""

from __future__ import annotations

from pathlib import Path

from skyparley.adapters.protocol_file import load_protocol
from skyparley.replay._report import Summary

PROTOCOL = Path(__file__).parents[2] / "src/skyparley/data/protocols/syria-2015.yaml"


def test_areas_of_many_positions_are_those_of_each_alone() -> None:
    summary = Summary(load_protocol(str(PROTOCOL)), {})
    lat = [33.49, 48.85, -33.9, 33.49, 35.0, 0.5]
    lon = [38.66, 2.35, -70.6, 38.9, 38.0, -0.5]
    areas = summary.areas(lat, lon)
    assert areas[0] == "tanf"  # the centre of the al-Tanf circle
    assert areas[1:3] == ["N48E002", "S34W071"]
    assert areas[5] == "N00W001"
    assert areas == [summary.area(a, o) for a, o in zip(lat, lon, strict=True)]
    assert summary.areas([], []) == []

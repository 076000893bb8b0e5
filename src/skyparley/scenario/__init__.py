"""The Syria 2015 scenario played through a running service: the story ``skyparley demo``
tells (see the design's SCENARIO file).

:class:`Player` plays beats 1 to 5 over HTTP with :class:`~skyparley.client.Client`, each
party signing with its demo key, on a clock it moves (a
:class:`~skyparley.adapters.clock.ScaledClock` in the demo, a
:class:`~skyparley.adapters.clock.ManualClock` in tests); :func:`daily_summary` is beat 6,
read from the store.
"""

from skyparley.scenario._player import BEAT_TIMES, Pacer, Player, escalate_until, scenario_file
from skyparley.scenario._summary import PartyDay, daily_summary, format_summary

__all__ = [
    "BEAT_TIMES",
    "Pacer",
    "PartyDay",
    "Player",
    "daily_summary",
    "escalate_until",
    "format_summary",
    "scenario_file",
]

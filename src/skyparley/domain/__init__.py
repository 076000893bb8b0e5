"""Values and rules of deconfliction: aircraft states, tracks, separation and conflicts.

Pure: no I/O. Types are frozen dataclasses with units in their field names.
"""

from skyparley.domain.separation import (
    Conflicts,
    SeparationMinima,
    detect_conflicts,
    iter_conflicts,
)
from skyparley.domain.traffic import AircraftStates, TrackTable, iter_snapshots, step_times

__all__ = [
    "AircraftStates",
    "Conflicts",
    "SeparationMinima",
    "TrackTable",
    "detect_conflicts",
    "iter_conflicts",
    "iter_snapshots",
    "step_times",
]

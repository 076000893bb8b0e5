"""Replay and incident analytics over recorded traffic (``skyparley replay``).

Recorded tracks are read in time buckets, detected in parallel time partitions (locally or on
a Dask cluster), graded into alerts by :class:`skyparley.domain.alerting.AlertGrader` (the
live service's grading) and gathered into incidents with a report each. See
``docs/replay.md``.
"""

from skyparley.replay._run import ReplayResult, replay

__all__ = ["ReplayResult", "replay"]

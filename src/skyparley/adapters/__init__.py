"""Adapters: what connects skyparley to the outside world.

Each adapter lives in its own module and is imported from there, so that loading one (say
the SQLite store) does not load the others' dependencies:

- :mod:`skyparley.adapters.tracks`: readers of recorded track files (canonical CSV or
  Parquet, OpenSky state vectors, the JSON samples of the ``traffic`` package).
"""

__all__: list[str] = []

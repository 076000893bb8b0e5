"""Adapters: what connects skyparley to the outside world.

Each adapter lives in its own module and is imported from there, so that loading one (say
the SQLite store) does not load the others' dependencies:

- :mod:`skyparley.adapters.tracks`: readers of recorded track files (canonical CSV or
  Parquet, OpenSky state vectors, the JSON samples of the ``traffic`` package).
- :mod:`skyparley.adapters.sbs`: SBS/BaseStation feeds (dump1090's port 30003) over TCP,
  with the party map of their aircraft.
- :mod:`skyparley.adapters.conflict_sinks`: writers of detected conflicts.
- :mod:`skyparley.adapters.protocol_file`, :mod:`skyparley.adapters.notice_files`: protocol,
  notice and protected-area files.
- :mod:`skyparley.adapters.ledger_store`: the signed Merkle log in SQLite.
- :mod:`skyparley.adapters.store_sqlite` and :mod:`skyparley.adapters.store_memory`: the
  service's :class:`~skyparley.domain.ports.Store` (one SQLite file, shared with the ledger;
  or memory, for tests of the layers above).
- :mod:`skyparley.adapters.catalogs`: the hotline's message catalogs (ar, en, ru).
- :mod:`skyparley.adapters.clock`: the system clock and a manual one.
"""

__all__: list[str] = []

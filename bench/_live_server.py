"""The server of ``bench/live.py``: ``create_app`` under uvicorn in a process of its own,
with the live ticks timed from inside.

``create_app`` on 127.0.0.1:PORT with the protocol file, the SQLite file, the demo service
key and the system clock, exactly as ``tests/api/_service_server_proc.py`` serves it, plus
two things for the bench only:

- the live service's ticks are timed: when each started and ended (wall clock), the newest
  state time it saw, and since when ingested states had been waiting for it (the first
  ingest after the previous tick). The timing wraps the service's own objects
  (``LiveService.tick`` and its table's ``ingest`` and ``picture``, which the tick calls
  under the service's lock), so nothing the service does changes;
- ``GET /bench/ticks?after=N`` returns those records (no token: loopback, bench only).

Tokens are written into the file beforehand by the caller
(:func:`tests.service_server.make_tokens`).

Run as ``python bench/_live_server.py --db PATH --port N --protocol FILE``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from skyparley.adapters.clock import SystemClock
from skyparley.adapters.protocol_file import load_protocol
from skyparley.api import Settings, create_app
from skyparley.domain.ledger.keys import demo_key

SERVICE_KEY_NAME = "skyparley-demo-service"


class TickTimer:
    """Wraps a :class:`~skyparley.service.live.LiveService` so each tick is recorded."""

    def __init__(self, live: Any) -> None:
        self.records: list[dict[str, Any]] = []
        self._guard = threading.Lock()
        self._newest_s: float | None = None  # newest state time ingested so far
        self._pending_wall: float | None = None  # first ingest not yet in a tick
        self._current: dict[str, Any] | None = None
        table = live.table
        ingest, picture, tick = table.ingest, table.picture, live.tick

        def timed_ingest(party: str, batch: Any, *, now_s: float) -> Any:
            # called under the service's lock, like picture(): the two never interleave
            result = ingest(party, batch, now_s=now_s)
            if (result.accepted or result.reordered) and len(batch):
                newest = float(batch.time_s.max())
                self._newest_s = max(self._newest_s or newest, newest)
                if self._pending_wall is None:
                    self._pending_wall = time.time()
            return result

        def timed_picture(at_s: float, *, stale_s: float) -> Any:
            self._current = {
                "start": time.time(),
                "t": at_s,
                "newest_s": self._newest_s,
                "pending": self._pending_wall,
            }
            self._pending_wall = None
            return picture(at_s, stale_s=stale_s)

        def timed_tick(at_s: float | None = None) -> dict[str, Any]:
            self._current = None
            out: dict[str, Any] = tick(at_s)
            rec = self._current
            if rec is not None and not out.get("skipped"):
                rec.update(
                    end=time.time(),
                    ms=out.get("ms"),
                    aircraft=out.get("aircraft"),
                    conflicts=out.get("conflicts"),
                    alert_events=len(out.get("alert_events", ())),
                    incidents=len(out.get("incidents", ())),
                )
                with self._guard:
                    self.records.append(rec)
            return out

        table.ingest = timed_ingest
        table.picture = timed_picture
        live.tick = timed_tick

    def after(self, n: int) -> list[dict[str, Any]]:
        """The records from index ``n`` on."""
        with self._guard:
            return self.records[n:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--protocol", type=Path, required=True)
    args = parser.parse_args(argv)
    app = create_app(
        Settings(
            protocol=load_protocol(args.protocol),
            db_path=args.db,
            service_key=demo_key(SERVICE_KEY_NAME),
            clock=SystemClock(),
        )
    )
    timer = TickTimer(app.state.runtime.live)

    @app.get("/bench/ticks", include_in_schema=False)
    def ticks(after: int = 0) -> list[dict[str, Any]]:
        return timer.after(after)

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A skyparley server in a process of its own, for the durability harness and the bench.

``create_app`` on 127.0.0.1:PORT with the protocol file, the SQLite file, the demo service
key and the system clock, served by uvicorn until SIGTERM (or SIGKILL: what the harness
does). Tokens are written into the file beforehand by the caller
(:func:`tests.service_server.make_tokens`).

Run as ``python -m tests.api._service_server_proc --db PATH --port N --protocol FILE``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from skyparley.adapters.clock import SystemClock
from skyparley.adapters.protocol_file import load_protocol
from skyparley.api import Settings, create_app, settle_heap
from skyparley.domain.ledger.keys import demo_key

SERVICE_KEY_NAME = "skyparley-demo-service"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--protocol", type=Path, required=True)
    parser.add_argument("--tick-s", type=float, default=0.05, help="escalation tick")
    args = parser.parse_args(argv)
    app = create_app(
        Settings(
            protocol=load_protocol(args.protocol),
            db_path=args.db,
            service_key=demo_key(SERVICE_KEY_NAME),
            clock=SystemClock(),
            tick_s=args.tick_s,
        )
    )
    settle_heap()  # as `skyparley serve` does
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="on",
        # a stream whose client left waits in the server until its party's next event:
        # do not let SIGTERM wait for those
        timeout_graceful_shutdown=2,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

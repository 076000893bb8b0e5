"""The durability harness's server: owns a SqliteLedger and serves appends on a Unix socket.

Protocol: one JSON object per line. A request is ``{"leaf": "<base64 leaf bytes>"}``; the
answer ``{"receipt": <Receipt JSON>}`` or ``{"error": "<text>", "type": "<class>"}``. Each
connection is served by its own thread, which calls :meth:`SqliteLedger.append`, so
concurrent clients share group commits.

``--ack-before-commit-s S`` is the negative control: the writer hands out the receipts of a
batch inside its transaction, then waits ``S`` seconds before COMMIT. A SIGKILL in that
window loses entries that were acknowledged, which the harness must report.

Run as ``python -m tests.adapters._ledger_server --db PATH --socket PATH --clients N``.
"""

from __future__ import annotations

import argparse
import base64
import json
import signal
import socketserver
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from tests.adapters._ledger_keys import ORIGIN, SERVICE, keyring

from skyparley.adapters.ledger_store import SqliteLedger
from skyparley.domain.ledger import Receipt, SignedEntry
from skyparley.errors import SkyparleyError


class SystemClock:
    """The wall clock (this is a process edge: the test server reads the real time)."""

    def now_s(self) -> float:
        return time.time()


class AckBeforeCommitLedger(SqliteLedger):
    """The negative control: receipts go out before the commit, then a wide crash window."""

    ack_window_s = 0.0

    def _before_commit(self, items: Sequence[object], receipts: Sequence[object]) -> None:
        for item, result in zip(items, receipts, strict=True):
            future = item.future  # type: ignore[attr-defined]
            if future is None:
                continue
            if isinstance(result, Receipt):
                future.set_result(result)
            else:
                future.set_exception(result)
        time.sleep(self.ack_window_s)


def serve(db: str, socket_path: str, clients: int, ack_before_commit_s: float) -> None:
    cls = SqliteLedger
    if ack_before_commit_s > 0:
        cls = AckBeforeCommitLedger
        AckBeforeCommitLedger.ack_window_s = ack_before_commit_s
    ledger = cls(
        db, service_key=SERVICE, origin=ORIGIN, keyring=keyring(clients), clock=SystemClock()
    )

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            for line in self.rfile:
                try:
                    leaf = base64.b64decode(json.loads(line)["leaf"])
                    receipt = ledger.append(SignedEntry.from_leaf(leaf))
                    answer: dict[str, object] = {"receipt": receipt.to_json()}
                except SkyparleyError as exc:
                    answer = {"error": str(exc), "type": type(exc).__name__}
                self.wfile.write(json.dumps(answer).encode() + b"\n")
                self.wfile.flush()

    class Server(socketserver.ThreadingUnixStreamServer):
        daemon_threads = True

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    Path(socket_path).unlink(missing_ok=True)  # left behind by a killed predecessor
    try:
        with Server(socket_path, Handler) as server:
            server.serve_forever()
    finally:
        ledger.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--ack-before-commit-s", type=float, default=0.0)
    args = parser.parse_args(argv)
    serve(args.db, args.socket, args.clients, args.ack_before_commit_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The durability harness's client: appends a chain of entries, keeps every receipt.

Each receipt is written, as soon as it arrives, to ``--out`` (one JSON line:
``{"n": n, "leaf": "<base64>", "receipt": {...}, "retries": r}``). When the connection
breaks (the server was killed) it reconnects and sends the *same* entry again: the
idempotency key makes the retry return the original leaf if the entry was committed. An
error answer is written as ``{"n": n, "error": "..."}`` and ends the client (exit code 1);
running out of time ends it with exit code 3.

Run as ``python -m tests.adapters._ledger_client --socket PATH --party ID --entries N --out F``.
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
import sys
import time
from typing import IO

from tests.adapters._ledger_keys import signed_chain_entry

_RETRY_S = 0.01


class Link:
    """A line-oriented connection to the server that reconnects on demand."""

    def __init__(self, path: str, timeout_s: float) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self.sock: socket.socket | None = None
        self.rfile: IO[bytes] | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.rfile = None

    def ask(self, request: bytes) -> bytes:
        if self.sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout_s)
            try:
                sock.connect(self.path)
            except OSError:
                sock.close()
                raise
            self.sock, self.rfile = sock, sock.makefile("rb")
        assert self.rfile is not None
        self.sock.sendall(request)
        line = self.rfile.readline()
        if not line.endswith(b"\n"):
            raise ConnectionError("the server went away")
        return line


def run(
    socket_path: str, party: str, entries: int, out: IO[str], pace_s: float, deadline: float
) -> int:
    link = Link(socket_path, timeout_s=10.0)
    prev: str | None = None
    for n in range(entries):
        signed, ehash = signed_chain_entry(party, n, prev)
        leaf = base64.b64encode(signed.leaf_bytes()).decode("ascii")
        request = json.dumps({"leaf": leaf}).encode() + b"\n"
        retries = 0
        while True:
            if time.monotonic() > deadline:
                out.write(json.dumps({"n": n, "error": "deadline"}) + "\n")
                return 3
            try:
                answer = json.loads(link.ask(request))
                break
            except (OSError, ConnectionError):
                link.close()
                retries += 1
                time.sleep(_RETRY_S)
        if "error" in answer:
            out.write(json.dumps({"n": n, "error": answer["error"]}) + "\n")
            return 1
        record = {"n": n, "leaf": leaf, "receipt": answer["receipt"], "retries": retries}
        out.write(json.dumps(record) + "\n")
        out.flush()
        prev = ehash
        if pace_s:
            time.sleep(pace_s)
    link.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--party", required=True)
    parser.add_argument("--entries", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--pace-s", type=float, default=0.0)
    parser.add_argument("--timeout-s", type=float, default=120.0)
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout_s
    with open(args.out, "w", encoding="utf-8") as out:
        return run(args.socket, args.party, args.entries, out, args.pace_s, deadline)


if __name__ == "__main__":
    sys.exit(main())

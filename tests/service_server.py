"""A real skyparley server on loopback for tests: uvicorn in a thread, a real SQLite file.

``running_server(tmp_path)`` starts ``create_app`` on a free port of 127.0.0.1 with the Syria
2015 protocol, the demo keys and a :class:`~skyparley.adapters.clock.ManualClock` (or the
system clock), makes tokens for every party and role, and yields a :class:`Server`.
``Server.restart()`` stops the server and starts it again on the same file and port.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from skyparley.adapters.clock import ManualClock
from skyparley.adapters.protocol_file import load_protocol
from skyparley.adapters.store_sqlite import SqliteStore
from skyparley.api import Settings, create_app
from skyparley.domain.ledger.keys import SigningKey, demo_key
from skyparley.domain.protocol import Protocol
from skyparley.domain.times import parse_time
from skyparley.service import new_token

PROTOCOL_PATH = Path(__file__).resolve().parents[1] / "src/skyparley/data/protocols/syria-2015.yaml"
SCENARIO_DIR = Path(__file__).resolve().parents[1] / "src/skyparley/data/scenarios/syria-2015"
PARTIES = ("coalition", "russia", "relief")
ROLES = ("viewer", "operator", "admin")
SERVICE_KEY_NAME = "skyparley-demo-service"
T0 = parse_time("2015-09-30T04:00:00Z", field="T0")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server: its URL, clock, file, and a token per (party, role)."""

    url: str
    db_path: Path
    clock: ManualClock
    protocol: Protocol
    service_key: SigningKey
    port: int
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    app: Any = None
    overrides: dict[str, Any] = field(default_factory=dict)
    """More :class:`~skyparley.api.Settings` fields (``sources``, ``live``, ...)."""

    def token(self, party: str, role: str = "operator") -> str:
        """The token of ``party`` with ``role``."""
        return self.tokens[(party, role)]

    def headers(self, party: str, role: str = "operator") -> dict[str, str]:
        """Authorization headers for ``party`` with ``role``."""
        return {"Authorization": f"Bearer {self.token(party, role)}"}

    def client(self, party: str, role: str = "operator") -> httpx.Client:
        """An httpx client bound to the server, authenticated as ``party``."""
        return httpx.Client(base_url=self.url, headers=self.headers(party, role), timeout=30)

    def key(self, party: str) -> SigningKey:
        """The party's demo signing key."""
        return demo_key(party)

    def start(self) -> None:
        """Start (again) on the same file and port; returns once it answers."""
        self.app = create_app(
            Settings(
                protocol=self.protocol,
                db_path=self.db_path,
                service_key=self.service_key,
                clock=self.clock,
                tick_s=0.05,
                **self.overrides,
            )
        )
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._server.started:
                return
            time.sleep(0.02)
        raise RuntimeError("the test server did not start within 30 s")

    def stop(self) -> None:
        """Stop the server and wait for its thread (the lifespan closes the stores)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
        self._server = None
        self._thread = None

    def restart(self) -> None:
        """Stop, then start on the same SQLite file."""
        self.stop()
        self.start()


def make_tokens(db_path: Path, protocol: Protocol, now_s: float) -> dict[tuple[str, str], str]:
    """A token for every party and role, written straight into the store of ``db_path``."""
    tokens: dict[tuple[str, str], str] = {}
    store = SqliteStore(db_path)
    try:
        for party in PARTIES:
            for role in ROLES:
                tokens[(party, role)] = new_token(
                    store, protocol, party=party, role=role, now_s=now_s, label="test"
                )[0]
    finally:
        store.close()
    return tokens


@contextlib.contextmanager
def running_server(
    tmp_path: Path, *, t0: float = T0, settings: dict[str, Any] | None = None
) -> Iterator[Server]:
    """A started :class:`Server` on a fresh SQLite file in ``tmp_path``; stopped after.
    ``settings``: more :class:`~skyparley.api.Settings` fields for the app."""
    protocol = load_protocol(PROTOCOL_PATH)
    db_path = tmp_path / "skyparley.db"
    clock = ManualClock(t0)
    port = free_port()
    server = Server(
        url=f"http://127.0.0.1:{port}",
        db_path=db_path,
        clock=clock,
        protocol=protocol,
        service_key=demo_key(SERVICE_KEY_NAME),
        port=port,
        overrides=dict(settings or {}),
    )
    server.tokens = make_tokens(db_path, protocol, t0)
    server.start()
    try:
        yield server
    finally:
        server.stop()

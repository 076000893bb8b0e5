"""An in-process live service (memory store, SQLite ledger, manual clock) for the live tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from skyparley.adapters.catalogs import Catalogs
from skyparley.adapters.clock import ManualClock
from skyparley.adapters.ledger_store import SqliteLedger
from skyparley.adapters.protocol_file import load_protocol
from skyparley.adapters.store_memory import MemoryStore
from skyparley.domain.ledger.entry import KeyRing
from skyparley.domain.ledger.keys import demo_key
from skyparley.domain.live import StateBatch
from skyparley.domain.protocol import Protocol
from skyparley.service import Principal, Service
from skyparley.service.live import LiveService, LiveSettings

PROTOCOL = Path(__file__).resolve().parents[2] / "src/skyparley/data/protocols/syria-2015.yaml"
T0 = 1_444_467_600.0  # 2015-10-10T09:00:00Z


@dataclass
class Live:
    """A live service with its clock, and principals of the three parties."""

    live: LiveService
    clock: ManualClock
    protocol: Protocol

    @property
    def svc(self) -> Service:
        return self.live.svc

    def who(self, party: str, role: str = "operator") -> Principal:
        return Principal(party, role, f"tok_{party}")

    def push(self, party: str, **cols: object) -> dict[str, object]:
        return self.live.ingest(self.who(party), cols).to_dict()

    def step(self, t: float, batches: dict[str, StateBatch]) -> dict[str, object]:
        """Set the clock to ``t``, ingest each party's batch, run the tick."""
        self.clock.set(t)
        for party, batch in batches.items():
            if len(batch):
                self.live.ingest(self.who(party), batch)
        return self.live.tick()


def make_live(tmp_path: Path, protocol: Protocol | None = None, **settings: object) -> Live:
    protocol = protocol or load_protocol(PROTOCOL)
    key = demo_key("skyparley-demo-service")
    ring = dict(protocol.keyring())
    ring[key.name] = key.verifier
    clock = ManualClock(T0)
    ledger = SqliteLedger(
        tmp_path / "ledger.db", service_key=key, origin="skyparley/test", keyring=KeyRing(ring),
        clock=clock,
    )  # fmt: skip
    svc = Service(
        protocol=protocol, store=MemoryStore(), ledger=ledger, service_key=key, clock=clock,
        renderer=Catalogs(),
    )  # fmt: skip
    return Live(LiveService(svc, LiveSettings(**settings)), clock, protocol)  # type: ignore[arg-type]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    lv = make_live(tmp_path)
    yield lv
    lv.svc.ledger.close()


def batch(
    t: float,
    ids: list[str],
    lat: list[float],
    lon: list[float],
    alt: list[float],
    gs: list[float],
    trk: list[float],
    vs: list[float] | None = None,
) -> StateBatch:
    n = len(ids)
    return StateBatch(
        time_s=np.full(n, float(t)), id=np.array(ids, dtype=object),
        lat_deg=np.array(lat, float), lon_deg=np.array(lon, float), alt_ft=np.array(alt, float),
        gs_kt=np.array(gs, float), trk_deg=np.array(trk, float),
        vs_fpm=np.zeros(n) if vs is None else np.array(vs, float),
    )  # fmt: skip


MakeLive = Callable[..., Live]

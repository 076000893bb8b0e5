"""An SBS/BaseStation feed into a real server: two aircraft of two parties converging.

A fake dump1090 on 127.0.0.1 writes BaseStation lines of a coalition aircraft (ICAO AE1234)
and a Russian one (150ABC) flying head-on at the same level, an aircraft no party claims,
and garbage. The server reads the feed (``Settings.sources``, as ``skyparley serve --sbs``
sets it), maps each aircraft to its party by ICAO prefix, and the duty officers of both
parties see the pair in their pictures and alerts.
"""

from __future__ import annotations

import math
from pathlib import Path

from tests.sbs_feed import FeedServer, sbs_state_lines, send_lines, wait_for
from tests.service_server import running_server

from skyparley.adapters.sbs import PartyMap, SbsEndpoint

T0 = 1_444_467_600.0  # 2015-10-10T09:00:00Z
LAT = 35.0
START_NM = 30.0  # apart at T0, closing at 900 kt: LoS (5 NM) at T0 + 100 s
SECONDS = 31
NM_PER_DEG_LON = 60.0 * math.cos(math.radians(LAT))


def _lines(k: int) -> list[str]:
    """The feed's lines for second ``k`` after T0."""
    gap_nm = START_NM - 0.25 * k
    east = 39.0 + gap_nm / NM_PER_DEG_LON
    lines = [
        *sbs_state_lines("AE1234", T0 + k, lat_deg=LAT, lon_deg=39.0, alt_ft=24500,
                         gs_kt=450, trk_deg=90, callsign="VIPER11" if k == 0 else None),
        *sbs_state_lines("150ABC", T0 + k + 0.4, lat_deg=LAT, lon_deg=east, alt_ft=24500,
                         gs_kt=450, trk_deg=270, callsign="RFF21" if k == 0 else None),
        *sbs_state_lines("3C6DD4", T0 + k + 0.2, lat_deg=LAT + 1, lon_deg=39.0, alt_ft=36000,
                         gs_kt=430, trk_deg=180),
    ]  # fmt: skip
    if k % 10 == 0:
        lines += ["", "MSG,3,garbage", "\x00\x01 noise", "MSG,3,1,1,ZZZZZZ,1,2015/10/10,x,,,"]
    return lines


def test_an_sbs_feed_shows_both_parties_their_converging_aircraft(tmp_path: Path) -> None:
    parties = PartyMap.from_dict({"default": None, "parties": {"coalition": ["A"],
                                                               "russia": ["1"]}})  # fmt: skip
    with FeedServer() as feed:
        endpoint = SbsEndpoint("127.0.0.1", feed.port, parties, flush_s=0.2, backoff_s=0.05)
        with running_server(
            tmp_path, t0=T0 + SECONDS - 1, settings={"sources": (endpoint,)}
        ) as server:
            live = server.app.state.runtime.live
            (source,) = server.app.state.sources
            conn = feed.connection()
            send_lines(conn, [line for k in range(SECONDS) for line in _lines(k)])
            wait_for(
                "the feed's states to be ingested",
                lambda: live.stats["states_accepted"] >= 2 * SECONDS,
            )
            clients = {p: server.client(p) for p in ("coalition", "russia")}
            try:
                for k in range(SECONDS - 1, SECONDS + 15):  # ticks while the pair coasts in
                    server.clock.set(T0 + k)
                    live.tick()
                    if all(c.get("/v1/alerts").json() for c in clients.values()):
                        break
                alerts = {p: c.get("/v1/alerts").json() for p, c in clients.items()}
                pictures = {p: c.get("/v1/picture").json() for p, c in clients.items()}
                with server.client("coalition", "admin") as admin:
                    metrics = admin.get("/v1/metrics").text
            finally:
                for c in clients.values():
                    c.close()
            stats = source.stats()

    assert live.stats["states_accepted"] == 2 * SECONDS  # every state of the pair, once
    assert not any(k.startswith("states_rejected") and v for k, v in live.stats.items())
    for party in ("coalition", "russia"):
        assert len(alerts[party]) == 1, alerts[party]
        assert sorted(alerts[party][0]["pair"]) == ["150ABC", "AE1234"]
    seen = {p: {a["id"]: a for a in pic["aircraft"]} for p, pic in pictures.items()}
    assert seen["coalition"]["AE1234"]["own"] is True
    assert seen["coalition"]["150ABC"]["in_alert"] is True
    assert seen["coalition"]["150ABC"]["party"] == "russia"
    assert seen["russia"]["150ABC"]["own"] is True
    assert seen["russia"]["AE1234"]["party"] == "coalition"
    assert "3C6DD4" not in seen["coalition"] | seen["russia"]  # nobody's: dropped
    # the last state the feed gave is the one the pictures start from
    assert seen["russia"]["150ABC"]["lon_deg"] < 39.0 + START_NM / NM_PER_DEG_LON
    assert stats["dropped"] == {"unmapped": SECONDS}
    assert stats["bad"] == {"icao": 4, "fields": 4, "not_sbs": 4}
    # and the service's metrics tell them, by feed (a feed of garbage is not silent)
    feed = f'feed="{endpoint.name}"'
    assert f"skyparley_sbs_connected{{{feed}}} 1.0" in metrics
    assert f'skyparley_sbs_bad_lines_total{{{feed},reason="icao"}} 4.0' in metrics
    assert f'skyparley_sbs_dropped_states_total{{{feed},reason="unmapped"}} {SECONDS}.0' in metrics
    assert stats["delivered"] == 2 * SECONDS
    assert stats["connects"] == 1

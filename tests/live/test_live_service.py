"""The live service in process: ingest checks, alerts with hysteresis, need-to-know,
conformance, protected-area intrusions, and the real formation flight pushed through ingest."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.live.conftest import T0, Live, batch, make_live

from skyparley.adapters.tracks import read_tracks
from skyparley.domain.live import StateBatch
from skyparley.errors import InputError, NotFoundError, PermissionDeniedError
from skyparley.geo.wgs84 import destination

NM = 1852.0


def dest(lat: float, lon: float, bearing_deg: float, dist_m: float) -> tuple[float, float]:
    """The point ``dist_m`` from (lat, lon) on that bearing."""
    la, lo = destination(lat, lon, bearing_deg, dist_m)
    return float(la), float(lo)


def _events(lv: Live, party: str, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in lv.svc.store.events(party, limit=10_000) if e.type == kind]


# ----------------------------------------------------------------------------- ingest


def test_every_rejected_row_is_counted_by_reason_and_the_rest_is_kept(live: Live) -> None:
    t = T0
    first = live.push(
        "coalition", time=[t, t], id=["VIPER11", "VIPER12"], lat_deg=[35.0, 35.1],
        lon_deg=[39.0, 39.0], alt_ft=[25000, 25000], gs_kt=[440, 440], trk_deg=[90, 90],
    )  # fmt: skip
    assert first["accepted"] == 2
    live.clock.set(t + 10)
    res = live.push(
        "coalition",
        time=[t + 1, t, t + 2, t - 60, t + 3, t + 400, t + 4, t + 5],
        id=["VIPER11", "VIPER12", "VIPER11", "VIPER12", "RFF21", "VIPER13", "VIPER14", "VIPER15"],
        lat_deg=[35.0, 35.1, 38.0, 35.1, 35.0, 35.0, 95.0, 35.3],
        lon_deg=[39.001, 39.0, 39.0, 39.0, 39.0, 39.0, 39.0, 39.0],
        alt_ft=[25000] * 8, gs_kt=[440] * 8, trk_deg=[90] * 8,
    )  # fmt: skip
    # RFF21 is russia's: the service has not seen it yet, so coalition may report it... once
    assert res["rejected"] == {
        "duplicate": 1,  # VIPER12 at its latest time again
        "teleport": 1,  # VIPER11 three degrees north in one second
        "clock_skew": 2,  # VIPER12 a minute old is fine, but VIPER13 is 390 s ahead ...
        "invalid": 1,  # VIPER14 at latitude 95
    } or res["rejected"] == {"duplicate": 1, "teleport": 1, "clock_skew": 1, "invalid": 1,
                             "out_of_order": 1}  # fmt: skip
    assert res["accepted"] + res["reordered"] + sum(res["rejected"].values()) == 8
    reasons = {e["id"]: (e["reason"], e["field"]) for e in res["errors"]}
    assert reasons["VIPER14"] == ("invalid", "lat_deg")
    assert reasons["VIPER13"] == ("clock_skew", "time")
    assert reasons["VIPER11"] == ("teleport", "lat_deg")
    # an aircraft reported by one party cannot be reported by another
    foreign = live.push(
        "russia", time=[t + 6], id=["VIPER11"], lat_deg=[35.0], lon_deg=[39.0],
        alt_ft=[25000], gs_kt=[440], trk_deg=[90],
    )  # fmt: skip
    assert foreign["rejected"] == {"foreign": 1}


def test_an_aircraft_silent_for_forget_s_is_forgotten_and_its_id_is_free(live: Live) -> None:
    """The track table used to keep every aircraft ever reported: its id stayed another
    party's for good, and each tick walked it."""
    live.step(T0, {"russia": batch(T0, ["EDGE1"], [35.0], [39.0], [25000], [440], [90])})
    assert "EDGE1" in live.live.table.aircraft()
    t = T0 + live.live.settings.forget_s - 60  # silent for less than forget_s: kept
    live.step(t, {"russia": batch(t, ["RFF21"], [36.0], [39.0], [25000], [440], [90])})
    assert "EDGE1" in live.live.table.aircraft()
    t = T0 + live.live.settings.forget_s + 60
    live.step(t, {"russia": batch(t, ["RFF21"], [36.0], [39.1], [25000], [440], [90])})
    assert live.live.table.aircraft() == ["RFF21"]
    assert live.live.stats["aircraft_forgotten"] == 1
    reused = live.push(
        "coalition", time=[t], id=["EDGE1"], lat_deg=[35.0], lon_deg=[39.0],
        alt_ft=[25000], gs_kt=[440], trk_deg=[90],
    )  # fmt: skip
    assert reused["accepted"] == 1


def test_a_late_row_within_the_window_is_kept_in_the_history_only(live: Live) -> None:
    for k in (0, 2):
        live.clock.set(T0 + k)
        live.push("coalition", time=[T0 + k], id=["A"], lat_deg=[35.0 + k * 0.001],
                  lon_deg=[39.0], alt_ft=[20000], gs_kt=[400], trk_deg=[0])  # fmt: skip
    res = live.push("coalition", time=[T0 + 1], id=["A"], lat_deg=[35.0005], lon_deg=[39.0],
                    alt_ft=[20000], gs_kt=[400], trk_deg=[0])  # fmt: skip
    assert (res["accepted"], res["reordered"], res["rejected"]) == (0, 1, {})
    assert live.live.table.history("A")["time"] == [T0, T0 + 1, T0 + 2]
    assert live.live.table.picture(T0 + 2, stale_s=30).time_s.tolist() == [T0 + 2]


def test_a_malformed_batch_is_an_input_error_naming_the_column(live: Live) -> None:
    with pytest.raises(InputError) as err:
        live.push("coalition", time=[T0], id=["A"], lat_deg=[35.0], lon_deg=[39.0],
                  alt_ft=[1000], gs_kt=[100])  # fmt: skip
    assert err.value.field == "states.trk_deg"
    with pytest.raises(InputError) as err:
        live.push("coalition", time=[T0, T0], id=["A"], lat_deg=[35.0], lon_deg=[39.0],
                  alt_ft=[1000], gs_kt=[100], trk_deg=[0])  # fmt: skip
    assert err.value.field == "states.time"


def test_a_viewer_cannot_push_tracks(live: Live) -> None:
    with pytest.raises(PermissionDeniedError):
        live.live.ingest(live.who("coalition", "viewer"), {"id": []})


# ----------------------------------------------------------------------------- alerts


def _encounter(
    lv: Live,
    *,
    offset_nm: float,
    noise_nm: float,
    seconds: int,
    seed: int,
    track_noise_deg: float = 0.5,
) -> list[dict[str, Any]]:
    """Two aircraft on parallel tracks ``offset_nm`` apart, closing then passing, with
    position and track noise (ADS-B of NACp 8 and NACv 2 reports about this well); returns
    the alert events of coalition's stream."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = 35.0, 38.0
    for k in range(seconds):
        t = T0 + k
        # A flies east, B west, B offset north: they pass abeam at k = seconds / 2
        dx_m = (k - seconds / 2) * 450 * NM / 3600
        a = dest(lat0, lon0, 90.0, dx_m)
        b = dest(*dest(lat0, lon0, 90.0, -dx_m), 0.0, offset_nm * NM)
        pa = dest(*a, rng.uniform(0, 360), abs(rng.normal(0.0, noise_nm * NM)))
        pb = dest(*b, rng.uniform(0, 360), abs(rng.normal(0.0, noise_nm * NM)))
        lv.step(t, {
            "coalition": batch(t, ["VIPER11"], [pa[0]], [pa[1]], [25000.0], [450.0],
                               [90.0 + rng.normal(0, track_noise_deg)]),
            "russia": batch(t, ["RFF21"], [pb[0]], [pb[1]], [25200.0], [450.0],
                            [(270.0 + rng.normal(0, track_noise_deg)) % 360]),
        })  # fmt: skip
    return _events(lv, "coalition", "alert")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noisy_tracks_near_the_threshold_give_at_most_one_alert_per_encounter(
    tmp_path: Path, seed: int
) -> None:
    lv = make_live(tmp_path)
    # abeam at 5 NM +- noise: the pair sits right on the 5 NM minimum
    alerts = _encounter(lv, offset_nm=5.0, noise_nm=0.03, seconds=900, seed=seed)
    raised = [a for a in alerts if a["kind"] == "raised"]
    assert len(raised) <= 1, [(a["kind"], a["level"]) for a in alerts]
    lv.svc.ledger.close()


def test_a_real_encounter_raises_its_alert_once_and_resolves_it(tmp_path: Path) -> None:
    lv = make_live(tmp_path)
    alerts = _encounter(lv, offset_nm=2.0, noise_nm=0.05, seconds=900, seed=4)
    kinds = [a["kind"] for a in alerts]
    assert kinds.count("raised") == 1
    assert kinds[-1] == "resolved"
    assert [a["level"] for a in alerts if a["kind"] in ("raised", "upgraded")] == [
        "advisory", "caution", "warning",
    ]  # fmt: skip
    # both parties got one hotline message per level, each demanding acknowledgement
    for party in ("coalition", "russia"):
        inbox = [m for m in lv.svc.store.inbox(party, limit=1000) if m.kind == "alert"]
        assert [m.content["args"]["level"] for m in inbox] == ["advisory", "caution", "warning"]
        assert all(m.requires_ack and m.deadline_s == 120 for m in inbox)
    # and the loss of separation is one incident
    (inc,) = lv.svc.store.incidents()
    assert inc.min_hdist_nm == pytest.approx(2.0, abs=0.2)
    lv.svc.ledger.close()


def _head_on_step(live: Live, k: int, apart_nm: float) -> None:
    """Second ``k`` of VIPER11 (coalition) and RFF21 (russia) head-on at FL250, ``apart_nm``
    apart at second 0, each at 450 kt."""
    t = T0 + k
    a = dest(35.0, 38.0, 90.0, (k * 450 / 3600 - apart_nm / 2) * NM)
    b = dest(35.0, 38.0, 90.0, (apart_nm / 2 - k * 450 / 3600) * NM)
    live.step(t, {
        "coalition": batch(t, ["VIPER11"], [a[0]], [a[1]], [25000.0], [450.0], [90.0]),
        "russia": batch(t, ["RFF21"], [b[0]], [b[1]], [25000.0], [450.0], [270.0]),
    })  # fmt: skip


def test_an_alert_lists_the_reader_s_own_hotline_messages_only(live: Live) -> None:
    """GET /v1/alerts named the other party's alert messages too (ids it cannot read)."""
    for k in range(6):  # 20 NM apart, closing at 900 kt
        _head_on_step(live, k, 20.0)
    for party in ("coalition", "russia"):
        (alert,) = live.live.alerts(live.who(party, "viewer"))
        own = {m.id for m in live.svc.store.inbox(party, limit=1000) if m.kind == "alert"}
        assert alert["messages"], party
        assert set(alert["messages"]) == own


def test_an_alert_s_figures_are_as_of_the_last_tick(live: Live) -> None:
    """A duty officer reads an alert's time to LoS and distances as current: they count
    down at every tick, not only when the level changes (they stood still before)."""
    seen = []
    for k in range(12):  # 60 NM apart, closing at 900 kt: advisory all along
        _head_on_step(live, k, 60.0)
        seen += [(k, al) for al in live.live.alerts(live.who("coalition", "viewer"))]
    first_k, first = seen[0]
    last_k, last = seen[-1]
    assert first["level"] == last["level"] == "advisory"
    assert last_k - first_k >= 5
    assert last["time_to_los_s"] == pytest.approx(
        first["time_to_los_s"] - (last_k - first_k), abs=1
    )
    assert last["hdist_nm"] == pytest.approx(
        first["hdist_nm"] - (last_k - first_k) * 0.25, abs=0.05
    )


# ----------------------------------------------------------------------------- need to know


def test_others_aircraft_only_within_40_nm_or_in_an_alert(live: Live) -> None:
    t = T0
    near = dest(35.0, 38.0, 0.0, 30 * NM)
    far = dest(35.0, 38.0, 0.0, 100 * NM)
    live.step(t, {
        "coalition": batch(t, ["VIPER11"], [35.0], [38.0], [25000], [440], [0]),
        "russia": batch(t, ["RFF21", "RFF22"], [near[0], far[0]], [38.0, 38.0],
                        [30000, 30000], [440, 440], [90, 90]),
    })  # fmt: skip
    seen = {a["id"] for a in live.live.picture(live.who("coalition", "viewer"))["aircraft"]}
    assert seen == {"VIPER11", "RFF21"}
    own = {a["id"]: a["own"] for a in live.live.picture(live.who("russia"))["aircraft"]}
    assert own == {"RFF21": True, "RFF22": True, "VIPER11": False}
    assert live.live.picture(live.who("relief"))["aircraft"] == []


# ----------------------------------------------------------------------------- conformance


def test_leaving_every_notified_volume_is_told_to_the_owner_only(live: Live) -> None:
    area = {"type": "Circle", "center": [38.0, 35.0], "radius_nm": 10}
    live.svc.file_notice(live.who("russia"), {
        "party": "russia", "id": "ru-1", "version": 1, "state": "active",
        "volumes": [{"area": area, "lower": "FL200", "upper": "FL300",
                     "start": "2015-10-10T08:00:00Z", "end": "2015-10-10T12:00:00Z"}],
    })  # fmt: skip
    for k, north_nm in enumerate([0, 5, 11, 20, 25]):  # 10 NM circle + 2 NM tolerance
        p = dest(35.0, 38.0, 0.0, north_nm * NM)
        t = T0 + 120 * k
        live.step(t, {"russia": batch(t, ["RFF21"], [p[0]], [p[1]], [25000], [300], [0])})
    events = _events(live, "russia", "nonconformance")
    assert [e["aircraft"] for e in events] == ["RFF21"]  # raised once, when it left
    assert events[0]["state"]["lat_deg"] > 35.3
    assert _events(live, "coalition", "nonconformance") == []


# ----------------------------------------------------------------------------- intrusion


def _helicopter_crosses(live: Live, area_id: str, disclosure: str) -> None:
    """relief declares a site near Hama with ``disclosure``; russia's helicopter RFH7 crosses
    it, south to north, at 2,000 ft."""
    live.svc.declare_area(live.who("relief"), {
        "owner": "relief", "id": area_id, "kind": "humanitarian", "disclosure": disclosure,
        "volume": {"area": {"type": "Circle", "center": [36.8, 35.17], "radius_nm": 2},
                   "lower": 0, "upper": "FL100",
                   "start": "2015-10-10T00:00:00Z", "end": "2015-10-11T00:00:00Z"},
    })  # fmt: skip
    for k in range(12):
        p = dest(35.17, 36.8, 0.0, (k - 6) * 0.6 * NM)
        t = T0 + 10 * k
        live.step(t, {"russia": batch(t, ["RFH7"], [p[0]], [p[1]], [2000], [120], [0])})


def test_a_protected_area_intrusion_is_an_incident_told_as_the_rule_allows(live: Live) -> None:
    _helicopter_crosses(live, "hama-hospital", "on_conflict")
    (inc,) = live.svc.store.incidents()
    assert inc.kind == "protected_area"
    assert inc.parties == ("relief", "russia")
    assert (inc.a, inc.b) == ("RFH7", "relief/hama-hospital@1")
    told_owner = _events(live, "relief", "intrusion")
    told_intruder = _events(live, "russia", "intrusion")
    assert told_owner[0]["aircraft"] == "RFH7"
    assert told_owner[0]["party"] == "russia"
    # on_conflict: the intruder learns what kind of site, never its geometry
    assert told_intruder == [{"aircraft": "RFH7", "owner": "relief",
                              "area_kind": "humanitarian"}]  # fmt: skip
    view = live.live.incident_view(live.who("russia"), inc.id)
    assert "radius_nm" not in str(view)
    assert "Circle" not in str(view)
    owner_view = live.live.incident_view(live.who("relief"), inc.id)
    assert owner_view["evidence"]["area"] == "relief/hama-hospital@1"


def test_an_owner_only_area_s_intrusion_tells_the_intruder_nothing(live: Live) -> None:
    """No event, no incident record, no ledger entry addressed to the intruder: an
    ``owner_only`` area is not even known to exist (the incident went to both before)."""
    _helicopter_crosses(live, "secret-site", "owner_only")
    (inc,) = live.svc.store.incidents()
    assert inc.parties == ("relief",)
    assert _events(live, "relief", "intrusion")[0]["aircraft"] == "RFH7"
    assert [e.type for e in live.svc.store.events("relief", after=0, limit=1000)].count(
        "incident"
    ) == 1
    russia = live.svc.store.events("russia", after=0, limit=1000)
    assert "secret-site" not in json.dumps([e.data for e in russia])
    assert live.live.incidents(live.who("russia")) == []
    with pytest.raises(NotFoundError):
        live.live.incident_view(live.who("russia"), inc.id)
    body = live.svc.ledger.entry(inc.ledger_index).signed.entry.body
    assert body["to"] == ["relief"]


# ----------------------------------------------------------------------------- real traffic


@pytest.mark.realdata
def test_the_real_formation_flight_pushed_through_ingest_is_one_incident(
    traffic_samples: Callable[[str], Path], tmp_path: Path
) -> None:
    table, _ = read_tracks(traffic_samples("featured/dreamliner_airfrance.json.gz"))
    parties = {"3900fb": "coalition", "39c424": "russia"}  # two parties, so the pair counts
    lv = make_live(tmp_path)
    ids = table.id.astype(str)
    t_first = max(table.time_s[ids == x].min() for x in parties)
    t_last = min(table.time_s[ids == x].max() for x in parties)
    keep = (table.time_s >= t_first - 30) & (table.time_s <= t_last + 30)
    times = table.time_s[keep]
    order = np.argsort(times, kind="stable")
    rows = np.flatnonzero(keep)[order]
    bounds = np.flatnonzero(np.diff(table.time_s[rows])) + 1
    counts: Counter[str] = Counter()
    for chunk in np.split(rows, bounds):
        t = float(table.time_s[chunk[0]])
        lv.clock.set(t)
        for aircraft, party in parties.items():
            sel = chunk[ids[chunk] == aircraft]
            if len(sel):
                res = lv.live.ingest(lv.who(party), StateBatch(
                    time_s=table.time_s[sel], id=table.id[sel].astype(object),
                    lat_deg=table.lat_deg[sel], lon_deg=table.lon_deg[sel],
                    alt_ft=table.alt_ft[sel], gs_kt=table.gs_kt[sel],
                    trk_deg=table.trk_deg[sel], vs_fpm=table.vs_fpm[sel],
                ))  # fmt: skip
                counts.update(res.rejected)
        lv.live.tick()
    lv.clock.set(t_last + 120)
    lv.live.tick()  # the aircraft went stale: an open incident closes
    incidents = lv.svc.store.incidents()
    assert len(incidents) == 1, [(i.start_s, i.end_s) for i in incidents]
    (inc,) = incidents
    assert (inc.a, inc.b) == ("3900fb", "39c424")
    assert inc.end_s - inc.start_s > 600  # the formation lasted well over ten minutes
    assert inc.min_hdist_nm < 0.1
    # the evidence keeps both whole tracks, not only the table's last minutes
    track = inc.data["tracks"]["3900fb"]["time"]
    assert track[0] <= inc.start_s
    assert track[-1] >= inc.end_s - 1
    assert math.isfinite(inc.min_vdist_ft)
    assert inc.min_vdist_ft < 100
    lv.svc.ledger.close()

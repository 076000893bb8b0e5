"""Generate the track files that ship with skyparley: beats 3 and 5 of the Syria 2015 story.

Beat 3, ``syria-2015-beat3.csv``: 10 Oct 2015, 09:00-09:20 UTC, a coalition pair and a
Russian pair converge over eastern Syria between Raqqa and Deir ez-Zor. The leads pass about
3 NM and 500 ft apart at 09:12: a loss of separation "within visual range". Two unrelated
aircraft fly elsewhere. Straight geodesic legs at constant speed.

Beat 5, ``syria-2015-beat5.csv``: 10 Sep 2017, 08:00-08:10 UTC, Deir ez-Zor. A Russian pair
orbits inside the notice area east of the Euphrates (FL250/FL260, 6 NM around its centre);
a coalition drone orbits the partner forces' protected area just outside it (18,000 ft, above
its 12,000 ft ceiling) and a coalition fighter passes east of it at 21,000 ft. Vertically
apart from the Russians by 4,000 ft or more: no alert, a picture to watch.

Deterministic: every aircraft reported once a second with the quantisation real
transponders have (altitude in 25 ft steps, speed in whole knots, track to 0.1 degree).

Run ``python tools/make_scenario.py`` to rewrite the packaged CSVs.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

from skyparley.geo.units import NM_M, kt_to_ms
from skyparley.geo.wgs84 import destination, geodesic_inverse

START_S = 1444467600  # 2015-10-10T09:00:00Z
END_S = 1444468800  # 2015-10-10T09:20:00Z
CPA_S = 1444468320  # 2015-10-10T09:12:00Z
MEET = (35.60, 39.70)  # over the Euphrates valley, between Raqqa and Deir ez-Zor

SCENARIOS = Path(__file__).resolve().parents[1] / "src/skyparley/data/scenarios"
TARGET = SCENARIOS / "syria-2015-beat3.csv"
TARGET_BEAT5 = SCENARIOS / "syria-2015-beat5.csv"

BEAT5_START_S = 1505030400  # 2017-09-10T08:00:00Z
BEAT5_END_S = 1505031000  # 2017-09-10T08:10:00Z
NOTICE_CENTRE = (35.45, 40.35)  # the Russian notice east of the Euphrates (10 NM radius)
PARTNERS = (35.50, 40.42)  # the coalition's partner forces (4 NM radius, up to 12,000 ft)

# id, party, orbit centre (lat, lon), radius NM, bearing from the centre at the start (deg),
# gs kt, alt ft; orbits are flown clockwise.
ORBITS = [
    ("RFF31", "russia", NOTICE_CENTRE, 6.0, 270.0, 360.0, 25000.0),
    ("RFF32", "russia", NOTICE_CENTRE, 6.0, 90.0, 360.0, 26000.0),
    ("REAPER41", "coalition", PARTNERS, 6.0, 180.0, 160.0, 18000.0),
]
# id, party, where it is at the middle of the window (lat, lon), track deg, gs kt, alt ft
LEGS = [("DUDE51", "coalition", (35.50, 40.60), 0.0, 420.0, 21000.0)]

# id, party, offset from the meeting point (bearing deg, NM), track deg, gs kt, alt ft,
# vertical speed fpm, seconds behind the lead at CPA time.
AIRCRAFT = [
    ("VIPER11", "coalition", (30.0, 1.5), 300.0, 440.0, 25000.0, 0.0, 0.0),
    ("VIPER12", "coalition", (30.0, 3.0), 300.0, 440.0, 25000.0, 0.0, 4.0),
    ("RFF21", "russia", (210.0, 1.5), 100.0, 460.0, 24500.0, 0.0, 0.0),
    ("RFF22", "russia", (210.0, 3.0), 100.0, 460.0, 24500.0, 0.0, 4.0),
    # Unrelated traffic: a Russian transport out of Hmeimim and a coalition tanker's track.
    ("RFF7690", "russia", None, 95.0, 380.0, 28000.0, 0.0, 0.0),
    ("SHELL71", "coalition", None, 160.0, 350.0, 22000.0, 0.0, 0.0),
]
OTHER_START = {"RFF7690": (35.41, 35.95), "SHELL71": (36.90, 41.60)}


def _track(
    lat0: float, lon0: float, trk: float, gs_kt: float, t: np.ndarray, t_ref: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions along the geodesic through (lat0, lon0) with track ``trk`` at ``t_ref``."""
    s = kt_to_ms(gs_kt) * (t - t_ref)
    lat, lon = destination(
        np.full(t.shape, lat0),
        np.full(t.shape, lon0),
        np.where(s >= 0, trk, trk + 180.0),
        np.abs(s),
    )
    # Track at each point: azimuth towards the position one second later.
    s2 = kt_to_ms(gs_kt) * (t + 1.0 - t_ref)
    lat2, lon2 = destination(
        np.full(t.shape, lat0),
        np.full(t.shape, lon0),
        np.where(s2 >= 0, trk, trk + 180.0),
        np.abs(s2),
    )
    az = geodesic_inverse(lat, lon, lat2, lon2).bearing_deg
    return lat, lon, az


def generate() -> str:
    """The scenario as canonical CSV text."""
    t = np.arange(START_S, END_S + 1, dtype=np.float64)
    rows: list[Row] = []
    for ident, party, offset, trk, gs, alt, vs, behind_s in AIRCRAFT:
        if offset is not None:
            lat0, lon0 = destination(MEET[0], MEET[1], offset[0], offset[1] * NM_M)
            lat0, lon0 = float(lat0[()]), float(lon0[()])
            t_ref = CPA_S + behind_s
        else:
            lat0, lon0 = OTHER_START[ident]
            t_ref = START_S
        lat, lon, az = _track(lat0, lon0, trk, gs, t, t_ref)
        alt_t = alt + vs * (t - START_S) / 60.0
        rows.extend(
            (
                int(t[k]),
                ident,
                party,
                round(float(lat[k]), 5),
                round(float(lon[k]), 5),
                25.0 * round(float(alt_t[k]) / 25.0),
                float(round(gs)),
                round(float(az[k]) % 360.0, 1),
                float(vs),
            )
            for k in range(t.shape[0])
        )
    return _csv(rows)


Row = tuple[int, str, str, float, float, float, float, float, float]


def _row(t: int, ident: str, party: str, lat: float, lon: float, alt: float, gs: float,
         az: float, vs: float) -> Row:  # fmt: skip
    return (
        t,
        ident,
        party,
        round(lat, 5),
        round(lon, 5),
        25.0 * round(alt / 25.0),
        float(round(gs)),
        round(az % 360.0, 1),
        float(vs),
    )


def _orbit(
    centre: tuple[float, float], radius_nm: float, bearing0: float, gs_kt: float, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions on a clockwise circle around ``centre``, and the track at each."""
    rate = np.degrees(kt_to_ms(gs_kt) / (radius_nm * NM_M))  # deg of bearing per second

    def at(tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return destination(
            np.full(tt.shape, centre[0]),
            np.full(tt.shape, centre[1]),
            (bearing0 + rate * (tt - t[0])) % 360.0,
            np.full(tt.shape, radius_nm * NM_M),
        )

    lat, lon = at(t)
    lat2, lon2 = at(t + 1.0)
    return lat, lon, geodesic_inverse(lat, lon, lat2, lon2).bearing_deg


def generate_beat5() -> str:
    """Beat 5's tracks as canonical CSV text."""
    t = np.arange(BEAT5_START_S, BEAT5_END_S + 1, dtype=np.float64)
    rows: list[Row] = []
    for ident, party, centre, radius, bearing0, gs, alt in ORBITS:
        lat, lon, az = _orbit(centre, radius, bearing0, gs, t)
        rows.extend(
            _row(int(t[k]), ident, party, float(lat[k]), float(lon[k]), alt, gs, float(az[k]), 0)
            for k in range(t.shape[0])
        )
    mid = (BEAT5_START_S + BEAT5_END_S) / 2.0
    for ident, party, (lat0, lon0), trk, gs, alt in LEGS:
        lat, lon, az = _track(lat0, lon0, trk, gs, t, mid)
        rows.extend(
            _row(int(t[k]), ident, party, float(lat[k]), float(lon[k]), alt, gs, float(az[k]), 0)
            for k in range(t.shape[0])
        )
    return _csv(rows)


def _csv(rows: list[Row]) -> str:
    rows.sort(key=lambda r: (r[0], r[1]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["time", "id", "party", "lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm"]
    )
    w.writerows(rows)
    return buf.getvalue()


def main() -> int:
    for target, text in ((TARGET, generate()), (TARGET_BEAT5, generate_beat5())):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""SBS/BaseStation feeds: the line parser, the per-aircraft assembly, party maps, the TCP source."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from tests.sbs_feed import FeedServer, sbs_state_lines, send_lines, wait_for

from skyparley.adapters.sbs import (
    BAD_REASONS,
    PartyMap,
    SbsAssembler,
    SbsEndpoint,
    SbsSource,
    load_party_map,
    parse_endpoint,
    parse_line,
)
from skyparley.domain.live import MAX_BATCH, StateBatch
from skyparley.errors import InputError

T0 = 1_444_467_600.0  # 2015-10-10T09:00:00Z

# What dump1090 --net writes on port 30003 for one Ryanair flight over Dublin (fields 3, 4
# and 6 are dump1090's constant session/aircraft/flight ids), and other traffic around it.
_RY = "111,11111,4CA2D6,111111,2015/10/10,"
_EI = "111,11111,400F2B,111111,2015/10/10,"
RYANAIR = [
    f"MSG,1,{_RY}09:00:00.102,2015/10/10,09:00:00.140,RYR5GK  ,,,,,,,,,,,0",
    f"MSG,5,{_RY}09:00:00.233,2015/10/10,09:00:00.250,,37000,,,,,,,0,,0,0",
    f"MSG,3,{_RY}09:00:00.571,2015/10/10,09:00:00.600,,37000,,,53.42931,-6.24912,,,0,0,0,0",
    f"MSG,4,{_RY}09:00:00.812,2015/10/10,09:00:00.830,,,452,87.3,,,-64,,0,0,0,0",
    f"MSG,8,{_RY}09:00:00.900,2015/10/10,09:00:00.910,,,,,,,,,,,,0",
    f"MSG,3,{_RY}09:00:01.571,2015/10/10,09:00:01.600,,37025,,,53.42945,-6.24700,,,0,0,0,0",
    f"MSG,6,{_RY}09:00:01.700,2015/10/10,09:00:01.710,,,,,,,,7421,0,0,0,0",
    f"MSG,4,{_RY}09:00:01.812,2015/10/10,09:00:01.830,,,453,87.4,,,0,,0,0,0,0",
    f"MSG,3,{_RY}09:00:02.571,2015/10/10,09:00:02.600,,37050,,,53.42960,-6.24488,,,0,0,0,0",
    f"MSG,2,{_EI}09:00:02.700,2015/10/10,09:00:02.710,,,12,270,53.42100,-6.27000,,,,,,-1",
    "STA,,5,179,400F2B,10103,2015/10/10,09:00:02.800,2015/10/10,09:00:02.810,RM",
]  # fmt: skip


def _everyone(default: str = "coalition") -> PartyMap:
    return PartyMap(default=default)


def _feed(a: SbsAssembler, lines: list[str]) -> int:
    return sum(a.feed(line) for line in lines)


# ----------------------------------------------------------------------------- parser


def test_a_position_line_gives_its_values_at_the_generated_time_in_utc() -> None:
    m = parse_line(RYANAIR[2])
    assert m is not None
    assert (m.type, m.icao, m.alt_ft, m.lat_deg, m.lon_deg) == (
        3, "4CA2D6", 37000.0, 53.42931, -6.24912,
    )  # fmt: skip
    assert m.time_s == pytest.approx(T0 + 0.571, abs=1e-6)
    v = parse_line(RYANAIR[3])
    assert v is not None
    assert (v.gs_kt, v.trk_deg, v.vs_fpm) == (452.0, 87.3, -64.0)
    c = parse_line(RYANAIR[0])
    assert c is not None
    assert c.callsign == "RYR5GK"


def test_the_logged_time_is_used_when_the_generated_one_is_missing() -> None:
    line = "MSG,3,1,1,4CA2D6,1,,,2015/10/10,09:00:05.000,,37000,,,53.4,-6.2,,,0,0,0,0"
    m = parse_line(line)
    assert m is not None
    assert m.time_s == T0 + 5


def test_other_kinds_of_message_are_not_errors() -> None:
    assert parse_line(RYANAIR[-1]) is None  # STA
    assert parse_line("CLK,,,,,,2015/10/10,09:00:00.000") is None


def test_states_are_emitted_at_the_positions_time_once_a_velocity_is_known() -> None:
    a = SbsAssembler(_everyone())
    assert _feed(a, RYANAIR) == 3
    (party, b), = a.take()  # fmt: skip
    assert party == "coalition"
    assert list(b.id) == ["4CA2D6"] * 3
    np.testing.assert_allclose(b.time_s - T0, [0.571, 1.571, 2.571], atol=1e-6)
    np.testing.assert_allclose(b.alt_ft, [37000, 37025, 37050])
    # the first position waited for the first velocity; later ones take the latest one
    np.testing.assert_allclose(b.gs_kt, [452, 452, 453])
    np.testing.assert_allclose(b.vs_fpm, [-64, -64, 0])
    assert a.callsign("4ca2d6") == "RYR5GK"
    assert a.bad == {}
    assert a.ignored == {"msg_5": 1, "msg_6": 1, "msg_8": 1, "msg_2": 1, "other_kind": 1}
    assert a.take() == []  # taken once


def test_a_second_velocity_does_not_repeat_a_state() -> None:
    a = SbsAssembler(_everyone())
    lines = sbs_state_lines("150ABC", T0, lat_deg=35.0, lon_deg=39.0, alt_ft=24500,
                            gs_kt=460, trk_deg=99)  # fmt: skip
    assert _feed(a, lines) == 1
    assert _feed(a, [lines[0], lines[0]]) == 0  # the same velocity again: no new state
    assert sum(len(b) for _, b in a.take()) == 1


def test_a_position_and_a_velocity_far_apart_in_time_make_no_state() -> None:
    a = SbsAssembler(_everyone(), max_gap_s=10)
    vel = sbs_state_lines("150ABC", T0, lat_deg=35, lon_deg=39, alt_ft=1, gs_kt=400,
                          trk_deg=90)[0]  # fmt: skip
    pos = sbs_state_lines("150ABC", T0 + 30, lat_deg=35, lon_deg=39, alt_ft=24500,
                          gs_kt=400, trk_deg=90)[1]  # fmt: skip
    assert _feed(a, [vel, pos]) == 0
    assert a.take() == []


def test_aircraft_on_the_ground_and_positions_without_coordinates_are_ignored() -> None:
    a = SbsAssembler(_everyone())
    base = "MSG,3,1,1,4CA2D6,1,2015/10/10,09:00:00.000,2015/10/10,09:00:00.000,,"
    vel = "MSG,4,1,1,4CA2D6,1,2015/10/10,09:00:00.000,2015/10/10,09:00:00.000,,,450,90,,,0"
    assert _feed(a, [vel, base + "0,,,53.4,-6.2,,,0,0,0,-1", base + "37000,,,,,,,0,0,0,0"]) == 0
    assert a.ignored == {"on_ground": 1, "incomplete": 1}
    assert a.bad == {}


GOOD_POS = "MSG,3,1,1,4CA2D6,1,2015/10/10,09:00:00.000,2015/10/10,09:00:00.000,,37000,,,53.4,-6.2"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("hello world", "not_sbs"),
        ("\x00\x17\xff binary", "not_sbs"),
        ("MSG,3,1,1,4CA2D6", "fields"),
        ("MSG,9,1,1,4CA2D6,1,2015/10/10,09:00:00.000,2015/10/10,09:00:00.000", "transmission_type"),
        ("MSG,x,1,1,4CA2D6,1,2015/10/10,09:00:00.000,2015/10/10,09:00:00.000", "transmission_type"),
        (GOOD_POS.replace("4CA2D6", "4CA2DZ"), "icao"),
        (GOOD_POS.replace("4CA2D6", "4CA2D"), "icao"),
        (GOOD_POS.replace("2015/10/10,09:00:00.000,2015", "2015/13/40,09:00:00.000,2015"), "time"),
        (GOOD_POS.replace("09:00:00.000,2015", "25:61:00,2015"), "time"),
        ("MSG,3,1,1,4CA2D6,1,,,,,,37000,,,53.4,-6.2", "time"),
        (GOOD_POS.replace("37000", "nan"), "altitude"),
        (GOOD_POS.replace("37000", "FL370"), "altitude"),
        (GOOD_POS.replace("53.4", "95.0"), "latitude"),
        (GOOD_POS.replace("-6.2", "-186.2"), "longitude"),
        ("MSG,4,1,1,4CA2D6,1,2015/10/10,09:00:00.000,,,,,-3,90,,,0", "ground_speed"),
        ("MSG,4,1,1,4CA2D6,1,2015/10/10,09:00:00.000,,,,,450,inf,,,0", "track"),
        ("MSG,4,1,1,4CA2D6,1,2015/10/10,09:00:00.000,,,,,450,90,,,1e9", "vertical_rate"),
        ("MSG,1,1,1,4CA2D6,1,2015/10/10,09:00:00.000,,,BAD\tCALL", "callsign"),
        ("MSG," + "9" * 2000, "too_long"),
    ],
)
def test_garbage_is_counted_by_reason_and_never_raises(line: str, reason: str) -> None:
    assert reason in BAD_REASONS
    a = SbsAssembler(_everyone())
    assert a.feed(line) == 0
    assert a.bad == {reason: 1}
    assert a.take() == []


def test_a_feed_full_of_garbage_still_gives_the_good_states() -> None:
    rng = np.random.default_rng(7)
    good = sbs_state_lines("4CA2D6", T0, lat_deg=53.4, lon_deg=-6.2, alt_ft=37000, gs_kt=450,
                           trk_deg=90)  # fmt: skip
    junk = ["".join(chr(int(c)) for c in rng.integers(0, 0x2FF, size=40)) for _ in range(200)]
    junk += [",".join(["MSG", "3", *map(str, rng.integers(-9, 99, size=20))]) for _ in range(200)]
    a = SbsAssembler(_everyone())
    assert _feed(a, junk[:200] + good + junk[200:]) == 1
    assert sum(a.bad.values()) == 400
    assert sum(len(b) for _, b in a.take()) == 1


# ----------------------------------------------------------------------------- parties


PARTIES = {"default": None, "parties": {"russia": ["1"], "coalition": ["A", "4CA"],
                                        "relief": ["150abc"]}}  # fmt: skip


def test_each_aircraft_goes_to_the_party_of_its_longest_prefix_and_unmapped_are_dropped() -> None:
    a = SbsAssembler(PartyMap.from_dict(PARTIES))
    for icao in ("150ABC", "15FFFF", "4CA2D6", "A0B1C2", "3C6DD4"):
        _feed(a, sbs_state_lines(icao, T0, lat_deg=35, lon_deg=39, alt_ft=20000, gs_kt=400,
                                 trk_deg=90))  # fmt: skip
    got = {party: sorted(b.id) for party, b in a.take()}
    assert got == {"coalition": ["4CA2D6", "A0B1C2"], "relief": ["150ABC"], "russia": ["15FFFF"]}
    assert a.dropped == {"unmapped": 1}  # 3C6DD4: no prefix, no default


def test_the_default_party_takes_the_unmapped_aircraft() -> None:
    m = PartyMap.from_dict({**PARTIES, "default": "coalition"})
    assert m.party_of("3C6DD4") == "coalition"
    assert m.parties == {"coalition", "russia", "relief"}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_party_map_file_is_read_as_yaml_or_json(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"parties{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(PARTIES))
    else:
        path.write_text("default: null\nparties:\n  russia: ['1']\n  coalition: [A, 4CA]\n"
                        "  relief: ['150abc']\n")  # fmt: skip
    assert load_party_map(path) == PartyMap.from_dict(PARTIES)


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"parties": {"russia": ["1"], "coalition": ["1"]}}, "parties.coalition[0]", "russia"),
        ({"parties": {"russia": ["XYZ"]}}, "parties.russia[0]", "not an ICAO address"),
        ({"parties": {"russia": "15"}}, "parties.russia", "list"),
        ({"default": 3}, "default", "party id"),
        ({"defualt": "russia"}, "defualt", "not a setting"),
        ([1, 2], "", "object"),
    ],
)
def test_a_bad_party_map_is_refused_naming_the_field(
    tmp_path: Path, data: object, field: str, reason: str
) -> None:
    path = tmp_path / "parties.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as exc:
        load_party_map(path)
    assert exc.value.field == f"{path}.{field}".rstrip(".")
    assert reason in exc.value.reason


def test_a_party_map_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "parties.txt"
    path.write_text("russia: 1")
    with pytest.raises(InputError, match="yaml"):
        load_party_map(path)


@pytest.mark.parametrize("text", ["localhost", "host:", ":30003", "h:0", "h:70000", "h:p"])
def test_an_endpoint_is_host_and_port(text: str) -> None:
    with pytest.raises(InputError, match="HOST:PORT"):
        parse_endpoint(text)


def test_a_large_flush_is_split_into_batches_the_ingest_takes() -> None:
    a = SbsAssembler(_everyone())
    n = MAX_BATCH + 5
    for k in range(n):
        _feed(a, sbs_state_lines(f"{k:06X}", T0, lat_deg=35, lon_deg=39, alt_ft=20000,
                                 gs_kt=400, trk_deg=90))  # fmt: skip
    sizes = [len(b) for _, b in a.take()]
    assert sizes == [MAX_BATCH, 5]


# ----------------------------------------------------------------------------- TCP source


class Collected:
    """What a source delivered, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches: list[tuple[str, StateBatch]] = []

    def __call__(self, party: str, batch: StateBatch) -> None:
        with self.lock:
            self.batches.append((party, batch))

    def times(self, icao: str) -> list[float]:
        with self.lock:
            return [float(t) - T0 for _, b in self.batches for i, t in zip(b.id, b.time_s,
                                                                           strict=True)
                    if i == icao]  # fmt: skip


def _lines(icao: str, k: int) -> list[str]:
    return sbs_state_lines(icao, T0 + k, lat_deg=35.0 + k * 0.01, lon_deg=39.0, alt_ft=24500,
                           gs_kt=450, trk_deg=0)  # fmt: skip


def test_the_source_reconnects_when_the_feed_drops_and_survives_garbage() -> None:
    got = Collected()
    with FeedServer() as feed:
        ep = SbsEndpoint("127.0.0.1", feed.port, _everyone(), flush_s=0.1, backoff_s=0.05)
        source = SbsSource(ep, got)
        source.start()
        try:
            conn = feed.connection()
            send_lines(conn, ["garbage", *_lines("4CA2D6", 0), "MSG,3,truncated"])
            send_lines(conn, _lines("4CA2D6", 1))
            wait_for("the first two states", lambda: got.times("4CA2D6") == [0.0, 1.0])
            conn.close()  # the feed drops
            conn = feed.connection()  # ... and the source comes back
            send_lines(conn, _lines("4CA2D6", 2))
            wait_for("the state after the reconnect", lambda: len(got.times("4CA2D6")) == 3)
        finally:
            source.stop()
        stats = source.stats()
    assert got.times("4CA2D6") == [0.0, 1.0, 2.0]
    assert {p for p, _ in got.batches} == {"coalition"}
    assert stats["connects"] == 2
    assert stats["bad"] == {"fields": 1, "not_sbs": 1}
    assert stats["delivered"] == 3
    assert stats["connected"] is False


def test_the_source_keeps_trying_until_the_feed_is_up() -> None:
    got = Collected()
    with FeedServer() as probe:
        port = probe.port  # a port nothing listens on once the probe is closed
    ep = SbsEndpoint("127.0.0.1", port, _everyone(), flush_s=0.1, backoff_s=0.05,
                     max_backoff_s=0.2)  # fmt: skip
    source = SbsSource(ep, got)
    source.start()
    try:
        wait_for("a failed connect", lambda: source.stats().get("connect_failures", 0) >= 2)
        with FeedServer(port) as feed:
            send_lines(feed.connection(), _lines("150ABC", 0))
            wait_for("the state", lambda: got.times("150ABC") == [0.0])
    finally:
        source.stop()
    assert source.stats()["connects"] == 1


def test_a_consumer_that_fails_does_not_stop_the_source() -> None:
    calls: list[int] = []

    def deliver(party: str, batch: StateBatch) -> None:
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("the service is closing")

    with FeedServer() as feed:
        source = SbsSource(SbsEndpoint("127.0.0.1", feed.port, _everyone(), flush_s=0.1), deliver)
        source.start()
        try:
            conn = feed.connection()
            send_lines(conn, _lines("4CA2D6", 0))
            wait_for("the first delivery", lambda: len(calls) == 1)
            send_lines(conn, _lines("4CA2D6", 1))
            wait_for("the second delivery", lambda: len(calls) == 2)
        finally:
            source.stop()
    assert source.stats()["deliver_failures"] == 1
    assert source.stats()["delivered"] == 1

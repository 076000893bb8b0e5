"""Track file readers: what a user sees when reading canonical, OpenSky and traffic files."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyparley.adapters import tracks
from skyparley.adapters.tracks import ReadReport, read_many, read_tracks
from skyparley.errors import TrackFileError

HEADER = "time,id,party,lat_deg,lon_deg,alt_ft,gs_kt,trk_deg,vs_fpm"
GOOD = "2015-10-10T09:00:00Z,RF01,ru,35.40,35.95,20000,420,90,0"
OPENSKY_HEADER = (
    "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,alert,spi,squawk,"
    "baroaltitude,geoaltitude,lastposupdate,lastcontact"
)


def write_csv(path: Path, lines: Sequence[str], header: str = HEADER) -> Path:
    text = "\n".join([header, *lines]) + "\n"
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_json(path: Path, records: list[dict[str, object]], *, compact: bool = True) -> Path:
    # Compact, as traffic and pandas write it (the reader's fast path); else with spaces.
    data = json.dumps(records, separators=(",", ":") if compact else None).encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def traffic_record(**change: object) -> dict[str, object]:
    record: dict[str, object] = {
        "altitude": 13650.0,
        "callsign": "MSR799",
        "groundspeed": 325.0,
        "icao24": "0101de",
        "latitude": 48.48,
        "longitude": 3.83,
        "onground": False,
        "squawk": "1000",
        "timestamp": 1633608773000,
        "track": 311.1,
        "vertical_rate": -896.0,
    }
    record.update(change)
    return record


def assert_counts_add_up(report: ReadReport) -> None:
    dropped = sum(report.bad.values()) + report.incomplete + report.on_ground
    assert report.rows == report.used + dropped


# ----------------------------------------------------------------------------- canonical


def test_canonical_csv_reads_values_times_and_parties(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "tracks.csv",
        [
            "2015-10-10T09:00:30.5+00:00,US01,us,35.50,36.00,21000,450,270.5,-500,x",
            "2015-10-10T09:00:00Z,RF01,ru,35.40,35.95,20000,420,90,1000,y",
            "2015-10-10T12:00:10+03:00,RF01,,35.41,35.97,20100,421,91,0,z",
        ],
        header=HEADER + ",remark",
    )
    table, report = read_tracks(path)

    assert report == ReadReport(
        path=str(path), format="canonical", rows=3, used=3, bad={}, first_bad=None,
        incomplete=0, on_ground=0,
    )  # fmt: skip
    # 2015-10-10T09:00:00Z is 1444467600 s after the epoch; rows come sorted by time.
    assert table.time_s.tolist() == [1444467600.0, 1444467610.0, 1444467630.5]
    assert table.id.tolist() == ["RF01", "RF01", "US01"]
    assert table.party is not None
    assert table.party.tolist() == ["ru", "", "us"]
    assert table.lat_deg.tolist() == [35.40, 35.41, 35.50]
    assert table.alt_ft.tolist() == [20000.0, 20100.0, 21000.0]
    assert table.gs_kt.tolist() == [420.0, 421.0, 450.0]
    assert table.trk_deg.tolist() == [90.0, 91.0, 270.5]
    assert table.vs_fpm.tolist() == [1000.0, 0.0, -500.0]
    assert table.source == str(path)


def test_canonical_epoch_seconds_without_party_and_gzip(tmp_path: Path) -> None:
    header = "time,id,lat_deg,lon_deg,alt_ft,gs_kt,trk_deg,vs_fpm"
    path = write_csv(
        tmp_path / "tracks.csv.gz",
        ["1444467601.25,A,1,2,3000,100,0,0", "1444467600,B,-1,-179.5,0,0,360,-100"],
        header=header,
    )
    table, report = read_tracks(path)
    assert report.format == "canonical"
    assert table.party is None
    assert table.time_s.tolist() == [1444467600.0, 1444467601.25]
    assert table.id.tolist() == ["B", "A"]
    assert table.lon_deg.tolist() == [-179.5, 2.0]


def test_canonical_times_without_offset_are_utc_and_mixes_are_read(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "tracks.csv",
        [
            "2015-10-10T09:00:00,A,,1,2,3,4,5,6",
            "1444467601,B,,1,2,3,4,5,6",
            "2015-10-10 09:00:02.123456789Z,C,,1,2,3,4,5,6",
        ],
    )
    table, _ = read_tracks(path)
    assert table.time_s == pytest.approx([1444467600.0, 1444467601.0, 1444467602.123456])


def test_canonical_parquet_with_typed_columns(tmp_path: Path) -> None:
    path = tmp_path / "tracks.parquet"
    times = pa.array(
        [1444467660_000_000_000, 1444467600_000_000_000], type=pa.timestamp("ns", tz="UTC")
    )
    pq.write_table(
        pa.table({
            "time": times,
            "id": ["US01", "RF01"],
            "lat_deg": [35.0, 36.0],
            "lon_deg": [36.0, 37.0],
            "alt_ft": pa.array([20000, 21000], type=pa.int32()),
            "gs_kt": [400.0, 410.0],
            "trk_deg": [10.0, 20.0],
            "vs_fpm": [0.0, 0.0],
        }),
        path,
    )  # fmt: skip
    table, report = read_tracks(path)
    assert (report.format, report.rows, report.used) == ("canonical", 2, 2)
    assert table.time_s.tolist() == [1444467600.0, 1444467660.0]
    assert table.id.tolist() == ["RF01", "US01"]
    assert table.alt_ft.tolist() == [21000.0, 20000.0]


def test_parquet_with_text_times(tmp_path: Path) -> None:
    path = tmp_path / "tracks.pq"
    pq.write_table(
        pa.table({
            "time": ["2015-10-10T09:00:00Z", "2015-10-10T09:00:01.5Z"],
            "id": ["A", "B"], "party": ["us", None], "lat_deg": [1.0, 2.0],
            "lon_deg": [1.0, 2.0], "alt_ft": [1.0, 2.0], "gs_kt": [1.0, 2.0],
            "trk_deg": [1.0, 2.0], "vs_fpm": [1.0, 2.0],
        }),
        path,
    )  # fmt: skip
    table, _ = read_tracks(path)
    assert table.time_s.tolist() == [1444467600.0, 1444467601.5]
    assert table.party is not None
    assert table.party.tolist() == ["us", ""]


# ---------------------------------------------------------------------------------- bad rows


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("yesterday,RF01,ru,35.4,35.9,20000,420,90,0", "time",
         "time 'yesterday' is not a number or an RFC 3339 time"),
        ("2015-10-10,RF01,ru,35.4,35.9,20000,420,90,0", "time",
         "time '2015-10-10' is not a number or an RFC 3339 time"),
        (",RF01,ru,35.4,35.9,20000,420,90,0", "time", "missing value"),
        ("1444467600, ,ru,35.4,35.9,20000,420,90,0", "id", "id is empty"),
        ("1444467600,RF01,ru,95.2,35.9,20000,420,90,0", "lat_deg",
         "latitude 95.2 is outside [-90, 90]"),
        ("1444467600,RF01,ru,35.4,-180.5,20000,420,90,0", "lon_deg",
         "longitude -180.5 is outside [-180, 180]"),
        ("1444467600,RF01,ru,abc,35.9,20000,420,90,0", "lat_deg", "'abc' is not a number"),
        ("1444467600,RF01,ru,35.4,35.9,NaN,420,90,0", "alt_ft", "value is NaN"),
        ("1444467600,RF01,ru,35.4,35.9,20000,inf,90,0", "gs_kt", "value inf is not a finite"),
        ("1444467600,RF01,ru,35.4,35.9,20000,-3,90,0", "gs_kt", "ground speed -3 is negative"),
        ("1444467600,RF01,ru,35.4,35.9,20000,420,400,0", "trk_deg",
         "track 400 is outside [0, 360]"),
        ("1444467600,RF01,ru,35.4,35.9,20000,420,90,", "vs_fpm", "missing value"),
        ("1444467600000,RF01,ru,35.4,35.9,20000,420,90,0", "time",
         "not a time between the years 1 and 9999"),
    ],
)  # fmt: skip
def test_bad_csv_row_names_file_row_line_column_and_reason(
    tmp_path: Path, row: str, column: str, reason: str
) -> None:
    path = write_csv(tmp_path / "tracks.csv", [GOOD, row, GOOD])
    with pytest.raises(TrackFileError) as caught:
        read_tracks(path)
    err = caught.value
    assert (err.path, err.row, err.line, err.column) == (str(path), 2, 3, column)
    assert reason in err.reason
    assert str(err) == f"{path}: row 2 (line 3), column {column}: {err.reason}"
    assert isinstance(err, ValueError)


def test_first_bad_row_is_reported_and_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    bad_gs = GOOD.replace(",420,", ",-7,")
    bad_lat = GOOD.replace("35.40", "-91")
    path = write_csv(tmp_path / "tracks.csv", [GOOD, "", GOOD, bad_gs, bad_lat])
    with pytest.raises(TrackFileError, match=r"row 4 \(line 5\), column gs_kt: ground speed -7"):
        read_tracks(path)

    table, report = read_tracks(path, skip_bad=True)
    assert len(table) == 2
    assert report.rows == 4  # the blank line is not a row
    assert report.bad == {"gs_kt: negative": 1, "lat_deg: outside [-90, 90]": 1}
    assert report.first_bad == f"{path}: row 4 (line 5), column gs_kt: ground speed -7 is negative"


def test_skip_bad_counts_rows_per_reason(tmp_path: Path) -> None:
    rows = [
        GOOD,
        GOOD.replace("35.40", "95"),
        GOOD.replace("35.40", "-95"),
        GOOD.replace("35.40", "north"),
        GOOD.replace(",90,", ",361,"),
        GOOD.replace("RF01", ""),
        "1,2,3",
        GOOD.replace("2015-10-10T09:00:00Z", "2015-10-10T09:00:05Z"),
    ]
    path = write_csv(tmp_path / "tracks.csv", rows)
    table, report = read_tracks(path, skip_bad=True)
    assert table.time_s.tolist() == [1444467600.0, 1444467605.0]
    assert report.bad == {
        "lat_deg: outside [-90, 90]": 2,
        "id: missing value": 1,
        "lat_deg: not a number": 1,
        "trk_deg: outside [0, 360]": 1,
        "wrong number of cells": 1,
    }
    assert (report.rows, report.used) == (8, 2)
    assert report.first_bad is not None
    assert report.first_bad.endswith("row 2 (line 3), column lat_deg: latitude 95 is outside "
                                     "[-90, 90]")  # fmt: skip
    assert_counts_add_up(report)


def test_row_with_wrong_number_of_cells(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tracks.csv", [GOOD, GOOD, "1444467600,RF01,ru,35.4", GOOD])
    with pytest.raises(TrackFileError) as caught:
        read_tracks(path)
    assert (caught.value.row, caught.value.line) == (3, 4)
    assert "expected 9 cells, found 4" in str(caught.value)
    # Rows after the broken one keep their own row numbers.
    late = write_csv(tmp_path / "late.csv", [GOOD, "1,2", GOOD, GOOD.replace("35.40", "99")])
    table, report = read_tracks(late, skip_bad=True)
    assert len(table) == 2
    assert report.first_bad is not None
    assert "row 2 (line 3)" in report.first_bad
    with pytest.raises(TrackFileError, match=r"row 2 \(line 3\)"):
        read_tracks(late)


def test_bad_parquet_row_has_no_line(tmp_path: Path) -> None:
    path = tmp_path / "tracks.parquet"
    pq.write_table(
        pa.table({
            "time": [1.0, 2.0], "id": ["A", "B"], "lat_deg": [1.0, 2.0],
            "lon_deg": [1.0, 2.0], "alt_ft": [1.0, None], "gs_kt": [1.0, 2.0],
            "trk_deg": [1.0, 2.0], "vs_fpm": [1.0, 2.0],
        }),
        path,
    )  # fmt: skip
    with pytest.raises(TrackFileError) as caught:
        read_tracks(path)
    assert str(caught.value) == f"{path}: row 2, column alt_ft: missing value"
    assert caught.value.line is None


def test_nothing_usable_gives_an_empty_table(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tracks.csv", [GOOD.replace("35.40", "95")])
    table, report = read_tracks(path, skip_bad=True)
    assert len(table) == 0
    assert (report.rows, report.used, report.bad) == (1, 0, {"lat_deg: outside [-90, 90]": 1})
    only_header = write_csv(tmp_path / "header.csv", [])
    table, report = read_tracks(only_header)
    assert (len(table), report.rows) == (0, 0)


# -------------------------------------------------------------------------- OpenSky and JSON


def opensky_row(
    time: str = "1633608773",
    icao24: str = "3c6444",
    lat: str = "48.5",
    lon: str = "3.8",
    velocity: str = "100",
    heading: str = "90",
    vertrate: str = "5.08",
    onground: str = "false",
    baro: str = "3048",
    geo: str = "3100",
) -> str:
    return (f"{time},{icao24},{lat},{lon},{velocity},{heading},{vertrate},DLH4AB,{onground},"
            f"false,false,1000,{baro},{geo},{time},{time}")  # fmt: skip


def test_opensky_csv_is_converted_to_aviation_units(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "states.csv",
        [opensky_row(), opensky_row(time="1633608774", baro="", geo="304.8")],
        header=OPENSKY_HEADER,
    )
    table, report = read_tracks(path)
    assert (report.format, report.rows, report.used) == ("opensky", 2, 2)
    assert table.party is None
    assert table.id.tolist() == ["3c6444", "3c6444"]
    assert table.gs_kt == pytest.approx([194.384, 194.384], abs=1e-3)  # 100 m/s
    assert table.vs_fpm == pytest.approx([1000.0, 1000.0])  # 5.08 m/s
    # 3048 m barometric; where it is missing, the geometric 304.8 m.
    assert table.alt_ft == pytest.approx([10000.0, 1000.0])
    assert table.trk_deg.tolist() == [90.0, 90.0]
    assert table.time_s.tolist() == [1633608773.0, 1633608774.0]


def test_opensky_incomplete_and_on_ground_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "states.csv",
        [
            opensky_row(),
            opensky_row(lat="", lon=""),
            opensky_row(velocity="", heading="", vertrate=""),
            opensky_row(baro="", geo=""),
            opensky_row(onground="true", baro="", velocity="8"),
            opensky_row(onground="True"),
        ],
        header=OPENSKY_HEADER,
    )
    table, report = read_tracks(path)
    assert len(table) == 1
    assert (report.rows, report.used, report.incomplete, report.on_ground) == (6, 1, 3, 2)
    assert report.bad == {}


def test_opensky_bad_value_names_the_file_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "states.csv",
        [opensky_row(), opensky_row(velocity="-3"), opensky_row(onground="maybe")],
        header=OPENSKY_HEADER,
    )
    with pytest.raises(TrackFileError) as caught:
        read_tracks(path)
    assert str(caught.value) == (
        f"{path}: row 2 (line 3), column velocity: ground speed -3 is negative"
    )
    _, report = read_tracks(path, skip_bad=True)
    assert report.bad == {"onground: not true or false": 1, "velocity: negative": 1}


def test_opensky_parquet_with_nulls(tmp_path: Path) -> None:
    path = tmp_path / "states.parquet"
    pq.write_table(
        pa.table({
            "time": [1633608773, 1633608774, 1633608775],
            "icao24": ["3c6444", "3c6444", "4b1805"],
            "lat": [48.5, None, 47.0], "lon": [3.8, None, 8.0],
            "velocity": [100.0, 100.0, 200.0], "heading": [90.0, 90.0, 180.0],
            "vertrate": [0.0, 0.0, -5.08], "onground": [False, False, True],
            "baroaltitude": [3048.0, 3048.0, 0.0], "geoaltitude": [None, None, None],
        }),
        path,
    )  # fmt: skip
    table, report = read_tracks(path)
    assert (report.format, report.used, report.incomplete, report.on_ground) == (
        "opensky", 1, 1, 1,
    )  # fmt: skip
    assert table.alt_ft.tolist() == pytest.approx([10000.0])


def test_traffic_json_reads_milliseconds_and_drops_incomplete_and_ground(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "sample.json.gz",
        [
            traffic_record(timestamp=1633608774000),
            traffic_record(),
            traffic_record(timestamp="2021-10-07T12:12:55Z", icao24="39c424"),
            traffic_record(groundspeed=None, track=None, vertical_rate=None),
            traffic_record(altitude=None),
            traffic_record(onground=True, altitude=None),
        ],
    )
    table, report = read_tracks(path)
    assert report == ReadReport(
        path=str(path), format="traffic", rows=6, used=3, bad={}, first_bad=None,
        incomplete=2, on_ground=1,
    )  # fmt: skip
    assert table.time_s.tolist() == [1633608773.0, 1633608774.0, 1633608775.0]
    assert table.id.tolist() == ["0101de", "0101de", "39c424"]
    assert table.alt_ft.tolist() == [13650.0] * 3
    assert table.gs_kt.tolist() == [325.0] * 3
    assert table.vs_fpm.tolist() == [-896.0] * 3


def test_traffic_json_bad_record(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "sample.json",
        [traffic_record(), traffic_record(), traffic_record(latitude=-123.5)],
    )
    with pytest.raises(TrackFileError) as caught:
        read_tracks(path)
    assert str(caught.value) == (
        f"{path}: row 3, column latitude: latitude -123.5 is outside [-90, 90]"
    )
    mixed = write_json(
        tmp_path / "mixed.json",
        [traffic_record(), traffic_record(groundspeed="fast"), 7],  # type: ignore[list-item]
    )
    _, report = read_tracks(mixed, skip_bad=True)
    assert report.bad == {"groundspeed: not a number": 1, "not a record": 1}
    assert report.used == 1


_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**60), 2**60),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from(["", "fast", "},{", '"},{"latitude":1', "39c424", "12.5"]),
)


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(
        st.dictionaries(
            st.sampled_from(
                ["altitude", "groundspeed", "icao24", "latitude", "onground", "track", "timestamp"]
            ),
            _CELLS,
        ),
        min_size=1,
        max_size=6,
    ),
    skip_bad=st.booleans(),
)
def test_compact_json_reads_as_the_general_reader_does(
    tmp_path_factory: pytest.TempPathFactory, cells: list[dict[str, object]], skip_bad: bool
) -> None:
    tmp = tmp_path_factory.mktemp("json")
    records = [traffic_record(**c) for c in cells]
    results = []
    for compact in (True, False):
        path = write_json(tmp / f"{compact}.json", records, compact=compact)
        try:
            table, report = read_tracks(path, skip_bad=skip_bad)
        except TrackFileError as exc:
            results.append(("error", str(exc).split(": ", 1)[1]))
            continue
        cols = {n: getattr(table, n).tolist() for n in ("id", "time_s", "lat_deg", "alt_ft")}
        results.append((cols, report.rows, report.used, report.bad, report.on_ground))
    assert results[0] == results[1]


def test_compact_json_with_bad_utf8_or_missing_commas_is_refused(tmp_path: Path) -> None:
    good = json.dumps([traffic_record()], separators=(",", ":")).encode()
    bad_id = tmp_path / "bad_id.json"
    bad_id.write_bytes(good.replace(b'"0101de"', b'"0101\xff"'))
    expect_file_error(bad_id, "cannot read the file")
    bad_unused = tmp_path / "bad_unused.json"
    bad_unused.write_bytes(good.replace(b'"MSR799"', b'"MSR\xff"'))
    expect_file_error(bad_unused, "cannot read the file")
    record = good[1:-1]
    for name, text in [
        ("glued", b"[" + record + record + b"]"),
        ("spaced", b"[" + record + b" " + record + b"]"),
    ]:
        path = tmp_path / f"{name}.json"
        path.write_bytes(text)
        expect_file_error(path, "not valid JSON")


# ----------------------------------------------------------------------------- broken files


def expect_file_error(path: Path, *fragments: str) -> TrackFileError:
    with pytest.raises(TrackFileError) as caught:
        read_tracks(path)
    assert caught.value.row is None
    assert str(caught.value).startswith(str(path))
    for fragment in fragments:
        assert fragment in str(caught.value)
    return caught.value


def test_missing_file(tmp_path: Path) -> None:
    expect_file_error(tmp_path / "nowhere.csv", "no such file")


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "tracks.txt"
    path.write_text("hello")
    expect_file_error(path, "unknown track file format", ".csv", ".parquet", ".json.gz")


def test_missing_required_column_names_what_was_expected(tmp_path: Path) -> None:
    header = "time,id,lat_deg,lon_deg,gs_kt,trk_deg,vs_fpm"
    path = write_csv(tmp_path / "tracks.csv", ["1,A,1,2,3,4,5"], header=header)
    err = expect_file_error(path, "missing column 'alt_ft'", "time, id, [party], lat_deg")
    assert err.column == "alt_ft"

    opensky = write_csv(tmp_path / "states.csv", ["1,abc,1,2"], header="time,icao24,lat,lon")
    err = expect_file_error(
        opensky, "missing columns 'baroaltitude', 'velocity'", "baroaltitude (or geoaltitude)"
    )
    assert err.column == "baroaltitude"

    neither = write_csv(tmp_path / "other.csv", ["1,2"], header="when,where")
    expect_file_error(neither, "canonical track file has", "OpenSky state vectors have")

    json_path = write_json(tmp_path / "sample.json", [{"timestamp": 1, "icao24": "a"}])
    expect_file_error(json_path, "missing columns 'latitude'")


@pytest.mark.parametrize("name", ["tracks.csv.gz", "sample.json.gz"])
def test_truncated_gzip(tmp_path: Path, name: str) -> None:
    if name.startswith("tracks"):
        whole = write_csv(tmp_path / name, [GOOD] * 5000)
    else:
        whole = write_json(tmp_path / name, [traffic_record()] * 5000)
    data = whole.read_bytes()
    whole.write_bytes(data[: len(data) // 2])
    expect_file_error(whole, "cannot read")


def test_corrupt_parquet_invalid_json_and_wrong_shapes(tmp_path: Path) -> None:
    parquet = tmp_path / "tracks.parquet"
    parquet.write_bytes(b"PAR1 certainly not parquet")
    expect_file_error(parquet, "cannot read the file as Parquet")

    broken = tmp_path / "sample.json"
    broken.write_text('[{"timestamp": 1, ')
    expect_file_error(broken, "not valid JSON")

    table_like = write_json(tmp_path / "columns.json", {"timestamp": [1]})  # type: ignore[arg-type]
    expect_file_error(table_like, "expected a JSON array of records")

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    expect_file_error(empty, "file is empty")

    expect_file_error(tmp_path, "is a directory")


# ------------------------------------------------------------------------------- read_many


def test_read_many_merges_files_sorted_by_time(tmp_path: Path) -> None:
    canonical = write_csv(
        tmp_path / "a.csv",
        ["1633608775,US01,us,48,3,20000,400,0,0", "1633608772,US01,us,48,3,20000,400,0,0"],
    )
    traffic = write_json(tmp_path / "b.json", [traffic_record(), traffic_record(onground=True)])
    table, reports = read_many([canonical, str(traffic)])
    assert [r.format for r in reports] == ["canonical", "traffic"]
    assert [r.path for r in reports] == [str(canonical), str(traffic)]
    assert reports[1].on_ground == 1
    assert table.time_s.tolist() == [1633608772.0, 1633608773.0, 1633608775.0]
    assert table.id.tolist() == ["US01", "0101de", "US01"]
    assert table.party is not None
    assert table.party.tolist() == ["us", "", "us"]


def test_read_many_stops_at_the_first_bad_file(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "a.csv", [GOOD])
    with pytest.raises(TrackFileError, match="no such file"):
        read_many([good, tmp_path / "missing.json"])
    table, reports = read_many([])
    assert (len(table), reports) == (0, [])


# ------------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_dreamliner_formation_flight(traffic_samples: Callable[[str], Path]) -> None:
    table, report = read_tracks(traffic_samples("featured/dreamliner_airfrance.json.gz"))
    assert report.format == "traffic"
    assert report.rows == report.used == 17910
    assert (report.bad, report.incomplete, report.on_ground) == ({}, 0, 0)
    ids, per_aircraft = np.unique(table.id.astype(str), return_counts=True)
    assert dict(zip(ids.tolist(), per_aircraft.tolist(), strict=True)) == {
        "3900fb": 4767, "39c424": 13143,
    }  # fmt: skip
    assert np.all(np.diff(table.time_s) >= 0)
    # 3 h 39 min over France, out of Paris-CDG, up to FL380, at up to 530 kt.
    assert table.end_s - table.start_s == 13142.0
    assert (table.alt_ft.min(), table.alt_ft.max()) == (377.0, 38000.0)
    assert (table.gs_kt.min(), table.gs_kt.max()) == (103.0, 530.0)
    assert table.lat_deg.min() == pytest.approx(43.245, abs=1e-3)
    assert table.lat_deg.max() == pytest.approx(49.008, abs=1e-3)
    assert table.lon_deg.min() == pytest.approx(0.617, abs=1e-3)
    assert table.lon_deg.max() == pytest.approx(4.852, abs=1e-3)


@pytest.mark.realdata
@pytest.mark.slow
def test_quickstart_collection(traffic_samples: Callable[[str], Path]) -> None:
    path = traffic_samples("collections/quickstart.json.gz")
    table, report = read_tracks(path)
    assert report.rows == 284505
    assert report.on_ground == 55371
    assert 200_000 < report.used < 240_000
    assert report.incomplete > 0
    assert report.bad == {}
    assert_counts_add_up(report)
    # 213 aircraft in the file; a few of them never leave the ground.
    assert 200 <= table.aircraft <= 213
    assert 3 * 3600 - 60 < table.end_s - table.start_s <= 3 * 3600
    assert 47 < np.median(table.lat_deg) < 50
    assert 1 < np.median(table.lon_deg) < 4


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.binary(max_size=2000), min_size=1, max_size=3),
    st.integers(0, 3),
    st.sampled_from(["whole", "truncated", "garbage after"]),
)
def test_gunzip_gives_what_gzip_gives(parts: list[bytes], pad: int, how: str) -> None:
    """ISA-L's inflate behind the same rules as gzip.decompress: every member, NUL padding
    between members, and an error (of the same kind) for a cut or foreign tail."""
    data = b"".join(gzip.compress(p) + b"\x00" * pad for p in parts)
    if how == "truncated":
        data = data[: len(gzip.compress(parts[0])) - 3]
    elif how == "garbage after":
        data += b"not gzip"

    def run(f: Any) -> Any:
        try:
            return f(data)
        except (EOFError, OSError) as exc:
            return type(exc)

    assert run(tracks.gunzip) == run(gzip.decompress)

"""Real traffic pushed through the live service misses no loss of separation that offline
detection finds: three hours over Paris (traffic's quickstart sample), second by second."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tests.live.conftest import PROTOCOL, make_live

from skyparley.adapters.protocol_file import load_protocol
from skyparley.adapters.tracks import read_tracks
from skyparley.domain.live import StateBatch
from skyparley.domain.times import parse_time

GOLDEN = Path(__file__).resolve().parents[1] / "golden/quickstart_los_pairs.csv"


@pytest.mark.realdata
@pytest.mark.slow
def test_quickstart_pushed_through_ingest_misses_no_loss_of_separation(
    traffic_samples: Callable[[str], Path], tmp_path: Path
) -> None:
    table, _ = read_tracks(traffic_samples("collections/quickstart.json.gz"))
    # One operator pushes everything (the sample has no parties), so same-party pairs count,
    # as they do for `skyparley detect` and its golden file.
    proto = load_protocol(PROTOCOL)
    proto = dataclasses.replace(
        proto, tactical=dataclasses.replace(proto.tactical, include_same_party=True)
    )
    lv = make_live(tmp_path, proto)
    who = lv.who("coalition")
    order = np.argsort(table.time_s, kind="stable")
    times = table.time_s[order]
    bounds = np.flatnonzero(np.diff(times)) + 1
    rejected: dict[str, int] = {}
    for rows in np.split(order, bounds):
        t = float(table.time_s[rows[0]])
        lv.clock.set(t)
        res = lv.live.ingest(who, StateBatch(
            time_s=table.time_s[rows], id=table.id[rows].astype(object),
            lat_deg=table.lat_deg[rows], lon_deg=table.lon_deg[rows], alt_ft=table.alt_ft[rows],
            gs_kt=table.gs_kt[rows], trk_deg=table.trk_deg[rows], vs_fpm=table.vs_fpm[rows],
        ))  # fmt: skip
        for reason, n in res.rejected.items():
            rejected[reason] = rejected.get(reason, 0) + n
        lv.live.tick()
    lv.clock.set(float(times[-1]) + 120)
    lv.live.tick()  # everything goes stale: the incidents still open close
    with GOLDEN.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    golden = {(r["a"], r["b"]): parse_time(r["first_los"], field="t") for r in rows}
    incidents = lv.svc.store.incidents()
    found: dict[tuple[str, str], float] = {}
    for inc in incidents:
        found[(inc.a, inc.b)] = min(found.get((inc.a, inc.b), inc.start_s), inc.start_s)
    missed = sorted(set(golden) - set(found))
    assert missed == [], f"losses of separation without an incident: {missed}"
    # every incident is a loss detection also finds (no pair invented), from the same second
    assert set(found) == set(golden)
    for pair, first in golden.items():
        assert 0 <= first - found[pair] <= 2, pair
    assert sum(rejected.values()) < 0.01 * len(table)  # real data: almost every row is fine
    lv.svc.ledger.close()

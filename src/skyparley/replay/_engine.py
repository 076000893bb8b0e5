"""Detection over one time partition of recorded traffic, many ticks at a time.

A partition's ticks are processed in blocks. The pictures of a block's ticks (from
:func:`skyparley.domain.traffic.snapshot_rows`, the pictures ``skyparley detect`` draws with
:func:`~skyparley.domain.traffic.iter_snapshots`) are stacked into one scene, each tick lifted
into its own altitude layer, far enough apart that no pair from two different ticks can ever be
vertically close within the lookahead. One call of the detection kernel's candidate search
(:func:`skyparley.geo.cpa.detect_conflict_pairs`, with thresholds a hair wider) then finds
every pair of every tick that may conflict. Each candidate pair's geometry is then computed
again with the kernel's own pair function (:func:`skyparley.geo.cpa.pair_geometry`), on the
unlifted states and at the exact thresholds. The numbers are therefore those ``detect`` would
compute tick by tick, at a fraction of the per-tick overhead.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from skyparley.domain.separation import SeparationMinima
from skyparley.domain.traffic import TrackTable, snapshot_rows
from skyparley.geo import cpa
from skyparley.geo.units import fpm_to_ms, ft_to_m, kt_to_ms, m_to_ft, m_to_nm, nm_to_m

__all__ = ["CONFLICT_SCHEMA", "PartitionJob", "PartitionResult", "detect_partition"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Ticks stacked into one scene: until it holds this many states (or ticks). Larger scenes
# spread the kernel's fixed cost, but its grid is then sized for a crowd that each tick's own
# layer does not hold (measured on bench/replay.py's scenes: best near 2,500 states).
BLOCK_STATES = 2_500
BLOCK_TICKS = 240

# How much wider the candidate search's thresholds are than the exact ones (metres): the
# lifted altitudes differ from the true ones by rounding (far below a micrometre), and a
# wider search only adds candidates that the exact pass then drops.
_WIDEN_M = 0.01

CONFLICT_SCHEMA = pa.schema(
    [
        ("set", pa.int8()),
        ("tick", pa.int32()),
        ("a", pa.string()),
        ("b", pa.string()),
        ("tin_s", pa.float64()),
        ("tout_s", pa.float64()),
        ("tcpa_s", pa.float64()),
        ("dcpa_nm", pa.float64()),
        ("hdist_nm", pa.float64()),
        ("vdist_ft", pa.float64()),
        ("vdist_cpa_ft", pa.float64()),
        ("los", pa.bool_()),
        ("pair_hash", pa.uint32()),
        ("lat_a", pa.float64()),
        ("lon_a", pa.float64()),
        ("alt_a_ft", pa.float64()),
        ("lat_b", pa.float64()),
        ("lon_b", pa.float64()),
        ("alt_b_ft", pa.float64()),
    ]
)


@dataclass(frozen=True, slots=True)
class PartitionJob:
    """One partition: its rows (time-sorted, validated, canonical columns), its ticks and the
    detection settings. Rows start ``stale_s`` before the first tick."""

    index: int
    rows: pa.Table
    ticks_s: FloatArray
    stale_s: float
    minima: tuple[SeparationMinima, ...]
    cross_party_only: bool


@dataclass(frozen=True, slots=True)
class PartitionResult:
    """The conflicts of a partition's ticks (``CONFLICT_SCHEMA``, sorted by set, tick, a, b),
    the number of aircraft seen at its ticks and the parties of its aircraft."""

    index: int
    ticks: int
    conflicts: pa.Table
    aircraft_ticks: int
    parties: dict[str, str]


def _table(rows: pa.Table) -> TrackTable:
    """The partition's rows as a track table: validated when they were read, and sorted."""

    def col(name: str) -> Any:
        return np.ascontiguousarray(rows.column(name).to_numpy(), dtype=np.float64)

    party = None
    if "party" in rows.column_names:
        party = np.asarray(rows.column("party").fill_null("").to_numpy(zero_copy_only=False))
    return TrackTable._trusted(
        id=np.asarray(rows.column("id").to_numpy(zero_copy_only=False)),
        party=party,
        time_s=col("time_s"),
        lat_deg=col("lat_deg"),
        lon_deg=col("lon_deg"),
        alt_ft=col("alt_ft"),
        gs_kt=col("gs_kt"),
        trk_deg=col("trk_deg"),
        vs_fpm=col("vs_fpm"),
        source="partition",
    )


def _parties(rows: pa.Table) -> dict[str, str]:
    """Each aircraft's party, as its last row names it (aircraft without one left out)."""
    if "party" not in rows.column_names or rows.num_rows == 0:
        return {}
    last = (
        rows.select(["id", "party"])
        .group_by("id", use_threads=False)
        .aggregate([("party", "last")])
    )
    ids = last.column("id").to_pylist()
    names = last.column("party_last").to_pylist()
    return {i: p for i, p in zip(ids, names, strict=True) if p}


def text_codes(column: pa.ChunkedArray) -> tuple[list[str], IntArray]:
    """:func:`~skyparley.domain.traffic.sorted_codes` of an Arrow text column without nulls,
    by Arrow's dictionary encoding (about four times faster than through Python strings).
    Arrow sorts text by its UTF-8 bytes, which is the order of code points, as Python does."""
    enc = column.combine_chunks().dictionary_encode()
    order = pc.array_sort_indices(enc.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    codes: IntArray = rank[enc.indices.to_numpy()]
    return enc.dictionary.take(order).to_pylist(), codes


def party_groups(rows: pa.Table, id_codes: IntArray) -> IntArray:
    """An integer per row for skipping same-party pairs: its party's code, or, for an
    aircraft without a party, a code of its own (it is never taken for another's party).
    ``id_codes`` are the rows' aircraft codes (:func:`text_codes` of the ids)."""
    if "party" not in rows.column_names:
        return id_codes + 1
    names, out = text_codes(rows.column("party").fill_null(""))
    if names and names[0] == "":  # the empty text sorts first
        unknown = out == 0
        out[unknown] = len(names) + id_codes[unknown]
    return out


def _pair_hash(a: npt.NDArray[np.object_], b: npt.NDArray[np.object_]) -> npt.NDArray[np.uint32]:
    """A stable hash of each pair (CRC-32 of ``a|b``): pairs are graded in shards by it."""
    joined = pc.binary_join_element_wise(
        pa.array(a, type=pa.string()), pa.array(b, type=pa.string()), "|"
    ).dictionary_encode()  # each distinct pair once
    names = joined.dictionary.to_pylist()
    hashes = np.fromiter((zlib.crc32(n.encode()) for n in names), np.uint32, len(names))
    out: npt.NDArray[np.uint32] = hashes[joined.indices.to_numpy()]
    return out


def _empty(ticks: int, index: int, parties: dict[str, str]) -> PartitionResult:
    return PartitionResult(index, ticks, CONFLICT_SCHEMA.empty_table(), 0, parties)


def detect_partition(job: PartitionJob) -> PartitionResult:
    """Every conflict at every tick of the partition, for each set of minima."""
    table = _table(job.rows)
    parties = _parties(job.rows)
    if len(table) == 0 or len(job.ticks_s) == 0:
        return _empty(len(job.ticks_s), job.index, parties)
    _, id_codes = text_codes(job.rows.column("id"))
    step, row = snapshot_rows(table, job.ticks_s, stale_s=job.stale_s, id_codes=id_codes)
    # Codes for the whole partition: equal exactly where the parties are.
    groups = party_groups(job.rows, id_codes) if job.cross_party_only else None
    aircraft_ticks = len(row)
    parts: list[dict[str, Any]] = []
    # Blocks of whole ticks: until a block holds BLOCK_STATES states or BLOCK_TICKS ticks.
    starts = np.flatnonzero(np.r_[True, step[1:] != step[:-1]]) if len(step) else step
    lo = held = ticks = 0
    for k, s0 in enumerate(starts.tolist()):
        s1 = int(starts[k + 1]) if k + 1 < len(starts) else len(step)
        held += s1 - s0
        ticks += 1
        if held >= BLOCK_STATES or ticks == BLOCK_TICKS:
            parts.extend(_detect_block(table, step[lo:s1], row[lo:s1], job, groups))
            lo, held, ticks = s1, 0, 0
    if lo < len(step):
        parts.extend(_detect_block(table, step[lo:], row[lo:], job, groups))
    if not parts:
        return PartitionResult(
            job.index, len(job.ticks_s), CONFLICT_SCHEMA.empty_table(), aircraft_ticks, parties
        )
    merged = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    merged["pair_hash"] = _pair_hash(merged["a"], merged["b"])
    out = pa.table({f.name: pa.array(merged[f.name], type=f.type) for f in CONFLICT_SCHEMA})
    return PartitionResult(job.index, len(job.ticks_s), out, aircraft_ticks, parties)


def _detect_block(
    table: TrackTable,
    tick: IntArray,
    rows: IntArray,
    job: PartitionJob,
    groups: IntArray | None,
) -> list[dict[str, Any]]:
    """Detection over the states ``rows`` of the table at the ticks ``tick`` (both from
    :func:`snapshot_rows`: by tick, then by id); ``groups``, each row's party group when
    only pairs of different parties count."""
    ticks = job.ticks_s
    first = np.r_[True, tick[1:] != tick[:-1]]
    layer = np.cumsum(first) - 1
    nlayers = int(layer[-1]) + 1

    ids = table.id[rows]
    time_s = table.time_s[rows]
    alt_ft = table.alt_ft[rows]
    vs_fpm = table.vs_fpm[rows]
    k0 = cpa.kinematics(
        table.lat_deg[rows],
        table.lon_deg[rows],
        ft_to_m(alt_ft),
        kt_to_ms(table.gs_kt[rows]),
        table.trk_deg[rows],
        fpm_to_ms(vs_fpm),
    )
    dt = ticks[tick] - time_s
    k, lat, lon = cpa.propagate_geodetic(k0, dt)
    # ``detect`` propagates a picture only when some state is not at the tick time; keep its
    # numbers exactly by leaving such pictures as they are.
    moved = np.zeros(nlayers, dtype=bool)
    moved[layer[dt != 0.0]] = True
    if not moved.all():
        still = ~moved[layer]
        k = cpa.Kinematics(
            pos_m=np.where(still[:, None], k0.pos_m, k.pos_m),
            up=np.where(still[:, None], k0.up, k.up),
            vel_ms=np.where(still[:, None], k0.vel_ms, k.vel_ms),
            alt_m=np.where(still, k0.alt_m, k.alt_m),
            vs_ms=k.vs_ms,
        )
        lat = np.where(still, table.lat_deg[rows], lat)
        lon = np.where(still, table.lon_deg[rows], lon)

    minima = job.minima
    lookahead = max(m.lookahead_s for m in minima)
    hsep = max(nm_to_m(m.hsep_nm) for m in minima)
    vsep = max(ft_to_m(m.effective_vsep_ft) for m in minima)
    # Lift each tick into its own layer: two states of different ticks stay further apart
    # vertically than vsep over the whole lookahead, whatever their climb rates.
    vmax = float(np.max(np.abs(k.vs_ms), initial=0.0))
    span = float(np.ptp(k.alt_m)) if len(k) else 0.0
    gap = span + 2.0 * vmax * lookahead + 2.0 * vsep + 1000.0
    lifted = cpa.Kinematics(k.pos_m, k.up, k.vel_ms, k.alt_m + layer * gap, k.vs_ms)

    group = None if groups is None else groups[rows]
    cand = cpa.detect_conflict_pairs(
        lifted,
        hsep_m=hsep + _WIDEN_M,
        vsep_m=vsep + _WIDEN_M,
        lookahead_s=lookahead,
        group=group,
        cross_group_only=job.cross_party_only,
        workers=1,
    )
    if len(cand.i) == 0:
        return []
    # Candidates are i < j within one tick, and a tick's aircraft come ordered by id, so
    # ids[i] < ids[j]: the pair is already (a, b) with a < b, and i, j are what detect uses.
    order = np.lexsort((cand.j, cand.i))
    ii = cand.i[order]
    jj = cand.j[order]
    out: list[dict[str, Any]] = []
    for s, m in enumerate(minima):
        g = cpa.pair_geometry(
            k,
            ii,
            jj,
            hsep_m=nm_to_m(m.hsep_nm),
            vsep_m=ft_to_m(m.effective_vsep_ft),
            lookahead_s=m.lookahead_s,
        )
        keep = g.conflict
        if not keep.any():
            continue
        i = ii[keep]
        j = jj[keep]
        out.append(
            {
                "set": np.full(len(i), s, dtype=np.int8),
                "tick": tick[i].astype(np.int32),
                "a": ids[i],
                "b": ids[j],
                "tin_s": g.tin_s[keep],
                "tout_s": g.tout_s[keep],
                "tcpa_s": g.tcpa_s[keep],
                "dcpa_nm": m_to_nm(g.dcpa_m[keep]),
                "hdist_nm": m_to_nm(g.hdist_m[keep]),
                "vdist_ft": m_to_ft(g.vdist_m[keep]),
                "vdist_cpa_ft": m_to_ft(g.vdist_cpa_m[keep]),
                "los": g.los[keep],
                "lat_a": lat[i],
                "lon_a": lon[i],
                "alt_a_ft": m_to_ft(k.alt_m[i]),
                "lat_b": lat[j],
                "lon_b": lon[j],
                "alt_b_ft": m_to_ft(k.alt_m[j]),
            }
        )
    return out

"""An in-memory space-time index of 4D volumes, for strategic checks against many notices.

:class:`SpaceTimeIndex` holds the active volumes under keys of the caller's choosing (for
instance ``(notice_id, volume_index)``) and answers :meth:`SpaceTimeIndex.candidates`: the
keys of every volume that *could* overlap a query volume under the strategic buffers. The
exact test stays :func:`~skyparley.domain.volumes.overlap_4d`, run on the candidates only;
the index never misses a volume that ``overlap_4d`` would find, and prunes the rest cheaply.

Design
------
- **Bounding cap.** Each area is bounded by a spherical cap: the unit vector of its centre
  (the centre of the shape's own projection, geodetic latitude and longitude taken as
  spherical coordinates) and an angular radius. A cap knows no antimeridian and no pole.
- **Grid of cells.** The sphere is cut into rows of ``cell_deg`` of latitude; each row into
  as many equal longitude cells as keep them about ``cell_deg`` wide at the row's edge
  nearer the equator, so cells stay near square up to the poles (the row at a pole has a
  handful of cells, not 720 slivers). A volume is listed in every cell that its cap meets
  (computed from the cap's exact latitude range and longitude half-width,
  ``asin(sin r / cos lat)``, the whole row when the cap holds a pole, wrapped modulo the
  row's cell count across the antimeridian). Volumes whose cap would need more than
  ``max_cells`` cells go to one list that every query scans.
- **Query.** The query's cap is grown by the lateral buffer; the cells it meets are read,
  and the listed volumes are filtered with numpy on their time windows and altitude bands
  (each grown by the buffer) and on the cap test ``angle(c1, c2) <= r1 + r2 + buffer``,
  evaluated on chords, which are exact near zero. A query that would read more cells than
  the index has volumes falls back to one vectorised scan of all of them.
- **Updates** are incremental: :meth:`~SpaceTimeIndex.add` appends to the volume's cells,
  :meth:`~SpaceTimeIndex.remove` takes it out of them (swap with the last entry), slots are
  reused. No rebuild, no tombstones; :meth:`~SpaceTimeIndex.add_many` builds in bulk.

Why no candidate is missed
--------------------------
:func:`~skyparley.geo.areas.overlap` returns None, before any geometry, when the geodesic
distance ``s`` between the two shapes' centres exceeds ``1.05 (e1 + e2 + d) + 1 m`` (``e``:
each shape's reach from its centre; ``d``: the lateral buffer). The normals of WGS84 turn
by at most ``s / M0`` along a geodesic of length ``s``, where ``M0 = a (1 - e²)`` (6,335 km)
is the smallest radius of curvature of the ellipsoid (north-south, at the equator). So when
``overlap`` can answer, the angle between the centres' unit vectors is at most
``(1.05 (e1 + e2 + d) + 1 m) / M0``, which is the cap test, with each cap's radius
``1.05 e / M0`` and a margin of 1e-9 rad for rounding. When two caps pass that test, the
point of the arc between their centres that lies at ``min(r2, angle)`` from the listed
volume's centre is in both the listed cap and the query's grown cap; its cell is therefore
among the cells of both, so the volume is read. Latitude ranges and longitude half-widths
are exact for caps on the sphere and are widened by 1e-7 degrees against rounding; a cap
that reaches a pole takes its whole row. Time and altitude use the same inequalities as
:func:`~skyparley.domain.volumes.overlap_4d` with a tolerance (1 ms, 1e-6 ft) on the safe
side. Independently of that code, two areas that come within ``d`` of each other have
centres within ``e1 + e2 + d`` of each other, so the 5 % margin also covers the drawing
tolerances of :mod:`skyparley.geo.areas` (at most 1.4 %).

The index is not thread-safe: one writer, or a lock held by the caller.

Examples
--------
>>> from skyparley.domain.volumes import AltitudeBand, TimeWindow, Volume4D
>>> from skyparley.geo.areas import Circle
>>> def vol(lon, start_s):
...     return Volume4D(Circle(0.0, lon, 10.0), AltitudeBand(0.0, 10000.0),
...                     TimeWindow(start_s, start_s + 3600.0))
>>> index = SpaceTimeIndex()
>>> index.add(("a", 0), vol(179.9, 0.0))
>>> index.add(("b", 0), vol(-179.9, 0.0))
>>> index.add(("c", 0), vol(-179.9, 86400.0))
>>> index.candidates(vol(180.0, 1800.0), lateral_nm=5.0, vertical_ft=1000.0, time_min=15.0)
[('a', 0), ('b', 0)]
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from skyparley.domain.volumes import Volume4D
from skyparley.errors import InputError
from skyparley.geo.areas import Shape
from skyparley.geo.units import NM_M
from skyparley.geo.wgs84 import WGS84_A_M, WGS84_E2

__all__ = [
    "DEFAULT_CELL_DEG",
    "DEFAULT_MAX_CELLS",
    "Cap",
    "SpaceTimeIndex",
    "bounding_cap",
]

K = TypeVar("K", bound=Hashable)

DEFAULT_CELL_DEG: Final = 0.5
"""Cell size: 0.5 degree of latitude (about 55 km), as wide at the row's equator side."""
DEFAULT_MAX_CELLS: Final = 256
"""A volume whose cap meets more cells than this is kept in the list every query scans."""

_M0_M: Final = WGS84_A_M * (1.0 - WGS84_E2)
"""Smallest radius of curvature of WGS84 (north-south at the equator), in metres."""
_REACH_FACTOR: Final = 1.05
"""The margin of :func:`skyparley.geo.areas.overlap`'s own prefilter on centre distances."""
_REACH_SLACK_M: Final = 1.0
_EPS_RAD: Final = 1e-9
_EPS_DEG: Final = 1e-7
_TIME_TOL_S: Final = 1e-3
_ALT_TOL_FT: Final = 1e-6
_GROW: Final = 2

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Columns of the per-slot numbers.
_X, _Y, _Z, _R, _T0, _T1, _LO, _HI = range(8)


@dataclass(frozen=True, slots=True)
class Cap:
    """A spherical cap: the unit vector ``(x, y, z)`` of its centre and ``radius_rad``.

    The centre's geodetic latitude and longitude are taken as spherical coordinates.
    """

    x: float
    y: float
    z: float
    radius_rad: float

    @property
    def lat_deg(self) -> float:
        """Latitude of the centre."""
        return math.degrees(math.asin(max(-1.0, min(1.0, self.z))))

    @property
    def lon_deg(self) -> float:
        """Longitude of the centre (0 at a pole)."""
        if self.x == 0.0 and self.y == 0.0:
            return 0.0
        return math.degrees(math.atan2(self.y, self.x))


def _unit(lat_deg: float, lon_deg: float) -> tuple[float, float, float]:
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    return math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)


def bounding_cap(shape: Shape) -> Cap:
    """A cap holding the shape, as wide as the prefilter of :func:`~skyparley.geo.areas.overlap`.

    Its radius is ``1.05 e / M0``: ``e`` the shape's reach from its centre, ``M0`` the
    smallest radius of curvature of WGS84 (see the module for why that bounds every point).

    Examples
    --------
    >>> from skyparley.geo.areas import Circle
    >>> cap = bounding_cap(Circle(center_lat_deg=90.0, center_lon_deg=0.0, radius_nm=60.0))
    >>> round(cap.z, 12), round(math.degrees(cap.radius_rad), 3)
    (1.0, 1.055)
    """
    # The centre and reach are those `overlap` prefilters on; geo.areas keeps them on the
    # shape's prepared form (a public accessor there would be cleaner; see the bench notes).
    prep = shape._prepared
    x, y, z = _unit(prep.frame.lat_deg, prep.frame.lon_deg)
    return Cap(x, y, z, _REACH_FACTOR * prep.extent_m / _M0_M)


def _buffer(value: float, *, field: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v >= 0.0):
        raise InputError(field=field, reason=f"{value!r} is not a finite number >= 0")
    return v


def _row_counts(cell_deg: float) -> list[int]:
    rows = math.ceil(180.0 / cell_deg)
    counts = []
    for i in range(rows):
        south = -90.0 + i * cell_deg
        north = min(90.0, south + cell_deg)
        equator_side = 0.0 if south < 0.0 < north else min(abs(south), abs(north))
        width = 360.0 * math.cos(math.radians(equator_side)) / cell_deg
        counts.append(max(1, min(math.ceil(360.0 / cell_deg), math.ceil(width - 1e-9))))
    return counts


class _Bucket:
    """The slots listed in one cell: a numpy array with spare room, and its length."""

    __slots__ = ("ids", "n")

    def __init__(self) -> None:
        self.ids: IntArray = np.empty(8, dtype=np.int64)
        self.n = 0

    def append(self, slot: int) -> None:
        if self.n == self.ids.shape[0]:
            grown = np.empty(self.n * _GROW, dtype=np.int64)
            grown[: self.n] = self.ids
            self.ids = grown
        self.ids[self.n] = slot
        self.n += 1

    def discard(self, slot: int) -> None:
        where = np.flatnonzero(self.ids[: self.n] == slot)
        if where.shape[0]:
            self.n -= 1
            self.ids[int(where[0])] = self.ids[self.n]

    def view(self) -> IntArray:
        return self.ids[: self.n]


_BIG: Final = -1
"""The cell id of the list of volumes too wide for the grid, read by every query."""


class SpaceTimeIndex(Generic[K]):
    """Active 4D volumes under hashable keys, and the candidates that may overlap a volume.

    ``cell_deg`` is the grid's cell size (latitude degrees); ``max_cells`` the most cells a
    volume is listed in before it goes to the list every query scans. See the module for the
    design and why :meth:`candidates` never misses a volume that
    :func:`~skyparley.domain.volumes.overlap_4d` would find.

    Examples
    --------
    >>> from skyparley.domain.volumes import AltitudeBand, TimeWindow, Volume4D
    >>> from skyparley.geo.areas import Circle
    >>> cap = Volume4D(Circle(89.5, 0.0, 60.0), AltitudeBand(0.0, 5000.0),
    ...                TimeWindow(0.0, 3600.0))
    >>> other = Volume4D(Circle(89.5, 180.0, 5.0), AltitudeBand(0.0, 5000.0),
    ...                  TimeWindow(0.0, 3600.0))
    >>> index = SpaceTimeIndex()
    >>> index.add("polar", cap)
    >>> index.candidates(other, lateral_nm=0.0, vertical_ft=0.0, time_min=0.0)
    ['polar']
    >>> old = index.replace("polar", Volume4D(cap.area, AltitudeBand(6000.0, 9000.0), cap.window))
    >>> old.band
    AltitudeBand(lower_ft=0.0, upper_ft=5000.0)
    >>> index.candidates(other, lateral_nm=0.0, vertical_ft=500.0, time_min=0.0)
    []
    >>> len(index), "polar" in index
    (1, True)
    """

    def __init__(
        self, *, cell_deg: float = DEFAULT_CELL_DEG, max_cells: int = DEFAULT_MAX_CELLS
    ) -> None:
        if not (math.isfinite(cell_deg) and 0.01 <= cell_deg <= 90.0):
            raise InputError(field="cell_deg", reason=f"{cell_deg!r} is not in [0.01, 90]")
        if max_cells < 1:
            raise InputError(field="max_cells", reason=f"{max_cells!r} is not at least 1")
        self._cell_deg = float(cell_deg)
        self._max_cells = int(max_cells)
        self._row_n = _row_counts(self._cell_deg)
        offsets = [0]
        for n in self._row_n:
            offsets.append(offsets[-1] + n)
        self._row_offset = offsets
        self._num: FloatArray = np.empty((64, 8), dtype=np.float64)
        self._alive: npt.NDArray[np.bool_] = np.zeros(64, dtype=np.bool_)
        self._keys: list[K | None] = []
        self._volumes: list[Volume4D | None] = []
        self._cells_of: list[tuple[int, ...]] = []
        self._slot: dict[K, int] = {}
        self._free: list[int] = []
        self._cells: dict[int, _Bucket] = {}

    # ------------------------------------------------------------------ mapping

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: object) -> bool:
        return key in self._slot

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._slot))

    def get(self, key: K) -> Volume4D:
        """The volume held under ``key`` (KeyError when there is none)."""
        volume = self._volumes[self._slot[key]]
        assert volume is not None
        return volume

    # ------------------------------------------------------------------ updates

    def add(self, key: K, volume: Volume4D) -> None:
        """Index ``volume`` under ``key``; a key already held raises KeyError."""
        if key in self._slot:
            raise KeyError(f"{key!r} is already indexed; use replace()")
        slot = self._new_slot()
        self._store(slot, key, volume)
        cells = self._cells_for(self._num[slot], self._max_cells)
        self._cells_of[slot] = cells
        for cell in cells:
            bucket = self._cells.get(cell)
            if bucket is None:
                bucket = self._cells[cell] = _Bucket()
            bucket.append(slot)

    def add_many(self, items: Iterable[tuple[K, Volume4D]]) -> None:
        """Index many volumes at once: the same as :meth:`add` for each, built in bulk.

        A key already held, or given twice, raises KeyError before anything is added.
        """
        batch = list(items)
        seen: set[K] = set()
        for key, _ in batch:
            if key in self._slot or key in seen:
                raise KeyError(f"{key!r} is already indexed; use replace()")
            seen.add(key)
        pairs: list[tuple[int, int]] = []
        for key, volume in batch:
            slot = self._new_slot()
            self._store(slot, key, volume)
            cells = self._cells_for(self._num[slot], self._max_cells)
            self._cells_of[slot] = cells
            pairs.extend((cell, slot) for cell in cells)
        if not pairs:
            return
        arr = np.array(pairs, dtype=np.int64)
        order = np.argsort(arr[:, 0], kind="stable")
        arr = arr[order]
        cuts = np.flatnonzero(np.diff(arr[:, 0])) + 1
        for group in np.split(arr, cuts):
            cell = int(group[0, 0])
            slots = group[:, 1]
            bucket = self._cells.get(cell)
            if bucket is None:
                bucket = self._cells[cell] = _Bucket()
            need = bucket.n + slots.shape[0]
            if need > bucket.ids.shape[0]:
                grown = np.empty(max(need, bucket.ids.shape[0] * _GROW), dtype=np.int64)
                grown[: bucket.n] = bucket.view()
                bucket.ids = grown
            bucket.ids[bucket.n : need] = slots
            bucket.n = need

    def remove(self, key: K) -> Volume4D:
        """Take the volume under ``key`` out of the index and return it (KeyError if none)."""
        slot = self._slot.pop(key)
        for cell in self._cells_of[slot]:
            bucket = self._cells[cell]
            bucket.discard(slot)
            if bucket.n == 0:
                del self._cells[cell]
        volume = self._volumes[slot]
        assert volume is not None
        self._keys[slot] = None
        self._volumes[slot] = None
        self._cells_of[slot] = ()
        self._alive[slot] = False
        self._free.append(slot)
        return volume

    def replace(self, key: K, volume: Volume4D) -> Volume4D:
        """Put ``volume`` under ``key`` in place of the one held; return the old one."""
        old = self.remove(key)
        self.add(key, volume)
        return old

    # ------------------------------------------------------------------ queries

    def candidates(
        self, volume: Volume4D, *, lateral_nm: float, vertical_ft: float, time_min: float
    ) -> list[K]:
        """Keys of every volume that may overlap ``volume`` under the buffers (no order).

        A superset of the keys ``k`` for which ``overlap_4d(volume, self.get(k), ...)``
        with the same buffers is not None; see the module for the argument.
        """
        lateral_m = _buffer(lateral_nm, field="lateral_nm") * NM_M
        vertical = _buffer(vertical_ft, field="vertical_ft") + _ALT_TOL_FT
        time_s = _buffer(time_min, field="time_min") * 60.0 + _TIME_TOL_S
        if not self._slot:
            return []
        cap = bounding_cap(volume.area)
        reach = cap.radius_rad + (_REACH_FACTOR * lateral_m + _REACH_SLACK_M) / _M0_M + _EPS_RAD
        query = np.array(
            [cap.x, cap.y, cap.z, reach, volume.window.start_s, volume.window.end_s,
             volume.band.lower_ft, volume.band.upper_ft],
        )  # fmt: skip
        # Reading more cells than there are volumes is slower than scanning them all.
        cells = self._cells_for(query, max(64, len(self._slot)))
        if cells == (_BIG,):
            slots = np.flatnonzero(self._alive)
        else:
            parts = [b.view() for c in cells if (b := self._cells.get(c)) is not None]
            big = self._cells.get(_BIG)
            if big is not None:
                parts.append(big.view())
            if not parts:
                return []
            slots = np.concatenate(parts) if len(parts) > 1 else parts[0]
        found = self._filter(slots, query, vertical, time_s)
        keys = self._keys
        return [keys[s] for s in np.unique(found).tolist()]

    def _filter(self, slots: IntArray, q: FloatArray, vertical: float, time_s: float) -> IntArray:
        rows = self._num[slots]
        keep = (
            (rows[:, _T0] - q[_T1] <= time_s)
            & (q[_T0] - rows[:, _T1] <= time_s)
            & (rows[:, _LO] - q[_HI] <= vertical)
            & (q[_LO] - rows[:, _HI] <= vertical)
        )
        rows, slots = rows[keep], slots[keep]
        angle = rows[:, _R] + q[_R]
        half = np.minimum(angle, math.pi) / 2.0
        limit = np.where(angle >= math.pi, 5.0, (2.0 * np.sin(half)) ** 2)
        d = rows[:, :3] - q[:3]
        chord2 = np.einsum("ij,ij->i", d, d)
        out: IntArray = slots[chord2 <= limit]
        return out

    # ------------------------------------------------------------------ internals

    def _new_slot(self) -> int:
        if self._free:
            return self._free.pop()
        slot = len(self._keys)
        if slot == self._num.shape[0]:
            num = np.empty((slot * _GROW, 8), dtype=np.float64)
            num[:slot] = self._num
            self._num = num
            alive = np.zeros(slot * _GROW, dtype=np.bool_)
            alive[:slot] = self._alive
            self._alive = alive
        self._keys.append(None)
        self._volumes.append(None)
        self._cells_of.append(())
        return slot

    def _store(self, slot: int, key: K, volume: Volume4D) -> None:
        cap = bounding_cap(volume.area)
        self._num[slot] = (
            cap.x, cap.y, cap.z, cap.radius_rad,
            volume.window.start_s, volume.window.end_s,
            volume.band.lower_ft, volume.band.upper_ft,
        )  # fmt: skip
        self._alive[slot] = True
        self._keys[slot] = key
        self._volumes[slot] = volume
        self._slot[key] = slot

    def _cells_for(self, row: FloatArray, limit: int) -> tuple[int, ...]:
        """Every cell the cap of ``row`` meets, or ``(_BIG,)`` when more than ``limit``."""
        x, y, z, radius = (float(v) for v in row[:4])
        lat = math.degrees(math.asin(max(-1.0, min(1.0, z))))
        lon = math.degrees(math.atan2(y, x)) if (x != 0.0 or y != 0.0) else 0.0
        radius += _EPS_RAD
        r_deg = math.degrees(radius) + _EPS_DEG
        south, north = lat - r_deg, lat + r_deg
        whole_rows = radius >= math.pi / 2.0 or north >= 90.0 or south <= -90.0
        half = 180.0
        if not whole_rows:
            ratio = math.sin(radius) / math.cos(math.radians(lat))
            if ratio >= 1.0 - 1e-12:
                whole_rows = True
            else:
                half = math.degrees(math.asin(ratio)) + _EPS_DEG
        cell = self._cell_deg
        last = len(self._row_n) - 1
        first_row = min(last, max(0, math.floor((south + 90.0) / cell)))
        last_row = min(last, max(0, math.floor((north + 90.0) / cell)))
        out: list[int] = []
        for i in range(first_row, last_row + 1):
            n = self._row_n[i]
            base = self._row_offset[i]
            width = 360.0 / n
            j0 = math.floor((lon - half + 180.0) / width)
            j1 = math.floor((lon + half + 180.0) / width)
            if whole_rows or j1 - j0 + 1 >= n:
                out.extend(range(base, base + n))
            else:
                out.extend(base + j % n for j in range(j0, j1 + 1))
            if len(out) > limit:
                return (_BIG,)
        return tuple(out)

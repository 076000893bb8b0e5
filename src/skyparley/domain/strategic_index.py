"""The live notices and protected areas in a space-time index, for :func:`check_notice`.

:class:`StrategicIndex` keeps the latest version of each operation notice and protected area
it is given and indexes their volumes in a :class:`~skyparley.domain.spatial_index.SpaceTimeIndex`
under the protocol's strategic buffers. Its :meth:`~StrategicIndex.candidates` is what
:func:`~skyparley.domain.strategic.check_notice` takes as ``candidates``: the notices and areas
with a volume that may come within the buffers of a given volume (never fewer than the exact
test finds; see :mod:`skyparley.domain.spatial_index`).

- :meth:`~StrategicIndex.upsert` takes a new version: it replaces the one held; an ended or
  cancelled notice is taken out; a version older than one already seen (held or ended) is
  ignored, so updates may arrive out of order.
- :meth:`~StrategicIndex.remove` takes an item out by its :class:`ItemKey`.

Not thread-safe (one writer, or a lock held by the caller), like the index under it.

Examples
--------
>>> from skyparley.domain.notices import OperationNotice
>>> from skyparley.domain.protocol import StrategicBuffers
>>> from skyparley.domain.volumes import AltitudeBand, TimeWindow, Volume4D
>>> from skyparley.geo.areas import Circle
>>> vol = Volume4D(Circle(35.0, 36.0, 10.0), AltitudeBand(0.0, 10000.0),
...                TimeWindow(0.0, 3600.0))
>>> index = StrategicIndex(StrategicBuffers(5.0, 1000.0, 15.0))
>>> index.upsert(OperationNotice("coalition", "co-1", 1, "planned", (vol,)))
True
>>> [n.ref for n in index.candidates(vol)]
['coalition/co-1@1']
>>> index.upsert(OperationNotice("coalition", "co-1", 2, "cancelled", (vol,)))
False
>>> index.candidates(vol), len(index)
([], 0)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, TypeAlias

from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.domain.protocol import StrategicBuffers
from skyparley.domain.spatial_index import DEFAULT_CELL_DEG, DEFAULT_MAX_CELLS, SpaceTimeIndex
from skyparley.domain.volumes import Volume4D

__all__ = ["ItemKey", "StrategicIndex", "key_of"]

Item: TypeAlias = OperationNotice | ProtectedArea
_NOTICE: Final = "operation_notice"
_AREA: Final = "protected_area"


@dataclass(frozen=True, slots=True, order=True)
class ItemKey:
    """What names a notice or a protected area across its versions: type, party, id."""

    type: str
    party: str
    id: str


def key_of(item: Item) -> ItemKey:
    """The key of a notice (its party and id) or a protected area (its owner and id).

    Examples
    --------
    >>> from skyparley.domain.volumes import AltitudeBand, TimeWindow, Volume4D
    >>> from skyparley.geo.areas import Circle
    >>> v = Volume4D(Circle(0.0, 0.0, 1.0), AltitudeBand(0.0, 100.0), TimeWindow(0.0, 60.0))
    >>> key_of(ProtectedArea("relief", "hospital", "humanitarian", v))
    ItemKey(type='protected_area', party='relief', id='hospital')
    """
    if isinstance(item, OperationNotice):
        return ItemKey(_NOTICE, item.party, item.id)
    if isinstance(item, ProtectedArea):
        return ItemKey(_AREA, item.owner, item.id)
    raise TypeError(f"not an OperationNotice or a ProtectedArea: {item!r}")


def _volumes(item: Item) -> tuple[Volume4D, ...]:
    return item.volumes if isinstance(item, OperationNotice) else (item.volume,)


class StrategicIndex:
    """The latest live version of each notice and protected area, indexed in space and time.

    ``buffers`` are the protocol's strategic buffers, which :meth:`candidates` queries with;
    ``cell_deg`` and ``max_cells`` are passed to the
    :class:`~skyparley.domain.spatial_index.SpaceTimeIndex` under it.
    """

    def __init__(
        self,
        buffers: StrategicBuffers,
        *,
        cell_deg: float = DEFAULT_CELL_DEG,
        max_cells: int = DEFAULT_MAX_CELLS,
    ) -> None:
        self._buffers = buffers
        self._index: SpaceTimeIndex[tuple[ItemKey, int]] = SpaceTimeIndex(
            cell_deg=cell_deg, max_cells=max_cells
        )
        self._items: dict[ItemKey, Item] = {}
        self._seen: dict[ItemKey, int] = {}

    @property
    def buffers(self) -> StrategicBuffers:
        """The buffers :meth:`candidates` queries with."""
        return self._buffers

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[Item]:
        return iter(list(self._items.values()))

    def get(self, key: ItemKey) -> Item:
        """The version held under ``key`` (KeyError when none is)."""
        return self._items[key]

    def upsert(self, item: Item) -> bool:
        """Take a new version of a notice or protected area; True when it is now held.

        It replaces the version held. An ended or cancelled notice is taken out (False). A
        version older than the newest seen under the same key, held or taken out, is
        ignored (False); the same version again replaces the one held.
        """
        key = key_of(item)
        seen = self._seen.get(key)
        if seen is not None and item.version < seen:
            return False
        self._seen[key] = item.version
        self._drop(key)
        if isinstance(item, OperationNotice) and not item.is_live:
            return False
        for j, v in enumerate(_volumes(item)):
            self._index.add((key, j), v)
        self._items[key] = item
        return True

    def upsert_many(self, items: Iterable[Item]) -> None:
        """:meth:`upsert` each item, in order."""
        for item in items:
            self.upsert(item)

    def remove(self, key: ItemKey) -> Item | None:
        """Take the item under ``key`` out and return it (None when none is held).

        Versions seen stay known: an older version given later is still ignored.
        """
        return self._drop(key)

    def candidates(self, volume: Volume4D) -> list[Item]:
        """The held items with a volume that may come within the buffers of ``volume``.

        Each item once, sorted by key; a superset of those the exact test would find.
        """
        b = self._buffers
        hits = self._index.candidates(
            volume, lateral_nm=b.lateral_nm, vertical_ft=b.vertical_ft, time_min=b.time_min
        )
        keys = sorted({key for key, _ in hits})
        return [self._items[k] for k in keys]

    def _drop(self, key: ItemKey) -> Item | None:
        old = self._items.pop(key, None)
        if old is not None:
            for j in range(len(_volumes(old))):
                self._index.remove((key, j))
        return old

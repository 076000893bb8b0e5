"""Encounters: the conflicts of one pair gathered over time."""

from __future__ import annotations

from dataclasses import dataclass

from skyparley.domain.separation import Conflicts

__all__ = ["Encounter", "EncounterLog"]


@dataclass(slots=True)
class Encounter:
    """One pair's conflict history over a run: when it was predicted, lost, and how close."""

    a: str
    b: str
    first_s: float
    last_s: float
    steps: int = 0
    los_first_s: float | None = None
    los_last_s: float | None = None
    min_hdist_nm: float = float("inf")
    min_hdist_t_s: float = float("nan")
    vdist_at_min_ft: float = float("nan")

    @property
    def los(self) -> bool:
        """Whether separation was lost at some step."""
        return self.los_first_s is not None


class EncounterLog:
    """Folds the conflict tables of successive steps into one :class:`Encounter` per pair."""

    def __init__(self) -> None:
        self._by_pair: dict[tuple[str, str], Encounter] = {}
        self.rows = 0

    def add(self, c: Conflicts) -> None:
        """Account for the conflicts of one step."""
        self.rows += len(c)
        t = c.t_s
        for n in range(len(c)):
            key = (str(c.a[n]), str(c.b[n]))
            e = self._by_pair.get(key)
            if e is None:
                e = self._by_pair[key] = Encounter(a=key[0], b=key[1], first_s=t, last_s=t)
            e.last_s = t
            e.steps += 1
            if bool(c.los[n]):
                if e.los_first_s is None:
                    e.los_first_s = t
                e.los_last_s = t
            h = float(c.hdist_nm[n])
            if h < e.min_hdist_nm:
                e.min_hdist_nm = h
                e.min_hdist_t_s = t
                e.vdist_at_min_ft = float(c.vdist_ft[n])

    def encounters(self) -> list[Encounter]:
        """All encounters, by first conflict time then pair."""
        return sorted(self._by_pair.values(), key=lambda e: (e.first_s, e.a, e.b))

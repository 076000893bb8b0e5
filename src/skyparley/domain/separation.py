"""Tactical conflict detection between aircraft: separation minima and the conflict table.

The vertical rule
-----------------
Two aircraft are *vertically separated* when their altitudes differ by at least
``vsep_ft - alt_tolerance_ft`` (by default 1000 - 100 = 900 ft). Reported pressure altitudes
come in 25 ft steps (100 ft for older transponders), so two aircraft holding adjacent flight
levels, nominally 1000 ft apart, can read 975 ft apart; the tolerance keeps them from being
reported in conflict while a real vertical intrusion of more than the tolerance is caught.
Set ``alt_tolerance_ft=0`` for the bare ``|dalt| < vsep_ft`` test.

Horizontally, a pair is in violation while its distance is below ``hsep_nm`` (the radius of
the protected zone). See :mod:`skyparley.geo.cpa` for the geometry.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from skyparley.domain.traffic import AircraftStates, TrackTable, iter_snapshots
from skyparley.errors import InputError
from skyparley.geo import cpa
from skyparley.geo.units import fpm_to_ms, ft_to_m, kt_to_ms, m_to_ft, m_to_nm, nm_to_m

__all__ = [
    "Conflicts",
    "SeparationMinima",
    "detect_conflicts",
    "iter_conflicts",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SeparationMinima:
    """Separation minima and lookahead of tactical detection.

    ``hsep_nm`` is the radius of the protected zone, ``vsep_ft`` its half-height,
    ``alt_tolerance_ft`` the allowance for altitude quantisation (see the module notes) and
    ``lookahead_s`` how far ahead conflicts are predicted.
    """

    hsep_nm: float = 5.0
    vsep_ft: float = 1000.0
    alt_tolerance_ft: float = 100.0
    lookahead_s: float = 300.0

    def __post_init__(self) -> None:
        for name in ("hsep_nm", "vsep_ft", "lookahead_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InputError(field=name, reason=f"must be a positive number, got {value!r}")
        tol = self.alt_tolerance_ft
        if not (isinstance(tol, int | float) and math.isfinite(tol) and tol >= 0):
            raise InputError(
                field="alt_tolerance_ft", reason=f"must be zero or positive, got {tol!r}"
            )
        if tol >= self.vsep_ft:
            raise InputError(
                field="alt_tolerance_ft",
                reason=f"must be smaller than vsep_ft ({self.vsep_ft:g}), got {tol:g}",
            )

    @property
    def effective_vsep_ft(self) -> float:
        """The altitude difference below which a pair is in vertical violation."""
        return self.vsep_ft - self.alt_tolerance_ft


@dataclass(frozen=True, slots=True, eq=False)
class Conflicts:
    """Predicted conflicts at one time, each unordered pair once with ``a < b`` (by id).

    Times are seconds from ``t_s``: ``tin_s``/``tout_s`` bound the predicted loss of
    separation (``tin_s <= 0`` with ``los`` true: separation is lost now), ``tcpa_s`` is the
    time of closest horizontal approach and ``dcpa_nm`` the distance then. ``hdist_nm`` and
    ``vdist_ft`` are the separations now, ``vdist_cpa_ft`` the vertical separation at CPA.
    Rows are sorted by ``(a, b)``.
    """

    t_s: float
    a: npt.NDArray[np.object_]
    b: npt.NDArray[np.object_]
    tin_s: FloatArray
    tout_s: FloatArray
    tcpa_s: FloatArray
    dcpa_nm: FloatArray
    hdist_nm: FloatArray
    vdist_ft: FloatArray
    vdist_cpa_ft: FloatArray
    los: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.a.shape[0])

    def pairs(self) -> set[tuple[str, str]]:
        """The conflicting pairs as a set of ``(a, b)`` id tuples."""
        return {(str(x), str(y)) for x, y in zip(self.a, self.b, strict=True)}


def detect_conflicts(
    states: AircraftStates,
    minima: SeparationMinima | None = None,
    *,
    at_s: float | None = None,
    cross_party_only: bool = False,
    workers: int | None = None,
) -> Conflicts:
    """Conflicts between the aircraft of ``states``, predicted at time ``at_s``.

    Each state is first propagated in a straight line from its own ``time_s`` to ``at_s``
    (default: the latest state time). With ``cross_party_only`` pairs of the same party are
    skipped, which needs ``states.party``.

    Examples
    --------
    >>> import numpy as np
    >>> s = AircraftStates(id=["AAA", "BBB"], party=None, time_s=[0.0, 0.0],
    ...                    lat_deg=[35.0, 35.0], lon_deg=[38.0, 38.3], alt_ft=[30000, 30500],
    ...                    gs_kt=[450.0, 450.0], trk_deg=[90.0, 270.0], vs_fpm=[0.0, 0.0])
    >>> c = detect_conflicts(s)
    >>> c.pairs(), round(float(c.tcpa_s[0]), 1), bool(c.los[0])
    ({('AAA', 'BBB')}, 59.2, False)
    """
    minima = minima or SeparationMinima()
    n = len(states)
    if at_s is None:
        at_s = float(states.time_s.max()) if n else 0.0
    if cross_party_only and states.party is None:
        raise InputError(field="party", reason="cross-party detection needs each aircraft's party")
    k = cpa.kinematics(
        states.lat_deg,
        states.lon_deg,
        ft_to_m(states.alt_ft),
        kt_to_ms(states.gs_kt),
        states.trk_deg,
        fpm_to_ms(states.vs_fpm),
    )
    dt = at_s - states.time_s
    if n and np.any(dt != 0.0):
        k = cpa.propagate(k, dt)
    group = None
    if cross_party_only and states.party is not None:  # parties matter only to skip pairs
        _, group = np.unique(states.party.astype(str), return_inverse=True)
    pc = cpa.detect_conflict_pairs(
        k,
        hsep_m=nm_to_m(minima.hsep_nm),
        vsep_m=ft_to_m(minima.effective_vsep_ft),
        lookahead_s=minima.lookahead_s,
        group=group,
        cross_group_only=cross_party_only,
        workers=workers,
    )
    ids = states.id
    ia, ib = pc.i, pc.j
    swap = ids[ia].astype(str) > ids[ib].astype(str)
    a = np.where(swap, ids[ib], ids[ia])
    b = np.where(swap, ids[ia], ids[ib])
    order = np.lexsort((b.astype(str), a.astype(str))) if len(a) > 1 else np.arange(len(a))
    return Conflicts(
        t_s=float(at_s),
        a=a[order],
        b=b[order],
        tin_s=pc.tin_s[order],
        tout_s=pc.tout_s[order],
        tcpa_s=pc.tcpa_s[order],
        dcpa_nm=m_to_nm(pc.dcpa_m[order]),
        hdist_nm=m_to_nm(pc.hdist_m[order]),
        vdist_ft=m_to_ft(pc.vdist_m[order]),
        vdist_cpa_ft=m_to_ft(pc.vdist_cpa_m[order]),
        los=pc.los[order],
    )


def iter_conflicts(
    table: TrackTable,
    times_s: npt.NDArray[np.float64],
    minima: SeparationMinima | None = None,
    *,
    stale_s: float = 30.0,
    cross_party_only: bool = False,
    workers: int | None = None,
) -> Iterator[tuple[AircraftStates, Conflicts]]:
    """Detection at every step time of a recording.

    At each step an aircraft's state is its latest report no older than ``stale_s``,
    propagated in a straight line to the step time. Yields the picture and its conflicts.
    """
    minima = minima or SeparationMinima()
    if cross_party_only and table.party is None:
        raise InputError(field="party", reason="cross-party detection needs a party column")
    for t, states in iter_snapshots(table, times_s, stale_s=stale_s):
        yield (
            states,
            detect_conflicts(
                states, minima, at_s=t, cross_party_only=cross_party_only, workers=workers
            ),
        )

"""Unit conversions, each named by the units it converts between.

skyparley computes in SI (m, m/s, s, rad) and speaks aviation units at every edge, with the
unit in the name (``alt_ft``, ``gs_kt``, ``vs_fpm``, ``hsep_nm``). Every function takes a
float or a numpy array and returns the same kind.

Examples
--------
>>> ft_to_m(1000.0)
304.8
>>> round(nm_to_m(5.0))
9260
>>> round(kt_to_ms(500.0), 3)
257.222
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "FPM_MS",
    "FT_M",
    "KT_MS",
    "NM_M",
    "deg_to_rad",
    "fpm_to_ms",
    "ft_to_m",
    "kt_to_ms",
    "m_to_ft",
    "m_to_nm",
    "ms_to_fpm",
    "ms_to_kt",
    "nm_to_m",
    "rad_to_deg",
]

FT_M = 0.3048
"""One international foot in metres."""
NM_M = 1852.0
"""One international nautical mile in metres."""
KT_MS = NM_M / 3600.0
"""One knot in metres per second."""
FPM_MS = FT_M / 60.0
"""One foot per minute in metres per second."""

Q = TypeVar("Q", float, npt.NDArray[np.float64])


def ft_to_m(alt_ft: Q) -> Q:
    """Feet to metres."""
    return alt_ft * FT_M


def m_to_ft(alt_m: Q) -> Q:
    """Metres to feet."""
    return alt_m / FT_M


def nm_to_m(dist_nm: Q) -> Q:
    """Nautical miles to metres."""
    return dist_nm * NM_M


def m_to_nm(dist_m: Q) -> Q:
    """Metres to nautical miles."""
    return dist_m / NM_M


def kt_to_ms(speed_kt: Q) -> Q:
    """Knots to metres per second."""
    return speed_kt * KT_MS


def ms_to_kt(speed_ms: Q) -> Q:
    """Metres per second to knots."""
    return speed_ms / KT_MS


def fpm_to_ms(rate_fpm: Q) -> Q:
    """Feet per minute to metres per second."""
    return rate_fpm * FPM_MS


def ms_to_fpm(rate_ms: Q) -> Q:
    """Metres per second to feet per minute."""
    return rate_ms / FPM_MS


def deg_to_rad(angle_deg: Q) -> Q:
    """Degrees to radians."""
    return angle_deg * (np.pi / 180.0)


def rad_to_deg(angle_rad: Q) -> Q:
    """Radians to degrees."""
    return angle_rad * (180.0 / np.pi)

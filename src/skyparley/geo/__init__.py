"""Pure numerics: units, WGS84 geodesy, local frames and the conflict (CPA) kernel.

No I/O happens here; every function works on numpy arrays in SI units unless its argument
names carry another unit.
"""

from skyparley.geo.cpa import (
    Kinematics,
    PairConflicts,
    PairGeometry,
    detect_conflict_pairs,
    kinematics,
    pair_geometry,
    propagate,
)
from skyparley.geo.units import (
    FPM_MS,
    FT_M,
    KT_MS,
    NM_M,
    fpm_to_ms,
    ft_to_m,
    kt_to_ms,
    m_to_ft,
    m_to_nm,
    ms_to_fpm,
    ms_to_kt,
    nm_to_m,
)
from skyparley.geo.wgs84 import (
    EnuBasis,
    GeodesicInverse,
    Geodetic,
    destination,
    ecef_to_enu_vectors,
    ecef_to_geodetic,
    enu_basis,
    enu_to_ecef_vectors,
    geodesic_inverse,
    geodetic_to_ecef,
    tangent_distance_m,
)

__all__ = [
    "FPM_MS",
    "FT_M",
    "KT_MS",
    "NM_M",
    "EnuBasis",
    "GeodesicInverse",
    "Geodetic",
    "Kinematics",
    "PairConflicts",
    "PairGeometry",
    "destination",
    "detect_conflict_pairs",
    "ecef_to_enu_vectors",
    "ecef_to_geodetic",
    "enu_basis",
    "enu_to_ecef_vectors",
    "fpm_to_ms",
    "ft_to_m",
    "geodesic_inverse",
    "geodetic_to_ecef",
    "kinematics",
    "kt_to_ms",
    "m_to_ft",
    "m_to_nm",
    "ms_to_fpm",
    "ms_to_kt",
    "nm_to_m",
    "pair_geometry",
    "propagate",
    "tangent_distance_m",
]

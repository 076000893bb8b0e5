"""WGS84 geodesy, vectorised over numpy arrays.

Earth-centred, Earth-fixed (ECEF) coordinates have no singularity at the poles or the
antimeridian, so skyparley does its geometry there and converts to latitude and longitude
only at the edges. Local frames are east-north-up (ENU) tangent frames on the ellipsoid.

Examples
--------
>>> import numpy as np
>>> xyz = geodetic_to_ecef(np.array([0.0]), np.array([0.0]), np.array([0.0]))
>>> xyz.round(3).tolist()
[[6378137.0, 0.0, 0.0]]
>>> back = ecef_to_geodetic(xyz)
>>> float(back.lat_deg[0]), float(back.lon_deg[0]), round(float(back.alt_m[0]), 6)
(0.0, 0.0, 0.0)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from pyproj import Geod

__all__ = [
    "WGS84_A_M",
    "WGS84_B_M",
    "WGS84_E2",
    "WGS84_F",
    "EnuBasis",
    "GeodesicInverse",
    "Geodetic",
    "destination",
    "ecef_to_enu_vectors",
    "ecef_to_geodetic",
    "enu_basis",
    "enu_to_ecef_vectors",
    "geodesic_inverse",
    "geodetic_to_ecef",
    "surface_normal",
    "tangent_distance_m",
]

Array = npt.NDArray[np.float64]

WGS84_A_M = 6378137.0
"""Semi-major axis of the WGS84 ellipsoid, in metres."""
WGS84_F = 1.0 / 298.257223563
"""Flattening of the WGS84 ellipsoid."""
WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
"""Semi-minor axis of the WGS84 ellipsoid, in metres."""
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
"""First eccentricity squared."""

_GEOD = Geod(ellps="WGS84")


class Geodetic(NamedTuple):
    """Geodetic coordinates on WGS84."""

    lat_deg: Array
    lon_deg: Array
    alt_m: Array


class EnuBasis(NamedTuple):
    """Unit vectors of local east-north-up frames, each of shape (N, 3) in ECEF."""

    east: Array
    north: Array
    up: Array


class GeodesicInverse(NamedTuple):
    """Distance and bearings of the WGS84 geodesic between two points."""

    distance_m: Array
    bearing_deg: Array
    """Initial bearing at the first point, clockwise from true north, in [0, 360)."""
    back_bearing_deg: Array
    """Bearing from the second point back to the first, in [0, 360)."""


def _f64(x: npt.ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


def geodetic_to_ecef(lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike, alt_m: npt.ArrayLike) -> Array:
    """Convert geodetic coordinates to ECEF metres, returning an array of shape (N, 3)."""
    lat = np.radians(_f64(lat_deg))
    lon = np.radians(_f64(lon_deg))
    h = _f64(alt_m)
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    x = (n + h) * cos_lat * np.cos(lon)
    y = (n + h) * cos_lat * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + h) * sin_lat
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def ecef_to_geodetic(xyz: npt.ArrayLike) -> Geodetic:
    """Convert ECEF metres of shape (N, 3) to geodetic coordinates.

    Fixed-point iteration on the latitude, with the height formula that stays exact at the
    poles; five iterations reach well below a millimetre for any aircraft altitude.
    """
    p3 = _f64(xyz)
    x, y, z = p3[..., 0], p3[..., 1], p3[..., 2]
    lon = np.arctan2(y, x)
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(5):
        sin_lat = np.sin(lat)
        n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
        lat = np.arctan2(z + WGS84_E2 * n * sin_lat, p)
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    h = p * cos_lat + z * sin_lat - WGS84_A_M * np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    return Geodetic(np.degrees(lat), np.degrees(lon), h)


def enu_basis(lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> EnuBasis:
    """East, north and up unit vectors (ECEF) of the local tangent frames at the points.

    At a pole, "east" follows the given longitude, so the frame is still orthonormal.
    """
    lat = np.radians(_f64(lat_deg))
    lon = np.radians(_f64(lon_deg))
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    zero = np.zeros_like(sl * so)
    east = np.stack(np.broadcast_arrays(-so, co, zero), axis=-1)
    north = np.stack(np.broadcast_arrays(-sl * co, -sl * so, cl), axis=-1)
    up = np.stack(np.broadcast_arrays(cl * co, cl * so, sl), axis=-1)
    return EnuBasis(east, north, up)


def surface_normal(lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> Array:
    """Unit normal of the ellipsoid (the local "up") at the points, shape (N, 3)."""
    return enu_basis(lat_deg, lon_deg).up


def enu_to_ecef_vectors(basis: EnuBasis, east: Array, north: Array, up: Array) -> Array:
    """Turn vector components in local ENU frames into ECEF vectors of shape (N, 3)."""
    return (
        basis.east * _f64(east)[..., None]
        + basis.north * _f64(north)[..., None]
        + basis.up * _f64(up)[..., None]
    )


def ecef_to_enu_vectors(basis: EnuBasis, vec: Array) -> tuple[Array, Array, Array]:
    """Components (east, north, up) of ECEF vectors in the local frames."""
    v = _f64(vec)
    return (
        np.einsum("...i,...i->...", v, basis.east),
        np.einsum("...i,...i->...", v, basis.north),
        np.einsum("...i,...i->...", v, basis.up),
    )


def tangent_distance_m(
    lat1_deg: npt.ArrayLike,
    lon1_deg: npt.ArrayLike,
    lat2_deg: npt.ArrayLike,
    lon2_deg: npt.ArrayLike,
) -> Array:
    """Horizontal distance as the conflict kernel measures it.

    The two points are placed on the ellipsoid surface (altitude 0) and their chord is
    projected on the tangent plane of the mean surface normal. Within 50 NM this is within
    a metre of the WGS84 geodesic (the chord falls short of the arc by d³/24R²), and it is
    exact in direction at the poles and across the antimeridian.

    Examples
    --------
    >>> import numpy as np
    >>> d = tangent_distance_m(np.array([0.0]), np.array([179.9]), np.array([0.0]),
    ...                        np.array([-179.9]))
    >>> round(float(d[0]))
    22264
    """
    p1 = geodetic_to_ecef(lat1_deg, lon1_deg, 0.0)
    p2 = geodetic_to_ecef(lat2_deg, lon2_deg, 0.0)
    m = surface_normal(lat1_deg, lon1_deg) + surface_normal(lat2_deg, lon2_deg)
    m /= np.linalg.norm(m, axis=-1, keepdims=True)
    d = p2 - p1
    d -= np.einsum("...i,...i->...", d, m)[..., None] * m
    return np.asarray(np.linalg.norm(d, axis=-1), dtype=np.float64)


def geodesic_inverse(
    lat1_deg: npt.ArrayLike,
    lon1_deg: npt.ArrayLike,
    lat2_deg: npt.ArrayLike,
    lon2_deg: npt.ArrayLike,
) -> GeodesicInverse:
    """Distance and bearings along the WGS84 geodesic (Karney's algorithm, via PROJ).

    Examples
    --------
    >>> import numpy as np
    >>> g = geodesic_inverse(np.array([0.0]), np.array([0.0]), np.array([0.0]),
    ...                      np.array([1.0]))
    >>> round(float(g.distance_m[0]), 3), float(g.bearing_deg[0])
    (111319.491, 90.0)
    """
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(
        _f64(lat1_deg), _f64(lon1_deg), _f64(lat2_deg), _f64(lon2_deg)
    )
    az12, az21, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    az12 = np.mod(np.asarray(az12, dtype=np.float64), 360.0)
    az21 = np.mod(np.asarray(az21, dtype=np.float64), 360.0)
    return GeodesicInverse(np.asarray(dist, dtype=np.float64), az12, az21)


def destination(
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    bearing_deg: npt.ArrayLike,
    dist_m: npt.ArrayLike,
) -> tuple[Array, Array]:
    """End point (lat_deg, lon_deg) of the geodesic of given initial bearing and length.

    Examples
    --------
    >>> import numpy as np
    >>> lat, lon = destination(np.array([0.0]), np.array([179.5]), np.array([90.0]),
    ...                        np.array([111319.491]))
    >>> round(float(lat[0]), 6), round(float(lon[0]), 6)
    (0.0, -179.5)
    """
    lat, lon, brg, dist = np.broadcast_arrays(
        _f64(lat_deg), _f64(lon_deg), _f64(bearing_deg), _f64(dist_m)
    )
    lon2, lat2, _ = _GEOD.fwd(lon, lat, brg, dist)
    return np.asarray(lat2, dtype=np.float64), np.asarray(lon2, dtype=np.float64)

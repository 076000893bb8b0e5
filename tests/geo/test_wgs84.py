"""WGS84 conversions, local frames, propagation and units."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyparley.geo import cpa, units
from skyparley.geo.wgs84 import (
    destination,
    ecef_to_geodetic,
    enu_basis,
    geodesic_inverse,
    geodetic_to_ecef,
    tangent_distance_m,
)

lats = st.floats(-90.0, 90.0)
lons = st.floats(-180.0, 180.0)
alts = st.floats(-500.0, 20000.0)


@settings(max_examples=300)
@given(lats, lons, alts)
def test_ecef_round_trip_is_sub_millimetre_everywhere(lat: float, lon: float, alt: float) -> None:
    xyz = geodetic_to_ecef(np.array([lat]), np.array([lon]), np.array([alt]))
    back = ecef_to_geodetic(xyz)
    again = geodetic_to_ecef(back.lat_deg, back.lon_deg, back.alt_m)
    assert np.linalg.norm(again - xyz) < 1e-3
    assert back.alt_m[0] == pytest.approx(alt, abs=1e-3)


@settings(max_examples=200)
@given(lats, lons)
def test_enu_frames_are_orthonormal_and_right_handed(lat: float, lon: float) -> None:
    b = enu_basis(np.array([lat]), np.array([lon]))
    m = np.stack([b.east[0], b.north[0], b.up[0]])
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.cross(b.east[0], b.north[0]), b.up[0], atol=1e-12)


def test_a_box_across_the_antimeridian_is_narrow() -> None:
    # 170E to 170W at the equator is 20 degrees of longitude, not 340.
    d = tangent_distance_m([0.0], [170.0], [0.0], [-170.0])[0]
    g = geodesic_inverse(0.0, 170.0, 0.0, -170.0).distance_m
    # The chord of 2,226 km falls short of the arc by d^3/24R^2, about 11 km.
    assert d == pytest.approx(float(g), rel=6e-3)


def test_destination_and_inverse_agree() -> None:
    lat, lon = destination(89.95, 10.0, 0.0, 20000.0)
    g = geodesic_inverse(89.95, 10.0, lat, lon)
    assert float(g.distance_m[()]) == pytest.approx(20000.0, abs=1e-6)
    # Having flown over the pole the aircraft is on the opposite meridian.
    assert float(lon[()]) == pytest.approx(-170.0, abs=1e-9)


def test_propagation_over_the_pole_follows_the_great_circle() -> None:
    # 480 kt due north from 89.99N for 30 s: 7.4 km, over the pole (1.1 km away).
    k = cpa.kinematics([89.99], [45.0], [10000.0], [units.kt_to_ms(480.0)], [0.0], [5.0])
    moved = cpa.propagate(k, 30.0)
    geo = ecef_to_geodetic(moved.pos_m)
    lat_exp, lon_exp = destination(89.99, 45.0, 0.0, units.kt_to_ms(480.0) * 30.0)
    err = geodesic_inverse(geo.lat_deg, geo.lon_deg, lat_exp, lon_exp).distance_m
    assert float(err[0]) < 5.0
    assert np.linalg.norm(moved.vel_ms[0]) == pytest.approx(units.kt_to_ms(480.0))
    assert float(moved.alt_m[0]) == pytest.approx(10150.0)
    # The velocity is now "south" in the new frame: tangent and pointing away from the pole.
    assert abs(float(moved.vel_ms[0] @ moved.up[0])) < 1e-9
    assert float(moved.vel_ms[0][2]) < 0.0


def test_units_round_trip_and_have_their_names() -> None:
    assert units.m_to_ft(units.ft_to_m(1234.5)) == pytest.approx(1234.5)
    assert units.ms_to_kt(units.kt_to_ms(480.0)) == pytest.approx(480.0)
    assert units.ms_to_fpm(units.fpm_to_ms(-2500.0)) == pytest.approx(-2500.0)
    assert units.m_to_nm(units.nm_to_m(5.0)) == pytest.approx(5.0)
    assert units.fpm_to_ms(1000.0) == pytest.approx(5.08)
    assert units.kt_to_ms(1.0) == pytest.approx(0.514444, rel=1e-6)

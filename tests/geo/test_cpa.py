"""The conflict kernel against a plain-Python reference, its invariances and its edge cases."""

from __future__ import annotations

import math
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.geo import reference
from tests.geo.reference import Ac
from tests.strategies import scenes

from skyparley.geo import cpa
from skyparley.geo.units import FT_M, NM_M, fpm_to_ms, ft_to_m, kt_to_ms
from skyparley.geo.wgs84 import destination, geodesic_inverse

HSEP_NM = 5.0
VSEP_FT = 1000.0
LOOKAHEAD_S = 300.0


def kin(scene: list[Ac]) -> cpa.Kinematics:
    return cpa.kinematics(
        [a.lat_deg for a in scene],
        [a.lon_deg for a in scene],
        ft_to_m(np.array([a.alt_ft for a in scene])),
        kt_to_ms(np.array([a.gs_kt for a in scene])),
        [a.trk_deg for a in scene],
        fpm_to_ms(np.array([a.vs_fpm for a in scene])),
    )


def detect(scene: list[Ac], **kw: object) -> dict[tuple[int, int], dict[str, float]]:
    """Kernel conflicts keyed by (i, j), in aviation units for comparison."""
    c = cpa.detect_conflict_pairs(
        kin(scene),
        hsep_m=HSEP_NM * NM_M,
        vsep_m=VSEP_FT * FT_M,
        lookahead_s=LOOKAHEAD_S,
        **kw,  # type: ignore[arg-type]
    )
    out = {}
    for n in range(len(c.i)):
        out[(int(c.i[n]), int(c.j[n]))] = {
            "tin_s": float(c.tin_s[n]),
            "tout_s": float(c.tout_s[n]),
            "tcpa_s": float(c.tcpa_s[n]),
            "dcpa_nm": float(c.dcpa_m[n]) / NM_M,
            "hdist_nm": float(c.hdist_m[n]) / NM_M,
            "vdist_ft": float(c.vdist_m[n]) / FT_M,
            "vdist_cpa_ft": float(c.vdist_cpa_m[n]) / FT_M,
            "los": bool(c.los[n]),
        }
    return out


def ac(lat: float, lon: float, alt_ft: float, gs_kt: float, trk: float, vs: float = 0.0) -> Ac:
    return Ac(lat, lon, alt_ft, gs_kt, trk, vs)


def close(x: float, y: float, rel: float = 1e-6, abs_: float = 1e-6) -> bool:
    return math.isclose(x, y, rel_tol=rel, abs_tol=abs_)


# ------------------------------------------------------------------ reference


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_kernel_finds_the_same_pairs_and_numbers_as_the_reference(scene: list[Ac]) -> None:
    ours = detect(scene)
    ref = reference.all_conflicts(scene, hsep_nm=HSEP_NM, vsep_ft=VSEP_FT, lookahead_s=LOOKAHEAD_S)
    event("conflicts found" if ref else "no conflict")
    event("loss of separation" if any(r.los for r in ref.values()) else "no LoS")
    assert set(ours) == set(ref)
    for key, r in ref.items():
        o = ours[key]
        assert o["los"] == r.los
        for name in ("tin_s", "tout_s", "tcpa_s"):
            # Times are compared relative to the lookahead they live in.
            assert close(o[name], getattr(r, name), abs_=1e-6 * LOOKAHEAD_S), (name, o, r)
        for name in ("dcpa_nm", "hdist_nm", "vdist_ft", "vdist_cpa_ft"):
            assert close(o[name], getattr(r, name), abs_=1e-9), (name, o, r)
        assert all(math.isfinite(v) for v in o.values())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_time_sliced_pruning_finds_the_reference_pairs(scene: list[Ac]) -> None:
    # Crowded scenes cut the lookahead into time slices; force that path on small scenes.
    with mock.patch.object(cpa, "_CROWDED", 0.0):
        ours = detect(scene)
    ref = reference.all_conflicts(scene, hsep_nm=HSEP_NM, vsep_ft=VSEP_FT, lookahead_s=LOOKAHEAD_S)
    assert set(ours) == set(ref)


@settings(max_examples=60, deadline=None)
@given(scenes(), st.randoms(use_true_random=False))
def test_the_order_of_the_aircraft_does_not_matter(scene: list[Ac], rnd: object) -> None:
    perm = list(range(len(scene)))
    rnd.shuffle(perm)  # type: ignore[attr-defined]
    shuffled = [scene[k] for k in perm]
    ours = detect(scene)
    theirs = detect(shuffled)
    mapped = {}
    for (i, j), v in theirs.items():
        a, b = perm[i], perm[j]
        mapped[(min(a, b), max(a, b))] = v
    assert set(mapped) == set(ours)
    for key, v in ours.items():
        for name, x in v.items():
            assert close(float(x), float(mapped[key][name]), rel=1e-9, abs_=1e-9), name


@settings(max_examples=40, deadline=None)
@given(scenes(max_size=12))
def test_pair_geometry_is_symmetric(scene: list[Ac]) -> None:
    k = kin(scene)
    n = len(scene)
    i, j = np.triu_indices(n, 1)
    kw = {"hsep_m": HSEP_NM * NM_M, "vsep_m": VSEP_FT * FT_M, "lookahead_s": LOOKAHEAD_S}
    fwd = cpa.pair_geometry(k, i, j, **kw)
    bwd = cpa.pair_geometry(k, j, i, **kw)
    for f, b in zip(fwd, bwd, strict=True):
        np.testing.assert_allclose(f, b, rtol=1e-9, atol=1e-7)


@pytest.mark.parametrize("sliced", [False, True], ids=["whole-lookahead boxes", "time slices"])
def test_grid_pruning_loses_no_pair_of_a_dense_scene(
    sliced: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Slicing is chosen by crowding; force either way so both paths are checked.
    monkeypatch.setattr(cpa, "_CROWDED", 0.0 if sliced else float("inf"))
    rng = np.random.default_rng(7)
    n = 2500
    lat, lon = destination(
        np.full(n, 35.0),
        np.full(n, 38.0),
        rng.uniform(0, 360, n),
        np.sqrt(rng.uniform(0, 1, n)) * 150e3,
    )
    k = cpa.kinematics(
        lat,
        lon,
        ft_to_m(rng.uniform(5000, 40000, n)),
        kt_to_ms(rng.uniform(0, 600, n)),
        rng.uniform(0, 360, n),
        fpm_to_ms(np.where(rng.random(n) < 0.3, rng.uniform(-4000, 4000, n), 0)),
    )
    kw = {"hsep_m": HSEP_NM * NM_M, "vsep_m": VSEP_FT * FT_M, "lookahead_s": LOOKAHEAD_S}
    grid = cpa.detect_conflict_pairs(k, **kw)
    i, j = np.triu_indices(n, 1)
    every = cpa.pair_geometry(k, i, j, **kw)
    expected = set(zip(i[every.conflict].tolist(), j[every.conflict].tolist(), strict=True))
    found = set(zip(grid.i.tolist(), grid.j.tolist(), strict=True))
    assert len(expected) > 500  # the scene really is dense
    assert found == expected


def test_threads_give_the_same_answer_as_one() -> None:
    rng = np.random.default_rng(3)
    n = 6000
    lat, lon = destination(
        np.full(n, 10.0),
        np.full(n, 179.0),
        rng.uniform(0, 360, n),
        np.sqrt(rng.uniform(0, 1, n)) * 300e3,
    )
    k = cpa.kinematics(
        lat,
        lon,
        ft_to_m(rng.uniform(5000, 40000, n)),
        kt_to_ms(rng.uniform(250, 500, n)),
        rng.uniform(0, 360, n),
        np.zeros(n),
    )
    kw = {"hsep_m": HSEP_NM * NM_M, "vsep_m": VSEP_FT * FT_M, "lookahead_s": LOOKAHEAD_S}
    one = cpa.detect_conflict_pairs(k, workers=1, **kw)
    two = cpa.detect_conflict_pairs(k, workers=2, **kw)
    assert len(one.i) > 100
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ invariance


def _rotate_scene(scene: list[Ac], axis: np.ndarray, angle: float) -> list[Ac]:
    """Rotate every aircraft (position and velocity direction) about an Earth axis (sphere)."""
    axis = axis / np.linalg.norm(axis)
    kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rot = np.eye(3) + math.sin(angle) * kx + (1 - math.cos(angle)) * kx @ kx
    out = []
    for a in scene:
        lat, lon, trk = map(math.radians, (a.lat_deg, a.lon_deg, a.trk_deg))
        up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
        east = np.array([-math.sin(lon), math.cos(lon), 0.0])
        north = np.cross(up, east)
        heading = math.sin(trk) * east + math.cos(trk) * north
        up2, h2 = rot @ up, rot @ heading
        lat2 = math.asin(max(-1.0, min(1.0, up2[2])))
        lon2 = math.atan2(up2[1], up2[0])
        east2 = np.array([-math.sin(lon2), math.cos(lon2), 0.0])
        north2 = np.cross(up2, east2)
        trk2 = math.degrees(math.atan2(h2 @ east2, h2 @ north2)) % 360.0
        out.append(Ac(math.degrees(lat2), math.degrees(lon2), a.alt_ft, a.gs_kt, trk2, a.vs_fpm))
    return out


def _clear_of_thresholds(r: reference.RefResult) -> bool:
    """No number of the pair within 2 % of a threshold (or of the window's ends)."""
    return (
        r.tout_s - r.tin_s > 0.02 * LOOKAHEAD_S
        and abs(r.vdist_ft - VSEP_FT) > 0.02 * VSEP_FT
        and abs(r.dcpa_nm - HSEP_NM) > 0.02 * HSEP_NM
        and abs(r.tin_s - LOOKAHEAD_S) > 0.02 * LOOKAHEAD_S
        and abs(r.tout_s) > 0.02 * LOOKAHEAD_S
        and abs(r.hdist_nm - HSEP_NM) > 0.02 * HSEP_NM
    )


@settings(max_examples=60, deadline=None)
@given(
    scenes(max_size=20),
    st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1)).filter(
        lambda v: math.hypot(*v) > 0.1
    ),
    st.floats(-math.pi, math.pi),
)
def test_conflicts_survive_rotating_the_whole_scene_on_the_sphere(
    scene: list[Ac], axis: tuple[float, float, float], angle: float
) -> None:
    moved = _rotate_scene(scene, np.array(axis), angle)
    before = detect(scene)
    after = detect(moved)
    # Compare only pairs clear of every threshold: the ellipsoid is not a sphere, so numbers
    # move by a fraction of a percent under rotation.
    everything = {
        (i, j): reference.pair(
            scene[i], scene[j], hsep_nm=HSEP_NM, vsep_ft=VSEP_FT, lookahead_s=LOOKAHEAD_S
        )
        for i in range(len(scene))
        for j in range(i + 1, len(scene))
    }
    for key, r in everything.items():
        if not _clear_of_thresholds(r):
            continue
        assert (key in before) == (key in after), (key, r)
        if key in before:
            # The ellipsoid's radius of curvature varies by 1 %: so may distances and times.
            b, a = before[key], after[key]
            # Moving positions by 1 % of their distance moves tcpa by that over the speed.
            slack = 0.02 * r.hdist_nm * NM_M / max(r.vrel_kt * 1852 / 3600, 1e-3)
            if r.vrel_kt > 10.0:  # with almost no relative motion tcpa is ill-conditioned
                assert abs(b["tcpa_s"] - a["tcpa_s"]) < 0.5 + 0.02 * abs(b["tcpa_s"]) + slack
            assert abs(b["dcpa_nm"] - a["dcpa_nm"]) < 0.02 * max(b["hdist_nm"], 1.0)


def test_translation_along_a_parallel_is_exact() -> None:
    """Rotating about the polar axis is a true symmetry of the ellipsoid: numbers must agree."""
    base = [ac(35.0, 38.0, 30000, 450, 90), ac(35.05, 38.5, 30400, 420, 260, -300)]
    moved = [Ac(a.lat_deg, a.lon_deg + 141.7, a.alt_ft, a.gs_kt, a.trk_deg, a.vs_fpm) for a in base]
    a, b = detect(base), detect(moved)
    assert set(a) == set(b) == {(0, 1)}
    for name, x in a[(0, 1)].items():
        assert close(float(x), float(b[(0, 1)][name]), rel=1e-7, abs_=1e-6), name


# ------------------------------------------------------------------ edge cases


def test_head_on_across_the_antimeridian() -> None:
    # 20 NM apart astride 180 degrees, nose to nose at 450 kt each: CPA 0 in 80 s.
    half = 10 * NM_M
    _, lon_w = destination(0.0, 180.0, 270.0, half)
    _, lon_e = destination(0.0, 180.0, 90.0, half)
    got = detect(
        [ac(0.0, float(lon_w[()]), 30000, 450, 90), ac(0.0, float(lon_e[()]), 30000, 450, 270)]
    )
    assert set(got) == {(0, 1)}
    c = got[(0, 1)]
    assert c["hdist_nm"] == pytest.approx(20.0, rel=1e-4)
    assert c["tcpa_s"] == pytest.approx(80.0, rel=1e-4)
    assert c["dcpa_nm"] == pytest.approx(0.0, abs=1e-6)


def test_head_on_across_the_north_pole_from_89_9n() -> None:
    # Two aircraft at 89.9N on opposite meridians fly over the pole towards each other.
    got = detect([ac(89.9, 0.0, 35000, 480, 0.0), ac(89.9, 180.0, 35000, 480, 0.0)])
    assert set(got) == {(0, 1)}
    c = got[(0, 1)]
    d = float(geodesic_inverse(89.9, 0.0, 89.9, 180.0).distance_m[()]) / NM_M
    assert c["hdist_nm"] == pytest.approx(d, rel=1e-5)
    assert c["tcpa_s"] == pytest.approx(d / (2 * 480) * 3600, rel=1e-3)
    assert c["dcpa_nm"] < 0.01


def test_a_formation_with_no_relative_motion_is_in_los_and_nothing_divides_by_zero() -> None:
    # In trail on a meridian, 0.5 NM apart, same speed: no relative motion in their plane.
    lat2, lon2 = destination(35.0, 38.0, 0.0, 0.5 * NM_M)
    lead = ac(float(lat2[()]), float(lon2[()]), 25000, 420, 0.0)
    wing = ac(35.0, 38.0, 25000, 420, 0.0)
    with np.errstate(all="raise"):
        got = detect([lead, wing])
    c = got[(0, 1)]
    assert c["los"] is True
    assert c["tcpa_s"] == pytest.approx(0.0, abs=1e-3)
    assert c["hdist_nm"] == pytest.approx(0.5, rel=1e-4)
    assert c["tin_s"] <= 0.0 < c["tout_s"]
    assert all(math.isfinite(float(v)) for v in c.values())


def test_identical_aircraft_at_the_same_point_are_in_los() -> None:
    a = ac(-33.9, 151.2, 10000, 250, 45.0)
    with np.errstate(all="raise"):
        c = detect([a, a])[(0, 1)]
    assert c["los"] is True
    assert c["hdist_nm"] == 0.0
    assert c["dcpa_nm"] == 0.0
    assert c["tin_s"] == -LOOKAHEAD_S
    assert c["tout_s"] == LOOKAHEAD_S


def test_purely_vertical_convergence_on_the_same_track() -> None:
    # Same point, same velocity; the lower one climbs 2000 fpm into the upper, 3000 ft above.
    low = ac(35.0, 38.0, 20000, 400, 120.0, 2000.0)
    high = ac(35.0, 38.0, 23000, 400, 120.0, 0.0)
    with np.errstate(all="raise"):
        c = detect([low, high])[(0, 1)]
    assert c["los"] is False
    # |3000 - 2000 t/60| < 1000 ft from t = 60 s to 120 s.
    assert c["tin_s"] == pytest.approx(60.0, rel=1e-9)
    assert c["tout_s"] == pytest.approx(120.0, rel=1e-9)
    assert c["hdist_nm"] == 0.0


def test_exact_head_on_gives_no_nan_anywhere() -> None:
    lat2, lon2 = destination(0.0, 0.0, 90.0, 30 * NM_M)
    with np.errstate(all="raise"):
        got = detect(
            [
                ac(0.0, 0.0, 30000, 500, 90.0),
                ac(float(lat2[()]), float(lon2[()]), 30000, 500, 270.0),
            ]
        )
    c = got[(0, 1)]
    assert all(math.isfinite(float(v)) for v in c.values())
    assert c["dcpa_nm"] == pytest.approx(0.0, abs=1e-6)
    assert c["tcpa_s"] == pytest.approx(30 / 1000 * 3600, rel=1e-4)


def test_diverging_aircraft_do_not_conflict() -> None:
    lat2, lon2 = destination(35.0, 38.0, 90.0, 6 * NM_M)
    assert (
        detect(
            [
                ac(35.0, 38.0, 30000, 450, 270.0),
                ac(float(lat2[()]), float(lon2[()]), 30000, 450, 90.0),
            ]
        )
        == {}
    )


def test_loss_of_separation_now_has_a_negative_tin() -> None:
    lat2, lon2 = destination(35.0, 38.0, 90.0, 3 * NM_M)
    c = detect(
        [ac(35.0, 38.0, 30000, 450, 270.0), ac(float(lat2[()]), float(lon2[()]), 30500, 450, 90.0)]
    )[(0, 1)]
    assert c["los"] is True
    assert c["tin_s"] < 0.0 < c["tout_s"]


def test_conflict_beyond_the_lookahead_is_not_reported() -> None:
    lat2, lon2 = destination(35.0, 38.0, 90.0, 150 * NM_M)  # meet in 600 s
    scene = [
        ac(35.0, 38.0, 30000, 450, 90.0),
        ac(float(lat2[()]), float(lon2[()]), 30000, 450, 270.0),
    ]
    assert detect(scene) == {}


def test_horizontal_distance_is_within_10_m_of_the_wgs84_geodesic() -> None:
    rng = np.random.default_rng(11)
    n = 4000
    lat1 = np.concatenate(
        [
            rng.uniform(-89.9, 89.9, n - 400),
            rng.uniform(89.0, 89.99, 200),
            rng.uniform(-89.99, -89.0, 200),
        ]
    )
    lon1 = rng.uniform(-180, 180, n)
    dist = rng.uniform(0, 50 * NM_M, n)
    lat2, lon2 = destination(lat1, lon1, rng.uniform(0, 360, n), dist)
    k = cpa.kinematics(
        np.concatenate([lat1, lat2]),
        np.concatenate([lon1, lon2]),
        np.zeros(2 * n),
        np.zeros(2 * n),
        np.zeros(2 * n),
        np.zeros(2 * n),
    )
    g = cpa.pair_geometry(
        k, np.arange(n), np.arange(n) + n, hsep_m=1.0, vsep_m=1.0, lookahead_s=1.0
    )
    err = np.abs(g.hdist_m - dist)
    assert err.max() < 10.0, f"worst {err.max():.2f} m at {dist[err.argmax()]:.0f} m"


def test_loading_the_kernels_leaves_scipy_linalg_unloaded_and_importable() -> None:
    """The kernels load without numba's BLAS probe (scipy.linalg, about 0.3 s of every
    replay's start), and scipy.linalg still imports normally afterwards."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from skyparley.geo import cpa\n"
        "k = cpa.kinematics([35.0, 35.0], [38.0, 38.01], [3000.0] * 2, [100.0] * 2,"
        " [90.0, 270.0], [0.0] * 2)\n"
        "assert len(cpa.detect_conflict_pairs(k, hsep_m=9260.0, vsep_m=300.0,"
        " lookahead_s=300.0).i) == 1\n"
        "print('scipy.linalg' in sys.modules)\n"
        "import scipy.linalg\n"
        "print(scipy.linalg.norm([3.0, 4.0]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    ).stdout.split()
    assert out == ["False", "5.0"]

"""skyparley's conflict kernel against BlueSky 1.1.1 (TU Delft), the classic N x N detector.

BlueSky's ``StateBased.detect`` runs with its pure-Python geometry on random scenes of 500
aircraft (``bench/scenes.py``), with the same minima: 5 NM, 1000 ft (no altitude
tolerance: the kernel gets vsep_m = 1000 ft), 300 s lookahead.

BlueSky measures positions on a 6371 km sphere with a flat-earth ``kwikqdrdist`` and takes
each aircraft's velocity in its own north frame, so at 35N its relative positions are off by
up to ~0.2 % of the distance and its relative velocities by the convergence of the meridians.
For pairs tens of NM apart that moves dcpa by up to ~0.25 NM and tcpa by a few seconds. The
rule of ``bench.scenes.compare_pairs`` therefore checks a difference beyond 1 s / 0.05 NM,
or a pair found by one side only farther than 1 % from every threshold, against a brute-force
WGS84 geodesic reference: skyparley must agree with that reference.

BlueSky is a test-only peer installed in CI::

    .venv/bin/pip install --no-deps bluesky-simulator==1.1.1
    .venv/bin/pip install scipy matplotlib
"""

from __future__ import annotations

import functools
import math
import sys
from pathlib import Path

import pytest

from skyparley.geo.cpa import detect_conflict_pairs
from skyparley.geo.units import ft_to_m, nm_to_m

# bench/ is not a package of the distribution: import it from the repository root.
_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from bench.peers import bluesky as peer  # noqa: E402
from bench.scenes import Comparison, compare_pairs, random_scene  # noqa: E402

N = 500
SEEDS = (1, 2, 3)
HSEP_NM = 5.0
VSEP_FT = 1000.0
LOOKAHEAD_S = 300.0
TCPA_TOL_S = 1.0
DCPA_TOL_NM = 0.05

INSTALL = (
    ".venv/bin/pip install --no-deps bluesky-simulator==1.1.1 && "
    ".venv/bin/pip install scipy matplotlib"
)


def _bluesky_python() -> None:
    """Fail (not skip: CI installs BlueSky) when BlueSky's Python detector is unusable."""
    why = peer.available("python")
    if why is not None:
        pytest.fail(
            f"BlueSky 1.1.1 is needed for this cross-check ({why}); install it with: {INSTALL}",
            pytrace=False,
        )


@functools.cache
def _comparison(seed: int) -> Comparison:
    """skyparley and BlueSky (Python) on the random scene of ``seed``, compared once."""
    scene = random_scene(N, seed)
    ours = detect_conflict_pairs(
        scene.kinematics(),
        hsep_m=nm_to_m(HSEP_NM),
        vsep_m=ft_to_m(VSEP_FT),
        lookahead_s=LOOKAHEAD_S,
    )
    theirs = peer.detect(
        *scene.columns(),
        hsep_nm=HSEP_NM,
        vsep_ft=VSEP_FT,
        lookahead_s=LOOKAHEAD_S,
        impl="python",
    )
    return compare_pairs(
        ours,
        theirs,
        scene,
        HSEP_NM,
        VSEP_FT,
        LOOKAHEAD_S,
        tcpa_tol_s=TCPA_TOL_S,
        dcpa_tol_nm=DCPA_TOL_NM,
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_same_conflict_pairs_as_bluesky(seed: int) -> None:
    _bluesky_python()
    c = _comparison(seed)
    assert c.n_common > 20, c.summary()  # the scene does exercise both detectors
    assert c.n_unexcused == 0, f"seed {seed}: {c.verdict()}\n{c.summary()}\n" + "\n".join(
        map(str, [*c.unexcused_ours, *c.unexcused_theirs])
    )
    # Excused pairs stay rare, so a wholesale difference cannot hide behind the excuses.
    allowed = max(2, math.ceil(0.02 * max(c.n_ours, c.n_theirs)))
    assert c.n_near + c.n_peer_geometry <= allowed, c.summary()


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_tcpa_and_dcpa_match_bluesky(seed: int) -> None:
    _bluesky_python()
    c = _comparison(seed)
    # Typical common pairs agree within the tolerances outright ...
    assert c.median_tcpa_diff_s <= TCPA_TOL_S, c.summary()
    assert c.median_dcpa_diff_nm <= DCPA_TOL_NM, c.summary()
    assert c.n_nan == 0, c.summary()
    # ... and wherever BlueSky is farther off, skyparley matches the WGS84 geodesic reference.
    assert not c.common_unexplained, f"seed {seed}: {c.summary()}\n" + "\n".join(
        map(str, c.common_unexplained)
    )
    assert c.max_ref_dcpa_diff_nm < 0.002, c.summary()

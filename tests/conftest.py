"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings
from tests.realdata import traffic_sample

# CI runs the same examples every time (a failure there is reproducible); a developer's run
# explores new ones. Either way the failing example is printed.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def traffic_samples() -> Callable[[str], Path]:
    """``traffic_samples("featured/dreamliner_airfrance.json.gz")``: a sample file's path.

    The files come out of the PyPI wheel ``traffic==2.13``, fetched once into the cache (see
    ``tests/realdata.py``); a failed download fails the test.
    """
    return traffic_sample

"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.realdata import traffic_sample


@pytest.fixture(scope="session")
def traffic_samples() -> Callable[[str], Path]:
    """``traffic_samples("featured/dreamliner_airfrance.json.gz")``: a sample file's path.

    The files come out of the PyPI wheel ``traffic==2.13``, fetched once into the cache (see
    ``tests/realdata.py``); a failed download fails the test.
    """
    return traffic_sample

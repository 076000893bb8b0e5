"""``skyparley demo``: detection on the scenario that ships with the package."""

from __future__ import annotations

import argparse
import sys
from importlib import resources

from skyparley.cli._detect import detect_files
from skyparley.domain.separation import SeparationMinima

__all__ = ["SCENARIO", "run", "scenario_path"]

SCENARIO = "syria-2015-beat3.csv"


def scenario_path() -> str:
    """Path of the packaged scenario file."""
    return str(resources.files("skyparley.data.scenarios").joinpath(SCENARIO))


def run(args: argparse.Namespace) -> int:
    """Handle ``skyparley demo``."""
    path = scenario_path()
    print(
        "Syria 2015, beat 3 - 10 Oct 2015, 09:00-09:20 UTC: a coalition pair and a Russian pair\n"
        "converge over eastern Syria. Separation 5 NM / 1000 ft, lookahead 300 s.\n"
        f"$ skyparley detect {path} --cross-party-only --step-s {args.step_s:g}"
        + (f" --format {args.format}" if args.format != "table" else "")
        + "\n",
        file=sys.stderr,
    )
    return detect_files(
        [path],
        minima=SeparationMinima(),
        start=None,
        end=None,
        step_s=args.step_s,
        stale_s=30.0,
        cross_party_only=True,
        fmt=args.format,
        out=None,
        skip_bad=False,
        workers=None,
    )

"""A built app has the detection kernels loaded: the live picture's first tick with traffic
does not stop every request while numba loads (or compiles) them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.service_server import PROTOCOL_PATH

from skyparley.geo import cpa


def test_warm_up_runs_the_kernels_on_two_closing_aircraft() -> None:
    assert cpa.warm_up() == 1


def test_a_built_app_has_the_kernels_loaded(tmp_path: Path) -> None:
    # In a process of its own: in this one the kernels may be loaded already.
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from skyparley.adapters.clock import ManualClock
        from skyparley.adapters.protocol_file import load_protocol
        from skyparley.api import Settings, create_app
        from skyparley.domain.ledger.keys import demo_key

        print("skyparley.geo._cpa_kernel" in sys.modules)
        app = create_app(Settings(
            protocol=load_protocol({str(PROTOCOL_PATH)!r}),
            db_path=Path({str(tmp_path)!r}) / "s.db",
            service_key=demo_key("service"), clock=ManualClock(1_444_460_400.0)))
        from skyparley.geo import _cpa_kernel
        print(bool(_cpa_kernel.pairs_in_cells.signatures),
              bool(_cpa_kernel.detect_listed.signatures))
        app.state.runtime.close()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True", "True"]

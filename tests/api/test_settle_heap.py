"""``settle_heap``: once a served app is built, the state it loaded is out of the collector's
way, so a full collection does not walk 10,000 notices in the middle of a request."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.service_server import PROTOCOL_PATH


def test_loaded_notices_are_not_walked_by_the_collector(tmp_path: Path) -> None:
    # In a process of its own: freezing is for a process that serves one app.
    script = textwrap.dedent(
        f"""
        import faulthandler, gc, sys
        from pathlib import Path
        from skyparley.adapters.clock import ManualClock
        from skyparley.adapters.protocol_file import load_protocol
        from skyparley.api import Settings, create_app, settle_heap
        from skyparley.domain.ledger.keys import demo_key
        from skyparley.service import Principal

        faulthandler.dump_traceback_later(90, exit=True)  # a hang shows its stacks

        def app():
            return create_app(Settings(
                protocol=load_protocol({str(PROTOCOL_PATH)!r}),
                db_path=Path({str(tmp_path)!r}) / "s.db",
                service_key=demo_key("service"), clock=ManualClock(1_444_460_400.0)))

        first = app()
        svc = first.state.runtime.service
        who = Principal("russia", "operator", "test")
        for k in range(40):
            svc.file_notice(who, {{
                "id": f"N{{k}}", "party": "russia", "version": 1, "state": "planned",
                "volumes": [{{"area": {{"type": "Circle", "center": [37.0 + k / 10, 35.0],
                             "radius_nm": 3}}, "lower": 10000, "upper": 20000,
                             "start": "2015-10-11T06:00:00Z", "end": "2015-10-11T08:00:00Z"}}]
            }}, new=True)
        first.state.runtime.close()
        served = app()  # loads the 40 notices
        settle_heap()
        tracked = {{id(o) for o in gc.get_objects()}}
        index = served.state.runtime.service._index
        print(gc.get_freeze_count() > 0, id(index) in tracked, id(served) in tracked)
        served.state.runtime.close()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "False", "False"]

"""``skyparley demo`` as a user runs it: a subprocess on a free port of loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.service_server import free_port

from skyparley.adapters.clock import ManualClock
from skyparley.adapters.ledger_store import SqliteLedger
from skyparley.cli import main
from skyparley.domain.ledger.entry import KeyRing
from skyparley.domain.ledger.keys import demo_key


def demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skyparley", "demo", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_demo_prints_the_url_and_tokens_then_plays_six_beats_and_serves_again(
    tmp_path: Path,
) -> None:
    port = free_port()
    db = tmp_path / "syria.db"
    run = demo("--speed", "400", "--port", str(port), "--db", str(db), "--no-serve-after",
               cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Traceback" not in run.stderr
    url = out.index(f"console   http://127.0.0.1:{port}/")
    tokens = {m.group(1): m.start() for m in re.finditer(r"^    (\w+)\s+skp_\S+$", out, re.M)}
    assert set(tokens) == {"coalition", "russia", "relief"}
    beats = [out.index(f"beat {k}:") for k in range(1, 7)]
    assert url < min(tokens.values()) < max(tokens.values()) < beats[0]
    assert beats == sorted(beats)
    assert "escalated to level 3 (chief of staff)" in out
    assert f"skyparley ledger export --db {db}" in out
    assert out.rstrip().endswith("skyparley demo: stopped")
    assert db.is_file()

    again = demo("--port", str(port), "--db", str(db), "--no-serve-after", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "holds the story already" in again.stdout
    assert "beat 1:" not in again.stdout


def test_detection_options_need_detect_only() -> None:
    assert main(["demo", "--format", "jsonl"]) == 2


def test_a_database_of_another_service_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    key = demo_key("someone-else")
    SqliteLedger(
        db, service_key=key, origin="skyparley/other", keyring=KeyRing({key.name: key.verifier}),
        clock=ManualClock(0.0),
    ).close()  # fmt: skip
    run = demo("--db", str(db), "--no-serve-after", "--port", str(free_port()), cwd=tmp_path)
    assert run.returncode == 2
    assert "--db" in run.stderr
    assert "is not a demo database of the protocol syria-2015-mou" in run.stderr
    assert "Traceback" not in run.stderr

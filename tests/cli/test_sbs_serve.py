"""``skyparley serve --sbs HOST:PORT --sbs-parties FILE``: a served SBS feed, and bad options."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.sbs_feed import FeedServer, sbs_state_lines, send_lines, wait_for
from tests.service_server import PROTOCOL_PATH, free_port, make_tokens

from skyparley.adapters.protocol_file import load_protocol
from skyparley.cli import build_parser, main


def _serve(db: Path, *extra: str) -> list[str]:
    return ["serve", "--protocol", str(PROTOCOL_PATH), "--db", str(db), *extra]


def test_serve_reads_an_sbs_feed_into_the_live_picture(tmp_path: Path) -> None:
    db = tmp_path / "svc.db"
    tokens = make_tokens(db, load_protocol(PROTOCOL_PATH), time.time())
    parties = tmp_path / "parties.yaml"
    parties.write_text("default: null\nparties:\n  russia: ['1']\n")
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with FeedServer() as feed:
        args = _serve(db, "--port", str(port), "--log-level", "warning",
                      "--sbs", f"127.0.0.1:{feed.port}", "--sbs-parties", str(parties))  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-m", "skyparley", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            conn = feed.connection(timeout_s=60)
            now = time.time()
            send_lines(conn, sbs_state_lines("150ABC", now, lat_deg=35.5, lon_deg=39.2,
                                             alt_ft=24500, gs_kt=460, trk_deg=99))  # fmt: skip
            headers = {"Authorization": f"Bearer {tokens[('russia', 'viewer')]}"}

            def seen() -> list[str]:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/picture", headers=headers, timeout=5)
                return [a["id"] for a in r.json()["aircraft"]]

            wait_for("the feed's aircraft in russia's picture", lambda: seen() == ["150ABC"])
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert f"reading sbs:127.0.0.1:{feed.port}" in err
    assert "Traceback" not in err


def test_sbs_options_parse_repeated() -> None:
    args = build_parser().parse_args(
        _serve(
            Path("x.db"),
            "--sbs",
            "10.0.0.5:30003",
            "--sbs",
            "[::1]:30003",
            "--sbs-parties",
            "a.yaml",
        )
    )
    assert args.sbs == ["10.0.0.5:30003", "[::1]:30003"]
    assert args.sbs_parties == ["a.yaml"]


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        (["--sbs", "127.0.0.1"], "--sbs", "HOST:PORT"),
        (["--sbs", "127.0.0.1:30003"], "--sbs-parties", "needs a party map"),
        (["--sbs-parties", "MAP"], "--sbs-parties", "--sbs"),
        (["--sbs", "127.0.0.1:1", "--sbs-parties", "BADMAP"], "--sbs-parties", "'nato'"),
        (
            [
                "--sbs",
                "127.0.0.1:1",
                "--sbs-parties",
                "MAP",
                "--sbs-parties",
                "MAP",
                "--sbs-parties",
                "MAP",
            ],
            "--sbs-parties",
            "one per --sbs",
        ),
    ],
)
def test_bad_sbs_options_exit_2_naming_the_option(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    field: str,
    reason: str,
) -> None:
    good = tmp_path / "parties.json"
    good.write_text(json.dumps({"default": "coalition", "parties": {"russia": ["1"]}}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"parties": {"nato": ["A"]}}))
    extra = [str(good) if x == "MAP" else str(bad) if x == "BADMAP" else x for x in extra]
    assert main(_serve(tmp_path / "svc.db", *extra)) == 2
    err = capsys.readouterr().err
    assert f"skyparley serve: error: {field}" in err
    assert reason in err
    assert not (tmp_path / "svc.db").exists()  # refused before anything was made

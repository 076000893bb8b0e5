"""``skyparley serve``, ``tokens``, ``notice`` and ``hotline`` against a real server."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.service_server import (
    PROTOCOL_PATH,
    SCENARIO_DIR,
    Server,
    free_port,
    running_server,
)

from skyparley.cli import main
from skyparley.domain.ledger.keys import demo_key


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path) as s:
        yield s


def as_party(
    monkeypatch: pytest.MonkeyPatch, server: Server, party: str, tmp_path: Path, *, key: bool
) -> None:
    """Point the CLI at ``server`` as ``party`` (env vars; a PEM key file when ``key``)."""
    monkeypatch.setenv("SKYPARLEY_URL", server.url)
    monkeypatch.setenv("SKYPARLEY_TOKEN", server.token(party))
    monkeypatch.setenv("HOME", str(tmp_path))  # no stray ~/.config/skyparley/client.toml
    if key:
        path = tmp_path / f"{party}.key"
        if not path.exists():
            path.write_bytes(demo_key(party).to_pkcs8_pem(None))
        monkeypatch.setenv("SKYPARLEY_KEY", str(path))
    else:
        monkeypatch.delenv("SKYPARLEY_KEY", raising=False)


def test_tokens_new_list_revoke_on_the_db(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(server.db_path)
    new = ["tokens", "new", "--db", db, "--protocol", str(PROTOCOL_PATH)]
    assert main([*new, "--party", "relief", "--role", "viewer", "--label", "wall"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    token_id = out.err.split()[2]
    assert token_id.startswith("tok_")
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.get(f"{server.url}/v1/protocol", headers=headers)
    assert r.status_code == 200

    assert main(["tokens", "list", "--db", db, "--party", "relief", "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    mine = [r for r in rows if r["id"] == token_id]
    assert mine == [
        {
            "id": token_id,
            "party": "relief",
            "role": "viewer",
            "label": "wall",
            "created": mine[0]["created"],
            "revoked": None,
        }
    ]
    assert token not in json.dumps(rows)
    assert {r["party"] for r in rows} == {"relief"}

    assert main(["tokens", "revoke", "--db", db, token_id]) == 0
    assert "revoked" in capsys.readouterr().out
    r = httpx.get(f"{server.url}/v1/protocol", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"

    assert main(["tokens", "revoke", "--db", db, "tok_000000000000"]) == 2
    assert "ID: no token" in capsys.readouterr().err
    assert main([*new, "--party", "atlantis", "--role", "viewer"]) == 2
    assert "atlantis" in capsys.readouterr().err
    assert main(["tokens", "list", "--db", str(tmp_path / "missing.db")]) == 2


def test_notice_file_list_cancel_signed(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    as_party(monkeypatch, server, "coalition", tmp_path, key=True)
    assert main(["notice", "file", str(SCENARIO_DIR / "beat2-coalition-raqqa.json")]) == 0
    out = capsys.readouterr()
    assert "clear" in out.out
    assert "signed by the party" in out.err
    assert "warning" not in out.err

    server.clock.set(server.clock.now_s() + 600)
    as_party(monkeypatch, server, "russia", tmp_path, key=True)
    v1 = str(SCENARIO_DIR / "beat2-russia-raqqa-v1.json")
    assert main(["notice", "file", v1]) == 1  # findings, as `plan check`
    out = capsys.readouterr()
    assert "notice_conflict" in out.out
    assert "coalition" in out.out
    assert main(["notice", "file", v1, "--format", "jsonl"]) == 1  # the same version again
    (finding,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (finding["kind"], finding["other"]) == ("notice_conflict", "coalition")

    assert main(["notice", "list", "--format", "jsonl"]) == 0
    (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (listed["notice"]["id"], listed["notice"]["version"]) == ("ru-20150930-raqqa", 1)
    assert listed["attested"] is False

    assert main(["notice", "cancel", "ru-20150930-raqqa"]) == 0
    assert "ru-20150930-raqqa@2: cancelled" in capsys.readouterr().out
    assert main(["notice", "list", "--live"]) == 0
    assert "no notices live" in capsys.readouterr().out
    assert main(["notice", "list"]) == 0
    assert "cancelled" in capsys.readouterr().out
    assert main(["notice", "cancel", "ru-20150930-raqqa"]) == 2  # already cancelled
    assert "state:" in capsys.readouterr().err
    # the cancelled version was signed by russia, not attested
    with server.client("russia") as http:
        got = http.get("/v1/notices/ru-20150930-raqqa").json()
    assert got["attested"] is False
    assert got["notice"]["state"] == "cancelled"


def test_bad_notice_exits_2_naming_the_field(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notice = json.loads((SCENARIO_DIR / "beat2-russia-raqqa-v1.json").read_text())
    notice["volumes"][0]["lower"] = "FL400"  # above its upper limit
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(notice))
    for key in (True, False):  # refused by the client before signing, or by the service
        as_party(monkeypatch, server, "russia", tmp_path, key=key)
        assert main(["notice", "file", str(bad)]) == 2
        err = capsys.readouterr().err
        assert "skyparley notice: error: notice.volumes[0]" in err
        assert "Traceback" not in err
    with server.client("russia") as http:
        assert http.get("/v1/notices").json() == []

    # the service refuses what only it can know: a version that is not the next one
    notice["volumes"][0]["lower"] = "FL200"
    notice["version"] = 3
    bad.write_text(json.dumps(notice))
    as_party(monkeypatch, server, "russia", tmp_path, key=True)
    assert main(["notice", "file", str(bad)]) == 2
    assert "skyparley notice: error: notice.version: " in capsys.readouterr().err

    # a revoked or wrong token, and a service that is not there
    monkeypatch.setenv("SKYPARLEY_TOKEN", "skp_" + "x" * 43)
    assert main(["notice", "list"]) == 2
    assert "401" in capsys.readouterr().err
    dead = f"http://127.0.0.1:{free_port()}"
    assert main(["notice", "list", "--url", dead]) == 2
    err = capsys.readouterr().err
    assert dead in err
    assert "Traceback" not in err
    monkeypatch.delenv("SKYPARLEY_TOKEN")
    assert main(["notice", "list"]) == 2
    assert "SKYPARLEY_TOKEN" in capsys.readouterr().err


def test_hotline_send_inbox_ack(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    as_party(monkeypatch, server, "coalition", tmp_path, key=True)
    send = ["hotline", "send", "--to", "russia", "--kind", "request", "--format", "jsonl"]
    args = ["--template", "request_shift", "--arg", "notice=russia/ru-1@1", "--arg", "minutes=60"]
    assert main([*send, *args]) == 0
    sent = json.loads(capsys.readouterr().out)
    assert sent["requires_ack"] is True
    assert sent["attested"] is False

    as_party(monkeypatch, server, "russia", tmp_path, key=False)
    assert main(["hotline", "inbox"]) == 0
    out = capsys.readouterr()
    assert sent["id"] in out.out
    assert "DUE" in out.out
    assert "60" in out.out  # rendered for the reader, in Russian
    assert "next: --after 1" in out.err
    assert main(["hotline", "inbox", "--after", "1", "--format", "jsonl"]) == 0
    assert capsys.readouterr().out == ""

    assert main(["hotline", "ack", sent["id"]]) == 0
    out = capsys.readouterr()
    assert f"{sent['id']}: acknowledged by russia" in out.out
    assert "service attests" in out.err  # no key: the CLI says so
    assert main(["hotline", "inbox", "--format", "jsonl"]) == 0
    (msg,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["party"] for a in msg["acks"]] == ["russia"]

    reply = ["hotline", "send", "--to", "coalition", "--kind", "reply", "--reply-to", sent["id"]]
    assert main([*reply, "--text", "Сдвигаем на час.", "--lang", "ru"]) == 0
    assert "reply to coalition" in capsys.readouterr().out
    as_party(monkeypatch, server, "coalition", tmp_path, key=True)
    assert main(["hotline", "inbox", "--format", "jsonl"]) == 0
    (got,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert got["reply_to"] == sent["id"]
    assert got["attested"] is True
    assert got["rendered"]["source_lang"] == "ru"

    # bad input names the field
    assert main([*send, "--text", "hello"]) == 2
    assert "--lang" in capsys.readouterr().err
    assert main([*send, "--template", "request_shift", "--arg", "minutes"]) == 2
    assert "--arg[0]" in capsys.readouterr().err
    assert main(["hotline", "send", "--to", "atlantis", "--kind", "text", *_text()]) == 2
    assert "to[0]" in capsys.readouterr().err
    assert main(["hotline", "ack", "m-000000000000000000000000"]) == 2
    assert "message_id" in capsys.readouterr().err


def _text() -> list[str]:
    return ["--text", "hello", "--lang", "en"]


def test_serve_runs_until_ctrl_c_and_makes_its_key_0600(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """... and writes skyparley's own log lines (here a draft check) beside uvicorn's."""
    db = tmp_path / "svc.db"
    port = free_port()
    made = ["--db", str(db), "--protocol", str(PROTOCOL_PATH), "--party", "coalition"]
    assert main(["tokens", "new", *made, "--role", "operator"]) == 0
    token = capsys.readouterr().out.strip()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "skyparley", "serve", "--protocol", str(PROTOCOL_PATH)]
    proc = subprocess.Popen(
        [*cmd, "--db", str(db), "--port", str(port), "--log-level", "info"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        health = None
        for _ in range(600):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    break
                time.sleep(0.05)
        assert health is not None, proc.communicate(timeout=10)
        assert health.json()["protocol"] == "syria-2015-mou"
        notice = json.loads((SCENARIO_DIR / "beat2-coalition-raqqa.json").read_text())
        checked = httpx.post(
            f"http://127.0.0.1:{port}/v1/notices/check",
            json={"notice": notice},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert checked.status_code == 200, checked.text
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in err
    assert "skyparley.service: draft check by coalition" in err
    assert "Traceback" not in err
    key = db.with_name("svc.db.service.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()
    assert db.is_file()


def test_a_token_that_cannot_be_sent_is_refused_naming_its_source_never_shown(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    as_party(monkeypatch, server, "coalition", tmp_path, key=False)
    token = server.token("coalition")
    secret = token.removeprefix("skp_")
    for bad, why in (
        (token + "\n", "line break"),
        (" " + token, "space"),
        (token[:-1] + "é", "non-ASCII"),
    ):
        monkeypatch.setenv("SKYPARLEY_TOKEN", bad)
        assert main(["notice", "list"]) == 2
        err = capsys.readouterr().err
        assert "error: SKYPARLEY_TOKEN: " in err
        assert why in err
        assert secret[:8] not in err

    monkeypatch.delenv("SKYPARLEY_TOKEN")
    config = tmp_path / "client.toml"
    config.write_text(f'url = "{server.url}"\ntoken = "{token}\\n"\n')
    assert main(["notice", "list", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"error: {config}: token: " in err
    assert secret[:8] not in err
    config.write_text(f'url = "{server.url}"\ntoken = "{token}"\n')
    assert main(["notice", "list", "--config", str(config)]) == 0
    assert "no notices" in capsys.readouterr().out


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e999"])
def test_a_number_json_does_not_have_is_refused_with_or_without_a_key(
    number: str,
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notice = json.loads((SCENARIO_DIR / "beat2-russia-raqqa-v1.json").read_text())
    notice["volumes"][0]["lower"] = "LOWER"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(notice).replace('"LOWER"', number))
    for key in (True, False):
        as_party(monkeypatch, server, "russia", tmp_path, key=key)
        assert main(["notice", "file", str(bad)]) == 2
        err = capsys.readouterr().err
        assert "skyparley notice: error: notice.volumes[0].lower: " in err
        assert "internal error" not in err
    with server.client("russia") as http:
        assert http.get("/v1/notices").json() == []


def test_a_blank_id_is_refused_naming_the_argument(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reply = ["hotline", "send", "--to", "russia", "--kind", "reply", *_text()]
    for key in (True, False):
        as_party(monkeypatch, server, "coalition", tmp_path, key=key)
        for argv, field in (
            (["hotline", "ack", ""], "MESSAGE_ID"),
            (["hotline", "ack", "  "], "MESSAGE_ID"),
            (["notice", "cancel", ""], "ID"),
            ([*reply, "--reply-to", ""], "--reply-to"),
        ):
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert f"error: {field}: must be a non-empty id" in err, err
    as_party(monkeypatch, server, "russia", tmp_path, key=False)
    assert main(["hotline", "inbox", "--format", "jsonl"]) == 0
    assert capsys.readouterr().out == ""  # nothing was sent

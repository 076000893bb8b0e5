"""The WebSocket stream ``/v1/stream``: ordered, resumable, per party, across a restart.

Every wait is bounded (``asyncio.wait_for``); nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from tests.service_server import PARTIES, SCENARIO_DIR, Server, running_server
from websockets.asyncio.client import ClientConnection, connect

WAIT_S = 5.0  # the most any one receive may take before the test fails
NOTICE_DEADLINE_S = 900


def _scenario(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCENARIO_DIR / name).read_text(encoding="utf-8"))
    return data


def _stream_url(server: Server, party: str, cursor: object, token: str | None = None) -> str:
    token = token if token is not None else server.token(party, "viewer")
    return f"{server.url.replace('http://', 'ws://')}/v1/stream?cursor={cursor}&token={token}"


def _events(server: Server, party: str, after: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with server.client(party, "viewer") as c:
        while True:
            page = c.get("/v1/events", params={"after": after, "limit": 1000}).json()
            out += page["events"]
            if not page["events"]:
                return out
            after = page["cursor"]


def _text(server: Server, sender: str, to: str, text: str) -> str:
    with server.client(sender) as c:
        r = c.post(
            "/v1/messages",
            json={"kind": "text", "to": [to], "content": {"text": text, "lang": "en"}},
        )
    assert r.status_code == 201, r.text
    mid: str = r.json()["id"]
    return mid


def _request(server: Server, sender: str, to: str, text: str) -> str:
    with server.client(sender) as c:
        r = c.post(
            "/v1/messages",
            json={"kind": "request", "to": [to], "content": {"text": text, "lang": "en"}},
        )
    assert r.status_code == 201, r.text
    mid: str = r.json()["id"]
    return mid


async def _recv(ws: ClientConnection, n: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        raw = await asyncio.wait_for(ws.recv(), WAIT_S)
        out.append(json.loads(raw))
    return out


async def _recv_until(ws: ClientConnection, mid: str) -> list[dict[str, Any]]:
    """Events up to and including the message event of ``mid``."""
    out = []
    while True:
        ev = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
        out.append(ev)
        if ev["type"] == "message" and ev["data"]["id"] == mid:
            return out


def _wait_for(server: Server, party: str, kind: str, count: int) -> list[dict[str, Any]]:
    """Poll GET /v1/events until ``party`` has ``count`` events of ``kind`` (bounded)."""
    deadline = time.monotonic() + 10
    while True:
        evs = _events(server, party)
        if sum(e["type"] == kind for e in evs) >= count:
            return evs
        assert time.monotonic() < deadline, f"{party} never got {count} {kind} event(s)"
        time.sleep(0.05)


def _involves(party: str, ev: dict[str, Any]) -> bool:
    """Whether ``ev``'s data is about ``party`` (a stream carries only its own party's)."""
    d, kind = ev["data"], ev["type"]
    if kind == "message":
        return bool(d["from"] == party or party in d["to"])
    if kind == "notice":
        return bool(d["notice"]["party"] == party)
    if kind == "protected_area":
        return bool(d["area"]["owner"] == party)
    if kind == "finding":
        return bool(d["reader"] == party)
    if kind in ("ack", "escalation", "finding_cleared"):
        return True  # checked through the message they name, below
    raise AssertionError(f"an event of an unknown type: {ev}")


def _assert_own(server: Server, party: str, events: list[dict[str, Any]]) -> None:
    with server.client(party, "viewer") as c:
        for ev in events:
            assert _involves(party, ev), f"{party} got {ev}"
            if ev["type"] in ("ack", "escalation"):
                r = c.get(f"/v1/messages/{ev['data']['message_id']}")
                assert r.status_code == 200, f"{party} got {ev} about a message it may not see"


def _assert_ordered(events: list[dict[str, Any]]) -> None:
    cursors = [e["cursor"] for e in events]
    assert cursors == sorted(set(cursors)), cursors


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path) as s:
        with s.client("relief") as c:
            area = {"area": _scenario("beat1-relief-hama-hospital.json")}
            assert c.post("/v1/protected-areas", json=area).status_code == 201
        for party, name in (
            ("russia", "beat1-russia-homs-hama.json"),
            ("coalition", "beat2-coalition-raqqa.json"),
            ("russia", "beat2-russia-raqqa-v1.json"),
        ):
            with s.client(party) as c:
                r = c.post("/v1/notices", json={"notice": _scenario(name)})
                assert r.status_code == 201, r.text
        yield s
        _wake_every_stream(s)


def _wake_every_stream(server: Server) -> None:
    """Give every party one more event before the server stops.

    Before api/app.py watched the socket for the client's close, a stream whose client had
    gone stayed parked on its party's queue and uvicorn's shutdown waited 30 s for it; an
    event makes such a stream try to send, find the socket closed and end. Harmless now.
    """
    _text(server, "coalition", "russia", "closing")
    _text(server, "russia", "relief", "closing")


@pytest.mark.parametrize("party", PARTIES)
def test_cursor_0_gives_the_backlog_in_order_then_live_events(server: Server, party: str) -> None:
    backlog = _events(server, party)
    assert backlog

    async def run() -> list[dict[str, Any]]:
        async with connect(_stream_url(server, party, 0)) as ws:
            got = await _recv(ws, len(backlog))
            assert got == backlog
            sender = "coalition" if party != "coalition" else "russia"
            mid = await asyncio.to_thread(_text, server, sender, party, "live")
            return got + await _recv_until(ws, mid)

    got = asyncio.run(run())
    _assert_ordered(got)
    _assert_own(server, party, got)
    assert got == _events(server, party)


def test_resume_across_a_restart_has_no_gap_and_no_duplicate(server: Server) -> None:
    party = "russia"

    async def first() -> list[dict[str, Any]]:
        async with connect(_stream_url(server, party, 0)) as ws:
            mid = await asyncio.to_thread(_request, server, "coalition", party, "before")
            return await _recv_until(ws, mid)

    seen = asyncio.run(first())
    last = seen[-1]["cursor"]
    # while disconnected: a message to russia, an ack from russia, and one for others only
    _text(server, "coalition", party, "while away")
    with server.client(party) as c:
        assert c.post(f"/v1/messages/{seen[-1]['data']['id']}/ack", json={}).status_code == 200
    _text(server, "coalition", "relief", "not for russia")
    _wake_every_stream(server)
    server.restart()
    # after the restart: a notice from relief's side that russia must acknowledge, left
    # unacknowledged past its deadline so the ticker escalates it to russia and relief
    notice = _request(server, "relief", party, "after the restart")
    escalations_before = sum(e["type"] == "escalation" for e in _events(server, party))
    server.clock.advance(NOTICE_DEADLINE_S)
    _wait_for(server, party, "escalation", escalations_before + 1)
    marker = _text(server, "coalition", party, "marker")
    expected = _events(server, party, after=last)
    assert any(e["type"] == "escalation" for e in expected)
    assert any(e["type"] == "message" and e["data"]["id"] == notice for e in expected)

    async def resume() -> list[dict[str, Any]]:
        async with connect(_stream_url(server, party, last)) as ws:
            return await _recv_until(ws, marker)

    resumed = asyncio.run(resume())
    assert resumed == expected
    assert resumed[0]["cursor"] > last
    everything = seen + resumed
    _assert_ordered(everything)
    assert everything == _events(server, party)
    _assert_own(server, party, everything)


def test_resume_from_the_middle_of_the_backlog(server: Server) -> None:
    backlog = _events(server, "russia")
    middle = backlog[len(backlog) // 2]["cursor"]

    async def run() -> list[dict[str, Any]]:
        async with connect(_stream_url(server, "russia", middle)) as ws:
            return await _recv(ws, len([e for e in backlog if e["cursor"] > middle]))

    assert asyncio.run(run()) == [e for e in backlog if e["cursor"] > middle]


def test_two_streams_of_one_party_get_the_same_events(server: Server) -> None:
    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with (
            connect(_stream_url(server, "coalition", 0)) as a,
            connect(_stream_url(server, "coalition", 0, server.token("coalition", "admin"))) as b,
        ):
            mid = await asyncio.to_thread(_text, server, "russia", "coalition", "to both")
            return await _recv_until(a, mid), await _recv_until(b, mid)

    a, b = asyncio.run(run())
    assert a == b


def test_a_party_never_gets_another_party_s_events(server: Server) -> None:
    """relief listens while coalition and russia talk; its stream holds only its own."""

    async def run() -> list[dict[str, Any]]:
        async with connect(_stream_url(server, "relief", 0)) as ws:
            mid = await asyncio.to_thread(_request, server, "coalition", "russia", "private")
            await asyncio.to_thread(_text, server, "russia", "coalition", "private reply")
            with server.client("russia") as c:
                await asyncio.to_thread(c.post, f"/v1/messages/{mid}/ack", json={})
            marker = await asyncio.to_thread(_text, server, "russia", "relief", "marker")
            return await _recv_until(ws, marker)

    got = asyncio.run(run())
    _assert_own(server, "relief", got)
    text = json.dumps(got)
    assert "private" not in text
    others = {e["cursor"] for p in ("coalition", "russia") for e in _events(server, p)}
    assert not others & {e["cursor"] for e in got}


def _close_code(url: str) -> int | None:
    """The close code the server ends a connection with, before sending any event."""

    async def run() -> int | None:
        try:
            async with connect(url) as ws:
                msg = await asyncio.wait_for(ws.recv(), WAIT_S)
                raise AssertionError(f"the stream sent {msg!r}")
        except websockets.ConnectionClosed as exc:
            return None if exc.rcvd is None else exc.rcvd.code
        except websockets.InvalidStatus as exc:  # refused at the handshake
            return -exc.response.status_code

    return asyncio.run(run())


BAD_TOKENS = ["skp_" + "A" * 43, "garbage", ""]
BAD_CURSORS = [
    "-1",
    "abc",
    "1.5",
    "-0x10",
    "9223372036854775808",  # past what SQLite holds
    "1_0",  # int() reads these three as 10, 3 and 1
    "%D9%A3",
    "%201",
]


@pytest.mark.parametrize("token", BAD_TOKENS, ids=["unknown", "garbage", "empty"])
def test_a_bad_token_gets_no_event(server: Server, token: str) -> None:
    code = _close_code(_stream_url(server, "coalition", 0, token))
    assert code is not None
    assert code in (4401, -403, -401)


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_a_bad_cursor_gets_no_event(server: Server, cursor: str) -> None:
    code = _close_code(_stream_url(server, "coalition", cursor))
    assert code is not None
    assert code in (4422, -403, -400)


@pytest.mark.parametrize("token", BAD_TOKENS, ids=["unknown", "garbage", "empty"])
def test_a_bad_token_closes_with_4401(server: Server, token: str) -> None:
    assert _close_code(_stream_url(server, "coalition", 0, token)) == 4401


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_a_bad_cursor_closes_with_4422(server: Server, cursor: str) -> None:
    assert _close_code(_stream_url(server, "coalition", cursor)) == 4422


def test_a_revoked_token_gets_no_event(server: Server) -> None:
    with server.client("coalition", "admin") as c:
        made = c.post("/v1/tokens", json={"role": "viewer"}).json()
        assert c.delete(f"/v1/tokens/{made['id']}").status_code == 200
    assert _close_code(_stream_url(server, "coalition", 0, made["token"])) is not None
    r = httpx.get(f"{server.url}/v1/events", headers={"Authorization": f"Bearer {made['token']}"})
    assert r.status_code == 401


def test_a_token_revoked_while_its_stream_is_open_ends_the_stream(server: Server) -> None:
    """The stream closes with 4401 at its next delivery instead of delivering it."""
    with server.client("coalition", "admin") as c:
        made = c.post("/v1/tokens", json={"role": "viewer"}).json()
    backlog = _events(server, "coalition")

    async def run() -> tuple[int | None, list[str]]:
        async with connect(_stream_url(server, "coalition", 0, made["token"])) as ws:
            await _recv(ws, len(backlog))
            with server.client("coalition", "admin") as c:
                assert c.delete(f"/v1/tokens/{made['id']}").status_code == 200
            await asyncio.to_thread(_text, server, "russia", "coalition", "after revoke")
            got: list[str] = []
            try:
                while True:
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))["type"])
            except websockets.ConnectionClosed:
                pass
            return ws.close_code, got

    code, got = asyncio.run(run())
    assert code == 4401
    assert got == []


def test_the_tracks_stream_answers_each_batch_until_its_token_is_revoked(server: Server) -> None:
    """/v1/tracks/stream: a batch gets its ingest result, a bad one an error naming the
    field; once the token is revoked, the next batch closes the socket with 4401."""
    with server.client("coalition", "admin") as c:
        made = c.post("/v1/tokens", json={"role": "operator"}).json()
    url = f"{server.url.replace('http://', 'ws://')}/v1/tracks/stream?token={made['token']}"
    states = {
        "time": [server.clock.now_s()],
        "id": ["co-ac-1"],
        "lat_deg": [35.5],
        "lon_deg": [38.0],
        "alt_ft": [20000.0],
        "gs_kt": [420.0],
        "trk_deg": [90.0],
    }

    async def run() -> tuple[dict[str, Any], dict[str, Any], int | None]:
        async with connect(url) as ws:
            await ws.send(json.dumps({"states": states}))
            ok = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
            await ws.send(json.dumps({"states": states | {"lat_deg": ["35.5"]}}))
            bad = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
            await ws.send(b'{"states": {}}')  # a binary frame: an answer, not a dropped socket
            binary = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
            assert binary["error"]["field"] == "message", binary
            with server.client("coalition", "admin") as c:
                assert c.delete(f"/v1/tokens/{made['id']}").status_code == 200
            # the token is looked up again once a second at most: a frame within the second
            # is still taken, the stream ends at the first frame after it
            with contextlib.suppress(websockets.ConnectionClosed):
                for _ in range(int(WAIT_S / 0.25)):
                    await ws.send(json.dumps({"states": states}))
                    await asyncio.wait_for(ws.recv(), WAIT_S)
                    await asyncio.sleep(0.25)
            return ok, bad, ws.close_code

    ok, bad, code = asyncio.run(run())
    assert ok["accepted"] == 1, ok
    assert bad["error"]["field"] == "states.lat_deg[0]"
    assert code == 4401


def _subscribers(server: Server) -> float:
    with server.client("coalition", "admin") as c:
        text = c.get("/v1/metrics").text
    (line,) = [x for x in text.splitlines() if x.startswith("skyparley_stream_subscribers ")]
    return float(line.split()[1])


def test_a_disconnected_client_leaves_no_subscription(server: Server) -> None:
    backlog = _events(server, "coalition")

    async def run() -> None:
        async with connect(_stream_url(server, "coalition", 0)) as ws:
            await _recv(ws, len(backlog))

    asyncio.run(run())
    deadline = time.monotonic() + WAIT_S
    while _subscribers(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _subscribers(server) == 0

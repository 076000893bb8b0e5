"""The need-to-know matrix: party x role x endpoint x object, against a real server.

The Syria 2015 state is set up through the HTTP API (unsigned requests, service-attested):
relief's hospital near Hama, russia's Homs-Hama notice that overlaps it, coalition's Raqqa
notice and russia's conflicting Raqqa notice (version 1), and a hotline request from
coalition to russia. Then every endpoint of the API is called by every party with every
kind of credential (viewer, operator, admin, none, a revoked token) on every object, and:

- no unauthorised read or write succeeds: 401 without a token or with a bad one, 403 for a
  role that may not, 404 for an object the party may not know of;
- no field leaks: no response a party gets holds the id, a coordinate or a time of an
  object it may not see (the forbidden values are read from the scenario files).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.service_server import PARTIES, SCENARIO_DIR, Server, running_server

from skyparley.domain.ledger import COSIGNATURE_V1, Witness

ROLES = ("viewer", "operator", "admin", "none", "revoked")
HOSPITAL = "beat1-relief-hama-hospital.json"
HOMS_HAMA = "beat1-russia-homs-hama.json"
CO_RAQQA = "beat2-coalition-raqqa.json"
RU_RAQQA = "beat2-russia-raqqa-v1.json"
FINDINGS = {"coalition": 1, "russia": 2, "relief": 1}  # findings each party gets
REQUEST_TEXT = "Please shift the Raqqa window one hour later"


def _scenario(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCENARIO_DIR / name).read_text(encoding="utf-8"))
    return data


def _other(party: str) -> str:
    return PARTIES[(PARTIES.index(party) + 1) % len(PARTIES)]


# ---------------------------------------------------------------- forbidden values


def _vertices(obj: dict[str, Any]) -> set[tuple[float, float]]:
    """Every [lon, lat] pair of the volumes of a notice or an area file."""
    volumes = obj["volumes"] if "volumes" in obj else [obj["volume"]]
    out: set[tuple[float, float]] = set()
    for v in volumes:
        area = v["area"]
        if area["type"] == "Circle":
            out.add((float(area["center"][0]), float(area["center"][1])))
        else:
            for ring in area["coordinates"]:
                out |= {(float(x), float(y)) for x, y in ring}
    return out


@dataclass
class Secret:
    """What one object would leak: strings and coordinate pairs, and who may see them."""

    name: str
    visible_to: frozenset[str]
    strings: set[str] = field(default_factory=set)
    pairs: set[tuple[float, float]] = field(default_factory=set)


def _scenario_secrets() -> list[Secret]:
    hospital, homs = _scenario(HOSPITAL), _scenario(HOMS_HAMA)
    co_raqqa, ru_raqqa = _scenario(CO_RAQQA), _scenario(RU_RAQQA)
    return [
        Secret(
            "relief's hospital",
            frozenset({"relief"}),
            # its id, its window (a party told of the overlap sees the overlap's times only)
            {hospital["id"], hospital["volume"]["start"], hospital["volume"]["end"]},
            _vertices(hospital),
        ),
        Secret(
            "russia's Homs-Hama volumes", frozenset({"russia"}), {homs["remark"]}, _vertices(homs)
        ),
        Secret(
            "russia's Raqqa volumes",
            frozenset({"russia"}),
            {ru_raqqa["filed"]},
            _vertices(ru_raqqa),
        ),
        Secret(
            "coalition's Raqqa volumes",
            frozenset({"coalition"}),
            {co_raqqa["filed"]},
            _vertices(co_raqqa),
        ),
    ]


# ---------------------------------------------------------------- the world


@dataclass
class World:
    """The server with the scenario state and what each party may know of it."""

    server: Server
    revoked: dict[str, str]
    token_ids: dict[str, list[str]]
    notice_ids: dict[str, str]  # file name -> notice id
    request_id: str
    finding_messages: dict[str, list[str]]  # reader -> message ids of its findings
    leaf_readers: dict[int, frozenset[str]]
    secrets: list[Secret]
    log_size: int

    def auth(self, party: str, role: str) -> dict[str, str]:
        if role == "none":
            return {}
        token = self.revoked[party] if role == "revoked" else self.server.token(party, role)
        return {"Authorization": f"Bearer {token}"}

    def call(
        self, party: str, role: str, method: str, path: str, body: Any = None
    ) -> httpx.Response:
        with httpx.Client(base_url=self.server.url, timeout=30) as c:
            r = c.request(method, path, json=body, headers=self.auth(party, role))
        assert_no_leak(self, party, r, sent=path + json.dumps(body))
        return r

    def ledger_size(self) -> int:
        r = httpx.get(f"{self.server.url}/v1/health", timeout=30)
        assert r.status_code == 200
        return int(r.json()["ledger_size"])


def _numbers(node: Any) -> Iterator[tuple[float, float]]:
    """Every pair of leading numbers of every JSON array in ``node``."""
    if isinstance(node, dict):
        for v in node.values():
            yield from _numbers(v)
    elif isinstance(node, list):
        nums = [x for x in node[:2] if isinstance(x, int | float) and not isinstance(x, bool)]
        if len(nums) == 2:
            yield float(nums[0]), float(nums[1])
        for v in node:
            yield from _numbers(v)


# A leaf's ``prev`` is the hash of its author's previous entry; the service's own chain runs
# through the entries it attests for every party, so a receipt of one party's leaf names the
# entry hash of the service's previous leaf, whoever it was for. The matrix lets that one
# link pass (reported: it names no object, only a hash of the chain).
_PREV = re.compile(r'(\\?"prev\\?":\\?")[0-9a-f]{64}')


def assert_no_leak(world: World, party: str, r: httpx.Response, *, sent: str = "") -> None:
    """``r`` (an answer to ``party``) names nothing of an object ``party`` may not see;
    what the request itself named (an id in its path, echoed by a 404) does not count."""
    text = _PREV.sub(r"\1<prev>", r.text)
    for s in world.secrets:
        if party in s.visible_to:
            continue
        for needle in s.strings - {x for x in s.strings if x in sent}:
            assert needle not in text, f"{party} was shown {needle!r} of {s.name}: {text[:400]}"
        if s.pairs and r.headers.get("content-type", "").startswith("application/json"):
            for x, y in _numbers(r.json()):
                for px, py in s.pairs:
                    assert not (
                        math.isclose(x, px, abs_tol=1e-9) and math.isclose(y, py, abs_tol=1e-9)
                    ), f"{party} was shown the point {(px, py)} of {s.name}"


def _post(server: Server, party: str, path: str, body: Any) -> dict[str, Any]:
    with server.client(party) as c:
        r = c.post(path, json=body)
    assert r.status_code in (200, 201), r.text
    out: dict[str, Any] = r.json()
    return out


def _build(server: Server) -> World:
    area = _post(server, "relief", "/v1/protected-areas", {"area": _scenario(HOSPITAL)})
    homs = _post(server, "russia", "/v1/notices", {"notice": _scenario(HOMS_HAMA)})
    co = _post(server, "coalition", "/v1/notices", {"notice": _scenario(CO_RAQQA)})
    ru = _post(server, "russia", "/v1/notices", {"notice": _scenario(RU_RAQQA)})
    request = _post(
        server,
        "coalition",
        "/v1/messages",
        {"kind": "request", "to": ["russia"], "content": {"text": REQUEST_TEXT, "lang": "en"}},
    )
    secrets = _scenario_secrets()
    leaf_readers: dict[int, frozenset[str]] = {
        area["ledger_index"]: frozenset({"relief"}),
        homs["ledger_index"]: frozenset(PARTIES),
        co["ledger_index"]: frozenset(PARTIES),
        ru["ledger_index"]: frozenset(PARTIES),
        request["ledger_index"]: frozenset({"coalition", "russia"}),
    }
    secrets.append(Secret("relief's area entry", frozenset({"relief"}), {area["entry_hash"]}))
    secrets.append(
        Secret(
            "coalition's request to russia",
            frozenset({"coalition", "russia"}),
            {request["id"], request["entry_hash"], REQUEST_TEXT},
        )
    )
    finding_messages: dict[str, list[str]] = {}
    findings_of: dict[str, set[str]] = {}
    for party in PARTIES:
        with server.client(party, "viewer") as c:
            mine = c.get("/v1/findings").json()
            finding_messages[party] = [f["message_id"] for f in mine]
            findings_of[party] = {f["id"] for f in mine}
            for mid in finding_messages[party]:
                m = c.get(f"/v1/messages/{mid}").json()
                leaf_readers[m["ledger_index"]] = frozenset({party})
                secrets.append(
                    Secret(f"{party}'s finding message", frozenset({party}), {mid, m["entry_hash"]})
                )
    for fid in set().union(*findings_of.values()):
        readers = frozenset(p for p in PARTIES if fid in findings_of[p])
        secrets.append(Secret(f"finding {fid}", readers, {fid}))
    revoked: dict[str, str] = {}
    token_ids: dict[str, list[str]] = {}
    for party in PARTIES:
        with server.client(party, "admin") as c:
            made = c.post("/v1/tokens", json={"role": "admin", "label": "revoked"}).json()
            assert c.delete(f"/v1/tokens/{made['id']}").status_code == 200
            revoked[party] = made["token"]
            token_ids[party] = [t["id"] for t in c.get("/v1/tokens").json()]
        texts = {server.token(party, role) for role in ("viewer", "operator", "admin")}
        secrets.append(
            Secret(f"{party}'s tokens", frozenset({party}), set(token_ids[party]) | texts)
        )
    world = World(
        server=server,
        revoked=revoked,
        token_ids=token_ids,
        notice_ids={n: _scenario(n)["id"] for n in (HOMS_HAMA, CO_RAQQA, RU_RAQQA)},
        request_id=request["id"],
        finding_messages=finding_messages,
        leaf_readers=leaf_readers,
        secrets=secrets,
        log_size=0,
    )
    world.log_size = world.ledger_size()
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_server(tmp_path_factory.mktemp("need-to-know")) as server:
        yield _build(server)


# ---------------------------------------------------------------- the state itself


def test_the_scenario_state_is_what_the_matrix_assumes(world: World) -> None:
    """Each party has the findings the scenario says, and every leaf has known readers."""
    kinds = {}
    for party in PARTIES:
        r = world.call(party, "viewer", "GET", "/v1/findings")
        kinds[party] = sorted(f["kind"] for f in r.json())
    assert kinds == {
        "coalition": ["notice_conflict"],
        "russia": ["notice_conflict", "protected_area"],
        "relief": ["protected_area"],
    }
    assert sorted(world.leaf_readers) == list(range(world.log_size))


def test_russia_sees_only_the_overlap_with_the_hospital(world: World) -> None:
    """russia's finding names relief but not the hospital, and its overlap lies in russia's
    own notice window and band (buffered), not in the hospital's week and 0-FL450."""
    r = world.call("russia", "operator", "GET", "/v1/findings")
    (f,) = [f for f in r.json() if f["kind"] == "protected_area"]
    assert f["other"] == "a protected area of relief"
    assert f["subject"]["id"] == _scenario(HOMS_HAMA)["id"]
    assert set(f) >= {"overlap"}
    text = json.dumps(f)
    for leak in ("center", "radius_nm", "disclosure", "relief-hama-hospital"):
        assert leak not in text
    o = f["overlap"]
    assert "2015-09-30T05:45:00Z" <= o["start"] < o["end"] <= "2015-09-30T09:15:00Z"
    assert 14_000 <= o["lower"] < o["upper"] <= 31_000


def test_relief_is_told_russia_was_notified(world: World) -> None:
    r = world.call("relief", "operator", "GET", "/v1/findings")
    (f,) = r.json()
    assert f["kind"] == "protected_area"
    assert f["other"] == "russia"
    assert "volumes" not in json.dumps(f)


# ---------------------------------------------------------------- reads without an object


@dataclass(frozen=True)
class Read:
    name: str
    path: str
    role: str | None  # the least role needed; None: no token needed

    def expected(self, role: str) -> int:
        if self.role is None:
            return 200
        if role in ("none", "revoked"):
            return 401
        rank = ("viewer", "operator", "admin")
        return 200 if rank.index(role) >= rank.index(self.role) else 403


READS = [
    Read("health", "/v1/health", None),
    Read("metrics", "/v1/metrics", "admin"),
    Read("protocol", "/v1/protocol", "viewer"),
    Read("zones", "/v1/zones", "viewer"),
    Read("tokens", "/v1/tokens", "admin"),
    Read("notices", "/v1/notices", "viewer"),
    Read("notices-live", "/v1/notices?live=true", "viewer"),
    Read("findings", "/v1/findings", "viewer"),
    Read("findings-all", "/v1/findings?all=true", "viewer"),
    Read("protected-areas", "/v1/protected-areas", "viewer"),
    Read("inbox", "/v1/messages", "viewer"),
    Read("sent", "/v1/messages?box=sent", "viewer"),
    Read("events", "/v1/events", "viewer"),
    Read("ledger-head", "/v1/ledger/head", "viewer"),
    Read("checkpoint", "/v1/ledger/checkpoint", "viewer"),
    Read("inclusion", "/v1/ledger/proofs/inclusion?index=0&size=1", "viewer"),
    Read("consistency", "/v1/ledger/proofs/consistency?from=1&to=2", "viewer"),
]


@pytest.mark.parametrize("read", READS, ids=lambda r: r.name)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("party", PARTIES)
def test_read(world: World, party: str, role: str, read: Read) -> None:
    r = world.call(party, role, "GET", read.path)
    assert r.status_code == read.expected(role), r.text
    if r.status_code >= 400:
        assert set(r.json()["error"]) == {"code", "field", "reason"}


@pytest.mark.parametrize("party", PARTIES)
def test_lists_hold_only_the_party_s_own_objects(world: World, party: str) -> None:
    notices = world.call(party, "viewer", "GET", "/v1/notices").json()
    assert {n["notice"]["party"] for n in notices} <= {party}
    areas = world.call(party, "viewer", "GET", "/v1/protected-areas").json()
    assert all(
        a["area"]["owner"] == party or a["area"].get("disclosure") == "public" for a in areas
    )
    events = world.call(party, "viewer", "GET", "/v1/events").json()["events"]
    assert events, f"{party} has no events"
    inbox = world.call(party, "viewer", "GET", "/v1/messages").json()["messages"]
    assert all(party in m["to"] for m in inbox)
    sent = world.call(party, "viewer", "GET", "/v1/messages?box=sent").json()["messages"]
    assert all(m["from"] == party for m in sent)


# ---------------------------------------------------------------- reads of one object


Locate = Callable[[World], tuple[str, frozenset[str]]]


def _notice_at(name: str, owner: str, query: str, w: World) -> tuple[str, frozenset[str]]:
    return f"/v1/notices/{w.notice_ids[name]}{query}", frozenset({owner})


def _notices_of(party: str, _w: World) -> tuple[str, frozenset[str]]:
    return f"/v1/notices?party={party}", frozenset({party})


def _request(what: str, w: World) -> tuple[str, frozenset[str]]:
    return f"/v1/{what}/{w.request_id}", frozenset({"coalition", "russia"})


def _objects() -> list[tuple[str, Locate]]:
    """(name, world -> (path, parties that may read it)); 403 where the answer is 'never'."""
    objs: list[tuple[str, Locate]] = []
    for name, owner in ((HOMS_HAMA, "russia"), (CO_RAQQA, "coalition"), (RU_RAQQA, "russia")):
        stem = name.removesuffix(".json")
        objs.append((f"notice:{stem}", partial(_notice_at, name, owner, "")))
        objs.append((f"notice-v1:{stem}", partial(_notice_at, name, owner, "?version=1")))
    objs.extend((f"notices-of:{p}", partial(_notices_of, p)) for p in PARTIES)
    objs.append(("message:request", partial(_request, "messages")))
    objs.append(("thread:request", partial(_request, "threads")))
    for p in PARTIES:
        for k in range(FINDINGS[p]):
            objs.append((f"finding-message:{p}#{k}", partial(_finding_message, p, k, "messages")))
            objs.append((f"finding-thread:{p}#{k}", partial(_finding_message, p, k, "threads")))
    return objs


def _finding_message(reader: str, k: int, what: str, w: World) -> tuple[str, frozenset[str]]:
    mids = w.finding_messages[reader]
    assert len(mids) == FINDINGS[reader]
    return f"/v1/{what}/{mids[k]}", frozenset({reader})


OBJECTS = _objects()


@pytest.mark.parametrize(("obj", "locate"), OBJECTS, ids=[o[0] for o in OBJECTS])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("party", PARTIES)
def test_object_read(
    world: World,
    party: str,
    role: str,
    obj: str,
    locate: Callable[[World], tuple[str, frozenset[str]]],
) -> None:
    path, readers = locate(world)
    r = world.call(party, role, "GET", path)
    if role in ("none", "revoked"):
        assert r.status_code == 401
    elif party in readers:
        assert r.status_code == 200, r.text
    elif obj.startswith("notices-of:"):
        assert r.status_code == 403  # party ids are public; their notices are not
    else:
        assert r.status_code == 404, r.text
        assert r.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("index", range(9))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("party", PARTIES)
def test_receipt(world: World, party: str, role: str, index: int) -> None:
    """A receipt of a leaf the party wrote, was addressed in, or was attested for."""
    assert index < world.log_size
    r = world.call(party, role, "GET", f"/v1/ledger/receipts/{index}")
    if role in ("none", "revoked"):
        assert r.status_code == 401
    elif party in world.leaf_readers[index]:
        assert r.status_code == 200, r.text
        assert r.json()["receipt"]["leaf_index"] == index
    else:
        assert r.status_code == 404, r.text


def test_receipts_end_at_the_log_size(world: World) -> None:
    r = world.call("relief", "admin", "GET", f"/v1/ledger/receipts/{world.log_size}")
    assert r.status_code == 404


# ---------------------------------------------------------------- writes that must fail


def _notice(name: str, **changes: Any) -> dict[str, Any]:
    return {"notice": _scenario(name) | changes}


def _own_notice(party: str) -> dict[str, Any]:
    n = _scenario(CO_RAQQA) | {
        "party": party,
        "id": f"{party}-matrix-own",
        "filed": "2015-12-31T00:00:00Z",
    }
    n["volumes"] = [
        {
            "area": {"type": "Circle", "center": [10.0, -60.0], "radius_nm": 1.0},
            "lower": 1000,
            "upper": 2000,
            "start": "2016-01-01T00:00:00Z",
            "end": "2016-01-01T01:00:00Z",
        }
    ]
    return {"notice": n}


def _own_area(party: str) -> dict[str, Any]:
    return {
        "owner": party,
        "id": f"{party}-own-area",
        "kind": "other",
        "volume": _own_notice(party)["notice"]["volumes"][0],
    }


def _other_notice_file(party: str) -> str:
    return RU_RAQQA if party != "russia" else CO_RAQQA


def _cosign_as(w: World, party: str) -> dict[str, Any]:
    """A cosignature of the latest checkpoint made with another party's key."""
    with w.server.client(party, "viewer") as c:
        cp = c.get("/v1/ledger/checkpoint").json()
    witness = Witness(
        key=w.server.key(_other(party)).with_type(COSIGNATURE_V1),
        log_key=w.server.service_key.verifier,
        origin=cp["checkpoint"].split("\n", 1)[0],
    )
    line = witness.cosign(cp["checkpoint"], (), time_s=1_443_585_600).cosignature.to_line()
    return {"size": cp["size"], "cosignature": line}


@dataclass(frozen=True)
class Write:
    name: str
    method: str
    make: Callable[[World, str], tuple[str, Any]]
    role: str  # the least role the endpoint needs
    refused: int | None  # what a party with that role gets; None: it would succeed

    def expected(self, role: str) -> int | None:
        if role in ("none", "revoked"):
            return 401
        rank = ("viewer", "operator", "admin")
        if rank.index(role) < rank.index(self.role):
            return 403
        return self.refused


WRITES = [
    Write("file-own", "POST", lambda _w, p: ("/v1/notices", _own_notice(p)), "operator", None),
    # a check shows others' overlaps as a filing would, without a trace in the ledger: it
    # takes the role that files (a viewer may not probe others' volumes with drafts)
    Write(
        "check-own-draft",
        "POST",
        lambda _w, p: ("/v1/notices/check", _own_notice(p)),
        "operator",
        None,
    ),
    Write(
        "check-draft-of-other",
        "POST",
        lambda _w, p: ("/v1/notices/check", _notice(CO_RAQQA, party=_other(p))),
        "operator",
        403,
    ),
    Write(
        "file-for-other",
        "POST",
        lambda _w, p: (
            "/v1/notices",
            _notice(CO_RAQQA, party=_other(p), id=f"{p}-for-{_other(p)}"),
        ),
        "operator",
        403,
    ),
    Write(
        "version-of-other",
        "PUT",
        lambda w, p: (
            f"/v1/notices/{w.notice_ids[_other_notice_file(p)]}",
            _notice(_other_notice_file(p), version=2),
        ),
        "operator",
        403,
    ),
    Write(
        "cancel-other",
        "POST",
        lambda w, p: (f"/v1/notices/{w.notice_ids[_other_notice_file(p)]}/cancel", {}),
        "operator",
        404,
    ),
    Write(
        "area-for-other",
        "POST",
        lambda _w, p: (
            "/v1/protected-areas",
            {"area": _scenario(HOSPITAL) | {"owner": _other(p), "id": f"{p}-for-other"}},
        ),
        "operator",
        403,
    ),
    Write(
        "message-to-self",
        "POST",
        lambda _w, p: (
            "/v1/messages",
            {"kind": "text", "to": [p], "content": {"text": "hi", "lang": "en"}},
        ),
        "operator",
        422,
    ),
    Write(
        "ack-request",
        "POST",
        lambda w, _p: (f"/v1/messages/{w.request_id}/ack", {}),
        "operator",
        None,  # decided per party below
    ),
    Write(
        "ack-finding-of-other",
        "POST",
        lambda w, p: (f"/v1/messages/{w.finding_messages[_other(p)][0]}/ack", {}),
        "operator",
        404,
    ),
    Write("token-new", "POST", lambda _w, _p: ("/v1/tokens", {"role": "viewer"}), "admin", None),
    Write(
        "token-revoke-other",
        "DELETE",
        lambda w, p: (f"/v1/tokens/{w.token_ids[_other(p)][0]}", None),
        "admin",
        404,
    ),
    Write(
        "cosign-as-other",
        "POST",
        lambda w, p: ("/v1/ledger/cosign", _cosign_as(w, p)),
        "operator",
        422,
    ),
]

_ACK_REQUEST = {"coalition": 403, "relief": 404, "russia": None}


def _refused(party: str, role: str, write: Write) -> int | None:
    if write.name == "ack-request" and role in ("operator", "admin"):
        return _ACK_REQUEST[party]
    return write.expected(role)


# allowed writes are left to test_allowed_writes, on a server of their own
REFUSED = [
    pytest.param(
        party, role, write, _refused(party, role, write), id=f"{party}-{role}-{write.name}"
    )
    for party in PARTIES
    for role in ROLES
    for write in WRITES
    if _refused(party, role, write) is not None
]


@pytest.mark.parametrize(("party", "role", "write", "expected"), REFUSED)
def test_write_refused(world: World, party: str, role: str, write: Write, expected: int) -> None:
    """Writes that must not succeed do not, and leave the log as it was."""
    path, body = write.make(world, party)
    before = world.ledger_size()
    r = world.call(party, role, write.method, path, body)
    assert r.status_code == expected, r.text
    assert set(r.json()["error"]) == {"code", "field", "reason"}
    assert world.ledger_size() == before


# ---------------------------------------------------------------- writes that succeed


@pytest.mark.parametrize("role", ["operator", "admin"])
@pytest.mark.parametrize("party", PARTIES)
def test_allowed_writes(tmp_path: Path, party: str, role: str) -> None:
    """What an operator (or admin) may do for its own party succeeds, on a server of its
    own; every answer, and the party's stream afterwards, still leaks nothing."""
    with running_server(tmp_path) as server:
        w = _build(server)
        n = _own_notice(party)
        nid = n["notice"]["id"]
        steps: list[tuple[str, str, Any, int]] = [
            ("POST", "/v1/notices/check", n, 200),
            ("POST", "/v1/notices", n, 201),
            ("PUT", f"/v1/notices/{nid}", {"notice": n["notice"] | {"version": 2}}, 200),
            ("POST", f"/v1/notices/{nid}/cancel", {}, 200),
            (
                "POST",
                "/v1/protected-areas",
                {"area": _own_area(party)},
                201,
            ),
            (
                "POST",
                "/v1/messages",
                {"kind": "text", "to": [_other(party)], "content": {"text": "ok", "lang": "en"}},
                201,
            ),
            ("POST", f"/v1/messages/{w.finding_messages[party][0]}/ack", {}, 200),
        ]
        if party == "russia":
            steps.append(("POST", f"/v1/messages/{w.request_id}/ack", {}, 200))
        with server.client(party, "viewer") as c:
            cp = c.get("/v1/ledger/checkpoint").json()
        witness = Witness(
            key=server.key(party).with_type(COSIGNATURE_V1),
            log_key=server.service_key.verifier,
            origin=cp["checkpoint"].split("\n", 1)[0],
        )
        line = witness.cosign(cp["checkpoint"], (), time_s=1_443_585_600).cosignature.to_line()
        steps.append(("POST", "/v1/ledger/cosign", {"size": cp["size"], "cosignature": line}, 200))
        for method, path, body, status in steps:
            r = w.call(party, role, method, path, body)
            assert r.status_code == status, (path, r.text)
        if role == "admin":
            made = w.call(party, role, "POST", "/v1/tokens", {"role": "viewer"})
            assert made.status_code == 201
            assert made.json()["party"] == party
            gone = w.call(party, role, "DELETE", f"/v1/tokens/{made.json()['id']}")
            assert gone.status_code == 200
            r = httpx.get(
                f"{server.url}/v1/notices",
                headers={"Authorization": f"Bearer {made.json()['token']}"},
            )
            assert r.status_code == 401
        for reader in PARTIES:
            w.call(reader, "viewer", "GET", "/v1/events?limit=1000")
            w.call(reader, "viewer", "GET", "/v1/findings?all=true")
            w.call(reader, "viewer", "GET", "/v1/messages?limit=1000")


def test_the_leak_check_sees_a_leak(world: World) -> None:
    """The checker itself: relief's own area list, shown to coalition, is a leak (by id and
    by point); shown to relief, it is not."""
    r = world.call("relief", "viewer", "GET", "/v1/protected-areas")
    assert_no_leak(world, "relief", r)
    with pytest.raises(AssertionError, match="relief-hama-hospital"):
        assert_no_leak(world, "coalition", r)
    point_only = httpx.Response(200, json={"x": [[36.8, 35.17]]})
    with pytest.raises(AssertionError, match="point"):
        assert_no_leak(world, "russia", point_only)

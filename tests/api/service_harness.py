"""Durability harness of the service: hotline traffic while the server is SIGKILLed.

A server process (``tests/api/_service_server_proc.py``: ``create_app`` under uvicorn, one
SQLite file, the system clock) runs a copy of the Syria 2015 protocol whose deadlines are
short (``request`` and ``alert`` due in ``deadline_s``, each rung of the ladder
``rung_s`` after the one before), so messages escalate during the run. Per party, in this
process:

- a **worker** thread sends hotline messages in a loop, signed with the party's demo key
  and chained client-side (``prev`` is the entry hash of its previous 2xx answer). A
  quarter are ``request`` messages the addressee acknowledges, a quarter ``request`` and a
  quarter ``alert`` left to escalate, a quarter ``text`` (no acknowledgement asked). It
  acknowledges the messages it is meant to as soon as its stream shows them, signed too.
  On a connection error or a 5xx it sends the *same* request again (same signature
  envelope, hence the same idempotency key) until it gets an answer;
- a **stream** thread reads ``/v1/stream`` over a WebSocket and, whenever the connection
  drops, resumes with ``?cursor=`` its last cursor.

The harness kills the server with SIGKILL ``kills`` times, each after a random
``[min_up_s, max_up_s]`` of service, and restarts it on the same file and port. Then the
workers stop, the server gets time to escalate whatever fell due, and the audit reads the
API and the ledger table of the same file (read-only):

- **lost**: a message or ack that got a 2xx and is not in the sender's sent box (messages)
  or in the message's acks;
- **duplicated**: a harness message that appears more than once in the sent box, or a
  ``(party, idem)`` with more than one leaf in the ledger;
- **escalations**: for every (message, addressee) not acknowledged, each level of the
  ladder above the first must have exactly one escalation, in the API's view of the
  message and as a ledger entry of kind ``escalation``; acknowledged ones may have
  escalated before the ack, at most once per level, never after it. ``missing``,
  ``doubled`` and ``after ack`` count the departures; an escalation of a message that
  asks for no acknowledgement counts as ``doubled`` too;
- **stream**: each party's events, as its resuming stream received them, must equal
  ``GET /v1/events`` from cursor 0: no gap, no duplicate, cursors increasing;
- **server errors**: any 5xx answer; **client errors**: any other non-2xx answer.

From the command line (repository root)::

    .venv/bin/python -m tests.api.service_harness --kills 20
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from tests.service_server import PARTIES, PROTOCOL_PATH, free_port, make_tokens
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from skyparley.adapters.protocol_file import load_protocol
from skyparley.domain.hotline import MessageContent
from skyparley.domain.ledger import SignedEntry
from skyparley.domain.ledger.keys import demo_key
from skyparley.domain.statements import Signature, ack_body, message_body, sign_statement
from skyparley.domain.times import parse_time
from skyparley.errors import SkyparleyError

__all__ = ["HarnessResult", "fast_protocol", "main", "run_harness"]

REPO = Path(__file__).resolve().parents[2]
_READY_TIMEOUT_S = 30.0
_RETRY_S = 0.05
_LANG = {"coalition": "en", "russia": "ru", "relief": "ar"}
# message i of a worker: (kind, whether the addressee acknowledges it)
_PLAN = (("request", True), ("request", False), ("text", False), ("alert", False))


@dataclass
class HarnessResult:
    """What a harness run did and what the audit found."""

    kills: int = 0
    kills_under_load: int = 0
    sent: int = 0
    present: int = 0
    lost: int = 0
    duplicated: int = 0
    acks: int = 0
    acks_present: int = 0
    escalations_expected: int = 0
    escalations_found: int = 0
    escalations_missing: int = 0
    escalations_doubled: int = 0
    escalations_after_ack: int = 0
    ledger_escalations: int = 0
    events: int = 0
    stream_gaps: int = 0
    stream_duplicates: int = 0
    resumes: int = 0
    server_errors: int = 0
    client_errors: int = 0
    retries: int = 0
    elapsed_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """No loss, duplicate, escalation fault, stream fault or error answer."""
        return not (
            self.lost
            or self.duplicated
            or self.escalations_missing
            or self.escalations_doubled
            or self.escalations_after_ack
            or self.stream_gaps
            or self.stream_duplicates
            or self.server_errors
            or self.client_errors
            or self.acks_present != self.acks
            or self.present != self.sent
        )

    def summary(self) -> str:
        """One line for humans, then the first problems found."""
        text = (
            f"kills {self.kills} ({self.kills_under_load} under load), messages "
            f"{self.present}/{self.sent}, lost {self.lost}, duplicated {self.duplicated}, "
            f"acks {self.acks_present}/{self.acks}, escalations "
            f"{self.escalations_found}/{self.escalations_expected} (ledger "
            f"{self.ledger_escalations}; missing {self.escalations_missing}, doubled "
            f"{self.escalations_doubled}, after ack {self.escalations_after_ack}), stream "
            f"events {self.events} (gaps {self.stream_gaps}, duplicates "
            f"{self.stream_duplicates}, resumes {self.resumes}), server errors "
            f"{self.server_errors}, client errors {self.client_errors}, retried requests "
            f"{self.retries}, {self.elapsed_s:.1f} s"
        )
        if self.problems:
            text += "\n  " + "\n  ".join(self.problems[:10])
        return text


def fast_protocol(path: Path, *, deadline_s: float, rung_s: float) -> Path:
    """Write the Syria 2015 protocol with short deadlines to ``path`` (and return it)."""
    doc = yaml.safe_load(PROTOCOL_PATH.read_text(encoding="utf-8"))
    doc["protocol"] = "syria-2015-mou-fast"
    for kind in ("request", "alert"):
        doc["hotline"]["messages"][kind]["deadline_s"] = deadline_s
    for rung in doc["hotline"]["escalation"][1:]:
        rung["deadline_s"] = rung_s
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


class ServerProcess:
    """The server process: start, wait until it answers, kill."""

    def __init__(self, db: Path, port: int, protocol: Path, log: Path, tick_s: float) -> None:
        self.args = [
            *(sys.executable, "-m", "tests.api._service_server_proc"),
            *("--db", str(db), "--port", str(port), "--protocol", str(protocol)),
            *("--tick-s", str(tick_s)),
        ]
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.args, cwd=REPO, env=_env(), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SkyparleyError(f"the service exited: see {self.log}")
            try:
                if httpx.get(self.url + "/v1/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise SkyparleyError(f"the service did not start in {_READY_TIMEOUT_S} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


class _Counts:
    """Answers seen by the clients, shared by the threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.retries = 0
        self.server_errors = 0
        self.client_errors = 0
        self.problems: list[str] = []

    def add(self, what: str, problem: str | None = None) -> None:
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)
            if problem is not None:
                self.problems.append(problem)


class StreamReader(threading.Thread):
    """A party's ``/v1/stream``, resumed from its last cursor whenever it drops."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.base = url.replace("http://", "ws://") + "/v1/stream"
        self.token = token
        self.events: list[dict[str, Any]] = []
        self.last = 0
        self.resumes = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        connections = 0
        while not self.stopping.is_set():
            url = f"{self.base}?cursor={self.last}&token={self.token}"
            try:
                with connect(url, open_timeout=5, close_timeout=1) as ws:
                    self.resumes += connections > 0
                    connections += 1
                    while not self.stopping.is_set():
                        try:
                            text = ws.recv(timeout=0.2)
                        except TimeoutError:
                            continue
                        event = json.loads(text)
                        with self.lock:
                            self.events.append(event)
                            self.last = max(self.last, int(event["cursor"]))
            except (OSError, WebSocketException, TimeoutError):
                pass
            if not self.stopping.is_set():
                time.sleep(_RETRY_S)

    def seen(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.events)


@dataclass
class _Sent:
    party: str
    n: int
    kind: str
    to: str
    acked_by_plan: bool
    id: str
    entry_hash: str


class Worker(threading.Thread):
    """A party's operations centre: sends signed messages, acknowledges what it should."""

    def __init__(
        self, url: str, party: str, token: str, stream: StreamReader, counts: _Counts, pace_s: float
    ) -> None:
        super().__init__(daemon=True)
        self.party = party
        self.key = demo_key(party)
        self.client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        )
        self.stream = stream
        self.counts = counts
        self.pace_s = pace_s
        self.sent: list[_Sent] = []
        self.acked: dict[str, str] = {}  # message id -> entry hash of the ack
        self.stopping = threading.Event()
        self.prev: str | None = None
        self.log_id = ""
        self.fault: str | None = None

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The answer of a 2xx, after retrying the same request on connection errors and
        5xx answers; ``None`` for any other answer (counted as a client error)."""
        while True:
            try:
                r = self.client.request(method, path, json=body)
            except httpx.TransportError:
                self.counts.add("retries")
                time.sleep(_RETRY_S)
                continue
            if r.status_code >= 500:
                self.counts.add("server_errors", f"{method} {path}: {r.status_code} {r.text}")
                self.counts.add("retries")
                time.sleep(_RETRY_S)
                continue
            if r.status_code >= 300:
                self.counts.add("client_errors", f"{method} {path}: {r.status_code} {r.text}")
                return None
            return r.json()

    def _sign(self, kind: str, body: Any, idem: str) -> Signature:
        envelope, _ = sign_statement(
            self.key,
            log_id=self.log_id,
            party=self.party,
            kind=kind,
            body=body,
            prev=self.prev,
            idem=idem,
            now_s=time.time(),
        )
        return envelope

    def run(self) -> None:
        head = self._request("GET", "/v1/ledger/head")
        if head is None:
            self.fault = "no ledger head"
            return
        self.log_id, self.prev = head["log_id"], head["prev"]
        others = [p for p in PARTIES if p != self.party]
        n = 0
        while not self.stopping.is_set():
            kind, acked = _PLAN[n % len(_PLAN)]
            to = others[(n // len(_PLAN)) % len(others)]
            content = {"text": f"harness {self.party} {n}", "lang": _LANG[self.party]}
            body = message_body([to], MessageContent.from_dict(content))
            sig = self._sign(kind, body, f"h-{self.party}-{n}")
            answer = self._request(
                "POST",
                "/v1/messages",
                {"kind": kind, "to": [to], "content": content, "signature": sig.to_dict()},
            )
            if answer is None:
                self.fault = f"message {n} refused"
                return
            self.prev = answer["entry_hash"]
            self.sent.append(_Sent(self.party, n, kind, to, acked, answer["id"], self.prev))
            n += 1
            if not self._ack_due():
                return
            time.sleep(self.pace_s)
        self._ack_due()

    def _ack_due(self) -> bool:
        """Acknowledge every message the plan acks that the stream has shown."""
        for event in self.stream.seen():
            data = event["data"]
            if event["type"] != "message" or data.get("from") not in PARTIES:
                continue
            if data["from"] == self.party or data["id"] in self.acked:
                continue
            words = (data["content"].get("text") or "").split()
            if len(words) != 3 or not _PLAN[int(words[2]) % len(_PLAN)][1]:
                continue
            sig = self._sign("ack", ack_body(data["entry_hash"]), f"ack-{data['id']}")
            answer = self._request(
                "POST", f"/v1/messages/{data['id']}/ack", {"signature": sig.to_dict()}
            )
            if answer is None:
                self.fault = f"ack of {data['id']} refused"
                return False
            self.prev = answer["entry_hash"]
            self.acked[data["id"]] = answer["entry_hash"]
        return True


def _pages(client: httpx.Client, path: str, key: str, params: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    after = 0
    while True:
        r = client.get(path, params={**params, "after": after, "limit": 1000})
        r.raise_for_status()
        page = r.json()
        out += page[key]
        if not page[key] or page["cursor"] == after:
            return out
        after = page["cursor"]


def run_harness(
    workdir: Path,
    *,
    kills: int = 20,
    pace_s: float = 0.05,
    seed: int = 0,
    min_up_s: float = 0.3,
    max_up_s: float = 1.5,
    deadline_s: float = 1.5,
    rung_s: float = 1.0,
    tick_s: float = 0.05,
    time_limit_s: float = 300.0,
) -> HarnessResult:
    """Run the harness in ``workdir`` (database, protocol, server log) and audit the result.

    Bounded: after ``time_limit_s`` the kills stop. Every process and thread it started is
    gone when it returns, whatever happened.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    end = started + time_limit_s
    rng = random.Random(seed)  # noqa: S311 (kill timing, not cryptography)
    db = workdir / "service.db"
    protocol_path = fast_protocol(workdir / "protocol.yaml", deadline_s=deadline_s, rung_s=rung_s)
    protocol = load_protocol(protocol_path)
    tokens = make_tokens(db, protocol, time.time())
    server = ServerProcess(db, free_port(), protocol_path, workdir / "server.log", tick_s)
    counts = _Counts()
    result = HarnessResult()
    streams = {p: StreamReader(server.url, tokens[(p, "operator")]) for p in PARTIES}
    workers = [
        Worker(server.url, p, tokens[(p, "operator")], streams[p], counts, pace_s) for p in PARTIES
    ]
    try:
        server.start()
        for s in streams.values():
            s.start()
        for w in workers:
            w.start()
        while result.kills < kills and time.monotonic() < end:
            time.sleep(rng.uniform(min_up_s, max_up_s))
            loaded = any(w.is_alive() for w in workers)
            server.kill()
            result.kills += 1
            result.kills_under_load += loaded
            server.start()
        for w in workers:
            w.stopping.set()
        for w in workers:
            w.join(max(1.0, end - time.monotonic()))
        _audit(server, tokens, protocol_path, db, workers, streams, result, rung_s)
        for s in streams.values():  # uvicorn's graceful stop waits for open WebSockets
            s.stopping.set()
            s.join(5)
        server.stop()
    finally:
        for w in workers:
            w.stopping.set()
        for s in streams.values():
            s.stopping.set()
        server.kill()
        for w in workers:
            w.join(5)
            w.client.close()
        for s in streams.values():
            s.join(5)
    result.retries = counts.retries
    result.server_errors += counts.server_errors
    result.client_errors += counts.client_errors
    result.problems = counts.problems + result.problems
    result.resumes = sum(s.resumes for s in streams.values())
    result.elapsed_s = time.monotonic() - started
    return result


def _audit(
    server: ServerProcess,
    tokens: dict[tuple[str, str], str],
    protocol_path: Path,
    db: Path,
    workers: list[Worker],
    streams: dict[str, StreamReader],
    result: HarnessResult,
    rung_s: float,
) -> None:
    problems = result.problems
    for w in workers:
        if w.is_alive() or w.fault is not None:
            result.client_errors += 1
            problems.append(f"worker {w.party}: {w.fault or 'did not finish'}")
    levels = len(load_protocol(protocol_path).escalation)
    sent = [s for w in workers for s in w.sent]
    acked = {mid: h for w in workers for mid, h in w.acked.items()}
    result.sent, result.acks = len(sent), len(acked)
    clients = {
        p: httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {tokens[(p, 'operator')]}"}
        )
        for p in PARTIES
    }
    try:
        # Let every level that can fall due do so, then give the ticker time to catch up.
        last_due = 0.0
        views: dict[str, dict[str, Any]] = {}
        for _ in range(60):
            views = {}
            for c in clients.values():
                for m in _pages(c, "/v1/messages", "messages", {"box": "sent"}):
                    views.setdefault(m["id"], m)
            last_due = max(
                (
                    parse_time(m["deadline"], field="deadline") + (levels - 2) * rung_s
                    for m in views.values()
                    if m["deadline"] is not None
                ),
                default=0.0,
            )
            if time.time() > last_due + 1.0 and not _escalation_faults(views, sent, levels)[0]:
                break
            time.sleep(max(0.5, min(2.0, last_due + 1.0 - time.time())))
        # Streams: let each catch up with the store, then compare.
        expected_events = {p: _pages(c, "/v1/events", "events", {}) for p, c in clients.items()}
        for p, s in streams.items():
            want = expected_events[p][-1]["cursor"] if expected_events[p] else 0
            for _ in range(100):
                if s.last >= want:
                    break
                time.sleep(0.1)
    finally:
        for c in clients.values():
            c.close()

    # Messages: every 2xx present, once; acks present.
    texts = Counter(
        (m["from"], m["content"].get("text")) for m in views.values() if m["from"] in PARTIES
    )
    for s in sent:
        m = views.get(s.id)
        if m is None or m["entry_hash"] != s.entry_hash:
            result.lost += 1
            problems.append(f"LOST: {s.party} message {s.n} ({s.id})")
            continue
        result.present += 1
        if texts[(s.party, f"harness {s.party} {s.n}")] != 1:
            result.duplicated += 1
            problems.append(f"DUPLICATED: {s.party} message {s.n}")
    for mid, h in acked.items():
        m = views.get(mid)
        if m is not None and any(a["entry_hash"] == h for a in m["acks"]):
            result.acks_present += 1
        else:
            result.lost += 1
            problems.append(f"LOST: the ack of {mid}")

    # Escalations, as the API shows them.
    missing, doubled, after_ack, expected, found = _escalation_faults(views, sent, levels)
    result.escalations_missing, result.escalations_doubled = missing, doubled
    result.escalations_after_ack = after_ack
    result.escalations_expected, result.escalations_found = expected, found
    if missing or doubled or after_ack:
        problems.append(
            f"escalations: {missing} missing, {doubled} doubled, {after_ack} after the ack"
        )

    # The ledger: one leaf per (party, idem); one escalation entry per (message, party, level).
    uri = db.resolve().as_uri() + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        rows = conn.execute("SELECT party, idem, kind, leaf FROM leaves ORDER BY idx").fetchall()
    keys = Counter((party, idem) for party, idem, _, _ in rows)
    dup_keys = sum(c - 1 for c in keys.values() if c > 1)
    if dup_keys:
        result.duplicated += dup_keys
        problems.append(f"DUPLICATED: {dup_keys} ledger leaves share a (party, idem)")
    logged: Counter[tuple[str, str, int]] = Counter()
    for _, _, kind, leaf in rows:
        if kind == "escalation":
            body = SignedEntry.from_leaf(leaf).entry.body
            assert isinstance(body, dict)
            logged[(str(body["message"]), str(body["party"]), int(body["level"]))] += 1  # type: ignore[arg-type]
    result.ledger_escalations = sum(logged.values())
    api_escalations = Counter(
        (m["id"], e["party"], int(e["level"])) for m in views.values() for e in m["escalations"]
    )
    if logged != api_escalations:
        diff = (logged - api_escalations) + (api_escalations - logged)
        result.escalations_doubled += sum(diff.values())
        problems.append(f"ledger and API escalations differ on {sorted(diff)[:3]}")

    # Streams: what each resuming stream got, against the store's events from cursor 0.
    for p, s in streams.items():
        got = [int(e["cursor"]) for e in s.seen()]
        want = [int(e["cursor"]) for e in expected_events[p]]
        result.events += len(got)
        dups = len(got) - len(set(got))
        regress = sum(b <= a for a, b in itertools.pairwise(got))
        gaps = len(set(want) - set(got))
        result.stream_duplicates += max(dups, regress)
        result.stream_gaps += gaps
        if dups or regress or gaps or set(got) - set(want):
            problems.append(
                f"stream of {p}: {gaps} missing, {dups} duplicated, {regress} out of order, "
                f"{len(set(got) - set(want))} unknown cursors"
            )


def _escalation_faults(
    views: dict[str, dict[str, Any]], sent: list[_Sent], levels: int
) -> tuple[int, int, int, int, int]:
    """(missing, doubled, after ack, expected, found) over the harness's messages."""
    missing = doubled = after_ack = expected = found = 0
    for s in sent:
        m = views.get(s.id)
        if m is None:
            continue
        per = defaultdict(list)
        for e in m["escalations"]:
            per[(e["party"], int(e["level"]))].append(parse_time(e["at"], field="at"))
        found += sum(len(v) for v in per.values())
        if not m["requires_ack"]:
            doubled += sum(len(v) for v in per.values())
            continue
        acks = {a["party"]: parse_time(a["at"], field="at") for a in m["acks"]}
        for party in m["to"]:
            for level in range(2, levels + 1):
                ats = per.get((party, level), [])
                if party not in acks:
                    expected += 1
                    missing += len(ats) == 0
                    doubled += max(0, len(ats) - 1)
                else:
                    doubled += max(0, len(ats) - 1)
                    after_ack += sum(at > acks[party] for at in ats)
    return missing, doubled, after_ack, expected, found


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.api.service_harness``: run once, print the audit, 0 when clean."""
    parser = argparse.ArgumentParser(description="SIGKILL durability harness of the service.")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--pace-s", type=float, default=0.05, help="worker pause per message")
    parser.add_argument("--min-up-s", type=float, default=0.3)
    parser.add_argument("--max-up-s", type=float, default=1.5)
    parser.add_argument("--deadline-s", type=float, default=1.5, help="request/alert deadline")
    parser.add_argument("--rung-s", type=float, default=1.0, help="each rung of the ladder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit-s", type=float, default=300.0)
    parser.add_argument("--workdir", type=Path, default=None, help="kept (default: temporary)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="skyparley-service-harness-") as tmp:
        result = run_harness(
            args.workdir or Path(tmp),
            kills=args.kills,
            pace_s=args.pace_s,
            seed=args.seed,
            min_up_s=args.min_up_s,
            max_up_s=args.max_up_s,
            deadline_s=args.deadline_s,
            rung_s=args.rung_s,
            time_limit_s=args.time_limit_s,
        )
    print(result.summary())
    return 0 if result.clean else 1


if __name__ == "__main__":
    sys.exit(main())

"""The player of the Syria 2015 scenario: beats 1 to 5 through a running service.

Every party is a :class:`~skyparley.client.Client` signing with its demo key, so every
step is a signed statement in the ledger, as a real duty officer's would be. The player
moves the service's clock: it jumps to each beat's time and lets time pass inside a beat
(``wait_until``), so on a :class:`~skyparley.adapters.clock.ScaledClock` the tracks of
beats 3 and 5 flow second by second and the escalations of beat 5 fall due by themselves.

Routine messages (notices, findings and requests of beats 1, 2 and 4) are acknowledged by
their readers at the end of their beat, so they do not escalate later. The alerts of beat 3
are left to the duty officers in the console unless ``auto_ack``; in beat 5 the coalition
never acknowledges russia's notice, which is the point of the beat.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from importlib.abc import Traversable
from typing import Any, Protocol, TextIO

from skyparley.client import Client, ClientError
from skyparley.domain.ledger.keys import SigningKey
from skyparley.domain.times import parse_time
from skyparley.service import Service

__all__ = ["BEAT_TIMES", "Pacer", "Player", "escalate_until", "scenario_file"]

PARTIES = ("coalition", "russia", "relief")
TRACK_COLUMNS = ("time", "id", "lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm")


def _t(text: str) -> float:
    return parse_time(text, field="t")


BEAT_TIMES: Mapping[int, float] = {
    1: _t("2015-09-30T04:00:00Z"),
    2: _t("2015-09-30T04:05:00Z"),
    3: _t("2015-10-10T09:00:00Z"),
    4: _t("2015-10-14T10:00:00Z"),
    5: _t("2017-09-10T06:00:00Z"),
}
"""When each beat starts (scenario time, POSIX seconds)."""


class Pacer(Protocol):
    """The clock the player moves (and the service reads)."""

    def now_s(self) -> float:
        """The scenario time now."""
        ...

    def jump_to(self, t_s: float) -> None:
        """Move on to ``t_s`` at once (never back)."""
        ...

    def wait_until(self, t_s: float) -> None:
        """Let scenario time pass until ``t_s``."""
        ...


def escalate_until(service: Service, clock: Pacer, t_s: float) -> int:
    """Step ``clock`` through every deadline of ``service`` due up to ``t_s`` and escalate
    each at its own time; returns how many escalated. A player calls it before it jumps
    the clock to ``t_s`` (see :attr:`Player.catch_up`)."""
    done = 0
    while (due := service.next_deadline_s()) is not None and due <= t_s:
        clock.jump_to(due)
        n = service.escalate_due()
        if n == 0 and service.next_deadline_s() == due:  # not escalated: do not spin
            break
        done += n
    return done


def scenario_file(name: str) -> Traversable:
    """A file of the packaged scenario (``syria-2015/NAME`` or a track CSV)."""
    return resources.files("skyparley.data.scenarios").joinpath(name)


def _json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        scenario_file(f"syria-2015/{name}").read_text(encoding="utf-8")
    )
    return data


def _tracks(name: str) -> dict[int, dict[str, dict[str, list[Any]]]]:
    """A track CSV as POST /v1/tracks columns, by second and party."""
    out: dict[int, dict[str, dict[str, list[Any]]]] = defaultdict(dict)
    with scenario_file(name).open("r", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            cols = out[int(r["time"])].setdefault(r["party"], {k: [] for k in TRACK_COLUMNS})
            cols["time"].append(float(r["time"]))
            cols["id"].append(r["id"])
            for k in TRACK_COLUMNS[2:]:
                cols[k].append(float(r[k]))
    return out


def _hm(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, tz=UTC).strftime("%H:%M:%SZ")


def _when(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, tz=UTC).strftime("%d %b %Y %H:%MZ").lstrip("0")


def _ref(filed: dict[str, Any]) -> str:
    n = filed["notice"]
    return f"{n['party']}/{n['id']}@{n['version']}"


@dataclass
class Player:
    """Plays beats 1 to 5 against the service at ``url``.

    ``tokens``: an operator token per party; ``keys``: each party's signing key. ``tick``
    (optional, ``LiveService.tick``) runs a live tick at each second of tracks once it is
    pushed, when the player runs in the service's process: detection sees every second while
    the player keeps up with the clock (a tick the service already ran by itself is skipped);
    on a clock too fast for it, the seconds it missed go in one batch and one tick.
    ``wait_s``/``attempts``: how the player polls for what the service does by itself (an
    escalation) before it reports it missing.
    """

    url: str
    tokens: Mapping[str, str]
    keys: Mapping[str, SigningKey]
    clock: Pacer
    out: TextIO = field(default_factory=lambda: sys.stdout)
    auto_ack: bool = False
    tick: Callable[[float], object] | None = None
    catch_up: Callable[[float], object] | None = None
    """Optional, in the service's process: runs the escalations that fall due before a time,
    each at its own time, before the player jumps the clock there (else the ticker runs
    them after the jump, all dated at the jump, days late when beats are days apart)."""
    beat3_s: tuple[int, int] = (0, 1200)
    """Which seconds of beat 3's 20 minutes to play (tests play the encounter alone)."""
    poll_s: float = 5.0
    wait_s: float = 0.05
    attempts: int = 600
    clients: dict[str, Client] = field(init=False, default_factory=dict)
    results: dict[str, Any] = field(init=False, default_factory=dict)
    """What each beat produced (ids, findings, ...), for tests and the summary."""
    _acked: set[tuple[str, str]] = field(init=False, default_factory=set)
    _never: set[tuple[str, str]] = field(init=False, default_factory=set)
    _cursor: dict[str, int] = field(init=False, default_factory=dict)
    _events: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for p in PARTIES:
            self.clients[p] = Client(
                self.url, self.tokens[p], key=self.keys[p], party=p, clock=self.clock.now_s
            )
            self._cursor[p] = 0
            self._events[p] = 0

    def _jump(self, t_s: float) -> None:
        """Move the clock on to ``t_s``, the deadlines on the way escalated at their time."""
        if self.catch_up is not None:
            self.catch_up(t_s)
        self.clock.jump_to(t_s)

    def close(self) -> None:
        """Close the parties' connections."""
        for c in self.clients.values():
            c.close()

    def __enter__(self) -> Player:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers

    def say(self, line: str) -> None:
        """One progress line."""
        print(line, file=self.out, flush=True)

    def _ack_routine(
        self,
        parties: tuple[str, ...] = PARTIES,
        skip: set[str] | None = None,
        kinds: tuple[str, ...] | None = None,
    ) -> int:
        """Each of ``parties`` acknowledges every message waiting for it (of ``kinds``, when
        given; alerts only with ``auto_ack``; never a message of ``skip`` or one the story
        leaves unacknowledged)."""
        n = 0
        for p in parties:
            c = self.clients[p]
            while True:
                page = c.inbox(after=self._cursor[p], limit=500)
                for m in page["messages"]:
                    if not m["requires_ack"] or (p, m["id"]) in self._acked:
                        continue
                    if m["id"] in (skip or set()) or (p, m["id"]) in self._never:
                        continue
                    if (m["kind"] == "alert" and not self.auto_ack) or (
                        kinds is not None and m["kind"] not in kinds
                    ):
                        continue
                    c.ack(m["id"])
                    self._acked.add((p, m["id"]))
                    n += 1
                if not page["messages"]:
                    break
                self._cursor[p] = page["cursor"]
        return n

    def _new_events(self, party: str) -> list[dict[str, Any]]:
        page = self.clients[party].events(after=self._events[party], limit=500)
        self._events[party] = page["cursor"]
        events: list[dict[str, Any]] = page["events"]
        return events

    def _wait_for(self, what: str, probe: Callable[[], Any]) -> Any:
        for _ in range(self.attempts):
            found = probe()
            if found:
                return found
            time.sleep(self.wait_s)
        raise RuntimeError(f"the service never reported {what}")

    # ------------------------------------------------------------------ beats

    def play(self) -> None:
        """Beats 1 to 5, in order."""
        self.beat1()
        self.beat2()
        self.beat3()
        self.beat4()
        self.beat5()

    def beat1(self) -> None:
        """Russia's notice over Homs and Hama overlaps the relief hospital."""
        relief, russia = self.clients["relief"], self.clients["russia"]
        self._jump(BEAT_TIMES[1])
        self.say(
            f"beat 1: {_when(BEAT_TIMES[1])}, russia notifies operations over Homs and Hama "
            "(FL150-FL300, 06:00-09:00Z)"
        )
        area = relief.declare_area(_json("beat1-relief-hama-hospital.json"))
        self.say(
            "  relief declares a hospital near Hama (revealed only to a party whose notice "
            f"overlaps it), ledger #{area['ledger_index']}"
        )
        filed = russia.file_notice(_json("beat1-russia-homs-hama.json"))
        kinds = ", ".join(f"{f['kind']} ({f['other']})" for f in filed["findings"])
        self.say(
            f"  russia files {_ref(filed)}, ledger #{filed['ledger_index']}: finding {kinds}; "
            "russia is shown only the overlap"
        )
        told = relief.findings()
        self.say(f"  relief is told: {', '.join(f['kind'] + ' by ' + f['other'] for f in told)}")
        mid = russia.findings()[0]["message_id"]
        ack = russia.ack(mid)
        self._acked.add(("russia", mid))
        self.say(f"  russia acknowledges the finding, ledger #{ack['receipt']['leaf_index']}")
        self._ack_routine()
        self.results["beat1"] = {"notice": filed, "area": area, "finding_message": mid}

    def beat2(self) -> None:
        """A strategic conflict near Raqqa, cleared over the hotline."""
        coalition, russia = self.clients["coalition"], self.clients["russia"]
        self._jump(BEAT_TIMES[2])
        self.say(
            f"beat 2: {_when(BEAT_TIMES[2])}, russia notifies an area near Raqqa where the "
            "coalition already operates"
        )
        co = coalition.file_notice(_json("beat2-coalition-raqqa.json"))
        self.say(f"  coalition has {_ref(co)} (FL180-FL300, 06:00-07:30Z)")
        self._ack_routine()
        self._jump(_t("2015-09-30T04:10:00Z"))
        v1 = russia.file_notice(_json("beat2-russia-raqqa-v1.json"))
        self.say(
            f"  {_hm(self.clock.now_s())} russia files {_ref(v1)} (FL200-FL350, 07:00-08:00Z): "
            + ", ".join(f"{f['kind']} with {f['other']}" for f in v1["findings"])
        )
        self._ack_routine()
        self._jump(_t("2015-09-30T04:20:00Z"))
        request = coalition.send(
            "request",
            ["russia"],
            {"template": "request_shift", "args": {"notice": _ref(v1), "minutes": 60}},
            about=_ref(v1),
        )
        seen = next(m for m in russia.inbox(limit=500)["messages"] if m["id"] == request["id"])
        self.say(
            f"  {_hm(self.clock.now_s())} coalition requests a one-hour shift over the hotline; "
            f"russia reads: {seen['rendered']['text']}"
        )
        self._ack_routine(skip={request["id"]})
        self._jump(_t("2015-09-30T04:30:00Z"))
        russia.ack(request["id"])
        self._acked.add(("russia", request["id"]))
        self._ack_routine()
        reply = russia.send(
            "reply",
            ["coalition"],
            {"template": "reply_accept", "args": {"message": request["id"]}},
            reply_to=request["id"],
        )
        got = coalition.message(reply["id"])
        self.say(
            f"  {_hm(self.clock.now_s())} russia acknowledges and replies; coalition reads: "
            f"{got['rendered']['text']}"
        )
        self._jump(_t("2015-09-30T04:40:00Z"))
        v2 = russia.file_notice(_json("beat2-russia-raqqa-v2.json"))
        self.say(
            f"  {_hm(self.clock.now_s())} russia files {_ref(v2)} (08:00-09:00Z): "
            + ("the conflict clears" if v2["clear"] else "still in conflict")
        )
        self._ack_routine()
        self.results["beat2"] = {"coalition": co, "v1": v1, "v2": v2, "request": request}

    def _push(self, name: str, start_s: float, end_s: float, label: str) -> dict[str, Any]:
        """Push a track file's seconds ``start_s..end_s`` as scenario time passes; report the
        alerts and incidents the service raises."""
        rows = _tracks(name)
        self._jump(start_s)
        pushed = {"accepted": 0, "rejected": 0, "alerts": [], "incidents": []}
        t = int(start_s)
        next_poll = start_s
        end = int(end_s)
        while t <= end:
            self.clock.wait_until(t)
            upto = min(end, int(self.clock.now_s()))
            # second by second while the player keeps up with the clock; when it fell behind
            # (a fast clock), the seconds it missed in one batch per party
            spans = [(s, s) for s in range(t, upto + 1)] if upto - t < 4 else [(t, upto)]
            for first, last in spans:
                batches: dict[str, dict[str, list[Any]]] = {}
                for s in range(first, last + 1):
                    for party, cols in rows.get(s, {}).items():
                        into = batches.setdefault(party, {k: [] for k in TRACK_COLUMNS})
                        for k in TRACK_COLUMNS:
                            into[k].extend(cols[k])
                for party, cols in batches.items():
                    r = self.clients[party].push_tracks(cols)
                    pushed["accepted"] += r["accepted"]
                    pushed["rejected"] += sum(r["rejected"].values())
                if self.tick is not None:
                    self.tick(float(last))
            if upto >= next_poll or upto == end:
                next_poll = upto + self.poll_s
                self._report(label, pushed)
                if self.auto_ack:
                    self._ack_routine(("coalition", "russia"), kinds=("alert",))
            t = upto + 1
        return pushed

    def _report(self, label: str, pushed: dict[str, Any]) -> None:
        for e in self._new_events("coalition"):  # alerts and incidents as coalition sees them
            d = e.get("data", {})
            if e["type"] == "alert" and d.get("own"):
                pushed["alerts"].append(d)
                ttl = d.get("time_to_los_s")
                at = _hm(parse_time(e["at"], field="at"))
                if d["kind"] == "resolved":
                    self.say(f"  {at} alert resolved: {'/'.join(d['pair'])}")
                    continue
                self.say(
                    f"  {at} alert {d['kind']}: {d.get('level')} {'/'.join(d['pair'])}, "
                    f"{d.get('hdist_nm') or 0:.1f} NM {d.get('vdist_ft') or 0:.0f} ft apart"
                    + (f", loss of separation in {ttl:.0f} s" if ttl else "")
                )
            elif e["type"] == "incident":
                pushed["incidents"].append(d)
                self.say(
                    f"  incident {d.get('incident_id', '')}: {'/'.join(d.get('pair', []))}, "
                    f"closest {d.get('min_hdist_nm', 0):.1f} NM / {d.get('min_vdist_ft', 0):.0f}"
                    " ft, recorded with its report"
                )

    def beat3(self) -> None:
        """Live tracks: a coalition pair and a Russian pair converge."""
        start = BEAT_TIMES[3]
        self._jump(start)
        self.say(
            f"beat 3: {_when(start)}, live tracks over eastern Syria: a coalition pair and a "
            "Russian pair converge (20 minutes of tracks)"
        )
        if not self.auto_ack:
            self.say("  alerts wait for the duty officers: acknowledge them in the console")
        first, last = self.beat3_s
        pushed = self._push("syria-2015-beat3.csv", start + first, start + last, "beat 3")
        self.say(
            f"  {pushed['accepted']} states accepted, {len(pushed['alerts'])} alert events, "
            f"{len(pushed['incidents'])} incident(s)"
        )
        self.results["beat3"] = pushed

    def beat4(self) -> None:
        """A video-conference round logged as a hotline thread in two languages."""
        coalition, russia = self.clients["coalition"], self.clients["russia"]
        self._jump(BEAT_TIMES[4])
        self.say(
            f"beat 4: {_when(BEAT_TIMES[4])}, the video-conference round logged as a hotline "
            "thread in two languages"
        )
        first = coalition.send(
            "text",
            ["russia"],
            {
                "text": "Summary of today's video conference: both sides keep 5 NM / 1000 ft "
                "and use the agreed frequencies; next round on 20 October.",
                "lang": "en",
            },
        )
        self._ack_routine()
        self._jump(BEAT_TIMES[4] + 300)
        russia.send(
            "text",
            ["coalition"],
            {
                "text": "Подтверждаем: 5 морских миль / 1000 футов и согласованные частоты; "
                "следующий раунд 20 октября.",
                "lang": "ru",
            },
            reply_to=first["id"],
        )
        self._ack_routine()
        self._jump(BEAT_TIMES[4] + 600)
        coalition.send(
            "request",
            ["russia"],
            {"template": "request_call", "args": {"at": "2015-10-20T14:00:00Z"}},
            reply_to=first["id"],
        )
        rendered: dict[str, list[dict[str, Any]]] = {}
        for p, c in (("coalition", coalition), ("russia", russia)):
            rendered[p] = c.thread(first["thread"])
            self.say(f"  as {p} reads it:")
            for m in rendered[p]:
                r = m["rendered"]
                src = r.get("source_lang") or r["lang"]
                note = f" [{src}, as written]" if src != r["lang"] else f" [{r['lang']}]"
                self.say(f"    {m['from']}: {r['text']}{note}")
        self._ack_routine()
        self.results["beat4"] = {"thread": first["thread"], "rendered": rendered}

    def beat5(self) -> None:
        """2017: a notice east of the Euphrates, never acknowledged by the coalition."""
        coalition, russia, relief = (self.clients[p] for p in PARTIES)
        start = BEAT_TIMES[5]
        self._jump(start)
        self.say(
            f"beat 5: {_when(start)}, Deir ez-Zor: russia notifies operations east of the "
            "Euphrates line 2 hours ahead (08:00-10:00Z)"
        )
        filed = russia.file_notice(_json("beat5-russia-deir-ez-zor.json"))
        mid = filed["message_id"]
        self._never.add(("coalition", mid))
        zone = [f for f in filed["findings"] if f["kind"] == "zone_notice"]
        self.say(
            f"  russia files {_ref(filed)}, ledger #{filed['ledger_index']}: "
            + ", ".join(f"{f['kind']} ({f['other']})" for f in zone)
            + " - the line asks for 24 hours' notice"
        )
        deadline = coalition.message(mid)["deadline"]
        self._ack_routine(("russia",))
        self._jump(start + 120)
        relief.ack(mid)
        self._acked.add(("relief", mid))
        self.say(f"  {_hm(self.clock.now_s())} relief acknowledges the notice")
        self._jump(start + 300)
        area = coalition.declare_area(_json("beat5-coalition-partner-forces.json"))
        self.say(
            f"  {_hm(self.clock.now_s())} coalition declares its partner forces' area: "
            + ", ".join(f"{f['kind']} with {f['other']}" for f in area["findings"])
        )
        self._ack_routine(("russia",))
        due = parse_time(deadline, field="deadline")
        self.say(f"  the coalition does not acknowledge the notice (deadline {_hm(due)})")
        levels: dict[int, dict[str, Any]] = {}
        for level, at in ((2, due), (3, due + 600)):
            self._jump(at - 30)
            self.clock.wait_until(at + 1)
            esc = self._wait_for(
                f"the escalation of {mid} to level {level}",
                lambda level=level: self._escalation(mid, level),  # type: ignore[misc]
            )
            levels[level] = esc
            self.say(
                f"  {_hm(parse_time(esc['at'], field='at'))} not acknowledged by coalition: "
                f"escalated to level {level} ({esc['level_name']})"
            )
        self.say("  08:00Z the Russian pair flies in its notice area, a coalition drone "
                 "orbits the partner forces")  # fmt: skip
        pushed = self._push("syria-2015-beat5.csv", _t("2017-09-10T08:00:00Z"),
                            _t("2017-09-10T08:10:00Z"), "beat 5")  # fmt: skip
        self.say(f"  {pushed['accepted']} states accepted, {len(pushed['alerts'])} alert events")
        self.results["beat5"] = {
            "notice": filed,
            "message_id": mid,
            "area": area,
            "escalations": levels,
            "pushed": pushed,
        }

    def _escalation(self, message_id: str, level: int) -> dict[str, Any] | None:
        try:
            msg = self.clients["russia"].message(message_id)
        except ClientError:
            return None
        for e in msg.get("escalations", []):
            if e["party"] == "coalition" and e["level"] == level:
                found: dict[str, Any] = e
                return found
        return None

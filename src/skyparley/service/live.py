"""Live tactical deconfliction: tracks in, graded alerts, incidents and conformance out.

:class:`LiveService` sits beside the :class:`~skyparley.service.Service`. Parties push
their aircraft states (:meth:`LiveService.ingest`); each tick (:meth:`LiveService.tick`)
draws the live picture at the service's clock, runs the detection engine on it (cross-party
pairs only unless the protocol includes same-party pairs), grades the conflicts with the
one grading code path (:class:`~skyparley.domain.alerting.AlertGrader`, the one
``skyparley replay`` uses too), and then:

- **alerts**: a raised or upgraded alert is a hotline message of kind ``alert`` to each
  party concerned, demanding acknowledgement by the protocol's deadline (and escalating
  without one); every change (raised, upgraded, downgraded, resolved) is an ``alert``
  event on both parties' streams, with the intruder's state (an alert always shows it),
  the time to loss of separation and the resolution advice for the reader's own aircraft;
- **incidents**: every loss of separation is followed (:class:`~skyparley.domain.incidents.
  LosTracker`) and, once over, recorded with its evidence (both tracks around it, the alerts
  and acknowledgements before it) as a store record and a signed ledger entry;
- **protected areas**: an aircraft inside another party's protected area (its volume, at
  that time and altitude) is an intrusion incident; the owner is told, the intruder only
  what the area's disclosure allows;
- **conformance**: an aircraft of a party with active notices whose position leaves every
  active volume of them (beyond the tolerances) raises ``nonconformance`` to its own party
  only; other parties learn of it only through the alerts it causes.

Need-to-know: :meth:`LiveService.picture` shows a party its own aircraft, others' only as
the sharing policy allows (``within`` N NM of one of its own, or ``all``), and always the
intruders of its alerts while they last.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skyparley.domain.alerting import AlertEvent, AlertGrader
from skyparley.domain.hotline import MessageContent
from skyparley.domain.incidents import LosTracker, OpenIncident, hold_minima
from skyparley.domain.ledger.entry import JSONValue
from skyparley.domain.live import IngestLimits, IngestResult, LiveTable, StateBatch
from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.domain.records import Event, IncidentRecord
from skyparley.domain.resolution import resolution_advice
from skyparley.domain.separation import Conflicts, detect_conflicts
from skyparley.domain.statements import content_sha256
from skyparley.domain.times import format_time
from skyparley.domain.traffic import AircraftStates
from skyparley.errors import NotFoundError
from skyparley.geo import cpa
from skyparley.geo.areas import Shape, buffered, covers
from skyparley.service.auth import Principal, require
from skyparley.service.deconfliction import Announcement, Service

__all__ = ["LiveService", "LiveSettings"]

_EARTH_M = 6_371_008.8


@dataclass(frozen=True)
class LiveSettings:
    """How the live picture is kept and checked.

    ``step_s``: the nominal tick (the M-of-N filter counts ticks); a tick runs as soon as new
    states arrived and at least ``min_gap_s`` of the service's clock passed since the last,
    and at least every ``step_s`` anyway. ``stale_s``: how long an aircraft coasts on its
    last state.
    ``evidence_s``: how much track before an incident its record keeps. ``forget_s``: an
    aircraft not reported for this long is dropped from the track table, history and all
    (its id is then free for another party; an aircraft reported once would otherwise be
    kept, and checked at every tick, for as long as the service runs); well above
    ``stale_s``, so that no aircraft of an open incident is dropped.
    """

    step_s: float = 1.0
    min_gap_s: float = 0.05
    stale_s: float = 30.0
    evidence_s: float = 120.0
    forget_s: float = 600.0
    conformance_nm: float = 2.0
    conformance_ft: float = 500.0
    limits: IngestLimits = field(default_factory=IngestLimits)


@dataclass
class _LiveAlert:
    """An alert that is on: its pair, parties, level and the messages that announced it."""

    id: str
    a: str
    b: str
    parties: tuple[str, str]
    level: str
    raised_s: float
    history: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    to: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Each message's addressees (a party reads its own only)."""
    last: dict[str, Any] = field(default_factory=dict)


def _unit(lat_deg: np.ndarray[Any, Any], lon_deg: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


_FORGET_EVERY_S = 60.0
"""How often (service clock) the track table drops the aircraft silent for ``forget_s``:
each pass that drops one compacts the table under the live lock."""


def _geometry(
    tin_s: float, tcpa_s: float, dcpa_nm: float, hdist_nm: float, vdist_ft: float
) -> dict[str, float | None]:
    """An alert's figures as the API gives them (None where there is no number)."""

    def num(x: float) -> float | None:
        return None if math.isnan(x) else x

    tin = num(tin_s)
    return {
        "time_to_los_s": None if tin is None else max(tin, 0.0),
        "tcpa_s": num(tcpa_s),
        "dcpa_nm": num(dcpa_nm),
        "hdist_nm": num(hdist_nm),
        "vdist_ft": num(vdist_ft),
    }


def _incident_id(kind: str, a: str, b: str, start_s: float) -> str:
    digest = hashlib.sha256(f"{kind}\x00{a}\x00{b}\x00{start_s!r}".encode()).hexdigest()
    return "inc-" + digest[:20]


class LiveService:
    """Live tracks, alerts, incidents and conformance over a :class:`Service` (see module)."""

    def __init__(self, service: Service, settings: LiveSettings | None = None) -> None:
        self.svc = service
        self.settings = settings or LiveSettings()
        tactical = service.protocol.tactical
        self.table = LiveTable(self.settings.limits)
        self.grader = AlertGrader(tactical)
        self.cross_party_only = not tactical.include_same_party
        self.los = LosTracker(
            step_s=self.settings.step_s, vsep_ft=tactical.minima.effective_vsep_ft
        )
        self._hold = hold_minima(tactical.minima, self.settings.step_s)
        self._lock = threading.RLock()
        self._dirty = False
        self._alerts: dict[tuple[str, str], _LiveAlert] = {}
        self._resolved: dict[tuple[str, str], _LiveAlert] = {}  # kept for their incidents
        self._picture: AircraftStates | None = None
        self._picture_s = -math.inf
        self._nonconforming: set[str] = set()
        self._intrusions: dict[tuple[str, str], OpenIncident] = {}
        self._intrusion_told: dict[tuple[str, str], bool] = {}
        """Per open intrusion: whether the intruder may be told of it (the area's disclosure
        is not ``owner_only``)."""
        self._volumes: dict[str, list[tuple[Shape, float, float, float, float]]] = {}
        self.stats: Counter[str] = Counter()
        self._forgot_s = -math.inf
        self._evidence: dict[tuple[str, str], dict[str, dict[str, list[float]]]] = {}
        self.on_new_states: Callable[[], None] | None = None
        """Called after a batch adds states (the API wakes its ticker with it)."""
        self._where_of: AircraftStates | None = None
        self._where_cache: dict[str, int] = {}
        self.tick_ms: list[float] = []

    # ------------------------------------------------------------------ ingest

    def ingest(self, principal: Principal, columns: object) -> IngestResult:
        """Take a batch of the principal's party's aircraft states (see ``domain.live``)."""
        require(principal, "operator")
        batch = (
            columns
            if isinstance(columns, StateBatch)
            else StateBatch.from_columns(
                columns  # type: ignore[arg-type]
            )
        )
        with self._lock:
            result = self.table.ingest(principal.party, batch, now_s=self.svc.clock.now_s())
            if result.accepted or result.reordered:
                self._dirty = True
        if (result.accepted or result.reordered) and self.on_new_states is not None:
            self.on_new_states()
        self.stats["states_accepted"] += result.accepted
        self.stats["states_reordered"] += result.reordered
        for reason, n in result.rejected.items():
            self.stats[f"states_rejected_{reason}"] += n
        return result

    # ------------------------------------------------------------------ ticks

    def due(self) -> bool:
        """Whether a tick should run now (new states, or a whole step since the last)."""
        now = self.svc.clock.now_s()
        with self._lock:
            last = self.grader.last_s
            if not now > last:
                return False
            return (self._dirty and now - last >= self.settings.min_gap_s) or (
                now - last >= self.settings.step_s
            )

    @staticmethod
    def warm_up() -> float:
        """Load the detection kernels (:func:`skyparley.geo.cpa.warm_up`) before the first
        tick needs them; returns the seconds it took. A server calls it once at start:
        otherwise its first ticks load them (numba at the first, the machine code at the
        first with traffic), and as loading holds the interpreter, every request in flight
        waits for them."""
        t0 = time.perf_counter()
        cpa.warm_up()
        return time.perf_counter() - t0

    def tick(self, at_s: float | None = None) -> dict[str, Any]:
        """Run one tick at ``at_s`` (the service's clock when None); returns what it did.

        A tick at a time not after the last one does nothing.
        """
        t0 = time.perf_counter()
        with self._lock:
            t = self.svc.clock.now_s() if at_s is None else float(at_s)
            if not t > self.grader.last_s:
                return {"t": t, "skipped": True}
            self._dirty = False
            pic = self.table.picture(t, stale_s=self.settings.stale_s)
            self._picture, self._picture_s = pic, t
            tables = [
                detect_conflicts(pic, m, at_s=t, cross_party_only=self.cross_party_only)
                for m in self.grader.minima
            ]
            events = self.grader.update(tables)
            held = detect_conflicts(pic, self._hold, at_s=t, cross_party_only=self.cross_party_only)
            closed = self.los.update(tables[0], held)
            self._keep_evidence(pic, t, {(i.a, i.b) for i in closed})
            announcements, stream = self._alert_events(t, events, pic, tables[0])
            self._refresh_alerts(tables[0])
            intrusions, intr_events = self._intrusion_check(t, pic)
            stream += intr_events
            stream += self._conformance(t, pic)
            if t - self._forgot_s >= _FORGET_EVERY_S:  # a pass copies the table: now and then
                self._forgot_s = t
                forgotten = self.table.forget_before(t - self.settings.forget_s)
                self.stats["aircraft_forgotten"] += forgotten
        if stream:  # the parties see the alerts first; messages and records follow
            self.svc.post_events(stream)
            stream = []
        with self._lock:
            incidents = [self._los_incident(inc, pic) for inc in closed]
        for rec, ann in incidents + intrusions:
            announcements.append(ann)
            stream += [Event(p, "incident", self._incident_summary(rec), t) for p in rec.parties]
        records = [rec for rec, _ in incidents + intrusions]
        if announcements or stream or records:
            sent = self.svc.announce(announcements, incidents=records, events=stream)
            with self._lock:
                by_id = {a.id: a for a in [*self._alerts.values(), *self._resolved.values()]}
                for m in sent:
                    if m.about in by_id:
                        by_id[m.about].messages.append(m.id)
                        by_id[m.about].to[m.id] = tuple(m.to)
                # a resolved alert is kept a while for the incident that may close after it
                horizon = t - self.settings.evidence_s
                for key in [
                    k
                    for k, a in self._resolved.items()
                    if a.raised_s < horizon and k not in self._alerts
                ]:
                    if self.los_open(key):
                        continue
                    del self._resolved[key]
        self.stats["ticks"] += 1
        self.stats["alert_events"] += len(events)
        self.stats["incidents"] += len(records)
        ms = (time.perf_counter() - t0) * 1000.0
        self.tick_ms.append(ms)
        del self.tick_ms[:-1000]
        return {
            "t": t,
            "aircraft": len(pic),
            "conflicts": len(tables[0]),
            "alert_events": [
                {"kind": e.kind, "a": e.a, "b": e.b, "level": e.level} for e in events
            ],
            "incidents": [r.id for r in records],
            "ms": ms,
        }

    _EVIDENCE_ROWS = 7200
    """Most states of one aircraft kept for one incident (two hours at 1 Hz)."""

    def _keep_evidence(self, pic: AircraftStates, t: float, closed: set[tuple[str, str]]) -> None:
        """Follow the tracks of every incident under way: its record shows them whole, from
        ``evidence_s`` before it began, however long it lasts (the table's rings are short).
        The tracks of an incident ``closed`` this tick stay for its record, which takes them;
        those of a prediction the tracker dropped go."""
        keep = set(self.los.open_pairs()) | closed
        for key in [k for k in self._evidence if k not in keep]:
            del self._evidence[key]
        where = self._where(pic)
        for inc in self.los.open():
            key = (inc.a, inc.b)
            got = self._evidence.get(key)
            if got is None:
                got = {
                    x: self.table.history(x, inc.start_s - self.settings.evidence_s, t) for x in key
                }
                self._evidence[key] = got
                continue
            for x in key:
                k = where.get(x)
                cols = got[x]
                if k is None or (cols["time"] and cols["time"][-1] >= pic.time_s[k]):
                    continue
                for name, col in (("time", pic.time_s), ("lat_deg", pic.lat_deg),
                                  ("lon_deg", pic.lon_deg), ("alt_ft", pic.alt_ft),
                                  ("gs_kt", pic.gs_kt), ("trk_deg", pic.trk_deg),
                                  ("vs_fpm", pic.vs_fpm)):  # fmt: skip
                    cols[name].append(float(col[k]))
                    del cols[name][: -self._EVIDENCE_ROWS]

    # ------------------------------------------------------------------ alerts

    def _where(self, pic: AircraftStates) -> dict[str, int]:
        """Row of each aircraft in ``pic`` (built once per picture)."""
        if self._where_of is not pic:
            self._where_cache = {str(x): k for k, x in enumerate(pic.id)}
            self._where_of = pic
        return self._where_cache

    def _state(self, pic: AircraftStates, aircraft: str, t: float) -> dict[str, Any] | None:
        k0 = self._where(pic).get(aircraft)
        if k0 is None:
            return None
        k = int(k0)
        return {
            "id": aircraft,
            "party": None if pic.party is None else str(pic.party[k]),
            "time": format_time(float(pic.time_s[k])),
            "lat_deg": float(pic.lat_deg[k]),
            "lon_deg": float(pic.lon_deg[k]),
            "alt_ft": float(pic.alt_ft[k]),
            "gs_kt": float(pic.gs_kt[k]),
            "trk_deg": float(pic.trk_deg[k]),
            "vs_fpm": float(pic.vs_fpm[k]),
            "age_s": t - float(pic.time_s[k]),
        }

    def _refresh_alerts(self, base: Conflicts) -> None:
        """The time to LoS, tcpa, dcpa and distances of every alert that is on, as of this
        tick (a duty officer reads them as current; they used to stay as at the alert's last
        change of level). A pair no longer in conflict keeps its last figures until its
        alert resolves."""
        if not self._alerts or not len(base):
            return
        row = {(str(a), str(b)): k for k, (a, b) in enumerate(zip(base.a, base.b, strict=True))}
        for key, al in self._alerts.items():
            k = row.get(key)
            if k is not None:
                al.last = _geometry(
                    float(base.tin_s[k]),
                    float(base.tcpa_s[k]),
                    float(base.dcpa_nm[k]),
                    float(base.hdist_nm[k]),
                    float(base.vdist_ft[k]),
                )

    def _alert_events(
        self, t: float, events: list[AlertEvent], pic: AircraftStates, base: Conflicts
    ) -> tuple[list[Announcement], list[Event]]:
        announcements: list[Announcement] = []
        stream: list[Event] = []
        for e in events:
            key = (e.a, e.b)
            pa = self.table.party_of(e.a) or ""
            pb = self.table.party_of(e.b) or ""
            al = self._alerts.get(key)
            if e.kind == "raised" or al is None:
                digest = hashlib.sha256(f"{e.a}|{e.b}|{e.raised_s!r}".encode()).hexdigest()
                aid = "alert-" + digest[:16]
                al = _LiveAlert(aid, e.a, e.b, (pa, pb), e.level or "", e.raised_s)
                self._alerts[key] = al
            al.level = e.level or al.level
            geometry = _geometry(e.tin_s, e.tcpa_s, e.dcpa_nm, e.hdist_nm, e.vdist_ft)
            al.history.append(
                {
                    "t": format_time(t),
                    "kind": e.kind,
                    "level": e.level,
                    "previous": e.previous,
                    **geometry,
                }
            )
            al.last = geometry
            states = {e.a: self._state(pic, e.a, t), e.b: self._state(pic, e.b, t)}
            for party in dict.fromkeys((pa, pb)):
                if party not in self.svc._parties:
                    continue
                own = [x for x in (e.a, e.b) if self.table.party_of(x) == party]
                other = [x for x in (e.a, e.b) if x not in own] or own[1:]
                data = {
                    "alert_id": al.id,
                    "kind": e.kind,
                    "level": e.level,
                    "previous": e.previous,
                    "pair": [e.a, e.b],
                    "own": own,
                    "intruder": other,
                    "states": {x: states[x] for x in (e.a, e.b)},
                    "raised": format_time(al.raised_s),
                    "nonconforming": sorted(set(other) & self._nonconforming),
                    **geometry,
                }
                if e.kind != "resolved":
                    data["advice"] = self._advice(pic, own, other, t)
                stream.append(Event(party, "alert", data, t))
                if e.kind in ("raised", "upgraded") and own:
                    content = MessageContent(
                        template="alert_conflict",
                        args={
                            "level": e.level or "",
                            "own": own[0],
                            "other": other[0] if other else own[0],
                            "time_to_los_s": round(geometry["time_to_los_s"] or 0.0, 1),
                            "hdist_nm": round(geometry["hdist_nm"] or 0.0, 2),
                            "vdist_ft": round(geometry["vdist_ft"] or 0.0),
                        },
                    )
                    announcements.append(
                        Announcement(
                            kind="alert",
                            to=(party,),
                            body={
                                "alert": al.id,
                                "pair": [e.a, e.b],
                                "level": e.level,
                                "event": e.kind,
                                "at": format_time(t),
                            },
                            idem=f"alert:{al.id}:{party}:{e.level}:{e.kind}",
                            content=content,
                            about=al.id,
                        )
                    )
            if e.kind == "resolved":
                self._alerts.pop(key, None)
                self._resolved[key] = al
        return announcements, stream

    def _advice(
        self, pic: AircraftStates, own: list[str], intruders: list[str], t: float
    ) -> dict[str, Any]:
        """Resolution advice (manoeuvre bands) for each of the reader's aircraft."""
        out: dict[str, Any] = {}
        where = self._where(pic)
        pair = [x for x in dict.fromkeys([*own, *intruders]) if x in where]
        near = pic.take([where[x] for x in pair])  # the pair only
        for aircraft in own:
            others = [x for x in pair if x != aircraft]  # a same-party pair: each other's
            if aircraft not in where or not others:
                continue
            advice = resolution_advice(
                near, aircraft, others, self.svc.protocol.tactical.minima, at_s=t
            )
            out[aircraft] = advice.to_dict()
        return out

    # ------------------------------------------------------------------ incidents

    def _los_incident(
        self, inc: OpenIncident, pic: AircraftStates
    ) -> tuple[IncidentRecord, Announcement]:
        s = self.settings
        pa = self.table.party_of(inc.a) or ""
        pb = self.table.party_of(inc.b) or ""
        parties = tuple(sorted({p for p in (pa, pb) if p}))
        iid = _incident_id("los", inc.a, inc.b, inc.start_s)
        al = self._alerts.get((inc.a, inc.b)) or self._resolved.get((inc.a, inc.b))
        alerts: list[dict[str, Any]] = []
        if al is not None:
            alerts.append(
                {
                    "alert_id": al.id,
                    "raised": format_time(al.raised_s),
                    "history": al.history,
                    "messages": self._alert_messages(al),
                }
            )
        data: dict[str, Any] = {
            "pair": [inc.a, inc.b],
            "parties": {inc.a: pa, inc.b: pb},
            "closest": {
                "time": format_time(inc.min_hdist_s) if math.isfinite(inc.min_hdist_s) else None,
                "hdist_nm": inc.min_hdist_nm,
                "vdist_ft": inc.vdist_at_min_h_ft,
            },
            "samples": [{"t": t, "hdist_nm": h, "vdist_ft": v} for t, h, v in inc.samples],
            "tracks": self._evidence.pop((inc.a, inc.b), None)
            or {
                x: self.table.history(x, inc.start_s - s.evidence_s, inc.end_s + s.step_s)
                for x in (inc.a, inc.b)
            },
            "alerts": alerts,
            "minima": {
                "hsep_nm": self.svc.protocol.tactical.minima.hsep_nm,
                "vsep_ft": self.svc.protocol.tactical.minima.vsep_ft,
            },
        }
        body: dict[str, JSONValue] = {
            "incident": iid,
            "incident_kind": "los",
            "pair": [inc.a, inc.b],
            "start": format_time(inc.start_s),
            "end": format_time(inc.end_s),
            "min_hdist_nm": round(inc.min_hdist_nm, 4),
            "min_vdist_ft": round(inc.min_vdist_ft, 1),
            "evidence_sha256": content_sha256(data),
        }
        logged = self.svc.entry_of(
            "incident", {"to": list[JSONValue](parties), **body}, idem=f"incident:{iid}"
        )
        rec = IncidentRecord(
            id=iid,
            kind="los",
            parties=parties,
            a=inc.a,
            b=inc.b,
            start_s=inc.start_s,
            end_s=inc.end_s,
            min_hdist_nm=inc.min_hdist_nm,
            min_hdist_s=inc.min_hdist_s,
            min_vdist_ft=inc.min_vdist_ft,
            min_vdist_s=inc.min_vdist_s,
            data=data,
            entry_hash=logged.entry_hash,
            ledger_index=logged.index,
        )
        return rec, Announcement(kind="incident", to=parties, body=body, idem=f"incident:{iid}")

    def _alert_messages(self, al: _LiveAlert) -> list[dict[str, Any]]:
        """The alert's hotline messages with who acknowledged them, and when."""
        out = []
        for mid in al.messages:
            m = self.svc.store.message(mid)
            if m is None:
                continue
            out.append(
                {
                    "message_id": m.id,
                    "to": list(m.to),
                    "sent": format_time(m.sent_s),
                    "level": m.content.get("args", {}).get("level"),
                    "acks": [
                        {"party": a.party, "at": format_time(a.acked_s)}
                        for a in self.svc.store.acks(m.id)
                    ],
                }
            )
        return out

    def _incident_summary(self, rec: IncidentRecord) -> dict[str, Any]:
        return {
            "incident_id": rec.id,
            "kind": rec.kind,
            "pair": [rec.a, rec.b],
            "start": format_time(rec.start_s),
            "end": format_time(rec.end_s),
            "min_hdist_nm": rec.min_hdist_nm,
            "min_vdist_ft": rec.min_vdist_ft,
        }

    def los_open(self, key: tuple[str, str]) -> bool:
        """Whether the pair is in a loss of separation now."""
        return any((i.a, i.b) == key for i in self.los.open())

    # ------------------------------------------------------------------ protected areas

    def _area_volumes(self, area: ProtectedArea) -> list[tuple[Shape, float, float, float, float]]:
        key = area.ref
        got = self._volumes.get(key)
        if got is None:
            v = area.volume
            got = [(v.area, v.band.lower_ft, v.band.upper_ft, v.window.start_s, v.window.end_s)]
            self._volumes[key] = got
        return got

    def _inside(
        self,
        vols: list[tuple[Shape, float, float, float, float]],
        pic: AircraftStates,
        idx: np.ndarray[Any, Any],
        t: float,
        *,
        tol_ft: float = 0.0,
    ) -> np.ndarray[Any, Any]:
        inside = np.zeros(len(idx), dtype=bool)
        for shape, lo, hi, start, end in vols:
            if not start <= t <= end:
                continue
            alt = pic.alt_ft[idx]
            band = (alt >= lo - tol_ft) & (alt <= hi + tol_ft) & ~inside
            if band.any():
                sel = idx[band]
                hit = covers(shape, pic.lon_deg[sel], pic.lat_deg[sel])
                inside[np.flatnonzero(band)[hit]] = True
        return inside

    def _intrusion_check(
        self, t: float, pic: AircraftStates
    ) -> tuple[list[tuple[IncidentRecord, Announcement]], list[Event]]:
        """Open, follow and close intrusions of aircraft into other parties' areas."""
        default = self.svc.protocol.sharing.protected_areas
        now_in: set[tuple[str, str]] = set()
        stream: list[Event] = []
        done: list[tuple[IncidentRecord, Announcement]] = []
        areas = [a for a in self.svc.live_items() if isinstance(a, ProtectedArea)]
        if not len(pic):
            areas = []
        parties = pic.party if pic.party is not None else np.full(len(pic), "", dtype=object)
        for area in areas:
            idx = np.flatnonzero(parties != area.owner)
            if not len(idx):
                continue
            inside = self._inside(self._area_volumes(area), pic, idx, t)
            for k in idx[inside]:
                aircraft = str(pic.id[k])
                key = (aircraft, area.ref)
                now_in.add(key)
                inc = self._intrusions.get(key)
                if inc is None:
                    inc = OpenIncident(aircraft, area.ref, t, t)
                    self._intrusions[key] = inc
                    intruder = str(parties[k])
                    rule = area.disclosure_under(default)
                    stream.append(
                        Event(
                            area.owner,
                            "intrusion",
                            {
                                "area": area.ref,
                                "aircraft": aircraft,
                                "party": intruder,
                                "state": self._state(pic, aircraft, t),
                            },
                            t,
                        )
                    )
                    told: dict[str, Any] = {"aircraft": aircraft, "owner": area.owner}
                    if rule == "public":
                        told["area"] = area.to_dict()
                    elif rule == "on_conflict":
                        told["area_kind"] = area.kind
                    self._intrusion_told[key] = rule != "owner_only"
                    if rule != "owner_only":
                        stream.append(Event(intruder, "intrusion", told, t))
                inc.end_s = t
                inc.ticks += 1
        for key in [k for k in self._intrusions if k not in now_in]:
            inc = self._intrusions.pop(key)
            tell = self._intrusion_told.pop(key, False)
            done.append(self._intrusion_incident(inc, intruder_told=tell))
        return done, stream

    def _intrusion_incident(
        self, inc: OpenIncident, *, intruder_told: bool
    ) -> tuple[IncidentRecord, Announcement]:
        """The incident of an intrusion that ended. It concerns the area's owner, and the
        intruder too unless the area is ``owner_only``: then the intruder is told nothing,
        neither the event, nor the record, nor a ledger entry addressed to it."""
        aircraft, area_ref = inc.a, inc.b
        owner = area_ref.split("/", 1)[0]
        intruder = self.table.party_of(aircraft) or ""
        parties = tuple(sorted({owner, intruder if intruder_told else ""} - {""}))
        iid = _incident_id("protected_area", aircraft, area_ref, inc.start_s)
        data: dict[str, Any] = {
            "aircraft": aircraft,
            "area": area_ref,
            "parties": {"owner": owner, "intruder": intruder},
            "tracks": {
                aircraft: self.table.history(
                    aircraft, inc.start_s - self.settings.evidence_s, inc.end_s
                )
            },
        }
        body: dict[str, JSONValue] = {
            "incident": iid,
            "incident_kind": "protected_area",
            "aircraft": aircraft,
            "area": area_ref,
            "start": format_time(inc.start_s),
            "end": format_time(inc.end_s),
            "evidence_sha256": content_sha256(data),
        }
        logged = self.svc.entry_of(
            "incident", {"to": list[JSONValue](parties), **body}, idem=f"incident:{iid}"
        )
        rec = IncidentRecord(
            id=iid,
            kind="protected_area",
            parties=parties,
            a=aircraft,
            b=area_ref,
            start_s=inc.start_s,
            end_s=inc.end_s,
            min_hdist_nm=0.0,
            min_hdist_s=inc.start_s,
            min_vdist_ft=0.0,
            min_vdist_s=inc.start_s,
            data=data,
            entry_hash=logged.entry_hash,
            ledger_index=logged.index,
        )
        return rec, Announcement(kind="incident", to=parties, body=body, idem=f"incident:{iid}")

    # ------------------------------------------------------------------ conformance

    def _conformance(self, t: float, pic: AircraftStates) -> list[Event]:
        """Aircraft of parties with active notices that left every active volume of them."""
        s = self.settings
        if not len(pic) or pic.party is None:
            return []
        out: list[Event] = []
        by_party: dict[str, list[tuple[Shape, float, float, float, float]]] = {}
        for n in self.svc.live_items():
            if not isinstance(n, OperationNotice) or n.start_s > t:
                continue
            by_party.setdefault(n.party, []).extend(self._notice_volumes(n))
        still: set[str] = set()
        for party, all_vols in by_party.items():
            vols = [v for v in all_vols if v[3] <= t <= v[4]]
            if not vols:
                continue
            idx = np.flatnonzero(pic.party == party)
            if not len(idx):
                continue
            inside = self._inside(vols, pic, idx, t, tol_ft=s.conformance_ft)
            for k in idx[~inside]:
                aircraft = str(pic.id[k])
                still.add(aircraft)
                if aircraft not in self._nonconforming:
                    out.append(
                        Event(
                            party,
                            "nonconformance",
                            {
                                "aircraft": aircraft,
                                "state": self._state(pic, aircraft, t),
                                "detail": "outside every active volume of the party's notices "
                                f"(beyond {s.conformance_nm:g} NM and {s.conformance_ft:g} ft)",
                            },
                            t,
                        )
                    )
            for k in idx[inside]:
                aircraft = str(pic.id[k])
                if aircraft in self._nonconforming:
                    out.append(Event(party, "conformance", {"aircraft": aircraft}, t))
        self._nonconforming = still
        return out

    def _notice_volumes(self, n: OperationNotice) -> list[tuple[Shape, float, float, float, float]]:
        got = self._volumes.get(n.ref)
        if got is None:
            got = [
                (
                    buffered(v.area, self.settings.conformance_nm),
                    v.band.lower_ft,
                    v.band.upper_ft,
                    v.window.start_s,
                    v.window.end_s,
                )
                for v in n.volumes
            ]
            self._volumes[n.ref] = got
        return got

    # ------------------------------------------------------------------ reads

    def picture(self, principal: Principal) -> dict[str, Any]:
        """The aircraft the principal's party may see now (see the module)."""
        require(principal, "viewer")
        with self._lock:
            pic, t = self._picture, self._picture_s
            alerts = list(self._alerts.values())
        if pic is None or not len(pic):
            return {"time": None if pic is None else format_time(t), "aircraft": []}
        party = principal.party
        parties = pic.party if pic.party is not None else np.full(len(pic), "", dtype=object)
        own = parties == party
        sharing = self.svc.protocol.sharing
        visible = own.copy()
        if sharing.tracks == "all":
            visible[:] = True
        elif sharing.tracks == "within" and own.any() and sharing.tracks_within_nm:
            u = _unit(pic.lat_deg, pic.lon_deg)
            others = np.flatnonzero(~own)
            if len(others):
                cos_lim = math.cos(sharing.tracks_within_nm * 1852.0 / _EARTH_M)
                near = (u[others] @ u[own].T >= cos_lim).any(axis=1)
                visible[others[near]] = True
        in_alert = {x for al in alerts if party in al.parties for x in (al.a, al.b)}
        if in_alert:
            visible |= np.isin(pic.id.astype(str), sorted(in_alert))
        out = []
        for k in np.flatnonzero(visible):
            aircraft = str(pic.id[k])
            st = self._state(pic, aircraft, t)
            assert st is not None
            st["own"] = bool(own[k])
            st["in_alert"] = aircraft in in_alert
            if own[k]:
                st["nonconforming"] = aircraft in self._nonconforming
            out.append(st)
        return {"time": format_time(t), "aircraft": out}

    def alerts(self, principal: Principal) -> list[dict[str, Any]]:
        """The alerts that are on for the principal's party."""
        require(principal, "viewer")
        with self._lock:
            mine = [al for al in self._alerts.values() if principal.party in al.parties]
        return [
            {
                "alert_id": al.id,
                "pair": [al.a, al.b],
                "level": al.level,
                "raised": format_time(al.raised_s),
                "messages": [m for m in al.messages if principal.party in al.to.get(m, ())],
                **al.last,
            }
            for al in sorted(mine, key=lambda a: a.raised_s)
        ]

    def incidents(self, principal: Principal) -> list[dict[str, Any]]:
        """The incidents that concern the principal's party."""
        require(principal, "viewer")
        return [self._incident_summary(r) for r in self.svc.store.incidents(principal.party)]

    def incident(self, principal: Principal, incident_id: str) -> IncidentRecord:
        """One incident concerning the principal's party (404 otherwise)."""
        require(principal, "viewer")
        rec = self.svc.store.incident(incident_id)
        if rec is None or principal.party not in rec.parties:
            raise NotFoundError(field="incident_id", reason=f"no incident {incident_id!r} for you")
        return rec

    def incident_view(self, principal: Principal, incident_id: str) -> dict[str, Any]:
        """An incident as the principal's party may see it (an intruder is shown no more of a
        protected area than its disclosure allows)."""
        rec = self.incident(principal, incident_id)
        data = dict(rec.data)
        if rec.kind == "protected_area" and data.get("parties", {}).get("owner") != principal.party:
            data.pop("area", None)
        return {
            **self._incident_summary(rec),
            "parties": list(rec.parties),
            "min_hdist_time": format_time(rec.min_hdist_s),
            "min_vdist_time": format_time(rec.min_vdist_s),
            "entry_hash": rec.entry_hash,
            "ledger_index": rec.ledger_index,
            "evidence": data,
        }

"""SBS/BaseStation feeds: the CSV lines dump1090 and its kin emit on TCP port 30003.

Each line is one message, ``MSG,<type>,...`` with 22 comma-separated fields (only the first
ten are required: message type, transmission type, session, aircraft, ICAO address, flight,
date and time generated, date and time logged). The transmission types used here:

====  ==================  ===================================================================
type  message             fields read
====  ==================  ===================================================================
1     identification      callsign (11)
3     airborne position   altitude ft (12), latitude (15), longitude (16), on ground (22)
4     airborne velocity   ground speed kt (13), track deg (14), vertical rate ft/min (17)
====  ==================  ===================================================================

Times are the *generated* date and time (fields 7 and 8: ``2015/10/10``, ``09:00:00.000``),
else the logged ones (9 and 10), read as UTC. The other types (2: surface position; 5, 6,
7, 8: altitude, squawk, air-to-air, all-call) and the other message kinds (``SEL``, ``ID``,
``AIR``, ``STA``, ``CLK``) are counted as ignored.

:class:`SbsAssembler` (pure, no I/O) keeps each aircraft's latest position and velocity and
emits a state once both are known, at the position's time (a position waits at most
``max_gap_s`` for a velocity, and the other way round). A line that cannot be used is
counted by reason (:data:`BAD_REASONS`), never raised. :class:`PartyMap` says which party
an aircraft belongs to, by ICAO address prefix; states of unmapped aircraft are dropped and
counted unless the map has a default party.

:class:`SbsSource` is the TCP client: it connects to ``host:port``, reconnects with
exponential backoff when the feed drops, and every ``flush_s`` hands the states assembled
since the last flush, one :class:`~skyparley.domain.live.StateBatch` per party, to a
callback (the service's ingest).

Examples
--------
>>> a = SbsAssembler(PartyMap(default="coalition"))
>>> a.feed("MSG,4,1,1,4CA2D6,1,2015/10/10,09:00:00.000,2015/10/10,09:00:00.000,,,450,90,,,0")
0
>>> a.feed("MSG,3,1,1,4CA2D6,1,2015/10/10,09:00:01.000,2015/10/10,09:00:01.000,,"
...        "30000,,,35.0,39.0,,,0,0,0,0")
1
>>> [(party, len(b), float(b.alt_ft[0])) for party, b in a.take()]
[('coalition', 1, 30000.0)]
>>> a.feed("garbage"), dict(a.bad)
(0, {'not_sbs': 1})
"""

from __future__ import annotations

import calendar
import logging
import math
import os
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from skyparley.adapters._files import read_text
from skyparley.domain.live import MAX_BATCH, StateBatch
from skyparley.errors import InputError

__all__ = [
    "BAD_REASONS",
    "PartyMap",
    "SbsAssembler",
    "SbsEndpoint",
    "SbsLineError",
    "SbsMessage",
    "SbsSource",
    "load_party_map",
    "parse_endpoint",
    "parse_line",
]

log = logging.getLogger("skyparley.sbs")

BAD_REASONS: Final = (
    "not_sbs",
    "too_long",
    "fields",
    "transmission_type",
    "icao",
    "time",
    "altitude",
    "latitude",
    "longitude",
    "ground_speed",
    "track",
    "vertical_rate",
    "callsign",
)
"""Why a line is bad: not an SBS line, over 1024 characters, too few fields, or the named
field is not a valid value (a number out of range, an ICAO address that is not 6 hex
digits, a date or time that does not parse)."""

MAX_LINE: Final = 1024
_KINDS: Final = frozenset({"MSG", "SEL", "ID", "AIR", "STA", "CLK"})
_ICAO = re.compile(r"~?[0-9A-F]{6}")
_PREFIX = re.compile(r"~?[0-9A-F]{1,6}")
_DATE = re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?")


class SbsLineError(ValueError):
    """A line that cannot be used; ``reason`` is one of :data:`BAD_REASONS`."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class SbsMessage:
    """One ``MSG`` line: its transmission type, aircraft, time and the values it carries."""

    type: int
    icao: str
    time_s: float
    callsign: str | None = None
    alt_ft: float | None = None
    gs_kt: float | None = None
    trk_deg: float | None = None
    lat_deg: float | None = None
    lon_deg: float | None = None
    vs_fpm: float | None = None
    on_ground: bool = False


def _day_s(text: str) -> float:
    m = _DATE.fullmatch(text)
    if m is None:
        raise SbsLineError("time")
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]) or y < 1970:
        raise SbsLineError("time")
    return float(calendar.timegm((y, mo, d, 0, 0, 0)))


def _clock_s(text: str) -> float:
    m = _TIME.fullmatch(text)
    if m is None:
        raise SbsLineError("time")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if h > 23 or mi > 59 or s > 60:
        raise SbsLineError("time")
    frac = float(m.group(4)) if m.group(4) else 0.0
    return h * 3600.0 + mi * 60.0 + s + frac


def _number(text: str, reason: str, low: float, high: float) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SbsLineError(reason) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise SbsLineError(reason)
    return value


def parse_line(line: str, *, days: dict[str, float] | None = None) -> SbsMessage | None:
    """The ``MSG`` message of one line, ``None`` for another kind (``SEL``, ``STA``, ...).

    Raises :class:`SbsLineError` naming the reason when the line cannot be used. ``days``
    caches the epoch of each date text seen (a feed repeats one date all day).

    Examples
    --------
    >>> m = parse_line("MSG,3,1,1,150ABC,1,2015/10/10,09:00:00.500,2015/10/10,09:00:00.600"
    ...                ",,24500,,,35.5,39.25,,,0,0,0,0")
    >>> m.type, m.icao, m.time_s, m.alt_ft, m.lat_deg, m.lon_deg
    (3, '150ABC', 1444467600.5, 24500.0, 35.5, 39.25)
    >>> parse_line("MSG,3,1,1,XYZ,1,2015/10/10,09:00:00.000,,,,1,,,1,1")
    Traceback (most recent call last):
    ...
    skyparley.adapters.sbs.SbsLineError: icao
    """
    if len(line) > MAX_LINE:
        raise SbsLineError("too_long")
    f = line.strip().split(",")
    kind = f[0].strip().upper()
    if kind not in _KINDS:
        raise SbsLineError("not_sbs")
    if kind != "MSG":
        return None
    if len(f) < 10:
        raise SbsLineError("fields")
    try:
        mtype = int(f[1])
    except ValueError:
        raise SbsLineError("transmission_type") from None
    if not 1 <= mtype <= 8:
        raise SbsLineError("transmission_type")
    icao = f[4].strip().upper()
    if _ICAO.fullmatch(icao) is None:
        raise SbsLineError("icao")
    date, clock = (f[6].strip(), f[7].strip()) if f[6].strip() else (f[8].strip(), f[9].strip())
    if not date or not clock:
        raise SbsLineError("time")
    day = days.get(date) if days is not None else None
    if day is None:
        day = _day_s(date)
        if days is not None:
            if len(days) > 16:
                days.clear()
            days[date] = day
    t = day + _clock_s(clock)

    def get(k: int) -> str:
        return f[k] if len(f) > k else ""

    if mtype == 1:
        callsign = get(10).strip()
        if callsign and (len(callsign) > 8 or not callsign.isprintable()):
            raise SbsLineError("callsign")
        return SbsMessage(mtype, icao, t, callsign=callsign or None)
    if mtype == 3:
        ground = get(21).strip() in ("-1", "1")
        return SbsMessage(
            mtype,
            icao,
            t,
            alt_ft=_number(get(11), "altitude", -2000.0, 100_000.0),
            lat_deg=_number(get(14), "latitude", -90.0, 90.0),
            lon_deg=_number(get(15), "longitude", -180.0, 180.0),
            on_ground=ground,
        )
    if mtype == 4:
        return SbsMessage(
            mtype,
            icao,
            t,
            gs_kt=_number(get(12), "ground_speed", 0.0, 5000.0),
            trk_deg=_number(get(13), "track", 0.0, 360.0),
            vs_fpm=_number(get(16), "vertical_rate", -60_000.0, 60_000.0),
        )
    return SbsMessage(mtype, icao, t)


# ----------------------------------------------------------------------------- parties


@dataclass(frozen=True)
class PartyMap:
    """Which party an aircraft belongs to: the longest ICAO address prefix that matches,
    else ``default`` (``None``: the aircraft is dropped).

    Examples
    --------
    >>> m = PartyMap.from_dict({"default": None, "parties": {"russia": ["1"],
    ...     "coalition": ["A", "4CA"], "relief": ["150ABC"]}})
    >>> m.party_of("150ABC"), m.party_of("15FFFF"), m.party_of("4ca2d6"), m.party_of("3C0001")
    ('relief', 'russia', 'coalition', None)
    """

    default: str | None = None
    prefixes: tuple[tuple[str, str], ...] = ()
    """(prefix, party), longest prefix first."""

    @property
    def parties(self) -> set[str]:
        """Every party the map names."""
        out = {p for _, p in self.prefixes}
        if self.default is not None:
            out.add(self.default)
        return out

    def party_of(self, icao: str) -> str | None:
        """The party of the aircraft with this ICAO address (hex, any case)."""
        icao = icao.upper()
        for prefix, party in self.prefixes:
            if icao.startswith(prefix):
                return party
        return self.default

    @classmethod
    def from_dict(cls, data: object, *, field: str = "parties") -> PartyMap:
        """A map from ``{"default": party | null, "parties": {party: [prefix, ...]}}``."""
        if not isinstance(data, Mapping):
            raise InputError(field=field, reason='must be an object with "default", "parties"')
        unknown = sorted(str(k) for k in set(data) - {"default", "parties"})
        if unknown:
            raise InputError(field=f"{field}.{unknown[0]}", reason="is not a setting")
        default = data.get("default")
        if default is not None and (not isinstance(default, str) or not default):
            raise InputError(field=f"{field}.default", reason="must be a party id or null")
        parties = data.get("parties", {})
        if not isinstance(parties, Mapping):
            raise InputError(
                field=f"{field}.parties", reason="must map party ids to lists of prefixes"
            )
        seen: dict[str, str] = {}
        for party, entries in parties.items():
            where = f"{field}.parties.{party}"
            if not isinstance(party, str) or not party:
                raise InputError(field=where, reason="must be a party id")
            if not isinstance(entries, list):
                raise InputError(field=where, reason="must be a list of ICAO address prefixes")
            for k, entry in enumerate(entries):
                text = str(entry).strip().upper() if isinstance(entry, str | int) else ""
                if isinstance(entry, bool) or _PREFIX.fullmatch(text) is None:
                    raise InputError(
                        field=f"{where}[{k}]",
                        reason=f"{entry!r} is not an ICAO address or prefix (1 to 6 hex digits)",
                    )
                if text in seen and seen[text] != party:
                    raise InputError(
                        field=f"{where}[{k}]", reason=f"{text} is also {seen[text]!r}'s"
                    )
                seen[text] = party
        ordered = sorted(seen.items(), key=lambda kv: (-len(kv[0]), kv[0]))
        return cls(default=default, prefixes=tuple(ordered))


def load_party_map(path: str | os.PathLike[str]) -> PartyMap:
    """Read a party map file: YAML (``.yaml``, ``.yml``) or JSON (``.json``)."""
    import json  # noqa: PLC0415 (one of the two parsers)

    import yaml  # noqa: PLC0415

    where = os.fspath(path)
    text = read_text(path, what="a party map (YAML or JSON)")
    try:
        if where.lower().endswith(".json"):
            data = json.loads(text)
        elif where.lower().endswith((".yaml", ".yml")):
            data = yaml.safe_load(text)
        else:
            raise InputError(field=where, reason="must be a .yaml, .yml or .json file")
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(field=where, reason=f"cannot be parsed: {reason}") from None
    return PartyMap.from_dict(data, field=where)


# ----------------------------------------------------------------------------- assembly


@dataclass
class _Aircraft:
    last_s: float
    callsign: str | None = None
    pos: tuple[float, float, float, float] | None = None  # t, lat, lon, alt
    pos_emitted: bool = True
    vel: tuple[float, float, float, float] | None = None  # t, gs, trk, vs


class SbsAssembler:
    """Lines in, aircraft states out (see the module). Pure and single-threaded.

    ``max_gap_s``: how far apart in time a position and the velocity joined to it may be.
    ``forget_s``: an aircraft not heard of for this long (feed time) is forgotten.
    ``max_pending``: states kept between two :meth:`take` calls; more are dropped and
    counted as ``overflow``.
    """

    def __init__(
        self,
        parties: PartyMap,
        *,
        max_gap_s: float = 10.0,
        forget_s: float = 300.0,
        max_pending: int = 100_000,
    ) -> None:
        self.parties = parties
        self.max_gap_s = max_gap_s
        self.forget_s = forget_s
        self.max_pending = max_pending
        self.lines = 0
        self.states = 0
        self.bad: Counter[str] = Counter()
        """Lines that could not be used, by reason (:data:`BAD_REASONS`)."""
        self.ignored: Counter[str] = Counter()
        """Lines or states not used, by kind: other messages, incomplete, on ground."""
        self.dropped: Counter[str] = Counter()
        """States not handed on: ``unmapped`` (no party), ``overflow``."""
        self._aircraft: dict[str, _Aircraft] = {}
        self._pending: list[tuple[str, str, float, float, float, float, float, float, float]] = []
        self._days: dict[str, float] = {}
        self._newest_s = -math.inf

    def feed(self, line: str) -> int:
        """Take one line; returns the number of states it completed (0 or 1). Never raises
        on bad input: a line that cannot be used is counted in :attr:`bad`."""
        if not line.strip():
            return 0
        self.lines += 1
        try:
            msg = parse_line(line, days=self._days)
        except SbsLineError as exc:
            self.bad[exc.reason] += 1
            return 0
        if msg is None:
            self.ignored["other_kind"] += 1
            return 0
        if msg.type not in (1, 3, 4):
            self.ignored[f"msg_{msg.type}"] += 1
            return 0
        self._newest_s = max(self._newest_s, msg.time_s)
        ac = self._aircraft.get(msg.icao)
        if ac is None:
            ac = self._aircraft[msg.icao] = _Aircraft(last_s=msg.time_s)
        ac.last_s = max(ac.last_s, msg.time_s)
        if msg.type == 1:
            if msg.callsign:
                ac.callsign = msg.callsign
            return 0
        if msg.type == 3:
            if msg.on_ground:
                self.ignored["on_ground"] += 1
                return 0
            if msg.lat_deg is None or msg.lon_deg is None or msg.alt_ft is None:
                self.ignored["incomplete"] += 1
                return 0
            if ac.pos is not None and msg.time_s <= ac.pos[0]:
                self.ignored["stale_position"] += 1
                return 0
            ac.pos = (msg.time_s, msg.lat_deg, msg.lon_deg, msg.alt_ft)
            ac.pos_emitted = False
        else:
            if msg.gs_kt is None or msg.trk_deg is None:
                self.ignored["incomplete"] += 1
                return 0
            if ac.vel is not None and msg.time_s < ac.vel[0]:
                self.ignored["stale_velocity"] += 1
                return 0
            ac.vel = (msg.time_s, msg.gs_kt, msg.trk_deg % 360.0, msg.vs_fpm or 0.0)
        return self._emit(msg.icao, ac)

    def _emit(self, icao: str, ac: _Aircraft) -> int:
        if ac.pos is None or ac.vel is None or ac.pos_emitted:
            return 0
        if abs(ac.pos[0] - ac.vel[0]) > self.max_gap_s:
            return 0
        ac.pos_emitted = True
        party = self.parties.party_of(icao)
        if party is None:
            self.dropped["unmapped"] += 1
            return 0
        if len(self._pending) >= self.max_pending:
            self.dropped["overflow"] += 1
            return 0
        t, lat, lon, alt = ac.pos
        _, gs, trk, vs = ac.vel
        self._pending.append((party, icao, t, lat, lon, alt, gs, trk, vs))
        self.states += 1
        return 1

    @property
    def pending(self) -> int:
        """States assembled and not yet taken."""
        return len(self._pending)

    def callsign(self, icao: str) -> str | None:
        """The callsign an aircraft last announced (type 1), if any."""
        ac = self._aircraft.get(icao.upper())
        return None if ac is None else ac.callsign

    def take(self) -> list[tuple[str, StateBatch]]:
        """The states assembled since the last call, one batch per party (in feed order,
        at most :data:`~skyparley.domain.live.MAX_BATCH` states a batch); forgets aircraft
        not heard of for ``forget_s``."""
        rows, self._pending = self._pending, []
        horizon = self._newest_s - self.forget_s
        if any(ac.last_s < horizon for ac in self._aircraft.values()):
            self._aircraft = {k: a for k, a in self._aircraft.items() if a.last_s >= horizon}
        by_party: dict[str, list[tuple[Any, ...]]] = {}
        for r in rows:
            by_party.setdefault(r[0], []).append(r)
        out: list[tuple[str, StateBatch]] = []
        for party, mine in sorted(by_party.items()):
            for k in range(0, len(mine), MAX_BATCH):
                chunk = mine[k : k + MAX_BATCH]
                cols = list(zip(*chunk, strict=True))
                out.append(
                    (
                        party,
                        StateBatch(
                            time_s=np.asarray(cols[2], dtype=np.float64),
                            id=np.asarray(cols[1], dtype=object),
                            lat_deg=np.asarray(cols[3], dtype=np.float64),
                            lon_deg=np.asarray(cols[4], dtype=np.float64),
                            alt_ft=np.asarray(cols[5], dtype=np.float64),
                            gs_kt=np.asarray(cols[6], dtype=np.float64),
                            trk_deg=np.asarray(cols[7], dtype=np.float64),
                            vs_fpm=np.asarray(cols[8], dtype=np.float64),
                        ),
                    )
                )
        return out


# ----------------------------------------------------------------------------- TCP source


@dataclass(frozen=True)
class SbsEndpoint:
    """An SBS feed to read: ``host:port`` and the party map of its aircraft."""

    host: str
    port: int
    parties: PartyMap = field(default_factory=PartyMap)
    flush_s: float = 1.0
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    @property
    def name(self) -> str:
        """``sbs:HOST:PORT``: the source named in logs and as the ingest's token id."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"sbs:{host}:{self.port}"


def parse_endpoint(text: str, *, field: str = "--sbs") -> tuple[str, int]:
    """``HOST:PORT`` (``[v6 address]:PORT`` for IPv6) as a host and a port.

    Examples
    --------
    >>> parse_endpoint("127.0.0.1:30003"), parse_endpoint("[::1]:30003")
    (('127.0.0.1', 30003), ('::1', 30003))
    """
    host, sep, port_text = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise InputError(field=field, reason=f"{text!r} is not HOST:PORT (port 1 to 65535)")
    return host, int(port_text)


Deliver = Callable[[str, StateBatch], object]
"""What a source hands each party's batch to: ``deliver(party, batch)``."""


class SbsSource:
    """A TCP client of one SBS feed, in its own thread (see the module).

    ``deliver(party, batch)`` is called from the source's thread every ``flush_s`` for each
    party with states; an exception it raises is logged and counted, never stops the feed.
    """

    def __init__(
        self,
        endpoint: SbsEndpoint,
        deliver: Deliver,
        *,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.endpoint = endpoint
        self._deliver = deliver
        self._connect_timeout_s = connect_timeout_s
        self._assembler = SbsAssembler(endpoint.parties)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._counts: Counter[str] = Counter()
        self.connected = threading.Event()
        """Set while the source holds a connection."""

    def start(self) -> None:
        """Start reading in a daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.endpoint.name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop reading, hand on what was assembled, and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
        self._thread = None

    def stats(self) -> dict[str, Any]:
        """Counters: lines, states, batches delivered, connects, bad lines by reason, ..."""
        with self._lock:
            a = self._assembler
            return {
                "source": self.endpoint.name,
                "connected": self.connected.is_set(),
                "lines": a.lines,
                "states": a.states,
                "bad": dict(sorted(a.bad.items())),
                "ignored": dict(sorted(a.ignored.items())),
                "dropped": dict(sorted(a.dropped.items())),
                **dict(sorted(self._counts.items())),
            }

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        ep = self.endpoint
        delay = ep.backoff_s
        while not self._stop.is_set():
            try:
                sock = socket.create_connection((ep.host, ep.port), timeout=self._connect_timeout_s)
            except OSError as exc:
                with self._lock:
                    self._counts["connect_failures"] += 1
                    first = self._counts["connect_failures"] == 1
                (log.warning if first else log.debug)(
                    "%s: cannot connect (%s); retrying in %.1f s", ep.name, exc, delay
                )
                self._stop.wait(delay)
                delay = min(delay * 2.0, ep.max_backoff_s)
                continue
            with self._lock:
                self._counts["connects"] += 1
            log.info("%s: connected", ep.name)
            self.connected.set()
            try:
                got = self._read(sock)
            finally:
                self.connected.clear()
                sock.close()
                self._flush()
            if self._stop.is_set():
                break
            delay = ep.backoff_s if got else min(delay * 2.0, ep.max_backoff_s)
            log.warning("%s: the feed closed; reconnecting in %.1f s", ep.name, delay)
            self._stop.wait(delay)
        self._flush()

    def _read(self, sock: socket.socket) -> bool:
        """Read lines until the feed closes or the source stops; whether any line came."""
        flush_s = self.endpoint.flush_s
        sock.settimeout(min(0.2, flush_s))
        buf = b""
        got = False
        next_flush = time.monotonic() + flush_s
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_flush:
                self._flush()
                next_flush = now + flush_s
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError as exc:
                log.warning("%s: read failed: %s", self.endpoint.name, exc)
                return got
            if not data:
                return got
            got = True
            buf += data
            *lines, buf = buf.split(b"\n")
            if len(buf) > MAX_LINE:  # no newline in sight: not a line feed; drop it
                lines.append(buf)
                buf = b""
            with self._lock:
                for raw in lines:
                    self._assembler.feed(raw.decode("ascii", "replace").rstrip("\r"))
        return got

    def _flush(self) -> None:
        with self._lock:
            batches = self._assembler.take()
        for party, batch in batches:
            try:
                self._deliver(party, batch)
            except Exception:  # the feed must survive its consumer's faults; logged, counted
                log.exception("%s: delivering %d states of %s failed", self.endpoint.name,
                              len(batch), party)  # fmt: skip
                with self._lock:
                    self._counts["deliver_failures"] += 1
                continue
            with self._lock:
                self._counts["batches"] += 1
                self._counts["delivered"] += len(batch)

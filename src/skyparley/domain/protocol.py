"""The protocol: what the parties agreed, as one versioned document.

A protocol file (YAML or TOML; see ``docs/protocol.md`` and ``docs/protocol.schema.json``)
holds the parties and their keys, the tactical separation and alert levels, the strategic
buffers, the hotline's acknowledgement deadlines and escalation ladder, the zones and lines
with their rules, and the sharing policy. :func:`parse_protocol` turns the parsed document
into a :class:`Protocol`; every error names the field. Unknown fields are refused.

The **content hash** is the SHA-256 of the document's RFC 8785 canonical JSON: the same
agreement written in YAML or TOML, with any layout or key order, has the same hash, and any
change of substance changes it. Parties sign that hash.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Final

from skyparley.domain import jcs
from skyparley.domain._fields import Fields
from skyparley.domain.ledger.entry import KeyRing
from skyparley.domain.ledger.keys import VerifierKey, parse_verifier_key
from skyparley.domain.separation import SeparationMinima
from skyparley.errors import InputError
from skyparley.geo.areas import Shape, from_geojson

__all__ = [
    "LANGUAGES",
    "MESSAGE_KINDS",
    "AlertLevel",
    "EscalationLevel",
    "Hysteresis",
    "MessageRule",
    "Party",
    "Protocol",
    "SharingPolicy",
    "StrategicBuffers",
    "TacticalSettings",
    "Zone",
    "ZoneRules",
    "content_hash",
    "parse_protocol",
]

LANGUAGES: Final = ("ar", "en", "ru")
MESSAGE_KINDS: Final = ("notice", "alert", "request", "reply", "text")
"""Hotline message kinds that may demand acknowledgement (an ``ack`` itself never does)."""
_SIDES: Final = ("north", "south", "east", "west")
_TRACK_SHARING: Final = ("none", "within", "all")
_VOLUME_SHARING: Final = ("conflicts_only", "all")
_DISCLOSURE: Final = ("owner_only", "on_conflict", "public")
_ZONE_KINDS: Final = ("area", "line")


@dataclass(frozen=True, slots=True)
class Party:
    """A party to the protocol: its id, display name, language and public key."""

    id: str
    name: str
    language: str
    public_key: VerifierKey


@dataclass(frozen=True, slots=True)
class AlertLevel:
    """An alert level: raised when loss of separation is predicted within ``time_to_los_s``
    against the level's own distance thresholds."""

    name: str
    time_to_los_s: float
    hsep_nm: float
    vsep_ft: float


@dataclass(frozen=True, slots=True)
class Hysteresis:
    """M-of-N filtering and persistence of alerts (DAIDALUS style), and ``release_factor``:
    an alert that is on holds its level while the pair still conflicts against minima and
    times enlarged by that factor (1: no such hold)."""

    m: int = 2
    n: int = 4
    persistence_s: float = 4.0
    release_factor: float = 1.2


@dataclass(frozen=True, slots=True)
class TacticalSettings:
    """Separation, lookahead, alert levels (most severe last) and hysteresis."""

    minima: SeparationMinima
    include_same_party: bool
    alert_levels: tuple[AlertLevel, ...]
    hysteresis: Hysteresis


@dataclass(frozen=True, slots=True)
class StrategicBuffers:
    """Buffers added around operation volumes when they are checked against each other."""

    lateral_nm: float
    vertical_ft: float
    time_min: float


@dataclass(frozen=True, slots=True)
class MessageRule:
    """Whether a hotline message kind must be acknowledged, and within how long."""

    requires_ack: bool
    deadline_s: float | None


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    """A rung of the escalation ladder. The first rung (``deadline_s`` 0) is where a message
    starts, with its kind's deadline; a later rung is reached when the previous deadline passes
    unacknowledged, and ``deadline_s`` after that the next one is."""

    name: str
    deadline_s: float
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ZoneRules:
    """Rules of a zone: minimum notice, parties it is closed to, its owner, and for a line
    the side it applies to."""

    notice_hours: float | None = None
    closed_to: tuple[str, ...] = ()
    owner: str | None = None
    side: str | None = None


@dataclass(frozen=True, slots=True)
class Zone:
    """A named area (a shape) or line (lon/lat points) of the protocol, with its rules."""

    id: str
    name: str
    kind: str
    rules: ZoneRules
    area: Shape | None = None
    line: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class SharingPolicy:
    """What each party may see of the others.

    ``tracks``: ``none``, ``within`` (other parties' aircraft within ``tracks_within_nm`` of
    one's own) or ``all``; an alert always shows the intruder while it lasts. ``volumes``:
    ``conflicts_only`` (only where they conflict with one's own) or ``all``.
    ``protected_areas``: the default disclosure rule of protected areas.
    """

    tracks: str
    tracks_within_nm: float | None
    volumes: str
    protected_areas: str


@dataclass(frozen=True, slots=True)
class Protocol:
    """The agreed protocol, validated; ``content_hash`` identifies this exact agreement."""

    id: str
    version: int
    title: str
    parties: tuple[Party, ...]
    tactical: TacticalSettings
    strategic: StrategicBuffers
    messages: dict[str, MessageRule]
    escalation: tuple[EscalationLevel, ...]
    zones: tuple[Zone, ...]
    sharing: SharingPolicy
    content_hash: str

    def keyring(self) -> KeyRing:
        """The parties' verifier keys, by party id: what the ledger checks entries against."""
        return KeyRing({p.id: p.public_key for p in self.parties})

    def party(self, party_id: str) -> Party:
        """The party with that id."""
        for p in self.parties:
            if p.id == party_id:
                return p
        raise InputError(field="party", reason=f"{party_id!r} is not a party to the protocol")


def content_hash(document: Any) -> str:
    """Hex SHA-256 of the document's RFC 8785 canonical JSON.

    Examples
    --------
    >>> content_hash({"b": 1, "a": [1.0, "x"]}) == content_hash({"a": [1, "x"], "b": 1})
    True
    """
    plain = _plain(document)
    try:
        canonical = jcs.dumps(plain)
    except (jcs.CanonicalError, TypeError, ValueError) as exc:
        where = _first_unholdable(plain, "")
        if where is not None:
            raise InputError(
                field=where,
                reason="is a number JSON cannot hold exactly (a whole number past "
                "±(2**53 - 1), or not finite)",
            ) from None
        raise InputError(field="document", reason=f"cannot be written as JSON: {exc}") from None
    return hashlib.sha256(canonical).hexdigest()


def _first_unholdable(value: Any, at: str) -> str | None:
    """The path (``messages.notice.deadline_s``) of the first number in ``value`` that
    canonical JSON refuses, or None."""
    if isinstance(value, dict):
        for k, v in value.items():
            found = _first_unholdable(v, f"{at}.{k}" if at else str(k))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _first_unholdable(v, f"{at}[{i}]")
            if found is not None:
                return found
    elif _unholdable(value):
        return at or "document"
    return None


def _unholdable(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1


def _plain(value: Any) -> Any:
    """The document as JSON values (TOML and YAML may give dates; floats that are whole
    numbers become integers so 5 and 5.0 hash alike)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def parse_protocol(document: Any) -> Protocol:
    """Validate a parsed protocol document and build the :class:`Protocol`."""
    top = Fields(document, "")
    pid = top.text("protocol")
    version = top.integer("version", minimum=1)
    title = top.text("title", default=pid)
    parties = _parties(top)
    ids = tuple(p.id for p in parties)
    tactical = _tactical(top.table("tactical"))
    strategic = _strategic(top.table("strategic"))
    hotline = top.table("hotline")
    messages = _messages(hotline)
    escalation = _escalation(hotline)
    hotline.done()
    zones = _zones(top, ids)
    sharing = _sharing(top.table("sharing"))
    top.done()
    return Protocol(
        id=pid,
        version=version,
        title=title,
        parties=parties,
        tactical=tactical,
        strategic=strategic,
        messages=messages,
        escalation=escalation,
        zones=zones,
        sharing=sharing,
        content_hash=content_hash(document),
    )


def _parties(top: Fields) -> tuple[Party, ...]:
    parties: list[Party] = []
    for path, item in top.items("parties", min_items=2):
        f = Fields(item, path)
        pid = f.text("id")
        if any(p.id == pid for p in parties):
            raise InputError(field=f.at("id"), reason=f"party {pid!r} is listed twice")
        name = f.text("name")
        language = f.text("language", choices=LANGUAGES)
        key_text = f.text("public_key")
        try:
            key = parse_verifier_key(key_text)
        except InputError as exc:
            raise InputError(field=f.at("public_key"), reason=exc.reason) from None
        if key.name != pid:
            raise InputError(
                field=f.at("public_key"),
                reason=f"is named {key.name!r}: a party's key carries the party id ({pid!r})",
            )
        if any(p.public_key.public_key == key.public_key for p in parties):
            raise InputError(field=f.at("public_key"), reason="is another party's key")
        f.done()
        parties.append(Party(pid, name, language, key))
    return tuple(parties)


def _tactical(f: Fields) -> TacticalSettings:
    try:
        minima = SeparationMinima(
            hsep_nm=f.number("hsep_nm", 5.0),
            vsep_ft=f.number("vsep_ft", 1000.0),
            alt_tolerance_ft=f.number("alt_tolerance_ft", 100.0),
            lookahead_s=f.number("lookahead_s", 300.0),
        )
    except InputError as exc:
        if exc.field.startswith("tactical."):
            raise
        raise InputError(field=f.at(exc.field), reason=exc.reason) from None
    include_same = f.boolean("include_same_party", default=False)
    levels: list[AlertLevel] = []
    for path, item in f.items("alert_levels", min_items=1):
        g = Fields(item, path)
        level = AlertLevel(
            name=g.text("name"),
            time_to_los_s=g.number("time_to_los_s", minimum=0.0, maximum=minima.lookahead_s),
            hsep_nm=g.number("hsep_nm", minima.hsep_nm, positive=True),
            vsep_ft=g.number("vsep_ft", minima.vsep_ft, positive=True),
        )
        g.done()
        if levels and level.time_to_los_s >= levels[-1].time_to_los_s:
            raise InputError(
                field=g.at("time_to_los_s"),
                reason="levels go from least to most severe: each needs a shorter time to LoS "
                f"than the one before ({levels[-1].time_to_los_s:g} s)",
            )
        if any(x.name == level.name for x in levels):
            raise InputError(field=g.at("name"), reason=f"level {level.name!r} is listed twice")
        levels.append(level)
    h = f.table("hysteresis", required=False)
    hyst = Hysteresis(
        m=h.integer("m", 2, minimum=1),
        n=h.integer("n", 4, minimum=1),
        persistence_s=h.number("persistence_s", 4.0, minimum=0.0),
        release_factor=h.number("release_factor", 1.2, minimum=1.0, maximum=3.0),
    )
    if hyst.m > hyst.n:
        raise InputError(field=h.at("m"), reason=f"must not exceed n ({hyst.n}), got {hyst.m}")
    h.done()
    f.done()
    return TacticalSettings(minima, include_same, tuple(levels), hyst)


def _strategic(f: Fields) -> StrategicBuffers:
    out = StrategicBuffers(
        lateral_nm=f.number("lateral_nm", minimum=0.0, maximum=500.0),
        vertical_ft=f.number("vertical_ft", minimum=0.0, maximum=50000.0),
        time_min=f.number("time_min", minimum=0.0, maximum=7 * 24 * 60.0),
    )
    f.done()
    return out


def _messages(hotline: Fields) -> dict[str, MessageRule]:
    f = hotline.table("messages")
    rules: dict[str, MessageRule] = {}
    for kind in MESSAGE_KINDS:
        g = f.table(kind)
        requires = g.boolean("requires_ack", default=True)
        deadline = g.number("deadline_s", positive=True) if requires else None
        if not requires and g.has("deadline_s"):
            raise InputError(field=g.at("deadline_s"), reason="needs requires_ack: true")
        g.done()
        rules[kind] = MessageRule(requires, deadline)
    f.done()
    return rules


def _escalation(hotline: Fields) -> tuple[EscalationLevel, ...]:
    """The ladder: a message starts at the first rung with its kind's deadline; each later
    rung is reached when the previous deadline passes unacknowledged, and gives its own
    ``deadline_s`` before the next."""
    ladder: list[EscalationLevel] = []
    for path, item in hotline.items("escalation", min_items=2):
        g = Fields(item, path)
        name = g.text("name")
        if ladder:
            deadline = g.number("deadline_s", positive=True)
        elif g.has("deadline_s"):
            raise InputError(
                field=g.at("deadline_s"),
                reason="the first rung's deadline is the message kind's (hotline.messages)",
            )
        else:
            deadline = 0.0
        roles: list[str] = []
        for rpath, role in g.items("roles", min_items=1):
            if not isinstance(role, str) or not role.strip():
                raise InputError(field=rpath, reason=f"must be a role name, got {role!r}")
            roles.append(role)
        g.done()
        ladder.append(EscalationLevel(name, deadline, tuple(roles)))
    return tuple(ladder)


def _line(value: object, path: str) -> tuple[tuple[float, float], ...]:
    f = Fields(value, path)
    f.text("type", choices=("LineString",))
    points: list[tuple[float, float]] = []
    for ppath, pos in f.items("coordinates", min_items=2):
        if not isinstance(pos, list | tuple) or len(pos) != 2:
            raise InputError(field=ppath, reason="a position is [lon, lat]")
        p = Fields({"lon": pos[0], "lat": pos[1]}, ppath)
        points.append(
            (
                p.number("lon", minimum=-180.0, maximum=180.0),
                p.number("lat", minimum=-90.0, maximum=90.0),
            )
        )
    f.done()
    return tuple(points)


def _zones(top: Fields, parties: tuple[str, ...]) -> tuple[Zone, ...]:
    zones: list[Zone] = []
    for path, item in top.items("zones", required=False):
        f = Fields(item, path)
        zid = f.text("id")
        if any(z.id == zid for z in zones):
            raise InputError(field=f.at("id"), reason=f"zone {zid!r} is listed twice")
        name = f.text("name", default=zid)
        kind = f.text("kind", choices=_ZONE_KINDS)
        geometry = f.raw("geometry")
        area: Shape | None = None
        line: tuple[tuple[float, float], ...] = ()
        if kind == "area":
            area = from_geojson(geometry, field=f.at("geometry"))
        else:
            line = _line(geometry, f.at("geometry"))
        r = f.table("rules", required=False)
        rules = ZoneRules(
            notice_hours=r.number("notice_hours", minimum=0.0) if r.has("notice_hours") else None,
            closed_to=tuple(
                _party_ref(v, p, parties) for p, v in r.items("closed_to", required=False)
            ),
            owner=_party_ref(r.raw("owner"), r.at("owner"), parties) if r.has("owner") else None,
            side=r.text("side", choices=_SIDES) if r.has("side") else None,
        )
        if kind == "line" and rules.side is None and rules.notice_hours is not None:
            raise InputError(
                field=r.at("side"), reason="a rule on a line needs the side it applies to"
            )
        if kind == "area" and rules.side is not None:
            raise InputError(field=r.at("side"), reason="only lines have sides")
        r.done()
        f.done()
        zones.append(Zone(zid, name, kind, rules, area, line))
    return tuple(zones)


def _party_ref(value: object, path: str, parties: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in parties:
        raise InputError(field=path, reason=f"{value!r} is not a party of this protocol")
    return value


def _sharing(f: Fields) -> SharingPolicy:
    tracks = f.table("tracks")
    mode = tracks.text("mode", choices=_TRACK_SHARING)
    within = tracks.number("within_nm", positive=True) if mode == "within" else None
    if mode != "within" and tracks.has("within_nm"):
        raise InputError(field=tracks.at("within_nm"), reason="only with mode: within")
    tracks.done()
    out = SharingPolicy(
        tracks=mode,
        tracks_within_nm=within,
        volumes=f.text("volumes", choices=_VOLUME_SHARING),
        protected_areas=f.text("protected_areas", choices=_DISCLOSURE),
    )
    f.done()
    return out

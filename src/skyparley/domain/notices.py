"""Operation notices and protected areas: what parties tell each other before anyone flies.

An :class:`OperationNotice` is a party's planned use of airspace: one or more 4D volumes, a
state and a version. A :class:`ProtectedArea` is a 4D volume to be kept clear (own ground
forces, a hospital, an aid convoy's route), with a disclosure rule. Neither carries a target,
a weapon or a purpose: their JSON forms refuse any member they do not know, and name the
member (``volumes[0].target``, or ``target`` at the top).

JSON forms
----------
A notice::

    {"type": "operation_notice", "party": "russia", "id": "ru-0930-homs", "version": 1,
     "state": "planned", "filed": "2015-09-30T04:00:00Z", "remark": "...",
     "volumes": [{"area": ..., "lower": "FL150", "upper": "FL300",
                  "start": "2015-09-30T06:00:00Z", "end": "2015-09-30T09:00:00Z"}]}

``type`` is optional (it tells notices from protected areas in a mixed file), ``filed`` (when
this version was filed, RFC 3339) and ``remark`` (at most :data:`MAX_REMARK_CHARS`
characters) are optional. A protected area::

    {"type": "protected_area", "owner": "relief", "id": "hama-hospital", "version": 1,
     "kind": "humanitarian", "disclosure": "on_conflict", "volume": {...}}

``type``, ``version`` (default 1) and ``disclosure`` are optional; without a disclosure the
protocol's sharing policy (``sharing.protected_areas``) decides.

Both are pure values; the strategic checks are in :mod:`skyparley.domain.strategic`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from skyparley.domain._fields import Fields
from skyparley.domain.times import format_time, parse_time
from skyparley.domain.volumes import DEFAULT_VOLUME_LIMITS, Volume4D, VolumeLimits
from skyparley.errors import InputError

__all__ = [
    "DISCLOSURES",
    "FORBIDDEN_FIELDS",
    "LIVE_STATES",
    "MAX_REMARK_CHARS",
    "MAX_VOLUMES",
    "NOTICE_STATES",
    "PROTECTED_KINDS",
    "OperationNotice",
    "ProtectedArea",
]

NOTICE_STATES: Final = ("planned", "active", "ended", "cancelled")
"""The states of an operation notice."""
LIVE_STATES: Final = ("planned", "active")
"""States in which a notice still claims its volumes (ended and cancelled ones do not)."""
PROTECTED_KINDS: Final = ("friendly_forces", "humanitarian", "civil", "other")
"""What a protected area protects."""
DISCLOSURES: Final = ("owner_only", "on_conflict", "public")
"""Who may see a protected area: its owner only, a party whose notice overlaps it (the
overlap only), or every party."""
MAX_REMARK_CHARS: Final = 280
"""Longest remark of a notice: a short note for the duty officers, not a plan."""
MAX_VOLUMES: Final = 64
"""Most volumes in one notice."""
FORBIDDEN_FIELDS: Final = ("target", "targets", "weapon", "weapons", "purpose")
"""Members refused with a reason of their own: skyparley never stores these."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _check_id(value: object, *, field: str) -> str:
    if not isinstance(value, str) or _ID.match(value) is None:
        raise InputError(
            field=field,
            reason=f"{value!r} is not an id: 1 to 128 letters, digits, '.', '_', ':' or '-',"
            " starting with a letter or digit",
        )
    return value


def _check_party(value: object, *, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(field=field, reason=f"must be a party id, got {value!r}")
    return value


def _check_version(value: object, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(field=field, reason=f"must be a whole number from 1, got {value!r}")
    return value


def _check_choice(value: object, choices: tuple[str, ...], *, field: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InputError(field=field, reason=f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def _check_remark(value: object, *, field: str) -> str:
    if not isinstance(value, str):
        raise InputError(field=field, reason=f"must be text, got {value!r}")
    if len(value) > MAX_REMARK_CHARS:
        raise InputError(
            field=field,
            reason=f"has {len(value)} characters; at most {MAX_REMARK_CHARS} (a remark is a"
            " short note, not a plan)",
        )
    if _CONTROL.search(value):
        raise InputError(field=field, reason="must not hold control characters")
    return value


def _refuse_forbidden(f: Fields, what: str) -> None:
    for name in FORBIDDEN_FIELDS:
        if f.has(name):
            raise InputError(
                field=f.at(name),
                reason=f"is not a field of {what}: skyparley never stores targets, weapons or"
                " purposes",
            )


def _check_type(f: Fields, expected: str) -> None:
    if f.has("type"):
        value = f.raw("type")
        if value != expected:
            raise InputError(field=f.at("type"), reason=f"must be {expected!r}, got {value!r}")


@dataclass(frozen=True)
class OperationNotice:
    """A party's planned use of airspace: 1 to :data:`MAX_VOLUMES` volumes, a state, a version.

    ``(party, id)`` names the notice; each new version supersedes the previous ones.
    ``filed_s`` is when this version was filed (epoch seconds), given by whoever files it
    (the service's clock, or the file): nothing here reads a clock.

    Examples
    --------
    >>> n = OperationNotice.from_dict({
    ...     "party": "russia", "id": "ru-1", "version": 1, "state": "planned",
    ...     "filed": "2015-09-30T04:00:00Z",
    ...     "volumes": [{"area": {"type": "Circle", "center": [36.75, 35.13], "radius_nm": 20},
    ...                  "lower": "FL150", "upper": "FL300",
    ...                  "start": "2015-09-30T06:00:00Z", "end": "2015-09-30T09:00:00Z"}]})
    >>> n.ref, n.start_s - n.filed_s
    ('russia/ru-1@1', 7200.0)
    >>> OperationNotice.from_dict({**n.to_dict(), "target": "x"})
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: target: is not a field of an operation notice: skyparley \
never stores targets, weapons or purposes
    """

    party: str
    id: str
    version: int
    state: str
    volumes: tuple[Volume4D, ...]
    filed_s: float | None = None
    remark: str | None = None

    def __post_init__(self) -> None:
        _check_party(self.party, field="party")
        _check_id(self.id, field="id")
        _check_version(self.version, field="version")
        _check_choice(self.state, NOTICE_STATES, field="state")
        volumes = tuple(self.volumes)
        if not 1 <= len(volumes) <= MAX_VOLUMES:
            raise InputError(
                field="volumes", reason=f"has {len(volumes)}; a notice has 1 to {MAX_VOLUMES}"
            )
        for k, v in enumerate(volumes):
            if not isinstance(v, Volume4D):
                raise InputError(field=f"volumes[{k}]", reason="must be a Volume4D")
        object.__setattr__(self, "volumes", volumes)
        if self.filed_s is not None:
            object.__setattr__(self, "filed_s", parse_time(self.filed_s, field="filed"))
        if self.remark is not None:
            _check_remark(self.remark, field="remark")

    @property
    def ref(self) -> str:
        """``party/id@version``: how logs and messages name this version."""
        return f"{self.party}/{self.id}@{self.version}"

    @property
    def is_live(self) -> bool:
        """Whether the notice still claims its volumes (planned or active)."""
        return self.state in LIVE_STATES

    @property
    def start_s(self) -> float:
        """When its first volume starts."""
        return min(v.window.start_s for v in self.volumes)

    def cancelled(self) -> OperationNotice:
        """The cancelled version that follows this one: the same volumes and remark, the
        next version number, no filing time of its own. A party's client builds it to sign
        the cancellation, and the service builds the same one to check that signature."""
        return OperationNotice(
            self.party, self.id, self.version + 1, "cancelled", self.volumes, remark=self.remark
        )

    @classmethod
    def from_dict(
        cls,
        obj: object,
        *,
        field: str = "",
        limits: VolumeLimits = DEFAULT_VOLUME_LIMITS,
    ) -> OperationNotice:
        """Read a notice from its JSON form; errors name the JSON path under ``field``."""
        f = Fields(obj, field)
        _refuse_forbidden(f, "an operation notice")
        _check_type(f, "operation_notice")
        party = _check_party(f.raw("party"), field=f.at("party"))
        nid = _check_id(f.raw("id"), field=f.at("id"))
        version = _check_version(f.raw("version"), field=f.at("version"))
        state = _check_choice(f.raw("state"), NOTICE_STATES, field=f.at("state"))
        filed = parse_time(f.raw("filed"), field=f.at("filed")) if f.has("filed") else None
        remark = _check_remark(f.raw("remark"), field=f.at("remark")) if f.has("remark") else None
        raw = f.raw("volumes")
        if not isinstance(raw, list | tuple) or not 1 <= len(raw) <= MAX_VOLUMES:
            got = f"{len(raw)} volumes" if isinstance(raw, list | tuple) else repr(raw)
            raise InputError(
                field=f.at("volumes"), reason=f"must be a list of 1 to {MAX_VOLUMES}, got {got}"
            )
        volumes = tuple(
            Volume4D.from_dict(item, field=f"{f.at('volumes')}[{k}]", limits=limits)
            for k, item in enumerate(raw)
        )
        f.done()
        return cls(party, nid, version, state, volumes, filed_s=filed, remark=remark)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form that :meth:`from_dict` reads back."""
        out: dict[str, Any] = {
            "type": "operation_notice",
            "party": self.party,
            "id": self.id,
            "version": self.version,
            "state": self.state,
        }
        if self.filed_s is not None:
            out["filed"] = format_time(self.filed_s)
        if self.remark is not None:
            out["remark"] = self.remark
        out["volumes"] = [v.to_dict() for v in self.volumes]
        return out


@dataclass(frozen=True)
class ProtectedArea:
    """A 4D volume to be kept clear, owned by a party, with a disclosure rule.

    ``disclosure`` None means the protocol's default (``sharing.protected_areas``); see
    :meth:`disclosure_under`. ``version`` counts redrawings of the same area.

    Examples
    --------
    >>> a = ProtectedArea.from_dict({
    ...     "owner": "relief", "id": "hama-hospital", "kind": "humanitarian",
    ...     "volume": {"area": {"type": "Circle", "center": [36.8, 35.17], "radius_nm": 2},
    ...                "lower": 0, "upper": "FL450",
    ...                "start": "2015-09-28T00:00:00Z", "end": "2015-10-05T00:00:00Z"}})
    >>> a.ref, a.disclosure, a.disclosure_under("on_conflict")
    ('relief/hama-hospital@1', None, 'on_conflict')
    >>> ProtectedArea.from_dict({**a.to_dict(), "kind": "hospital"})
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: kind: must be one of friendly_forces, humanitarian, civil, \
other, got 'hospital'
    """

    owner: str
    id: str
    kind: str
    volume: Volume4D
    disclosure: str | None = None
    version: int = field(default=1, kw_only=True)

    def __post_init__(self) -> None:
        _check_party(self.owner, field="owner")
        _check_id(self.id, field="id")
        _check_choice(self.kind, PROTECTED_KINDS, field="kind")
        if not isinstance(self.volume, Volume4D):
            raise InputError(field="volume", reason="must be a Volume4D")
        if self.disclosure is not None:
            _check_choice(self.disclosure, DISCLOSURES, field="disclosure")
        _check_version(self.version, field="version")

    @property
    def ref(self) -> str:
        """``owner/id@version``."""
        return f"{self.owner}/{self.id}@{self.version}"

    def disclosure_under(self, default: str) -> str:
        """The rule that applies: the area's own, else ``default`` (the protocol's)."""
        return self.disclosure if self.disclosure is not None else default

    @classmethod
    def from_dict(
        cls,
        obj: object,
        *,
        field: str = "",
        limits: VolumeLimits = DEFAULT_VOLUME_LIMITS,
    ) -> ProtectedArea:
        """Read a protected area from its JSON form; errors name the JSON path."""
        f = Fields(obj, field)
        _refuse_forbidden(f, "a protected area")
        _check_type(f, "protected_area")
        owner = _check_party(f.raw("owner"), field=f.at("owner"))
        aid = _check_id(f.raw("id"), field=f.at("id"))
        version = _check_version(f.raw("version", 1), field=f.at("version"))
        kind = _check_choice(f.raw("kind"), PROTECTED_KINDS, field=f.at("kind"))
        disclosure = (
            _check_choice(f.raw("disclosure"), DISCLOSURES, field=f.at("disclosure"))
            if f.has("disclosure")
            else None
        )
        volume = Volume4D.from_dict(f.raw("volume"), field=f.at("volume"), limits=limits)
        f.done()
        return cls(owner, aid, kind, volume, disclosure, version=version)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form that :meth:`from_dict` reads back."""
        out: dict[str, Any] = {
            "type": "protected_area",
            "owner": self.owner,
            "id": self.id,
            "version": self.version,
            "kind": self.kind,
        }
        if self.disclosure is not None:
            out["disclosure"] = self.disclosure
        out["volume"] = self.volume.to_dict()
        return out

"""Ledger bundles: an export of the log that anyone verifies offline, and its timeline.

One party says "we informed you in advance", the other "we never received it". A bundle
settles it from signatures and proofs alone: who said what (the author's entry signature),
that the log holds it (an inclusion proof to a checkpoint signed by the service), that the
addressee saw it (the addressee's own cosignature of a checkpoint that includes it), and
whether an acknowledgement followed.

Entry conventions
-----------------
An entry's ``kind`` is a hotline kind: ``notice``, ``alert``, ``request``, ``reply``,
``text``, ``ack``, ``escalation``, ``finding`` (others are shown as they are). In its body:

- ``{"to": ["coalition", ...]}`` names the addressees; with ``"deadline_s": <seconds>`` the
  entry demands their acknowledgement within that time. Without ``deadline_s`` the protocol's
  rule for the kind (``hotline.messages``) decides, when the verifier is given the protocol;
  without either, the timeline shows whether an acknowledgement came, with no deadline.
- an ``ack`` entry's body is ``{"acks": "<entry hash>"}``: the lowercase hex SHA-256 of the
  acknowledged entry's canonical bytes (:func:`~skyparley.domain.ledger.entry.entry_hash`,
  the same hash a ``prev`` link uses). An ack speaks for its author only.
- Deadlines run from the time the log took the entry (``logged_s``).

Bundle (JSON, ``format`` ``skyparley-ledger-bundle``, ``version`` 1)
---------------------------------------------------------------------
::

    {"format": "skyparley-ledger-bundle", "version": 1,
     "origin": "<the log's origin line>",
     "service_key": "<the service's verifier key text>",
     "party_keys": {"<party id>": "<verifier key text>", ...},
     "protocol_hash": "<64 hex>" | null,
     "exported_s": <POSIX seconds>,
     "range": {"from_s": <s> | null, "to_s": <s> | null,
               "first_index": <lo>, "end_index": <hi>},
     "entries": [{"index": <i>, "logged_s": <s>, "leaf": "<base64 leaf bytes>",
                  "inclusion_proof": ["<base64 hash>", ...]}, ...],
     "checkpoints": ["<signed checkpoint note, cosignature lines included>", ...],
     "consistency": [{"from_size": <m>, "to_size": <n>, "proof": ["<base64>", ...]}, ...]}

``entries`` holds exactly the leaves ``lo .. hi - 1``, in order; every inclusion proof leads
to the root of the *latest* checkpoint (the largest size in ``checkpoints``), and
``consistency`` holds a proof from every other checkpoint size (and from sizes a party asked
about at export) to the latest. Proofs to the latest suffice: two trees that are both
prefixes of a third are prefixes of each other, so every pair of checkpoints is consistent.

What :func:`verify_bundle` checks, and what it cannot
-----------------------------------------------------
It checks every entry signature against the bundle's party keys (or keys pinned by the
caller), every inclusion proof, each checkpoint's service signature and each cosignature,
that no two checkpoints of one size differ (a fork), the consistency of every checkpoint with
the latest, the entries' indices (none missing, none out of order) and each party's ``prev``
chain within the bundle; with ``held`` checkpoints (ones a party stored earlier), that the
bundle's log is consistent with them.

It cannot see a truncation that the service re-signs with its own key when the verifier
holds no earlier checkpoint and the bundle carries no cosignature of a larger tree: a log
cut short and re-signed is a valid log. The parties' cosignatures and held checkpoints are
what expose it. ``logged_s`` is the service's clock, not signed by anyone; the signed times
are the author's ``client_time`` and the witnesses' cosignature times.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from skyparley.domain.ledger.checkpoint import Checkpoint, open_checkpoint
from skyparley.domain.ledger.entry import (
    Entry,
    JSONValue,
    KeyRing,
    SignedEntry,
    verify_entry,
)
from skyparley.domain.ledger.keys import COSIGNATURE_V1, VerifierKey, parse_verifier_key
from skyparley.domain.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MemoryTree,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from skyparley.domain.ledger.note import parse_note
from skyparley.domain.times import format_time, in_time_range
from skyparley.errors import LedgerInputError, VerificationError

__all__ = [
    "ACK_KIND",
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "HOTLINE_KINDS",
    "AckRule",
    "AckStatus",
    "Bundle",
    "BundleEntry",
    "BundleReport",
    "CheckpointView",
    "ConsistencyProof",
    "HeldCheckpoint",
    "Problem",
    "TimelineItem",
    "format_timeline",
    "select_checkpoint_sizes",
    "timeline",
    "verify_bundle",
]

BUNDLE_FORMAT = "skyparley-ledger-bundle"
"""The ``format`` member of every bundle."""
BUNDLE_VERSION = 1
"""The bundle format version this code writes and reads."""
ACK_KIND = "ack"
"""The kind of an acknowledgement entry; its body is ``{"acks": "<entry hash>"}``."""
HOTLINE_KINDS = (
    "notice",
    "alert",
    "request",
    "reply",
    "text",
    ACK_KIND,
    "escalation",
    "finding",
)
"""The entry kinds of the hotline (others are logged and shown as they are)."""

_SUMMARY_CHARS = 72


# ----------------------------------------------------------------------------- format


@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One leaf of the log as exported: index, leaf bytes, log time, inclusion proof."""

    index: int
    leaf: bytes
    logged_s: float
    inclusion_proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """An RFC 9162 consistency proof from the tree of ``from_size`` to ``to_size``."""

    from_size: int
    to_size: int
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Bundle:
    """An exported slice of the log with everything needed to verify it (module notes)."""

    origin: str
    service_key: str
    party_keys: Mapping[str, str]
    protocol_hash: str | None
    exported_s: float
    first_index: int
    end_index: int
    entries: tuple[BundleEntry, ...]
    checkpoints: tuple[str, ...]
    consistency: tuple[ConsistencyProof, ...] = ()
    from_s: float | None = None
    to_s: float | None = None

    def to_json(self) -> dict[str, JSONValue]:
        """The bundle as a JSON object (see the module notes)."""
        return {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "origin": self.origin,
            "service_key": self.service_key,
            "party_keys": dict(sorted(self.party_keys.items())),
            "protocol_hash": self.protocol_hash,
            "exported_s": self.exported_s,
            "range": {
                "from_s": self.from_s,
                "to_s": self.to_s,
                "first_index": self.first_index,
                "end_index": self.end_index,
            },
            "entries": [
                {
                    "index": e.index,
                    "logged_s": e.logged_s,
                    "leaf": _b64(e.leaf),
                    "inclusion_proof": [_b64(h) for h in e.inclusion_proof],
                }
                for e in self.entries
            ],
            "checkpoints": list(self.checkpoints),
            "consistency": [
                {
                    "from_size": c.from_size,
                    "to_size": c.to_size,
                    "proof": [_b64(h) for h in c.proof],
                }
                for c in self.consistency
            ],
        }

    def dumps(self) -> bytes:
        """The bundle file's bytes: the JSON object, indented, with a final newline."""
        return (json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def loads(cls, data: bytes) -> Bundle:
        """A bundle from a file's bytes; :class:`LedgerInputError` names the bad field."""
        try:
            obj = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LedgerInputError(field="bundle", reason=f"not a JSON file ({exc})") from None
        return cls.from_json(obj)

    @classmethod
    def from_json(cls, obj: object) -> Bundle:
        """A bundle from its JSON object; checks the structure, not the signatures."""
        top = _obj(obj, "bundle")
        fmt = _get(top, "format", "format")
        if fmt != BUNDLE_FORMAT:
            raise LedgerInputError(field="format", reason=f"must be {BUNDLE_FORMAT!r}, got {fmt!r}")
        version = _int(_get(top, "version", "version"), "version")
        if version != BUNDLE_VERSION:
            raise LedgerInputError(
                field="version", reason=f"version {version} is not supported (only 1)"
            )
        origin = _str(_get(top, "origin", "origin"), "origin")
        service_key = _str(_get(top, "service_key", "service_key"), "service_key")
        _vkey(service_key, "service_key")
        keys = _obj(_get(top, "party_keys", "party_keys"), "party_keys")
        party_keys: dict[str, str] = {}
        for party, text in keys.items():
            fld = f"party_keys.{party}"
            party_keys[party] = _str(text, fld)
            if _vkey(party_keys[party], fld).name != party:
                raise LedgerInputError(field=fld, reason="the key is named for another party")
        protocol_hash = _get(top, "protocol_hash", "protocol_hash")
        if protocol_hash is not None:
            protocol_hash = _str(protocol_hash, "protocol_hash")
            if len(protocol_hash) != 64 or any(c not in "0123456789abcdef" for c in protocol_hash):
                raise LedgerInputError(
                    field="protocol_hash", reason="must be 64 lowercase hex digits (SHA-256)"
                )
        rng = _obj(_get(top, "range", "range"), "range")
        first = _int(_get(rng, "first_index", "range.first_index"), "range.first_index")
        end = _int(_get(rng, "end_index", "range.end_index"), "range.end_index")
        if end < first:
            raise LedgerInputError(field="range.end_index", reason="is before first_index")
        entries = []
        for n, item in enumerate(_list(_get(top, "entries", "entries"), "entries")):
            at = f"entries[{n}]"
            e = _obj(item, at)
            entries.append(
                BundleEntry(
                    index=_int(_get(e, "index", f"{at}.index"), f"{at}.index"),
                    leaf=_unb64(_get(e, "leaf", f"{at}.leaf"), f"{at}.leaf"),
                    logged_s=_num(_get(e, "logged_s", f"{at}.logged_s"), f"{at}.logged_s"),
                    inclusion_proof=_hashes(
                        _get(e, "inclusion_proof", f"{at}.inclusion_proof"),
                        f"{at}.inclusion_proof",
                    ),
                )
            )
        checkpoints = tuple(
            _str(c, f"checkpoints[{n}]")
            for n, c in enumerate(_list(_get(top, "checkpoints", "checkpoints"), "checkpoints"))
        )
        proofs = []
        for n, item in enumerate(_list(_get(top, "consistency", "consistency"), "consistency")):
            at = f"consistency[{n}]"
            c = _obj(item, at)
            proofs.append(
                ConsistencyProof(
                    from_size=_int(_get(c, "from_size", f"{at}.from_size"), f"{at}.from_size"),
                    to_size=_int(_get(c, "to_size", f"{at}.to_size"), f"{at}.to_size"),
                    proof=_hashes(_get(c, "proof", f"{at}.proof"), f"{at}.proof"),
                )
            )
        from_s, to_s = rng.get("from_s"), rng.get("to_s")
        return cls(
            origin=origin,
            service_key=service_key,
            party_keys=party_keys,
            protocol_hash=protocol_hash,
            exported_s=_num(_get(top, "exported_s", "exported_s"), "exported_s"),
            first_index=first,
            end_index=end,
            entries=tuple(entries),
            checkpoints=checkpoints,
            consistency=tuple(proofs),
            from_s=None if from_s is None else _num(from_s, "range.from_s"),
            to_s=None if to_s is None else _num(to_s, "range.to_s"),
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _get(obj: dict[str, Any], key: str, fld: str) -> Any:
    if key not in obj:
        raise LedgerInputError(field=fld, reason="is missing")
    return obj[key]


def _obj(value: object, fld: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LedgerInputError(field=fld, reason="must be a JSON object")
    return value


def _list(value: object, fld: str) -> list[Any]:
    if not isinstance(value, list):
        raise LedgerInputError(field=fld, reason="must be a JSON array")
    return value


def _str(value: object, fld: str) -> str:
    if not isinstance(value, str) or not value:
        raise LedgerInputError(field=fld, reason="must be non-empty text")
    return value


def _int(value: object, fld: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LedgerInputError(field=fld, reason="must be a whole number >= 0")
    return value


def _num(value: object, fld: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LedgerInputError(field=fld, reason="must be a finite number (POSIX seconds)")
    try:
        out = float(value)
    except OverflowError:
        out = math.inf
    if not math.isfinite(out) or not in_time_range(out):
        raise LedgerInputError(
            field=fld, reason="must be POSIX seconds between the years 1 and 9999"
        )
    return out


def _unb64(value: object, fld: str) -> bytes:
    text = _str(value, fld)
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise LedgerInputError(field=fld, reason="must be standard base64") from None


def _hashes(value: object, fld: str) -> tuple[bytes, ...]:
    out = []
    for n, item in enumerate(_list(value, fld)):
        raw = _unb64(item, f"{fld}[{n}]")
        if len(raw) != HASH_SIZE:
            raise LedgerInputError(field=f"{fld}[{n}]", reason=f"must be a {HASH_SIZE}-byte hash")
        out.append(raw)
    return tuple(out)


def _vkey(text: str, fld: str) -> VerifierKey:
    try:
        return parse_verifier_key(text)
    except LedgerInputError as exc:
        raise LedgerInputError(field=fld, reason=exc.reason) from None


def select_checkpoint_sizes(
    sizes: Iterable[int],
    cosigned: Iterable[int],
    first_index: int,
    end_index: int,
    extra: Iterable[int] = (),
) -> list[int]:
    """Which of the log's checkpoint ``sizes`` an export of leaves ``[first, end)`` carries.

    Every checkpoint that covers part of the range (size in ``(first, end]``), the first one
    that covers all of it, every cosigned one that covers part of it (a party's view of the
    entries: the delivery evidence), the ``extra`` sizes the log has (checkpoints a party
    holds) and the latest, ascending.

    Examples
    --------
    >>> select_checkpoint_sizes([0, 2, 5, 9, 12], cosigned=[5, 12], first_index=3, end_index=4)
    [5, 12]
    >>> select_checkpoint_sizes([0, 2, 5, 9, 12], cosigned=[], first_index=0, end_index=12)
    [2, 5, 9, 12]
    """
    all_sizes = sorted(set(sizes))
    if not all_sizes:
        return []
    known = set(all_sizes)
    chosen = {s for s in all_sizes if first_index < s <= end_index}
    covering = [s for s in all_sizes if s >= end_index and s > first_index]
    chosen.update(covering[:1])
    chosen.update(s for s in cosigned if s > first_index and s in known)
    chosen.update(s for s in extra if s in known)
    chosen.add(all_sizes[-1])
    return sorted(chosen)


# ----------------------------------------------------------------------------- verification


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that does not verify: an ``entry`` (``index`` its leaf index), a
    ``checkpoint`` (``index`` its size, when known) or the ``keys``."""

    subject: str
    index: int | None
    label: str
    what: str
    reason: str

    def __str__(self) -> str:
        return f"{self.label}: {self.what}: {self.reason}"


@dataclass(frozen=True, slots=True)
class HeldCheckpoint:
    """A checkpoint a party stored earlier (``name`` says where it came from, e.g. a file)."""

    name: str
    note: str


@dataclass(frozen=True, slots=True)
class CheckpointView:
    """A checkpoint of the bundle whose service signature verified, with its cosignatures
    as ``(party, time_s)``."""

    size: int
    root_hash: bytes
    cosignatures: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class VerifiedEntry:
    """An entry of the bundle whose leaf parsed: index, log time, entry and its hash."""

    index: int
    logged_s: float
    entry: Entry
    hash: str


@dataclass(frozen=True, slots=True)
class BundleReport:
    """What :func:`verify_bundle` found: the problems (none when everything verifies), the
    entries, the checkpoints and what was checked."""

    bundle: Bundle
    problems: tuple[Problem, ...]
    entries: tuple[VerifiedEntry, ...]
    checkpoints: tuple[CheckpointView, ...]
    latest_size: int | None
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether everything verified."""
        return not self.problems

    @property
    def first_bad_entry(self) -> Problem | None:
        """The first problem of an entry (lowest index), if any."""
        return next((p for p in self.problems if p.subject == "entry"), None)

    @property
    def first_bad_checkpoint(self) -> Problem | None:
        """The first problem of a checkpoint (smallest size), if any."""
        return next((p for p in self.problems if p.subject == "checkpoint"), None)


def _entry_label(index: int, entry: Entry | None = None) -> str:
    if entry is None:
        return f"entry {index}"
    return f"entry {index} ({entry.party} {entry.kind}, idem {entry.idem})"


def verify_bundle(
    bundle: Bundle,
    *,
    held: Sequence[HeldCheckpoint] = (),
    party_keys: Mapping[str, VerifierKey] | None = None,
    service_key: VerifierKey | None = None,
    protocol_hash: str | None = None,
) -> BundleReport:
    """Verify a bundle offline (see the module notes); never raises for what it verifies.

    ``party_keys``, ``service_key`` and ``protocol_hash`` pin what the caller trusts (from
    the protocol): the bundle's own keys must then be the same. ``held`` are checkpoints a
    party stored earlier: the bundle's log must be consistent with each. Problems are
    ordered: keys, then checkpoints by size, then entries, where an entry's own failures
    (its leaf, signature, place in the sequence, ``prev`` chain) come before inclusion
    proofs, each by index, so that the first named is the entry that was changed.
    """
    problems: list[Problem] = []
    notes: list[str] = []
    service = parse_verifier_key(bundle.service_key)
    ring = KeyRing([parse_verifier_key(t) for t in bundle.party_keys.values()])
    problems.extend(_check_trust(bundle, ring, service, party_keys, service_key, protocol_hash))
    if party_keys is not None:
        notes.append("party keys match the protocol")
    views, latest, cp_problems = _check_checkpoints(bundle, service, ring)
    held_problems, held_notes = _check_held(bundle, held, service, ring, views, latest)
    notes.extend(held_notes)
    problems.extend(sorted(cp_problems + held_problems, key=_problem_order))
    entries, local, proofs = _check_entries(bundle, ring, latest)
    local.extend(_check_log_times(entries, views))
    problems.extend(sorted(local, key=_problem_order))
    problems.extend(sorted(proofs, key=_problem_order))
    return BundleReport(
        bundle=bundle,
        problems=tuple(problems),
        entries=tuple(entries),
        checkpoints=tuple(views),
        latest_size=None if latest is None else latest.size,
        notes=tuple(notes),
    )


def _check_log_times(
    entries: Sequence[VerifiedEntry], views: Sequence[CheckpointView]
) -> list[Problem]:
    """The log times the bundle states must fit what is signed.

    ``logged_s`` is the service's clock and nobody signs it, but the log only grows: times
    never go backwards with the index, and an entry was logged no later than the first
    cosignature (a time the witness signed) of a checkpoint that holds it.
    """
    out: list[Problem] = []
    before: VerifiedEntry | None = None
    for v in sorted(entries, key=lambda x: x.index):
        label = _entry_label(v.index, v.entry)
        if before is not None and v.logged_s < before.logged_s:
            out.append(
                Problem(
                    "entry",
                    v.index,
                    label,
                    "log time",
                    f"logged at {v.logged_s:.3f}, before entry {before.index} "
                    f"({before.logged_s:.3f}): the log's times never go backwards",
                )
            )
        before = v
        signed = [
            (t, party, cp.size) for cp in views if cp.size > v.index for party, t in cp.cosignatures
        ]
        if signed:
            t, party, size = min(signed)
            if v.logged_s > t:
                out.append(
                    Problem(
                        "entry",
                        v.index,
                        label,
                        "log time",
                        f"logged at {v.logged_s:.3f}, after {party} cosigned checkpoint "
                        f"size {size} holding it at {t}",
                    )
                )
    return out


def _problem_order(p: Problem) -> int:
    return -1 if p.index is None else p.index


def _check_trust(
    bundle: Bundle,
    ring: KeyRing,
    service: VerifierKey,
    party_keys: Mapping[str, VerifierKey] | None,
    service_key: VerifierKey | None,
    protocol_hash: str | None,
) -> list[Problem]:
    out = []

    def bad(what: str, reason: str) -> None:
        out.append(Problem("keys", None, "keys", what, reason))

    if service_key is not None and service_key != service:
        bad("service key", f"the bundle names {service.to_text()}, not {service_key.to_text()}")
    if party_keys is not None:
        for party, key in sorted(party_keys.items()):
            if party in ring and ring[party] != key:
                bad(
                    f"key of {party}",
                    f"the bundle's {ring[party].to_text()} is not the protocol's {key.to_text()}",
                )
        for party in sorted(set(ring) - set(party_keys)):
            if ring[party] == service:
                continue  # the service signs its own entries (findings, escalations)
            bad(f"key of {party}", "the party is not in the protocol")
    if protocol_hash is not None and bundle.protocol_hash not in (None, protocol_hash):
        bad(
            "protocol hash",
            f"the log was created under {bundle.protocol_hash}, not the "
            f"given protocol's {protocol_hash}",
        )
    return out


def _check_checkpoints(
    bundle: Bundle, service: VerifierKey, ring: KeyRing
) -> tuple[list[CheckpointView], Checkpoint | None, list[Problem]]:
    problems: list[Problem] = []
    witnesses = [k.with_type(COSIGNATURE_V1) for k in ring.values()]
    good: list[tuple[Checkpoint, CheckpointView]] = []
    for n, text in enumerate(bundle.checkpoints):
        size = _size_of(text)
        label = f"checkpoint size {size}" if size is not None else f"checkpoints[{n}]"
        try:
            signed = open_checkpoint(text, service, witnesses=witnesses)
        except (VerificationError, LedgerInputError) as exc:
            problems.append(Problem("checkpoint", size, label, _what(exc), _reason(exc)))
            continue
        cp = signed.checkpoint
        if cp.origin != bundle.origin:
            problems.append(Problem("checkpoint", size, label, "origin", f"for log {cp.origin!r}"))
            continue
        if cp.size == 0 and cp.root_hash != EMPTY_ROOT:
            problems.append(
                Problem("checkpoint", 0, label, "root", "the empty tree has another root")
            )
            continue
        cosigs = tuple((c.witness.name, c.time_s) for c in signed.cosignatures)
        good.append((cp, CheckpointView(cp.size, cp.root_hash, cosigs)))
    # Of several checkpoints of one size (a fork), the one most parties cosigned is the
    # reference the others are reported against: the parties' view of the log wins.
    good.sort(key=lambda g: (g[0].size, -len(g[1].cosignatures)))
    first_by_size: dict[int, Checkpoint] = {}
    for cp, _ in good:
        other = first_by_size.setdefault(cp.size, cp)
        if other.root_hash != cp.root_hash:
            problems.append(
                Problem(
                    "checkpoint",
                    cp.size,
                    f"checkpoint size {cp.size}",
                    "fork",
                    f"two checkpoints of size {cp.size} with different roots "
                    f"({_b64(other.root_hash)} and {_b64(cp.root_hash)}): the log showed two "
                    "histories",
                )
            )
    if not good:
        problems.append(
            Problem("checkpoint", None, "checkpoints", "checkpoint", "no valid checkpoint")
        )
        return [], None, problems
    latest = first_by_size[good[-1][0].size]
    proofs = {(c.from_size, c.to_size): c.proof for c in bundle.consistency}
    for size, cp in sorted(first_by_size.items()):
        if size in (0, latest.size):
            continue
        label = f"checkpoint size {size}"
        proof = proofs.get((size, latest.size))
        if proof is None:
            problems.append(
                Problem(
                    "checkpoint",
                    size,
                    label,
                    "consistency",
                    f"the bundle has no consistency proof to the latest (size {latest.size})",
                )
            )
            continue
        try:
            verify_consistency(size, latest.size, cp.root_hash, latest.root_hash, proof)
        except VerificationError as exc:
            problems.append(
                Problem(
                    "checkpoint",
                    size,
                    label,
                    "consistency",
                    f"not proven a prefix of the latest (size {latest.size}): {exc.reason}",
                )
            )
    return [v for _, v in good], latest, problems


def _size_of(text: str) -> int | None:
    try:
        return Checkpoint.parse(parse_note(text).text).size
    except LedgerInputError:
        return None


def _what(exc: VerificationError | LedgerInputError) -> str:
    return exc.what if isinstance(exc, VerificationError) else exc.field


def _reason(exc: VerificationError | LedgerInputError) -> str:
    if isinstance(exc, VerificationError) and exc.where:
        return f"{exc.reason} ({exc.where})"
    return exc.reason


def _check_held(
    bundle: Bundle,
    held: Sequence[HeldCheckpoint],
    service: VerifierKey,
    ring: KeyRing,
    views: Sequence[CheckpointView],
    latest: Checkpoint | None,
) -> tuple[list[Problem], list[str]]:
    problems: list[Problem] = []
    notes: list[str] = []
    witnesses = [k.with_type(COSIGNATURE_V1) for k in ring.values()]
    by_size = {v.size: v for v in views}
    proofs = {(c.from_size, c.to_size): c.proof for c in bundle.consistency}
    for h in held:
        try:
            cp = open_checkpoint(h.note, service, witnesses=witnesses).checkpoint
        except (VerificationError, LedgerInputError) as exc:
            problems.append(
                Problem(
                    "checkpoint",
                    None,
                    f"held checkpoint {h.name}",
                    "service signature",
                    f"not a checkpoint signed by this bundle's service key: {_reason(exc)}",
                )
            )
            continue
        label = f"checkpoint size {cp.size} (held in {h.name})"

        def bad(what: str, reason: str, size: int = cp.size, label: str = label) -> None:
            problems.append(Problem("checkpoint", size, label, what, reason))

        if cp.origin != bundle.origin:
            bad("origin", f"the held checkpoint is for log {cp.origin!r}")
        elif latest is None:
            bad("consistency", "the bundle has no valid checkpoint to compare with")
        elif cp.size > latest.size:
            bad(
                "truncation",
                f"the held checkpoint covers {cp.size} leaves but the bundle's latest only "
                f"{latest.size}: the log now shows a shorter history than was seen (cut short "
                "and re-signed), or the bundle is older than the held checkpoint",
            )
        elif cp.size in by_size:
            if by_size[cp.size].root_hash != cp.root_hash:
                bad(
                    "fork",
                    f"the bundle's checkpoint of size {cp.size} has root "
                    f"{_b64(by_size[cp.size].root_hash)}, the held one {_b64(cp.root_hash)}: "
                    "two histories",
                )
            else:
                notes.append(f"held checkpoint {h.name} (size {cp.size}) is in the bundle")
        elif cp.size == 0:
            notes.append(f"held checkpoint {h.name} is the empty tree")
        elif (root := _root_from_entries(bundle, cp.size)) is not None:
            if root != cp.root_hash:
                bad("fork", f"the bundle's first {cp.size} leaves hash to another root")
            else:
                notes.append(
                    f"held checkpoint {h.name} (size {cp.size}): the bundle's leaves "
                    "hash to its root"
                )
        elif (proof := proofs.get((cp.size, latest.size))) is not None:
            try:
                verify_consistency(cp.size, latest.size, cp.root_hash, latest.root_hash, proof)
            except VerificationError as exc:
                bad(
                    "fork",
                    f"not a prefix of the bundle's latest (size {latest.size}): {exc.reason}",
                )
            else:
                notes.append(
                    f"held checkpoint {h.name} (size {cp.size}) is consistent with "
                    f"the latest (size {latest.size})"
                )
        else:
            bad(
                "consistency",
                f"the bundle holds neither a checkpoint of size {cp.size}, nor leaves 0-"
                f"{cp.size - 1}, nor a consistency proof from it: export again with "
                "--checkpoint",
            )
    return problems, notes


def _root_from_entries(bundle: Bundle, size: int) -> bytes | None:
    """The root of the first ``size`` leaves when the bundle holds them all, else ``None``."""
    if bundle.first_index != 0 or len(bundle.entries) < size:
        return None
    leaves = bundle.entries[:size]
    if any(e.index != n for n, e in enumerate(leaves)):
        return None
    tree = MemoryTree()
    for e in leaves:
        tree.append(e.leaf)
    return tree_root(tree, size)


def _check_entries(
    bundle: Bundle, ring: KeyRing, latest: Checkpoint | None
) -> tuple[list[VerifiedEntry], list[Problem], list[Problem]]:
    local: list[Problem] = []
    proofs: list[Problem] = []
    verified: list[VerifiedEntry] = []
    heads: dict[str, str | None] = {}
    expected = bundle.first_index
    previous: int | None = None
    parsed: list[tuple[BundleEntry, Entry]] = []
    listed = [e.index for e in bundle.entries]
    in_order = sorted(bundle.entries, key=lambda e: e.index)
    if listed != [e.index for e in in_order]:
        k = next(k for k, e in enumerate(in_order) if e.index != listed[k])
        local.append(
            Problem(
                "entry",
                in_order[k].index,
                f"entry {in_order[k].index}",
                "order",
                f"the bundle lists entry {listed[k]} where entry {in_order[k].index} belongs: "
                "its entries are out of order",
            )
        )
    for item in in_order:
        i = item.index
        if i > expected:
            gap = f"{expected}" if i == expected + 1 else f"{expected}-{i - 1}"
            local.append(
                Problem(
                    "entry",
                    expected,
                    f"entry {gap}",
                    "missing",
                    f"the bundle goes from entry {previous if previous is not None else '-'} "
                    f"to entry {i}",
                )
            )
        elif i < expected:
            local.append(
                Problem(
                    "entry",
                    i,
                    f"entry {i}",
                    "repeated",
                    f"entry {i} is in the bundle more than once",
                )
            )
        expected = max(expected, i + 1)
        previous = i
        try:
            signed = SignedEntry.from_leaf(item.leaf)
        except LedgerInputError as exc:
            local.append(Problem("entry", i, f"entry {i}", "leaf", f"not a signed entry: {exc}"))
            continue
        entry = signed.entry
        label = _entry_label(i, entry)
        try:
            verify_entry(signed, ring, log_id=bundle.origin)
        except VerificationError as exc:
            local.append(Problem("entry", i, label, exc.what, exc.reason))
            continue
        ehash = signed.hash
        if entry.party in heads or bundle.first_index == 0:
            want = heads.get(entry.party)
            if entry.prev != want:
                local.append(
                    Problem(
                        "entry",
                        i,
                        label,
                        "entry chain",
                        f"prev is {entry.prev or 'null'} but {entry.party}'s previous entry "
                        f"in the log hashes to {want or 'null'} (an entry of this party was "
                        "removed, added or moved)",
                    )
                )
        heads[entry.party] = ehash
        parsed.append((item, entry))
        verified.append(VerifiedEntry(i, item.logged_s, entry, ehash))
    if expected > bundle.end_index:
        local.append(
            Problem(
                "entry",
                bundle.end_index,
                f"entry {bundle.end_index}",
                "range",
                f"the bundle's range ends before entry {bundle.end_index} but it holds "
                f"entries up to {expected - 1}",
            )
        )
    if expected < bundle.end_index:
        local.append(
            Problem(
                "entry",
                expected,
                f"entry {expected}",
                "missing",
                f"the bundle's range goes to entry {bundle.end_index - 1} but its entries end "
                f"at {previous if previous is not None else '-'}",
            )
        )
    if latest is not None:
        if bundle.end_index > latest.size:
            local.append(
                Problem(
                    "entry",
                    latest.size,
                    f"entry {latest.size}",
                    "checkpoint",
                    f"no checkpoint in the bundle covers it (latest size {latest.size})",
                )
            )
        for item, entry in parsed:
            try:
                verify_inclusion(
                    leaf_hash(item.leaf),
                    item.index,
                    latest.size,
                    item.inclusion_proof,
                    latest.root_hash,
                )
            except VerificationError as exc:
                proofs.append(
                    Problem(
                        "entry",
                        item.index,
                        _entry_label(item.index, entry),
                        "inclusion proof",
                        f"{exc.reason} (checkpoint size {latest.size}): the leaf is not the "
                        "one the log committed to at this index",
                    )
                )
    return verified, local, proofs


# ----------------------------------------------------------------------------- timeline


@dataclass(frozen=True, slots=True)
class AckRule:
    """Whether a kind demands acknowledgement, and within how many seconds (protocol)."""

    requires_ack: bool
    deadline_s: float | None


@dataclass(frozen=True, slots=True)
class AckStatus:
    """What became of one addressee's acknowledgement of an entry.

    ``state`` is ``acknowledged``, ``late`` (acknowledged after the deadline),
    ``not_acknowledged`` (the deadline passed, and either the addressee cosigned, after the
    deadline, a checkpoint whose entries the bundle shows, or the bundle shows the log up to
    its latest checkpoint), ``not_in_bundle`` (the deadline passed but the bundle stops
    short of the latest checkpoint: an ack may lie beyond it), ``pending`` (the bundle ends
    before the deadline) or ``unknown`` (no deadline stated, none in the bundle).
    ``seen`` is the addressee's first cosignature of a checkpoint that includes the entry,
    as ``(size, time_s)``; ``evidence`` the addressee's cosignature, after the deadline, of a
    checkpoint whose entries the bundle shows in full, without an ack.
    """

    party: str
    state: str
    deadline_s: float | None
    ack_index: int | None = None
    ack_s: float | None = None
    seen: tuple[int, int] | None = None
    evidence: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One entry of the timeline: when, who, what, and the addressees' acknowledgements."""

    index: int
    logged_s: float
    client_time: str
    party: str
    kind: str
    summary: str
    to: tuple[str, ...]
    seen: tuple[tuple[str, int, int], ...]
    acks: tuple[AckStatus, ...]


def timeline(
    report: BundleReport, *, rules: Mapping[str, AckRule] | None = None
) -> tuple[TimelineItem, ...]:
    """The human timeline of a verified bundle's entries (see the module's conventions).

    ``rules`` (kind to :class:`AckRule`, from the protocol) gives the deadline of entries
    whose body names addressees (``to``) but no ``deadline_s``.
    """
    entries = report.entries
    by_hash = {v.hash: v for v in entries}
    end = report.bundle.end_index
    cosigs = sorted(
        ((party, cp.size, t) for cp in report.checkpoints for party, t in cp.cosignatures),
        key=lambda c: (c[2], c[1]),
    )
    as_of = max(
        [report.bundle.exported_s, *(v.logged_s for v in entries), *(t for _, _, t in cosigs)]
    )
    service = parse_verifier_key(report.bundle.service_key).name
    acks: dict[tuple[str, str], VerifiedEntry] = {}
    for v in entries:
        target = _acked_hash(v.entry)
        if target is not None:
            acks.setdefault((target, _speaker(v.entry, service)), v)
    items = []
    for v in entries:
        e = v.entry
        body = e.body if isinstance(e.body, dict) else {}
        to = _addressees(body)
        deadline = _deadline(e.kind, body, rules)
        demands = (
            bool(to)
            and e.kind != ACK_KIND
            and (deadline is not None or rules is None or e.kind not in rules)
        )
        speaker = _speaker(e, service)
        readers = to or tuple(sorted({p for p, _, _ in cosigs} - {speaker}))
        seen = []
        for party in readers:
            first = next(((s, t) for p, s, t in cosigs if p == party and s > v.index), None)
            if first is not None:
                seen.append((party, first[0], first[1]))
        statuses = []
        if demands:
            due = None if deadline is None else v.logged_s + deadline
            for party in to:
                ack = acks.get((v.hash, party))
                first = next(((s, t) for p, s, t in cosigs if p == party and s > v.index), None)
                if ack is not None and ack.index > v.index:
                    late = due is not None and ack.logged_s > due
                    statuses.append(
                        AckStatus(
                            party,
                            "late" if late else "acknowledged",
                            due,
                            ack.index,
                            ack.logged_s,
                            first,
                        )
                    )
                    continue
                if due is None:
                    statuses.append(AckStatus(party, "unknown", None, seen=first))
                elif as_of > due:
                    evidence = next(
                        (
                            (s, t)
                            for p, s, t in cosigs
                            if p == party and v.index < s <= end and t >= due
                        ),
                        None,
                    )
                    # Without the addressee's own view after the deadline, "not acknowledged"
                    # holds only if the bundle shows the log to its latest checkpoint.
                    state = (
                        "not_acknowledged"
                        if evidence is not None or report.latest_size == end
                        else "not_in_bundle"
                    )
                    statuses.append(AckStatus(party, state, due, seen=first, evidence=evidence))
                else:
                    statuses.append(AckStatus(party, "pending", due, seen=first))
        items.append(
            TimelineItem(
                index=v.index,
                logged_s=v.logged_s,
                client_time=e.client_time,
                party=e.party if speaker == e.party else f"{speaker} (attested by {e.party})",
                kind=e.kind,
                summary=_summary(e, by_hash),
                to=to,
                seen=tuple(seen),
                acks=tuple(statuses),
            )
        )
    return tuple(items)


def _speaker(entry: Entry, service: str) -> str:
    """Who speaks in an entry: its author, or the party a service attestation speaks for
    (an entry of the service whose body names ``attested_for``)."""
    if entry.party == service and isinstance(entry.body, dict):
        who = entry.body.get("attested_for")
        if isinstance(who, str) and who:
            return who
    return entry.party


def _addressees(body: Mapping[str, JSONValue]) -> tuple[str, ...]:
    to = body.get("to")
    if isinstance(to, str):
        return (to,)
    if isinstance(to, list):
        return tuple(p for p in to if isinstance(p, str))
    return ()


def _deadline(
    kind: str, body: Mapping[str, JSONValue], rules: Mapping[str, AckRule] | None
) -> float | None:
    value = body.get("deadline_s")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    rule = None if rules is None else rules.get(kind)
    if rule is not None and rule.requires_ack:
        return rule.deadline_s
    return None


def _acked_hash(entry: Entry) -> str | None:
    if entry.kind != ACK_KIND or not isinstance(entry.body, dict):
        return None
    target = entry.body.get("acks")
    statement = entry.body.get("statement")
    if target is None and isinstance(statement, dict):
        target = statement.get("acks")
    return target if isinstance(target, str) else None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "\u2026"


def _summary(entry: Entry, by_hash: Mapping[str, VerifiedEntry]) -> str:
    if entry.body_sha256 is not None:
        return f"body kept elsewhere (sha256 {entry.body_sha256[:12]}\u2026)"
    target = _acked_hash(entry)
    if target is not None:
        acked = by_hash.get(target)
        if acked is None:
            return f"acknowledges {target[:12]}\u2026 (not in this bundle)"
        return f"acknowledges #{acked.index} ({acked.entry.party} {acked.entry.kind})"
    body = entry.body
    if isinstance(body, dict) and isinstance(body.get("statement"), dict):
        body = body["statement"]  # an attested statement: show what the party said
    content = body.get("content") if isinstance(body, dict) else None
    if isinstance(content, dict):  # a hotline message: its free text, or its template
        text, template = content.get("text"), content.get("template")
        if isinstance(text, str):
            return _clip(f'"{text}"')
        if isinstance(template, str):
            args = content.get("args")
            shown = json.dumps(args, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            return _clip(f"{template} {shown}")
    ref = body.get("ref") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(ref, str):
        state = body.get("state")
        return _clip(ref + (f" ({state})" if isinstance(state, str) else ""))
    if isinstance(body, dict):
        for key in ("text", "summary", "title", "subject"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return _clip(f'"{value}"')
        rest = {k: v for k, v in body.items() if k not in ("to", "deadline_s")}
        return _clip(json.dumps(rest, ensure_ascii=False, separators=(",", ":"), sort_keys=True))
    if isinstance(body, str):
        return _clip(f'"{body}"')
    return _clip(json.dumps(body, ensure_ascii=False))


def format_timeline(items: Sequence[TimelineItem]) -> str:
    """The timeline as text, one block per entry (times in UTC)."""
    lines = []
    for it in items:
        to = f" -> {', '.join(it.to)}" if it.to else ""
        lines.append(
            f"#{it.index:<4} {format_time(it.logged_s)}  {it.party}{to}  {it.kind}  {it.summary}"
        )
        if it.client_time != format_time(it.logged_s):
            lines.append(f"      written {it.client_time} (the author's signed clock)")
        for party, size, t in it.seen:
            lines.append(
                f"      seen by {party} (cosigned checkpoint size {size} at {format_time(t)})"
            )
        lines.extend("      " + _ack_line(a) for a in it.acks)
    return "\n".join(lines) + ("\n" if lines else "")


def _ack_line(a: AckStatus) -> str:
    due = "" if a.deadline_s is None else format_time(a.deadline_s)
    if a.state in ("acknowledged", "late") and a.ack_s is not None:
        late = f", LATE: deadline {due}" if a.state == "late" else ""
        return f"acknowledged by {a.party} at {format_time(a.ack_s)} (entry #{a.ack_index}{late})"
    if a.state == "not_acknowledged":
        text = f"NOT acknowledged by {a.party} (deadline {due} passed)"
        if a.evidence is not None:
            size, t = a.evidence
            text += (
                f"; {a.party} itself cosigned checkpoint size {size} at {format_time(t)}, after "
                f"the deadline, and no acknowledgement by {a.party} is among its entries"
            )
        else:
            text += "; no acknowledgement in this bundle"
        return text
    if a.state == "not_in_bundle":
        return (
            f"no acknowledgement by {a.party} in this bundle (deadline {due} passed), but the "
            "bundle does not show the log to its latest checkpoint: one may follow it"
        )
    if a.state == "pending":
        return f"not acknowledged by {a.party} yet (deadline {due}, after the end of this bundle)"
    return f"not acknowledged by {a.party} in this bundle (no deadline stated)"

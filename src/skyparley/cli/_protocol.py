"""``skyparley protocol check``: validate a protocol file and summarise it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from skyparley.adapters.protocol_file import load_protocol
from skyparley.domain.protocol import Protocol
from skyparley.geo.areas import area_km2

__all__ = ["check", "summary", "summary_json"]

_TRACKS = {"none": "not shared", "all": "all shared"}
_VOLUMES = {"conflicts_only": "shown only where they conflict", "all": "all shown"}
_DISCLOSE = {
    "owner_only": "shown to their owner only",
    "on_conflict": "revealed on conflict, the overlap only",
    "public": "public",
}


def check(args: argparse.Namespace) -> int:
    """Handle ``skyparley protocol check``."""
    protocol = load_protocol(args.file)
    if args.format == "json":
        json.dump(summary_json(protocol), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(summary(protocol))
    print(f"protocol check: {args.file} is valid", file=sys.stderr)
    return 0


def summary(p: Protocol) -> str:
    """A human summary of the protocol."""
    t = p.tactical
    m = t.minima
    lines = [
        f"protocol      {p.id}, version {p.version}: {p.title}",
        f"content hash  {p.content_hash}",
    ]
    for k, party in enumerate(p.parties):
        head = "parties" if k == 0 else ""
        lines.append(
            f"{head:13} {party.id:12} {party.language}  key {party.public_key.name}+"
            f"{party.public_key.key_id.hex()}  {party.name}"
        )
    pairs = "all pairs" if t.include_same_party else "cross-party pairs"
    lines.append(
        f"tactical      {m.hsep_nm:g} NM / {m.vsep_ft:g} ft (altitude tolerance "
        f"{m.alt_tolerance_ft:g} ft), lookahead {m.lookahead_s:g} s, {pairs}"
    )
    levels = ", ".join(
        f"{a.name} within {a.time_to_los_s:g} s ({a.hsep_nm:g} NM / {a.vsep_ft:g} ft)"
        for a in t.alert_levels
    )
    lines.append(f"alert levels  {levels}")
    h = t.hysteresis
    lines.append(f"hysteresis    {h.m} of {h.n}, persistence {h.persistence_s:g} s")
    s = p.strategic
    lines.append(
        f"strategic     buffers {s.lateral_nm:g} NM, {s.vertical_ft:g} ft, {s.time_min:g} min"
    )
    acks = "; ".join(
        f"{kind} ack within {rule.deadline_s:g} s" if rule.requires_ack else f"{kind} no ack"
        for kind, rule in p.messages.items()
    )
    lines.append(f"hotline       {acks}")
    ladder = " -> ".join(
        e.name if k == 0 else f"{e.name} (+{e.deadline_s:g} s)" for k, e in enumerate(p.escalation)
    )
    lines.append(f"escalation    {ladder}")
    for k, z in enumerate(p.zones):
        head = "zones" if k == 0 else ""
        what = (
            f"area, {area_km2(z.area):,.0f} km2"
            if z.area is not None
            else f"line of {len(z.line)} points, {z.rules.side} side"
        )
        rules = []
        if z.rules.notice_hours is not None:
            rules.append(f"notice {z.rules.notice_hours:g} h ahead")
        if z.rules.owner:
            rules.append(f"owner {z.rules.owner}")
        if z.rules.closed_to:
            rules.append("closed to " + ", ".join(z.rules.closed_to))
        lines.append(f"{head:13} {z.id} ({what}): {'; '.join(rules) or 'no rules'}")
    sh = p.sharing
    tracks = (
        f"within {sh.tracks_within_nm:g} NM of own aircraft"
        if sh.tracks == "within"
        else _TRACKS[sh.tracks]
    )
    lines.append(
        f"sharing       other parties' tracks {tracks}; volumes {_VOLUMES[sh.volumes]}; "
        f"protected areas {_DISCLOSE[sh.protected_areas]}"
    )
    return "\n".join(lines) + "\n"


def summary_json(p: Protocol) -> dict[str, Any]:
    """The summary as JSON: identity, parties and counts."""
    return {
        "protocol": p.id,
        "version": p.version,
        "title": p.title,
        "content_hash": p.content_hash,
        "parties": [
            {
                "id": x.id,
                "name": x.name,
                "language": x.language,
                "public_key": x.public_key.to_text(),
            }
            for x in p.parties
        ],
        "alert_levels": [a.name for a in p.tactical.alert_levels],
        "escalation": [e.name for e in p.escalation],
        "zones": [z.id for z in p.zones],
    }

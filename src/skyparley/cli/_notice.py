"""``skyparley notice file|cancel|list``: operation notices through the service.

``notice file`` prints the findings for the filer (the overlap only, as the protocol lets the
filer see it) and exits 1 when there are findings, 0 when the notice is clear, as
``plan check`` does.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from skyparley.cli._remote import connect, non_blank, print_jsonl, read_json_file
from skyparley.errors import InputError

__all__ = ["cancel", "file", "list_"]

EXIT_FINDINGS = 1


def _describe_finding(f: dict[str, Any]) -> str:
    o = f.get("overlap") or {}
    if o:
        span = (
            f"{o.get('start', '?')} to {o.get('end', '?')}, "
            f"{round(o.get('lower', 0))} to {round(o.get('upper', 0))} ft"
        )
    else:
        span = "(no overlap disclosed)"
    return f"{f.get('kind', '?'):<16} {f.get('other', '?'):<28} {span}"


def _signed_by(out: dict[str, Any]) -> str:
    return "service-attested" if out.get("attested") else "signed by the party"


def file(args: argparse.Namespace) -> int:
    """Handle ``skyparley notice file``."""
    data = read_json_file(args.file, "FILE", root="notice")
    if not isinstance(data, dict):
        raise InputError(field="FILE", reason=f"{args.file} must hold one notice (a JSON object)")
    with connect(args, "notice") as client:
        out = client.file_notice(data)
    findings: list[dict[str, Any]] = out.get("findings", [])
    n = out["notice"]
    ref = f"{n['party']}/{n['id']}@{n['version']}"
    if args.format == "jsonl":
        print_jsonl(findings)
    elif findings:
        print(f"{'kind':<16} {'with':<28} overlap")
        for f in findings:
            print(_describe_finding(f))
    else:
        print(f"{ref}: clear (no findings)")
    replayed = " (already filed: the same version again)" if out.get("replayed") else ""
    print(
        f"notice file: filed {ref}, ledger #{out.get('ledger_index')}, {_signed_by(out)}; "
        f"{len(findings)} finding{'s' if len(findings) != 1 else ''}{replayed}",
        file=sys.stderr,
    )
    return EXIT_FINDINGS if findings else 0


def cancel(args: argparse.Namespace) -> int:
    """Handle ``skyparley notice cancel``."""
    non_blank(args.id, "ID")
    with connect(args, "notice") as client:
        out = client.cancel_notice(args.id)
    n = out["notice"]
    ref = f"{n['party']}/{n['id']}@{n['version']}"
    if args.format == "jsonl":
        print_jsonl([out])
    else:
        print(f"{ref}: cancelled")
    print(
        f"notice cancel: filed {ref}, ledger #{out.get('ledger_index')}, {_signed_by(out)}",
        file=sys.stderr,
    )
    return 0


def list_(args: argparse.Namespace) -> int:
    """Handle ``skyparley notice list``."""
    with connect(args, "notice") as client:
        items = client.notices(live=args.live)
    if args.format == "jsonl":
        print_jsonl(items)
        return 0
    if not items:
        print("no notices" + (" live" if args.live else ""))
        return 0
    print(f"{'id':<32} {'ver':>3} {'state':<9} {'start':<20} {'end':<20} findings")
    for item in items:
        n = item["notice"]
        vols = n.get("volumes", [])
        start = min((str(v["start"]) for v in vols), default="-")
        end = max((str(v["end"]) for v in vols), default="-")
        print(
            f"{n['id']:<32} {n['version']:>3} {n['state']:<9} {start:<20} {end:<20} "
            f"{len(item.get('findings', []))}"
        )
    return 0

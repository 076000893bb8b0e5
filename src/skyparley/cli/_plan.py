"""``skyparley plan check``: check an operation notice before anyone flies.

Reads the protocol, the notice and what to check it against (notices and protected areas,
see :mod:`skyparley.adapters.notice_files`), runs
:func:`skyparley.domain.strategic.check_notice` and prints the findings one party may see:
the notice's party by default, another with ``--as``. Exit codes: 0 clear, 1 findings,
2 bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from skyparley.adapters.notice_files import load_notice, load_plan_items
from skyparley.adapters.protocol_file import load_protocol
from skyparley.domain.notices import OperationNotice
from skyparley.domain.strategic import Finding, check_notice
from skyparley.domain.times import format_time, parse_time
from skyparley.errors import InputError

__all__ = ["EXIT_CLEAR", "EXIT_FINDINGS", "check", "findings_json", "findings_table"]

EXIT_CLEAR = 0
EXIT_FINDINGS = 1


def check(args: argparse.Namespace) -> int:
    """Handle ``skyparley plan check``."""
    protocol = load_protocol(args.protocol)
    parties = [p.id for p in protocol.parties]
    notice = load_notice(args.notice)
    if notice.party not in parties:
        raise InputError(
            field=f"{args.notice}: party",
            reason=f"{notice.party!r} is not a party of this protocol",
        )
    reader = args.reader or notice.party
    if reader not in parties:
        raise InputError(field="--as", reason=f"{reader!r} is not a party of this protocol")
    others = load_plan_items(*args.against, parties=parties) if args.against else ()
    if args.now is not None:
        # The notice is checked as if this version were filed then.
        notice = dataclasses.replace(notice, filed_s=parse_time(args.now, field="--now"))
    now_s = notice.filed_s if notice.filed_s is not None else time.time()
    findings = check_notice(
        notice,
        protocol,
        notices=[o for o in others if isinstance(o, OperationNotice)],
        protected_areas=[o for o in others if not isinstance(o, OperationNotice)],
        now_s=now_s,
    )
    mine = [f for f in findings if f.reader == reader]
    if args.format == "json":
        json.dump(findings_json(notice, reader, now_s, mine), sys.stdout, indent=2,
                  ensure_ascii=False)  # fmt: skip
        sys.stdout.write("\n")
    else:
        sys.stdout.write(findings_table(mine) if mine else f"clear: no findings for {reader}\n")
    count = f"{len(mine)} finding{'s' if len(mine) != 1 else ''}"
    verdict = f"{count} for {reader}" if mine else f"clear for {reader}"
    print(f"plan check: {notice.ref}: {verdict}", file=sys.stderr)
    return EXIT_FINDINGS if mine else EXIT_CLEAR


def findings_json(
    notice: OperationNotice, reader: str, now_s: float, findings: Sequence[Finding]
) -> dict[str, Any]:
    """The JSON output: the notice checked, the reader, and the reader's findings."""
    return {
        "notice": notice.ref,
        "filed": format_time(notice.filed_s if notice.filed_s is not None else now_s),
        "reader": reader,
        "clear": not findings,
        "findings": [f.to_dict() for f in findings],
    }


def _band(f: Finding) -> str:
    if f.overlap is None:
        return "withheld"
    return f"{f.overlap.lower_ft:,.0f}-{f.overlap.upper_ft:,.0f} ft"


def _interval(f: Finding) -> str:
    if f.overlap is None:
        return "withheld"
    return f"{format_time(f.overlap.start_s)} .. {format_time(f.overlap.end_s)}"


def findings_table(findings: Sequence[Finding]) -> str:
    """A table of findings (kind, own object and volume, other, overlap) and their details."""
    head = ("kind", "yours", "other", "overlap km2", "band", "interval (UTC)", "finding")
    rows = [
        (
            f.kind,
            f"{f.subject.id}@{f.subject.version} #{f.subject.volume}",
            f.other,
            "withheld" if f.overlap is None else f"{f.overlap.area.area_km2:,.1f}",
            _band(f),
            _interval(f),
            f.id[:12],
        )
        for f in findings
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    right = {3}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [line(head), *(line(r) for r in rows), ""]
    out += [f"{f.id[:12]}  {f.detail}" for f in findings]
    return "\n".join(out) + "\n"

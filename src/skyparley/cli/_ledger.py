"""``skyparley ledger export`` and ``skyparley ledger verify``: the signed record, offline.

``export`` copies a slice of a ledger database into one bundle file (see
:mod:`skyparley.domain.ledger.bundle`) without checking it: it needs no key, writes nothing
to the database and launders nothing (a tampered row is exported as it is, for ``verify``
to find). Only what makes an export impossible stops it, with exit code 1: a leaf row
missing below the latest checkpoint, a row beyond it, a tree hash missing.

``verify`` checks a bundle from the bundle alone (or against pinned keys, the protocol and
checkpoints a party stored) and prints the timeline: exit 0 when everything verifies,
1 naming the first bad entry or checkpoint, 2 for a file that is not a bundle.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from skyparley.adapters.conflict_sinks import atomic_output
from skyparley.adapters.ledger_store import LedgerReader
from skyparley.adapters.protocol_file import load_protocol
from skyparley.domain.ledger.bundle import (
    AckRule,
    Bundle,
    BundleEntry,
    BundleReport,
    ConsistencyProof,
    HeldCheckpoint,
    format_timeline,
    select_checkpoint_sizes,
    timeline,
    verify_bundle,
)
from skyparley.domain.ledger.checkpoint import Checkpoint
from skyparley.domain.ledger.keys import VerifierKey, parse_verifier_key
from skyparley.domain.ledger.note import parse_note
from skyparley.domain.times import format_time, parse_time
from skyparley.errors import InputError, LedgerError, LedgerInputError

__all__ = ["EXIT_TAMPERED", "export", "verify"]

EXIT_TAMPERED = 1
"""Exit code when something does not verify (2 stays for input that cannot be read)."""
_MAX_LISTED = 20


def export(args: argparse.Namespace) -> int:
    """Handle ``skyparley ledger export``."""
    from_s = None if args.from_ is None else parse_time(args.from_, field="--from")
    to_s = None if args.to is None else parse_time(args.to, field="--to")
    if from_s is not None and to_s is not None and to_s < from_s:
        raise InputError(field="--to", reason=f"{args.to} is before --from {args.from_}")
    held_sizes = [_read_held(path).size for path in args.checkpoint]
    try:
        with LedgerReader(args.db) as reader:
            bundle = _build(reader, from_s, to_s, held_sizes)
    except InputError:
        raise
    except LedgerError as exc:
        print(
            f"ledger export: FAILED: {args.db} does not hold a whole log: {exc}",
            file=sys.stderr,
        )
        return EXIT_TAMPERED
    with atomic_output(args.out) as tmp:
        Path(tmp).write_bytes(bundle.dumps())
    span = (
        f"entries #{bundle.first_index}-#{bundle.end_index - 1}" if bundle.entries else "no entries"
    )
    sizes = ", ".join(str(_checkpoint_size(t)) for t in bundle.checkpoints)
    print(
        f"ledger export: wrote {args.out}: {span} ({len(bundle.entries)}), checkpoints of "
        f"sizes {sizes}",
        file=sys.stderr,
    )
    return 0


def _build(
    reader: LedgerReader, from_s: float | None, to_s: float | None, held_sizes: list[int]
) -> Bundle:
    with reader.snapshot():
        latest = reader.latest_size()
        reader.check_leaves(latest)
        lo, hi = reader.index_range(from_s, to_s, latest)
        entries = tuple(
            BundleEntry(
                index=idx,
                leaf=leaf,
                logged_s=logged_s,
                inclusion_proof=reader.inclusion_proof(idx, latest),
            )
            for idx, leaf, logged_s in reader.leaves(lo, hi)
        )
        sizes = select_checkpoint_sizes(
            reader.checkpoint_sizes(), reader.cosigned_sizes(), lo, hi, extra=held_sizes
        )
        checkpoints = tuple(reader.checkpoint_text(s) for s in sizes)
        proof_sizes = sorted({s for s in [*sizes, *held_sizes] if 0 < s < latest})
        consistency = tuple(
            ConsistencyProof(s, latest, reader.consistency_proof(s, latest)) for s in proof_sizes
        )
    return Bundle(
        origin=reader.origin,
        service_key=reader.service_key,
        party_keys=reader.party_keys,
        protocol_hash=reader.protocol_hash,
        exported_s=time.time(),
        first_index=lo,
        end_index=hi,
        entries=entries,
        checkpoints=checkpoints,
        consistency=consistency,
        from_s=from_s,
        to_s=to_s,
    )


def _checkpoint_size(text: str) -> str:
    try:
        return str(Checkpoint.parse(parse_note(text).text).size)
    except LedgerInputError:
        return "?"


def _read_text(path: str, fld: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(field=fld, reason=f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(field=fld, reason=f"{path} is a folder") from None
    except OSError as exc:
        raise InputError(field=fld, reason=f"{path}: cannot be read ({exc.strerror})") from None


def _read_held(path: str) -> Checkpoint:
    """The checkpoint in a file a party stored (a signed note); exit 2 when it is not one."""
    text = _read_text(path, "--checkpoint")
    try:
        return Checkpoint.parse(parse_note(text).text)
    except LedgerInputError as exc:
        raise InputError(
            field="--checkpoint", reason=f"{path} is not a signed checkpoint: {exc}"
        ) from None


def verify(args: argparse.Namespace) -> int:
    """Handle ``skyparley ledger verify``."""
    data = _read_text(args.bundle, "BUNDLE")
    try:
        bundle = Bundle.loads(data)
    except LedgerInputError as exc:
        raise InputError(
            field=f"{args.bundle}: {exc.field}", reason=f"not a ledger bundle: {exc.reason}"
        ) from None
    held = []
    for path in args.checkpoint:
        _read_held(path)
        held.append(HeldCheckpoint(name=path, note=_read_text(path, "--checkpoint").decode()))
    service_key: VerifierKey | None = None
    if args.service_key is not None:
        try:
            service_key = parse_verifier_key(args.service_key)
        except LedgerInputError as exc:
            raise InputError(field="--service-key", reason=exc.reason) from None
    party_keys = protocol_hash = rules = None
    if args.protocol is not None:
        protocol = load_protocol(args.protocol)
        party_keys = {p.id: p.public_key for p in protocol.parties}
        protocol_hash = protocol.content_hash
        rules = {k: AckRule(r.requires_ack, r.deadline_s) for k, r in protocol.messages.items()}
    report = verify_bundle(
        bundle,
        held=held,
        party_keys=party_keys,
        service_key=service_key,
        protocol_hash=protocol_hash,
    )
    out = sys.stdout
    out.write(_summary(args, report))
    if not report.ok:
        _print_problems(report)
        return EXIT_TAMPERED
    out.write("\ntimeline (logged: the service's clock, UTC; cosignature times are signed)\n")
    out.write(format_timeline(timeline(report, rules=rules)) or "  (no entries)\n")
    print(
        f"ledger verify: OK: {args.bundle}: every signature, proof and checkpoint verifies",
        file=sys.stderr,
    )
    return 0


def _summary(args: argparse.Namespace, report: BundleReport) -> str:
    b = report.bundle
    service = parse_verifier_key(b.service_key)
    lines = [
        f"bundle       {args.bundle}",
        f"log          {b.origin} (service key {service.name}+{service.key_id.hex()})",
    ]
    proto = f"sha256 {b.protocol_hash}" if b.protocol_hash else "not recorded in the log"
    if args.protocol is not None:
        proto += f"; keys and hash checked against {args.protocol}"
    lines.append(f"protocol     {proto}")
    parties = ", ".join(
        f"{p} ({parse_verifier_key(k).key_id.hex()})" for p, k in sorted(b.party_keys.items())
    )
    lines.append(f"parties      {parties or 'none'}")
    span = (
        f"#{b.first_index}-#{b.end_index - 1} ({len(b.entries)} entries)"
        if b.end_index > b.first_index
        else "none"
    )
    window = ""
    if b.from_s is not None or b.to_s is not None:
        lo = "start" if b.from_s is None else format_time(b.from_s)
        hi = "end" if b.to_s is None else format_time(b.to_s)
        window = f", logged from {lo} to {hi}"
    lines.append(f"entries      {span}{window}")
    if report.checkpoints:
        sizes = ", ".join(str(c.size) for c in report.checkpoints)
        lines.append(f"checkpoints  sizes {sizes} (latest {report.latest_size})")
    cosigned = [
        f"size {c.size} by "
        + ", ".join(f"{party} at {format_time(t)}" for party, t in c.cosignatures)
        for c in report.checkpoints
        if c.cosignatures
    ]
    for k, text in enumerate(cosigned or ["none"]):
        lines.append(f"{'cosigned' if k == 0 else '':12} {text}")
    lines.extend(f"held         {note}" for note in report.notes if note.startswith("held"))
    if report.ok:
        lines.append(
            "verified     every entry signature, party chain and inclusion proof; every "
            "checkpoint's service signature, cosignatures and consistency with the latest"
        )
    return "\n".join(lines) + "\n"


def _print_problems(report: BundleReport) -> None:
    err = sys.stderr
    n = len(report.problems)
    print(f"ledger verify: FAILED: {n} problem{'s' if n != 1 else ''}", file=err)
    keys = next((p for p in report.problems if p.subject == "keys"), None)
    if keys is not None:
        print(f"  keys: {keys.what}: {keys.reason}", file=err)
    if report.first_bad_checkpoint is not None:
        print(f"  first bad checkpoint: {report.first_bad_checkpoint}", file=err)
    if report.first_bad_entry is not None:
        print(f"  first bad entry: {report.first_bad_entry}", file=err)
    if n > 1:
        print("  all problems:", file=err)
        for p in report.problems[:_MAX_LISTED]:
            print(f"    - {p}", file=err)
        if n > _MAX_LISTED:
            print(f"    ... and {n - _MAX_LISTED} more", file=err)

"""The ``skyparley`` command line.

``main(argv)`` returns the exit code: 0 on success, 2 on bad input (with a message naming
the field and the reason), 130 when interrupted. Subcommands import their heavy modules
lazily so that ``skyparley --help`` stays instant.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Final

from skyparley import __version__
from skyparley.cli._service_args import add_service_commands, port_number
from skyparley.errors import SkyparleyError

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70  # EX_SOFTWARE
EXIT_BROKEN_PIPE = 128 + 13  # as for a program killed by SIGPIPE


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be zero or a positive number, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _add_separation_options(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that detects conflicts."""
    g = p.add_argument_group("separation")
    g.add_argument(
        "--hsep-nm",
        type=_positive_float,
        default=5.0,
        metavar="NM",
        help="radius of the protected zone (default: 5)",
    )
    g.add_argument(
        "--vsep-ft",
        type=_positive_float,
        default=1000.0,
        metavar="FT",
        help="half-height of the protected zone (default: 1000)",
    )
    g.add_argument(
        "--alt-tolerance-ft",
        type=_non_negative_float,
        default=100.0,
        metavar="FT",
        help="altitude quantisation allowance: pairs at least vsep - tolerance "
        "apart are vertically separated (default: 100)",
    )
    g.add_argument(
        "--lookahead-s",
        type=_positive_float,
        default=300.0,
        metavar="S",
        help="how far ahead to predict (default: 300)",
    )


DETECT_EXAMPLE = """\
examples:
  skyparley detect tracks.csv
  skyparley detect tracks.parquet --cross-party-only --format jsonl --out conflicts.jsonl
  skyparley detect states.csv --start 2015-10-10T09:00:00Z --end 2015-10-10T09:20:00Z \\
      --step-s 5 --format csv --out conflicts.csv

input formats (sniffed): the canonical CSV/Parquet
  (time, id, party, lat_deg, lon_deg, alt_ft, gs_kt, trk_deg, vs_fpm; party optional),
  OpenSky state vectors (CSV/Parquet, metric), and the JSON samples of PyPI traffic.
"""

DEMO_EXAMPLE = """\
examples:
  skyparley demo
  skyparley demo --speed 60 --port 8080 --auto-ack
  skyparley demo --db syria.db --no-serve-after
  skyparley demo --detect-only --format jsonl

the database: --db, default .cache/demo/skyparley.db (made anew at each run); a --db file
  that exists is played into when empty, served as it is when it holds the story already,
  and refused when it is another protocol's. The service signs with the demo key
  skyparley-demo-service; the parties sign with their demo keys (public seeds: a demo only).
exit codes: 0 done (Ctrl-C stops the server), 2 bad input.
"""

REPLAY_EXAMPLE = """\
examples:
  skyparley replay recordings/ --protocol memorandum.yaml --out replay-2015-10-10/
  skyparley replay day1.parquet day2.parquet --protocol memorandum.yaml --out out/ \\
      --scheduler tcp://10.0.0.5:8786

INPUT: track files as for detect (canonical CSV/Parquet, OpenSky state vectors, traffic
  JSON samples) or folders of them. DIR must be new or empty: it appears whole or not at all.
exit codes: 0 done, 2 bad input (the message names the file, row, column and reason).
"""

PROTOCOL_EXAMPLE = """\
example:
  skyparley protocol check memorandum.yaml
"""

PROTOCOL_CHECK_EXAMPLE = """\
examples:
  skyparley protocol check memorandum.yaml
  skyparley protocol check memorandum.toml --format json

exit codes: 0 the protocol is valid, 2 it is not (the message names the field).
"""

PLAN_EXAMPLE = """\
example:
  skyparley plan check --protocol memorandum.yaml notice.json --against notices/
"""

PLAN_CHECK_EXAMPLE = """\
examples:
  skyparley plan check --protocol memorandum.yaml notice.json --against notices/
  skyparley plan check --protocol memorandum.yaml notice.json --against others.json \\
      --format json --now 2015-09-30T04:00:00Z
  skyparley plan check --protocol memorandum.yaml notice.json --against notices/ --as relief

the notices and protected areas to check against: JSON files (one object, or a list
  of objects) or folders of them (every *.json file); each object has "type":
  "operation_notice" or "protected_area" (or is told by its fields: party/volumes,
  owner/volume). Items of the notice's own party are skipped.

exit codes: 0 clear, 1 findings, 2 bad input (the message names the file and field).
"""


KEYS_EXAMPLE = """\
example:
  skyparley keys new --party coalition --out keys/
"""

KEYS_NEW_EXAMPLE = """\
examples:
  skyparley keys new --party coalition --out keys/
  SKYPARLEY_PASSPHRASE=... skyparley keys new --party russia --out keys/ \\
      --passphrase-env SKYPARLEY_PASSPHRASE

writes DIR/ID.key (PKCS #8 PEM, mode 0600 from creation, never overwritten) and
  DIR/ID.pub (the verifier key), and prints the verifier key to paste into the protocol
  as the party's public_key. The passphrase is read from the named environment variable,
  never from a prompt.
"""

LEDGER_EXAMPLE = """\
example:
  skyparley ledger export --db ledger.db --out record.json
  skyparley ledger verify record.json
"""

LEDGER_EXPORT_EXAMPLE = """\
examples:
  skyparley ledger export --db ledger.db --out record.json
  skyparley ledger export --db ledger.db --from 2017-09-16T00:00:00Z \\
      --to 2017-09-17T00:00:00Z --out deir-ez-zor.json
  skyparley ledger export --db ledger.db --out record.json --checkpoint coalition.cp

--from/--to select the entries logged in [FROM, TO) (RFC 3339 or epoch seconds), and every
  entry between the first and the last of them. The bundle also holds the checkpoints
  covering them, the cosigned ones, the latest, and consistency proofs to the latest.

exit codes: 0 written, 1 the database does not hold a whole log (a row missing or added:
  the message names the leaf), 2 bad input.
"""

LEDGER_VERIFY_EXAMPLE = """\
examples:
  skyparley ledger verify record.json
  skyparley ledger verify record.json --protocol memorandum.yaml
  skyparley ledger verify record.json --checkpoint coalition.cp

checks every entry signature, inclusion proof and party chain, every checkpoint's service
  signature and cosignatures, forks, and consistency with the latest checkpoint and with
  each --checkpoint a party stored; then prints the timeline: who notified what, when it
  was logged, who saw it (cosigned), and whether it was acknowledged by the deadline.
  Without --checkpoint or cosignatures of a larger tree, a log cut short and re-signed by
  the service itself cannot be told from a shorter log (see docs/ledger.md).

exit codes: 0 everything verifies, 1 something does not (the first bad entry or checkpoint
  is named), 2 the file is not a bundle (the message names the field).
"""


def _wrap(text: str) -> str:
    """A description paragraph wrapped for the terminal (the epilogs keep their layout)."""
    return textwrap.fill(text, width=79)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``skyparley`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="skyparley",
        description="skyparley: deconfliction between parties that share airspace.",
        epilog="example:\n  skyparley detect tracks.csv --cross-party-only",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"skyparley {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser(
        "detect",
        help="predict conflicts and losses of separation in recorded tracks",
        description=_wrap(
            "Predict, at every time step of recorded tracks, the conflicts and losses of "
            "separation (LoS) between aircraft. Each aircraft's state at a step is its latest "
            "report no older than --stale-s, propagated in a straight line to the step time."
        ),
        epilog=DETECT_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("files", nargs="+", metavar="FILE", help="track files (CSV, Parquet, JSON)")
    t = d.add_argument_group("time steps")
    t.add_argument(
        "--start", metavar="T", help="first step, RFC 3339 or epoch seconds (default: first report)"
    )
    t.add_argument(
        "--end", metavar="T", help="last step, RFC 3339 or epoch seconds (default: last report)"
    )
    t.add_argument(
        "--step-s",
        type=_positive_float,
        default=1.0,
        metavar="S",
        help="time between steps (default: 1)",
    )
    t.add_argument(
        "--stale-s",
        type=_non_negative_float,
        default=30.0,
        metavar="S",
        help="ignore reports older than this at a step (default: 30)",
    )
    _add_separation_options(d)
    o = d.add_argument_group("pairs and output")
    o.add_argument(
        "--cross-party-only",
        action="store_true",
        help="skip pairs of the same party (needs a party column)",
    )
    o.add_argument(
        "--format",
        choices=("table", "jsonl", "csv", "parquet"),
        default="table",
        help="output format (default: table)",
    )
    o.add_argument(
        "--out", metavar="PATH", help="write to PATH (atomically) instead of standard output"
    )
    o.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip and count bad rows instead of stopping at the first",
    )
    o.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="threads for large scenes (default: all cores)",
    )
    d.set_defaults(handler=_lazy("skyparley.cli._detect", "run"))

    proto = sub.add_parser(
        "protocol",
        help="work with protocol files (the parties' agreement)",
        description=_wrap(
            "Commands on protocol files: the agreed parties, separation, alert "
            "levels, buffers, hotline deadlines, zones and sharing policy."
        ),
        epilog=PROTOCOL_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    proto_sub = proto.add_subparsers(dest="protocol_command", metavar="COMMAND", required=True)
    check = proto_sub.add_parser(
        "check",
        help="validate a protocol file and print a summary",
        description=_wrap(
            "Validate a protocol file (YAML or TOML) and print a summary, with "
            "its content hash: the SHA-256 of its RFC 8785 canonical JSON."
        ),
        epilog=PROTOCOL_CHECK_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", metavar="FILE", help="the protocol file (.yaml, .yml, .toml)")
    check.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )
    check.set_defaults(handler=_lazy("skyparley.cli._protocol", "check"))

    plan = sub.add_parser(
        "plan",
        help="check operation notices before anyone flies",
        description=_wrap(
            "Commands on operation notices: check one against the other parties' notices, "
            "their protected areas and the protocol's zones."
        ),
        epilog=PLAN_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="COMMAND", required=True)
    pc = plan_sub.add_parser(
        "check",
        help="check an operation notice against notices, protected areas and zones",
        description=_wrap(
            "Check an operation notice (JSON) against other parties' live notices and "
            "protected areas, with the protocol's strategic buffers, and against its zone "
            "rules (notice hours, zones closed to the party). Prints the findings one party "
            "may see: the overlap only, never the other side's whole volume unless the "
            "protocol's sharing policy says so."
        ),
        epilog=PLAN_CHECK_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pc.add_argument("notice", metavar="NOTICE.json", help="the operation notice to check")
    pc.add_argument(
        "--protocol", required=True, metavar="FILE", help="the protocol file (.yaml, .toml)"
    )
    pc.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="DIR_OR_FILE",
        help="notices and protected areas to check against (repeatable; default: none, "
        "so only the zone rules apply)",
    )
    pc.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )
    pc.add_argument(
        "--now",
        metavar="T",
        help="check the notice as filed at T, RFC 3339 or epoch seconds (default: its "
        '"filed" member, else the current time)',
    )
    pc.add_argument(
        "--as",
        dest="reader",
        metavar="PARTY",
        help="print the findings as PARTY sees them (default: the notice's party)",
    )
    pc.set_defaults(handler=_lazy("skyparley.cli._plan", "check"))

    keys = sub.add_parser(
        "keys",
        help="make the parties' signing keys",
        description=_wrap(
            "Commands on party keys: Ed25519 key pairs named and identified as in C2SP "
            "signed-note; the public halves are listed in the protocol."
        ),
        epilog=KEYS_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)
    kn = keys_sub.add_parser(
        "new",
        help="make a party's key pair (private key file mode 0600)",
        description=_wrap(
            "Make a new Ed25519 key pair for a party: DIR/ID.key holds the private key "
            "(PKCS #8 PEM, optionally encrypted), DIR/ID.pub the verifier key text."
        ),
        epilog=KEYS_NEW_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kn.add_argument("--party", required=True, metavar="ID", help="the party id (names the key)")
    kn.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the key files (made if missing)"
    )
    kn.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="encrypt the private key with the passphrase in environment variable VAR",
    )
    kn.set_defaults(handler=_lazy("skyparley.cli._keys", "new"))

    ledger = sub.add_parser(
        "ledger",
        help="export and verify the signed record",
        description=_wrap(
            "Commands on the ledger: export a slice of it into one bundle file, and verify "
            "a bundle offline, from signatures and proofs alone."
        ),
        epilog=LEDGER_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ledger_sub = ledger.add_subparsers(dest="ledger_command", metavar="COMMAND", required=True)
    le = ledger_sub.add_parser(
        "export",
        help="write entries, proofs, checkpoints and keys into one bundle file",
        description=_wrap(
            "Export entries of a ledger database with their inclusion proofs, the signed "
            "and cosigned checkpoints with consistency proofs, the public keys and the "
            "protocol hash, into one JSON bundle (written atomically). No key is needed."
        ),
        epilog=LEDGER_EXPORT_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    le.add_argument("--db", required=True, metavar="PATH", help="the ledger database")
    le.add_argument("--out", required=True, metavar="BUNDLE", help="the bundle file to write")
    le.add_argument(
        "--from", dest="from_", metavar="T", help="first log time, RFC 3339 or epoch seconds"
    )
    le.add_argument("--to", metavar="T", help="end of the log times (exclusive)")
    le.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint a party stored: include a consistency proof from its size (repeatable)",
    )
    le.set_defaults(handler=_lazy("skyparley.cli._ledger", "export"))
    lv = ledger_sub.add_parser(
        "verify",
        help="verify a bundle offline and print its timeline",
        description=_wrap(
            "Verify a ledger bundle offline and print the timeline of its messages with "
            "their delivery and acknowledgement status."
        ),
        epilog=LEDGER_VERIFY_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lv.add_argument("bundle", metavar="BUNDLE", help="the bundle file")
    lv.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint a party stored earlier: the log must be consistent with it (repeatable)",
    )
    lv.add_argument(
        "--protocol",
        metavar="FILE",
        help="pin the party keys and protocol hash to this protocol, and take the "
        "acknowledgement deadlines from it",
    )
    lv.add_argument(
        "--service-key", metavar="VKEY", help="pin the service's verifier key (name+id+key)"
    )
    lv.set_defaults(handler=_lazy("skyparley.cli._ledger", "verify"))

    rp = sub.add_parser(
        "replay",
        help="replay recorded traffic: incidents, alerts, reports",
        description=_wrap(
            "Replay recorded traffic under a protocol: every loss of separation (incident) "
            "and every alert the live service would have raised, with the protocol's "
            "separation, alert levels and hysteresis. Writes incidents.parquet, "
            "alerts.parquet, summary.html and a report per incident into a new folder."
        ),
        epilog=REPLAY_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rp.add_argument("inputs", nargs="+", metavar="INPUT", help="track files or folders of them")
    rp.add_argument(
        "--protocol", required=True, metavar="FILE", help="the protocol file (.yaml, .toml)"
    )
    rp.add_argument("--out", required=True, metavar="DIR", help="folder to create (new or empty)")
    rp.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="local worker processes (default: all cores)",
    )
    rp.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster (tcp://host:8786) instead",
    )
    rp.add_argument(
        "--step-s",
        type=_positive_float,
        default=1.0,
        metavar="S",
        help="time between ticks (default: 1)",
    )
    rp.add_argument(
        "--stale-s",
        type=_non_negative_float,
        default=30.0,
        metavar="S",
        help="ignore reports older than this at a tick (default: 30)",
    )
    rp.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip and count bad rows instead of stopping at the first",
    )
    rp.set_defaults(handler=_lazy("skyparley.cli._replay", "run"))

    add_service_commands(sub, _lazy)

    demo = sub.add_parser(
        "demo",
        help="play the Syria 2015 scenario through the service, for the console",
        description=_wrap(
            "Start the service on SQLite with the Syria 2015 protocol, print the console URL "
            "and an operator token for each party, then play the six beats of the scenario on "
            "a compressed clock: notices and findings, a hotline request, live tracks with "
            "alerts and an incident, a thread in two languages, an unacknowledged notice that "
            "escalates, and a daily summary per party. The service keeps running after the last "
            "beat until Ctrl-C. --detect-only runs `skyparley detect` on the beat-3 tracks instead."
        ),
        epilog=DEMO_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--speed",
        type=_positive_float,
        default=20.0,
        metavar="X",
        help="scenario seconds per wall-clock second (default: 20: beat 3's 20 minutes in one)",
    )
    demo.add_argument("--db", metavar="PATH", help="the SQLite file (default: see below)")
    demo.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    demo.add_argument("--port", type=port_number, default=8000, help="TCP port (default: 8000)")
    demo.add_argument(
        "--no-serve-after",
        action="store_true",
        help="stop the service after the last beat instead of serving until Ctrl-C",
    )
    demo.add_argument(
        "--auto-ack",
        action="store_true",
        help="acknowledge beat 3's alerts for the duty officers (default: left to the console)",
    )
    demo.add_argument(
        "--detect-only",
        action="store_true",
        help="only run `skyparley detect` on the beat-3 tracks (no service)",
    )
    demo.add_argument(
        "--format",
        choices=("table", "jsonl", "csv"),
        default="table",
        help="with --detect-only: output format (default: table)",
    )
    demo.add_argument(
        "--step-s",
        type=_positive_float,
        default=10.0,
        metavar="S",
        help="with --detect-only: time between steps (default: 10)",
    )
    demo.set_defaults(handler=_lazy("skyparley.cli._demo", "run"))
    return parser


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        import importlib  # noqa: PLC0415

        fn: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
        return fn(args)

    return handler


# Batch commands: once they have answered, every file they wrote is closed and nothing is left
# to release, yet the interpreter's teardown (numba's compiled kernels, some 900 modules) takes
# about half a second. The console script leaves at once after them.
_QUICK_EXIT: Final = frozenset({"detect", "replay"})


def entry() -> None:
    """The ``skyparley`` console script: :func:`main`, then exit with its code."""
    sys.exit(main(quick_exit=True))


def main(argv: Sequence[str] | None = None, *, quick_exit: bool = False) -> int:
    """Run the command line; returns the exit code.

    With ``quick_exit`` (the console script), a batch command (``detect``, ``replay``) ends
    the process itself once its output is flushed, skipping the interpreter's teardown.
    """
    code, command = _main(argv)
    if quick_exit and command in _QUICK_EXIT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            return code  # the normal way out reports or ignores it
        os._exit(code)
    return code


def _main(argv: Sequence[str] | None) -> tuple[int, str | None]:
    """The exit code, and the command that ran."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # --help, --version, or a usage error argparse has already reported: return its code
        # rather than raising, so that ``main`` always answers with an exit code.
        return (exc.code if isinstance(exc.code, int) else EXIT_INPUT), None
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT, None
    try:
        code: int = args.handler(args)
    except SkyparleyError as exc:
        print(f"skyparley {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT, args.command
    except KeyboardInterrupt:
        print(f"skyparley {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED, args.command
    except BrokenPipeError:
        # The reader of standard output went away (``skyparley detect ... | head``): stop
        # quietly, and point stdout at /dev/null so that the final flush does not fail again.
        _silence_stdout()
        return EXIT_BROKEN_PIPE, args.command
    except OSError as exc:
        # The system refused a file operation (a name too long, a full disk, no permission):
        # say which file and why.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"skyparley {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT, args.command
    except (MemoryError, RecursionError, ValueError, TypeError, ArithmeticError) as exc:
        # A fault of skyparley's own, not of the input: never a traceback to the user, and
        # never an exit code that means something else (1 is "findings" for plan check).
        if os.environ.get("SKYPARLEY_DEBUG"):
            raise
        print(
            f"skyparley {args.command}: internal error: {type(exc).__name__}: {exc} "
            "(a bug: please report it; SKYPARLEY_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL, args.command
    return code, args.command


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

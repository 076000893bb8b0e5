"""The arguments of the service commands: ``serve``, ``tokens``, ``notice``, ``hotline``,
``tracks``.

Kept apart from :mod:`skyparley.cli` so the parser stays one call per command family; only
argparse here (``skyparley --help`` stays instant).
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable

__all__ = ["add_service_commands", "port_number"]

Lazy = Callable[[str, str], Callable[[argparse.Namespace], int]]

_RAW = argparse.RawDescriptionHelpFormatter

SERVE_EXAMPLE = """\
examples:
  skyparley serve --protocol memorandum.yaml --db skyparley.db
  skyparley serve --protocol memorandum.yaml --db /var/lib/skyparley/skyparley.db \\
      --host 0.0.0.0 --port 8443 --ssl-certfile server.pem --ssl-keyfile server.key \\
      --ssl-ca-certs parties-ca.pem
  skyparley serve --protocol memorandum.yaml --db skyparley.db \\
      --sbs 127.0.0.1:30003 --sbs-parties parties.yaml

the service key: --service-key FILE (PKCS #8 PEM as `skyparley keys new` writes it, named
  after the file: NAME.key), else DB.service.key next to the database, made on the first
  run (mode 0600, named skyparley-service). With --ssl-ca-certs every client must present a
  certificate signed by one of those CAs (mutual TLS). Ctrl-C stops the service (exit 0).

SBS feeds: --sbs HOST:PORT reads an SBS/BaseStation feed (dump1090's port 30003) and ingests
  its aircraft as the parties the --sbs-parties file maps them to (YAML or JSON:
  {"default": PARTY or null, "parties": {PARTY: [ICAO hex prefixes]}}; the longest prefix
  wins; aircraft of no party are dropped). One --sbs-parties serves every --sbs, or give
  one per --sbs, in order. A feed that drops is reconnected with backoff.
"""

TOKENS_EXAMPLE = """\
example:
  skyparley tokens new --db skyparley.db --protocol memorandum.yaml --party russia --role admin
"""

TOKENS_NEW_EXAMPLE = """\
examples:
  skyparley tokens new --db skyparley.db --protocol memorandum.yaml --party russia --role admin
  skyparley tokens new --db skyparley.db --protocol memorandum.yaml --party relief \\
      --role viewer --label "Damascus office wall screen"

prints the token on standard output, once (only its SHA-256 is stored), and its id on
  standard error. Works on the database file directly: no server is needed.
"""

TOKENS_LIST_EXAMPLE = """\
examples:
  skyparley tokens list --db skyparley.db
  skyparley tokens list --db skyparley.db --party coalition --format jsonl
"""

TOKENS_REVOKE_EXAMPLE = """\
example:
  skyparley tokens revoke --db skyparley.db tok_3f9a0c21b7de

the token stops working at its next request, also on a running server.
"""

_CLIENT_NOTE = """
the service: --url, else SKYPARLEY_URL, else the config's url, else http://127.0.0.1:8000.
  The token: SKYPARLEY_TOKEN, else the config's token. The party's signing key: --key,
  else SKYPARLEY_KEY, else the config's key (without one, the service attests the
  statement on the party's behalf, and a warning says so). The config file (TOML: url,
  token, key, party): --config, default ~/.config/skyparley/client.toml.
"""

NOTICE_EXAMPLE = """\
example:
  skyparley notice file ru-20150930-homs-hama.json
"""

NOTICE_FILE_EXAMPLE = (
    """\
examples:
  skyparley notice file ru-20150930-homs-hama.json
  SKYPARLEY_KEY=keys/russia.key skyparley notice file notice-v2.json --format jsonl

version 1 files a new notice, a later version a new version of it. Prints the findings the
  filer may see (the overlap only). exit codes: 0 clear, 1 findings, 2 refused (the
  message names the field and the reason).
"""
    + _CLIENT_NOTE
)

NOTICE_CANCEL_EXAMPLE = (
    """\
example:
  skyparley notice cancel ru-20150930-raqqa

files the latest version again, cancelled, as the next version (signed like any other).
"""
    + _CLIENT_NOTE
)

NOTICE_LIST_EXAMPLE = (
    """\
examples:
  skyparley notice list
  skyparley notice list --live --format jsonl
"""
    + _CLIENT_NOTE
)

HOTLINE_EXAMPLE = """\
example:
  skyparley hotline inbox
"""

HOTLINE_SEND_EXAMPLE = (
    """\
examples:
  skyparley hotline send --to russia --kind request --template request_shift \\
      --arg notice=russia/ru-20150930-raqqa@1 --arg minutes=60
  skyparley hotline send --to coalition --kind reply --text "Shifting one hour." \\
      --lang en --reply-to m-0123456789abcdef01234567

--template messages are rendered for each reader in their language; --text stays as
  written and is marked with its --lang.
"""
    + _CLIENT_NOTE
)

HOTLINE_INBOX_EXAMPLE = (
    """\
examples:
  skyparley hotline inbox
  skyparley hotline inbox --after 42 --format jsonl

prints the next cursor on standard error: pass it as --after to read on, with no gap and
  no duplicate.
"""
    + _CLIENT_NOTE
)

HOTLINE_ACK_EXAMPLE = (
    """\
example:
  skyparley hotline ack m-0123456789abcdef01234567
"""
    + _CLIENT_NOTE
)


TRACKS_EXAMPLE = """\
example:
  skyparley tracks push recorded.csv --rebase
"""

TRACKS_PUSH_EXAMPLE = (
    """\
examples:
  skyparley tracks push recorded.csv --rebase
  skyparley tracks push tracks.parquet --speed 10 --batch-s 1
  skyparley tracks push beat3.csv --speed 1000 --format jsonl

FILE: canonical CSV/Parquet (time, id, party, lat_deg, lon_deg, alt_ft, gs_kt, trk_deg,
  vs_fpm), OpenSky state vectors or traffic JSON samples. Only the token's party's rows are
  sent (every row when the file has no party column), grouped by --batch-s of recording
  time, one POST /v1/tracks per group, paced at --speed times real time.
the service's clock: it refuses states more than 5 s ahead of its clock or 300 s behind it
  (clock_skew). A recording of the past is refused whole unless --rebase shifts its times
  so that its first report is the service's "now"; at --speed above 1 the replay runs
  ahead of a service on the wall clock, and states over 5 s ahead are refused too.
prints one summary line on standard error: sent, accepted, rejected by reason.
exit codes: 0 done, 2 bad input (the message names the file, row, column and reason) or
  a refused request, 130 interrupted (Ctrl-C; the summary is printed).
"""
    + _CLIENT_NOTE
)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=79)


def port_number(text: str) -> int:
    """A TCP port, 1 to 65535 (an argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 1 to 65535, got {text}")
    return value


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high}, got {text}")
        return value

    return parse


def _client_options(p: argparse.ArgumentParser, *, writes: bool) -> None:
    g = p.add_argument_group("the service")
    g.add_argument(
        "--url", metavar="URL", help="the service (default: SKYPARLEY_URL, the config's url)"
    )
    g.add_argument(
        "--config",
        metavar="PATH",
        help="client config, TOML with url, token, key, party "
        "(default: ~/.config/skyparley/client.toml)",
    )
    if writes:
        g.add_argument(
            "--key",
            metavar="PATH",
            help="the party's private key, PKCS #8 PEM (default: SKYPARLEY_KEY, the config's key)",
        )
        g.add_argument(
            "--passphrase-env", metavar="VAR", help="the key's passphrase is in variable VAR"
        )
    p.add_argument(
        "--format",
        choices=("table", "jsonl"),
        default="table",
        help="output: a table for people, JSON lines for machines (default: table)",
    )
    p.set_defaults(writes=writes)


def add_service_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], lazy: Lazy
) -> None:
    """Add ``serve``, ``tokens``, ``notice``, ``hotline`` and ``tracks`` to ``sub``."""
    s = sub.add_parser(
        "serve",
        help="run the deconfliction service (HTTP API and WebSocket stream)",
        description=_wrap(
            "Run the deconfliction service on one SQLite file (store and ledger): the /v1 "
            "HTTP API, the WebSocket stream and the escalation of unacknowledged messages."
        ),
        epilog=SERVE_EXAMPLE,
        formatter_class=_RAW,
    )
    s.add_argument("--protocol", required=True, metavar="FILE", help="the protocol file")
    s.add_argument("--db", required=True, metavar="PATH", help="the SQLite file (made if missing)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.add_argument("--port", type=port_number, default=8000, help="TCP port (default: 8000)")
    s.add_argument(
        "--service-key", metavar="FILE", help="the service's private key (default: DB.service.key)"
    )
    s.add_argument(
        "--passphrase-env", metavar="VAR", help="the service key's passphrase is in variable VAR"
    )
    s.add_argument(
        "--origin", metavar="TEXT", help="the log's name (default: skyparley/<protocol id>)"
    )
    s.add_argument(
        "--log-level",
        choices=("critical", "error", "warning", "info", "debug"),
        default="info",
        help="the log level of uvicorn and of skyparley's own lines, such as each draft "
        "check (default: info)",
    )
    tls = s.add_argument_group("TLS")
    tls.add_argument("--ssl-certfile", metavar="FILE", help="the server certificate (PEM)")
    tls.add_argument("--ssl-keyfile", metavar="FILE", help="the server certificate's key (PEM)")
    tls.add_argument(
        "--ssl-ca-certs",
        metavar="FILE",
        help="CA certificates of the clients: client certificates become required (mTLS)",
    )
    feeds = s.add_argument_group("SBS/BaseStation feeds")
    feeds.add_argument(
        "--sbs",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="read an SBS/BaseStation feed over TCP (repeatable; dump1090: port 30003)",
    )
    feeds.add_argument(
        "--sbs-parties",
        action="append",
        default=[],
        metavar="FILE",
        help="the party map of the feeds' aircraft (YAML or JSON; one, or one per --sbs)",
    )
    s.set_defaults(handler=lazy("skyparley.cli._serve", "run"))

    tokens = sub.add_parser(
        "tokens",
        help="make, list and revoke API tokens (on the database)",
        description=_wrap(
            "Commands on the service's API tokens, run on its database file: a token belongs "
            "to one party and has one role (viewer, operator, admin)."
        ),
        epilog=TOKENS_EXAMPLE,
        formatter_class=_RAW,
    )
    tsub = tokens.add_subparsers(dest="tokens_command", metavar="COMMAND", required=True)
    tn = tsub.add_parser(
        "new",
        help="make a token and print it once",
        description=_wrap("Make an API token for a party and a role; it is printed only once."),
        epilog=TOKENS_NEW_EXAMPLE,
        formatter_class=_RAW,
    )
    tn.add_argument("--db", required=True, metavar="PATH", help="the service's SQLite file")
    tn.add_argument("--protocol", required=True, metavar="FILE", help="the protocol file")
    tn.add_argument("--party", required=True, metavar="ID", help="the party the token acts for")
    tn.add_argument("--role", required=True, choices=("operator", "viewer", "admin"))
    tn.add_argument("--label", metavar="TEXT", help="a note to tell tokens apart")
    tn.set_defaults(handler=lazy("skyparley.cli._tokens", "new"))
    tl = tsub.add_parser(
        "list",
        help="list tokens (never their text)",
        description=_wrap("List the tokens of the database: id, party, role, label, dates."),
        epilog=TOKENS_LIST_EXAMPLE,
        formatter_class=_RAW,
    )
    tl.add_argument("--db", required=True, metavar="PATH", help="the service's SQLite file")
    tl.add_argument("--party", metavar="ID", help="only this party's tokens")
    tl.add_argument("--format", choices=("table", "jsonl"), default="table")
    tl.set_defaults(handler=lazy("skyparley.cli._tokens", "list_"))
    tr = tsub.add_parser(
        "revoke",
        help="revoke a token by its id",
        description=_wrap("Revoke a token: it stops working at once."),
        epilog=TOKENS_REVOKE_EXAMPLE,
        formatter_class=_RAW,
    )
    tr.add_argument("--db", required=True, metavar="PATH", help="the service's SQLite file")
    tr.add_argument("id", metavar="ID", help="the token id (tok_...)")
    tr.set_defaults(handler=lazy("skyparley.cli._tokens", "revoke"))

    notice = sub.add_parser(
        "notice",
        help="file, cancel and list operation notices on the service",
        description=_wrap(
            "Commands on the party's operation notices, through the service: each version "
            "is a statement signed with the party's key and logged in the ledger."
        ),
        epilog=NOTICE_EXAMPLE,
        formatter_class=_RAW,
    )
    nsub = notice.add_subparsers(dest="notice_command", metavar="COMMAND", required=True)
    nf = nsub.add_parser(
        "file",
        help="file a notice (or a new version) and print its findings",
        description=_wrap(
            "File an operation notice (JSON) with the service and print the findings for "
            "the filer: conflicts with other notices, protected areas, zone rules."
        ),
        epilog=NOTICE_FILE_EXAMPLE,
        formatter_class=_RAW,
    )
    nf.add_argument("file", metavar="FILE", help="the notice, JSON ('-': standard input)")
    _client_options(nf, writes=True)
    nf.set_defaults(handler=lazy("skyparley.cli._notice", "file"))
    nc = nsub.add_parser(
        "cancel",
        help="cancel a notice",
        description=_wrap("Cancel one of the party's notices."),
        epilog=NOTICE_CANCEL_EXAMPLE,
        formatter_class=_RAW,
    )
    nc.add_argument("id", metavar="ID", help="the notice id")
    _client_options(nc, writes=True)
    nc.set_defaults(handler=lazy("skyparley.cli._notice", "cancel"))
    nl = nsub.add_parser(
        "list",
        help="list the party's notices",
        description=_wrap("List the party's notices (latest versions) with their findings."),
        epilog=NOTICE_LIST_EXAMPLE,
        formatter_class=_RAW,
    )
    nl.add_argument("--live", action="store_true", help="planned and active notices only")
    _client_options(nl, writes=False)
    nl.set_defaults(handler=lazy("skyparley.cli._notice", "list_"))

    hotline = sub.add_parser(
        "hotline",
        help="send, read and acknowledge hotline messages",
        description=_wrap(
            "The hotline between parties: structured or free-text messages, each a signed "
            "ledger entry, with acknowledgement deadlines and escalation."
        ),
        epilog=HOTLINE_EXAMPLE,
        formatter_class=_RAW,
    )
    hsub = hotline.add_subparsers(dest="hotline_command", metavar="COMMAND", required=True)
    hs = hsub.add_parser(
        "send",
        help="send a message",
        description=_wrap("Send a hotline message to one or more parties."),
        epilog=HOTLINE_SEND_EXAMPLE,
        formatter_class=_RAW,
    )
    hs.add_argument(
        "--to", action="append", required=True, metavar="PARTY", help="addressee (repeatable)"
    )
    hs.add_argument(
        "--kind", required=True, choices=("notice", "alert", "request", "reply", "text")
    )
    hs.add_argument("--text", metavar="TEXT", help="free text (with --lang)")
    hs.add_argument("--lang", choices=("ar", "en", "ru"), help="the language of --text")
    hs.add_argument("--template", metavar="NAME", help="a message template of the catalogs")
    hs.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template argument (repeatable)",
    )
    hs.add_argument("--reply-to", metavar="MESSAGE_ID", help="the message this answers")
    hs.add_argument("--about", metavar="TEXT", help="what it is about (a notice ref, ...)")
    _client_options(hs, writes=True)
    hs.set_defaults(handler=lazy("skyparley.cli._hotline", "send"))
    hi = hsub.add_parser(
        "inbox",
        help="read the inbox after a cursor",
        description=_wrap("Read the messages addressed to the party, after a cursor."),
        epilog=HOTLINE_INBOX_EXAMPLE,
        formatter_class=_RAW,
    )
    hi.add_argument(
        "--after", type=_count(0, 2**62), default=0, metavar="N", help="cursor (default: 0)"
    )
    hi.add_argument(
        "--limit", type=_count(1, 1000), default=100, metavar="N", help="at most N (default: 100)"
    )
    _client_options(hi, writes=False)
    hi.set_defaults(handler=lazy("skyparley.cli._hotline", "inbox"))
    ha = hsub.add_parser(
        "ack",
        help="acknowledge a message",
        description=_wrap("Acknowledge a message addressed to the party (a signed statement)."),
        epilog=HOTLINE_ACK_EXAMPLE,
        formatter_class=_RAW,
    )
    ha.add_argument("message_id", metavar="MESSAGE_ID", help="the message id (m-...)")
    _client_options(ha, writes=True)
    ha.set_defaults(handler=lazy("skyparley.cli._hotline", "ack"))

    tracks = sub.add_parser(
        "tracks",
        help="push recorded tracks into a running service",
        description=_wrap(
            "Commands on the party's tracks through the service: replay a recorded file "
            "into the live picture, as a feed would."
        ),
        epilog=TRACKS_EXAMPLE,
        formatter_class=_RAW,
    )
    trsub = tracks.add_subparsers(dest="tracks_command", metavar="COMMAND", required=True)
    tp = trsub.add_parser(
        "push",
        help="replay a track file into the service at a chosen speed",
        description=_wrap(
            "Read a recorded track file and post the party's states to the service "
            "(POST /v1/tracks), batch by batch, paced in real time divided by --speed."
        ),
        epilog=TRACKS_PUSH_EXAMPLE,
        formatter_class=_RAW,
    )
    tp.add_argument("file", metavar="FILE", help="the track file (CSV, Parquet, JSON)")
    tp.add_argument(
        "--speed",
        type=_positive,
        default=1.0,
        metavar="X",
        help="replay X times faster than recorded (default: 1, real time)",
    )
    tp.add_argument(
        "--rebase",
        action="store_true",
        help="shift the times so that the first report is the service's now (without it, "
        "an old recording is refused as clock_skew)",
    )
    tp.add_argument(
        "--batch-s",
        type=_positive,
        default=1.0,
        metavar="S",
        help="recording seconds per batch (default: 1)",
    )
    _client_options(tp, writes=False)
    tp.set_defaults(handler=lazy("skyparley.cli._tracks", "push"))

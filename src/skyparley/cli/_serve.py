"""``skyparley serve``: the deconfliction service on one SQLite file, served by uvicorn.

The service signs what it generates (findings, escalations, checkpoints) with its own key:
``--service-key FILE`` (PKCS #8 PEM, as ``skyparley keys new`` writes it; the key is named
after the file, ``NAME.key``), else ``<db>.service.key`` next to the database, made on the
first run with mode 0600 and named ``skyparley-service``. With ``--ssl-ca-certs`` every
client must present a certificate signed by one of those CAs (mutual TLS).
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import ssl
import sys
from collections.abc import Collection
from pathlib import Path

from skyparley.adapters.protocol_file import load_protocol
from skyparley.adapters.sbs import SbsEndpoint, load_party_map, parse_endpoint
from skyparley.cli._db import check_db
from skyparley.cli._keys import KEY_MODE, write_new_file
from skyparley.domain.ledger.checkpoint import Checkpoint
from skyparley.domain.ledger.keys import SigningKey, generate_key, load_private_key_pem
from skyparley.domain.ledger.merkle import HASH_SIZE
from skyparley.errors import InputError, LedgerInputError

__all__ = [
    "SERVICE_KEY_NAME",
    "check_key_name",
    "check_listen",
    "check_origin",
    "check_tls",
    "run",
    "sbs_sources",
    "service_key",
]

SERVICE_KEY_NAME = "skyparley-service"
"""The name (the log's party id) of the key made next to the database."""


def _passphrase(var: str | None) -> bytes | None:
    if var is None:
        return None
    value = os.environ.get(var)
    if not value:
        raise InputError(
            field="--passphrase-env", reason=f"the environment variable {var} is not set"
        )
    return value.encode("utf-8")


def _load(path: Path, name: str, passphrase: bytes | None, field: str) -> SigningKey:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise InputError(field=field, reason=f"cannot read {path}: {exc.strerror}") from None
    try:
        return load_private_key_pem(name, pem, passphrase)
    except LedgerInputError as exc:
        raise InputError(field=field, reason=f"{path}: {exc.reason}") from None


def service_key(
    db: Path, key_file: str | None, passphrase: bytes | None, *, log_exists: bool = False
) -> SigningKey:
    """The service's signing key: ``key_file``, else ``<db>.service.key`` (made if missing,
    unless ``log_exists``: a log already signed needs the key that signed it)."""
    if key_file is not None:
        path = Path(key_file)
        return _load(path, _key_name(path), passphrase, "--service-key")
    path = db.with_name(db.name + ".service.key")
    if not path.exists():
        if log_exists:
            raise InputError(
                field="--service-key",
                reason=f"{db} holds a log signed by a service key, and {path} is missing: "
                "give the key that signed it with --service-key",
            )
        key = generate_key(SERVICE_KEY_NAME)
        try:
            write_new_file(path, key.to_pkcs8_pem(passphrase), KEY_MODE)
        except InputError as exc:
            raise InputError(field="--db", reason=exc.reason) from None
        print(
            f"skyparley serve: made the service key {path} (mode 0600): keep it with the "
            "database, the log's checkpoints are signed with it",
            file=sys.stderr,
        )
        return key
    return _load(path, SERVICE_KEY_NAME, passphrase, "--db")


def _key_name(path: Path) -> str:
    """The name of the service key in ``path`` (``NAME.key``: NAME), the log's party id."""
    return path.name.removesuffix(".key")


def check_key_name(key_file: str | None, parties: Collection[str]) -> None:
    """Refuse a service key named like a party of the protocol (before anything is made:
    the name is the signer of every entry the service logs, for good)."""
    name = SERVICE_KEY_NAME if key_file is None else _key_name(Path(key_file))
    if name not in parties:
        return
    which = f"{key_file}: the key's name" if key_file else "the default service key's name"
    raise InputError(
        field="--service-key",
        reason=f"{which} {name!r} is a party id of the protocol; the service signs with a "
        "key of its own (named after its file, NAME.key, NAME not a party id)",
    )


def check_origin(origin: str) -> None:
    """Refuse an ``--origin`` the log cannot be named (it heads every checkpoint)."""
    try:
        Checkpoint(origin=origin, size=0, root_hash=bytes(HASH_SIZE))
    except LedgerInputError as exc:
        raise InputError(field="--origin", reason=exc.reason) from None


def check_tls(certfile: str | None, keyfile: str | None, ca_certs: str | None) -> None:
    """Load the TLS files as uvicorn will, so that a file that is not what its option says
    is refused naming the option, before anything is made."""
    for option, value in (
        ("--ssl-certfile", certfile),
        ("--ssl-keyfile", keyfile),
        ("--ssl-ca-certs", ca_certs),
    ):
        if value is not None and not Path(value).is_file():
            raise InputError(field=option, reason=f"{value} is not a file")
    if certfile is None or keyfile is None:
        return
    _load_certificates(certfile, "--ssl-certfile", "a certificate")
    asked: list[bool] = []

    def no_passphrase() -> bytes:
        asked.append(True)
        return b""

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(
            certfile, keyfile, password=no_passphrase
        )
    except ssl.SSLError as exc:
        # An encrypted key (a passphrase was asked for) is left to uvicorn, which asks for
        # its passphrase as before.
        if not asked:
            raise _tls_error(certfile, keyfile, exc) from None
    if ca_certs is not None:
        _load_certificates(ca_certs, "--ssl-ca-certs", "CA certificates")


def _load_certificates(path: str, option: str, what: str) -> None:
    """Refuse ``path`` naming ``option`` when it holds no PEM certificate."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except (ssl.SSLError, ValueError):
        raise InputError(
            field=option, reason=f"{path} could not be loaded as {what} (PEM): it holds none"
        ) from None


def _tls_error(certfile: str, keyfile: str, exc: ssl.SSLError) -> InputError:
    if getattr(exc, "reason", None) == "KEY_VALUES_MISMATCH":
        return InputError(
            field="--ssl-keyfile",
            reason=f"{keyfile} is not the private key of the certificate in {certfile}",
        )
    # the certificate loaded on its own: what does not load is the key
    return InputError(
        field="--ssl-keyfile", reason=f"{keyfile} could not be loaded as a private key (PEM)"
    )


def check_listen(host: str, port: int) -> None:
    """Bind ``host``:``port`` as the server will (then let go), so that an address this
    machine does not have, or a port in use, is refused naming its option before anything
    is made."""
    try:
        infos = socket.getaddrinfo(
            host, port, family=socket.AF_UNSPEC, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        why = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
        raise InputError(
            field="--host", reason=f"{host} is not an address or a host name known here ({why})"
        ) from None
    for family, kind, proto, _, address in infos:
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
        except OSError as exc:
            raise _listen_error(host, port, exc) from None


def _listen_error(host: str, port: int, exc: OSError) -> InputError:
    if exc.errno == errno.EADDRINUSE:
        return InputError(field="--port", reason=f"port {port} of {host} is in use")
    if exc.errno == errno.EADDRNOTAVAIL:
        return InputError(field="--host", reason=f"{host} is not an address of this machine")
    if exc.errno == errno.EACCES:
        return InputError(
            field="--port",
            reason=f"no permission to listen on port {port} (below 1024 needs privileges)",
        )
    return InputError(
        field="--host/--port", reason=f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    )


def _log_to_stderr(level: str) -> None:
    """skyparley's own log lines (draft checks, feed connections, failed WAL checkpoints) on
    stderr beside uvicorn's, at the same level."""
    logger = logging.getLogger("skyparley")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:  %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level.upper())


def sbs_sources(
    feeds: list[str], maps: list[str], parties: Collection[str]
) -> tuple[SbsEndpoint, ...]:
    """The SBS feeds of ``--sbs`` with the party maps of ``--sbs-parties`` (one for all, or
    one per feed); every party a map names must be one of the protocol's."""
    endpoints = [parse_endpoint(text) for text in feeds]
    if not feeds:
        if maps:
            raise InputError(field="--sbs-parties", reason="maps the aircraft of --sbs feeds")
        return ()
    if not maps:
        raise InputError(field="--sbs-parties", reason="--sbs needs a party map file")
    if len(maps) not in (1, len(feeds)):
        raise InputError(
            field="--sbs-parties",
            reason=f"give one for every feed, or one per --sbs ({len(feeds)}), not {len(maps)}",
        )
    loaded = [load_party_map(m) for m in maps]
    for path, pmap in zip(maps, loaded, strict=True):
        unknown = sorted(pmap.parties - set(parties))
        if unknown:
            raise InputError(
                field="--sbs-parties",
                reason=f"{path}: {unknown[0]!r} is not a party of the protocol "
                f"({', '.join(sorted(parties))})",
            )
    return tuple(
        SbsEndpoint(host, port, loaded[k if len(loaded) > 1 else 0])
        for k, (host, port) in enumerate(endpoints)
    )


def run(args: argparse.Namespace) -> int:
    """Handle ``skyparley serve``: runs until Ctrl-C (exit 0)."""
    import uvicorn  # noqa: PLC0415 (heavy: imported only to serve)

    from skyparley.api import Settings, create_app, settle_heap  # noqa: PLC0415

    tls = (args.ssl_certfile, args.ssl_keyfile)
    if any(tls) and not all(tls):
        raise InputError(
            field="--ssl-keyfile" if args.ssl_certfile else "--ssl-certfile",
            reason="TLS needs both --ssl-certfile and --ssl-keyfile",
        )
    if args.ssl_ca_certs and not all(tls):
        raise InputError(
            field="--ssl-ca-certs",
            reason="client certificates (mTLS) need TLS: give --ssl-certfile and --ssl-keyfile",
        )
    # Everything is checked before the database or the key file is made or opened: a
    # refused start leaves nothing behind.
    check_tls(args.ssl_certfile, args.ssl_keyfile, args.ssl_ca_certs)
    protocol = load_protocol(args.protocol)
    parties = [p.id for p in protocol.parties]
    check_key_name(args.service_key, parties)
    found = check_db(args.db)
    db = found.path
    sources = sbs_sources(getattr(args, "sbs", []), getattr(args, "sbs_parties", []), parties)
    passphrase = _passphrase(args.passphrase_env)
    if args.origin is not None:
        check_origin(args.origin)
    check_listen(args.host, args.port)
    made = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    default_key = db.with_name(db.name + ".service.key")
    if args.service_key is None and not default_key.exists():
        made.append(default_key)
    key = service_key(db, args.service_key, passphrase, log_exists=found.ledger)
    try:
        app = create_app(
            Settings(
                protocol=protocol, db_path=db, service_key=key, origin=args.origin, sources=sources
            )
        )
    except BaseException:
        if not found.exists:  # a refused start leaves no half-made database behind
            for path in made:
                path.unlink(missing_ok=True)
        raise
    settle_heap()
    _log_to_stderr(args.log_level)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        lifespan="on",
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        ssl_ca_certs=args.ssl_ca_certs,
        ssl_cert_reqs=ssl.CERT_REQUIRED if args.ssl_ca_certs else ssl.CERT_NONE,
    )
    server = uvicorn.Server(config)
    scheme = "https" if args.ssl_certfile else "http"
    host = f"[{args.host}]" if ":" in args.host else args.host
    mtls = ", client certificates required" if args.ssl_ca_certs else ""
    feeds = "".join(f", reading {ep.name}" for ep in sources)
    print(
        f"skyparley serve: {scheme}://{host}:{args.port} (protocol {protocol.id}, "
        f"database {db}, service key {key.verifier.to_text()}{mtls}{feeds}); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: a clean stop
        pass
    except SystemExit:  # uvicorn exits when it cannot listen; said below
        pass
    if not server.started:
        raise InputError(
            field="--host/--port",
            reason=f"could not listen on {args.host}:{args.port} (see above)",
        )
    print("skyparley serve: stopped", file=sys.stderr)
    return 0

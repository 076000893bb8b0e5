"""``skyparley serve``: the deconfliction service on one SQLite file, served by uvicorn.

The service signs what it generates (findings, escalations, checkpoints) with its own key:
``--service-key FILE`` (PKCS #8 PEM, as ``skyparley keys new`` writes it; the key is named
after the file, ``NAME.key``), else ``<db>.service.key`` next to the database, made on the
first run with mode 0600 and named ``skyparley-service``. With ``--ssl-ca-certs`` every
client must present a certificate signed by one of those CAs (mutual TLS).
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
from collections.abc import Collection
from pathlib import Path

from skyparley.adapters.protocol_file import load_protocol
from skyparley.adapters.sbs import SbsEndpoint, load_party_map, parse_endpoint
from skyparley.cli._keys import KEY_MODE, write_new_file
from skyparley.domain.ledger.keys import SigningKey, generate_key, load_private_key_pem
from skyparley.errors import InputError, LedgerInputError

__all__ = ["SERVICE_KEY_NAME", "run", "sbs_sources", "service_key"]

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


def service_key(db: Path, key_file: str | None, passphrase: bytes | None) -> SigningKey:
    """The service's signing key: ``key_file``, else ``<db>.service.key`` (made if missing)."""
    if key_file is not None:
        path = Path(key_file)
        return _load(path, path.name.removesuffix(".key"), passphrase, "--service-key")
    path = db.with_name(db.name + ".service.key")
    if not path.exists():
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
    for opt in ("ssl_certfile", "ssl_keyfile", "ssl_ca_certs"):
        value = getattr(args, opt)
        if value is not None and not Path(value).is_file():
            raise InputError(field="--" + opt.replace("_", "-"), reason=f"{value} is not a file")
    protocol = load_protocol(args.protocol)
    db = Path(args.db)
    if not db.parent.is_dir():
        raise InputError(field="--db", reason=f"the folder {db.parent} does not exist")
    sources = sbs_sources(
        getattr(args, "sbs", []), getattr(args, "sbs_parties", []), [p.id for p in protocol.parties]
    )
    key = service_key(db, args.service_key, _passphrase(args.passphrase_env))
    app = create_app(
        Settings(
            protocol=protocol, db_path=db, service_key=key, origin=args.origin, sources=sources
        )
    )
    settle_heap()
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
            field="--port", reason=f"could not listen on {args.host}:{args.port} (see above)"
        )
    print("skyparley serve: stopped", file=sys.stderr)
    return 0

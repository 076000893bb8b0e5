"""``skyparley demo``: the Syria 2015 scenario played through the service, for the console.

The service runs in this process (uvicorn in a thread) on one SQLite file with the packaged
protocol, the demo service key and a :class:`~skyparley.adapters.clock.ScaledClock`; the
player (:mod:`skyparley.scenario`) plays beats 1 to 5 over HTTP as the three parties, then
prints beat 6, the daily summary. ``--detect-only`` keeps the old demo: ``skyparley detect``
on the beat-3 tracks.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

from skyparley.cli._db import check_db
from skyparley.cli._detect import detect_files
from skyparley.domain.separation import SeparationMinima
from skyparley.errors import InputError

__all__ = ["DEFAULT_DB", "SCENARIO", "run", "scenario_path"]

SCENARIO = "syria-2015-beat3.csv"
DEFAULT_DB = Path(".cache/demo/skyparley.db")
"""The demo's own file (relative to the working directory), made anew at each run."""
PARTIES = ("coalition", "russia", "relief")
SERVICE_KEY_NAME = "skyparley-demo-service"


def scenario_path() -> str:
    """Path of the packaged beat-3 track file."""
    return str(resources.files("skyparley.data.scenarios").joinpath(SCENARIO))


def protocol_path() -> str:
    """Path of the packaged protocol of the scenario."""
    return str(resources.files("skyparley.data.protocols").joinpath("syria-2015.yaml"))


def run(args: argparse.Namespace) -> int:
    """Handle ``skyparley demo``."""
    if args.detect_only:
        return _detect(args)
    if args.format != "table" or args.step_s != 10.0:
        flag = "--format" if args.format != "table" else "--step-s"
        raise InputError(field=flag, reason="goes with --detect-only")
    return _play(args)


def _detect(args: argparse.Namespace) -> int:
    path = scenario_path()
    print(
        "Syria 2015, beat 3 - 10 Oct 2015, 09:00-09:20 UTC: a coalition pair and a Russian pair\n"
        "converge over eastern Syria. Separation 5 NM / 1000 ft, lookahead 300 s.\n"
        f"$ skyparley detect {path} --cross-party-only --step-s {args.step_s:g}"
        + (f" --format {args.format}" if args.format != "table" else "")
        + "\n",
        file=sys.stderr,
    )
    return detect_files(
        [path],
        minima=SeparationMinima(),
        start=None,
        end=None,
        step_s=args.step_s,
        stale_s=30.0,
        cross_party_only=True,
        fmt=args.format,
        out=None,
        skip_bad=False,
        workers=None,
    )


def _remove_db(db: Path) -> None:
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)


def _open_app(db: Path, clock: Any) -> Any:
    from skyparley.adapters.protocol_file import load_protocol  # noqa: PLC0415
    from skyparley.api import Settings, create_app  # noqa: PLC0415
    from skyparley.domain.ledger.keys import demo_key  # noqa: PLC0415

    protocol = load_protocol(protocol_path())
    try:
        return create_app(
            Settings(
                protocol=protocol,
                db_path=db,
                service_key=demo_key(SERVICE_KEY_NAME),
                clock=clock,
                tick_s=0.05,
            )
        )
    except InputError as exc:
        raise InputError(
            field="--db",
            reason=f"{db} is not a demo database of the protocol {protocol.id}: {exc.reason}",
        ) from None


def _play(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 (heavy: imported only to serve)

    from skyparley.adapters.clock import ScaledClock  # noqa: PLC0415
    from skyparley.cli._serve import check_listen  # noqa: PLC0415
    from skyparley.domain.ledger.keys import demo_key  # noqa: PLC0415
    from skyparley.scenario import (  # noqa: PLC0415
        BEAT_TIMES,
        Player,
        daily_summary,
        escalate_until,
        format_summary,
    )
    from skyparley.service import new_token  # noqa: PLC0415

    out = sys.stdout
    db = Path(args.db) if args.db else DEFAULT_DB
    if args.db is not None:
        check_db(args.db)
    check_listen(args.host, args.port)  # before the database is made: nothing left behind
    if args.db is None:
        db.parent.mkdir(parents=True, exist_ok=True)
        _remove_db(db)
    clock = ScaledClock(BEAT_TIMES[1] - 60.0, args.speed)
    app = _open_app(db, clock)
    rt = app.state.runtime
    played = rt.ledger.size() > 0
    if played:  # the story is there already: serve it from its last moment on
        clock.jump_to(rt.ledger.entry(rt.ledger.size() - 1).logged_s)
    protocol = rt.service.protocol
    tokens = {
        p: new_token(rt.store, protocol, party=p, role="operator", now_s=clock.now_s(),
                     label="skyparley demo")[0]
        for p in PARTIES
    }  # fmt: skip
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}"
    print(
        f"skyparley demo: the Syria 2015 scenario (protocol {protocol.id}), "
        f"clock {args.speed:g}x\n"
        f"  database  {db} (SQLite; the signed record stays there)\n"
        f"  console   {url}/\n"
        "  tokens    (operator role; log in to the console with one)",
        file=out,
    )
    for p in PARTIES:
        print(f"    {p:<10}{tokens[p]}", file=out)
    print(file=out, flush=True)

    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="skyparley-demo-server", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise InputError(
                    field="--host/--port", reason=f"could not listen on {args.host}:{args.port}"
                )
            time.sleep(0.02)
        if played:
            print(f"{db} holds the story already: serving it as it is (no beat played)", file=out)
        else:
            wildcard = args.host in ("0.0.0.0", "::")  # noqa: S104 (a comparison, not a bind)
            base = f"http://127.0.0.1:{args.port}" if wildcard else url
            with Player(
                url=base,
                tokens=tokens,
                keys={p: demo_key(p) for p in PARTIES},
                clock=clock,
                out=out,
                auto_ack=args.auto_ack,
                tick=rt.live.tick,
                catch_up=lambda t_s: escalate_until(rt.service, clock, t_s),
            ) as player:
                player.play()
            print("beat 6: the daily summary per party", file=out)
            print(format_summary(daily_summary(rt.store, PARTIES)), file=out)
            print(
                "\nthe record, checked offline from signatures alone:\n"
                f"  skyparley ledger export --db {db} --out syria-2015.json\n"
                f"  skyparley ledger verify syria-2015.json --protocol {protocol_path()}",
                file=out,
                flush=True,
            )
        if not args.no_serve_after:
            print(f"\nserving {url}/ until Ctrl-C", file=out, flush=True)
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    print("skyparley demo: stopped", file=out, flush=True)
    return 0

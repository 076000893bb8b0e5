"""``skyparley tokens new|list|revoke``: API tokens, straight on the service's database.

These work on the SQLite file itself (no server needed), so an operator can make the first
admin token before the service ever runs. A token is shown once, when made; only its
SHA-256 is kept. A revoked token stops working at the next request. Every input is checked
before the file is opened; ``list`` only reads (it creates and migrates nothing), and
``list`` and ``revoke`` refuse a file that is not a skyparley database with tokens.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from skyparley.adapters.protocol_file import load_protocol
from skyparley.adapters.store_memory import MemoryStore
from skyparley.adapters.store_sqlite import SqliteStore
from skyparley.cli._db import check_db, check_store, read_only
from skyparley.cli._remote import print_jsonl
from skyparley.domain.records import Changes
from skyparley.domain.times import format_time
from skyparley.errors import InputError
from skyparley.service import new_token

__all__ = ["list_", "new", "revoke"]


_OPTIONS = {"party": "--party", "role": "--role", "label": "--label"}


def new(args: argparse.Namespace) -> int:
    """Handle ``skyparley tokens new``: every input is checked before the database is opened
    (or created, for a first admin token before the service ever ran)."""
    protocol = load_protocol(args.protocol)
    try:  # the token and its record, checked as the service checks them, on no file yet
        with MemoryStore() as scratch:
            token, rec = new_token(
                scratch,
                protocol,
                party=args.party,
                role=args.role,
                now_s=time.time(),
                label=args.label,
            )
    except InputError as exc:
        raise InputError(field=_OPTIONS.get(exc.field, exc.field), reason=exc.reason) from None
    db = check_db(args.db)
    with SqliteStore(db.path) as store:
        store.commit(Changes(tokens=[rec]))
    print(token)
    print(
        f"tokens new: {rec.id} ({rec.party}, {rec.role}); the token above is shown only now",
        file=sys.stderr,
    )
    return 0


_TOKENS = "SELECT id, party, role, created_s, label, revoked_s FROM tokens"
_ORDER = " ORDER BY created_s, n"


def _read_tokens(db: Path, party: str | None) -> list[tuple[Any, ...]]:
    """The token rows (never their hashes), read through a read-only connection: listing
    neither creates nor migrates the file."""
    try:
        with read_only(db) as conn:
            if party is None:
                rows: list[tuple[Any, ...]] = conn.execute(_TOKENS + _ORDER).fetchall()
            else:
                rows = conn.execute(_TOKENS + " WHERE party = ?" + _ORDER, (party,)).fetchall()
            return rows
    except sqlite3.Error as exc:
        raise InputError(field="--db", reason=f"{db} cannot be read ({exc})") from None


def list_(args: argparse.Namespace) -> int:
    """Handle ``skyparley tokens list``."""
    db = check_store(args.db)
    rows = [
        {
            "id": tid,
            "party": party,
            "role": role,
            "label": label,
            "created": format_time(created_s),
            "revoked": None if revoked_s is None else format_time(revoked_s),
        }
        for tid, party, role, created_s, label, revoked_s in _read_tokens(db.path, args.party)
    ]
    if args.format == "jsonl":
        print_jsonl(rows)
        return 0
    if not rows:
        print("no tokens")
        return 0
    print(f"{'id':<17} {'party':<16} {'role':<9} {'created':<24} {'revoked':<24} label")
    for r in rows:
        print(
            f"{r['id']:<17} {r['party']:<16} {r['role']:<9} {r['created']:<24} "
            f"{r['revoked'] or '-':<24} {r['label'] or ''}"
        )
    return 0


def revoke(args: argparse.Namespace) -> int:
    """Handle ``skyparley tokens revoke``."""
    store = SqliteStore(check_store(args.db).path)
    try:
        found = next((t for t in store.tokens() if t.id == args.id), None)
        if found is None:
            raise InputError(field="ID", reason=f"no token {args.id!r} in {args.db}")
        if found.revoked_s is None:
            store.commit(Changes(revoked_tokens=[(found.id, time.time())]))
            print(f"{found.id}: revoked ({found.party}, {found.role})")
        else:
            print(f"{found.id}: already revoked at {format_time(found.revoked_s)}")
    finally:
        store.close()
    return 0

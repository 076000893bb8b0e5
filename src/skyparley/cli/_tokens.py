"""``skyparley tokens new|list|revoke``: API tokens, straight on the service's database.

These work on the SQLite file itself (no server needed), so an operator can make the first
admin token before the service ever runs. A token is shown once, when made; only its
SHA-256 is kept. A revoked token stops working at the next request.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from skyparley.adapters.protocol_file import load_protocol
from skyparley.adapters.store_sqlite import SqliteStore
from skyparley.cli._remote import print_jsonl
from skyparley.domain.records import Changes
from skyparley.domain.times import format_time
from skyparley.errors import InputError
from skyparley.service import new_token

__all__ = ["list_", "new", "revoke"]


def _existing_db(path: str) -> Path:
    db = Path(path)
    if not db.is_file():
        raise InputError(field="--db", reason=f"{db} is not a database file")
    return db


def new(args: argparse.Namespace) -> int:
    """Handle ``skyparley tokens new``."""
    protocol = load_protocol(args.protocol)
    db = Path(args.db)
    if not db.parent.is_dir():
        raise InputError(field="--db", reason=f"the folder {db.parent} does not exist")
    store = SqliteStore(db)
    try:
        token, rec = new_token(
            store,
            protocol,
            party=args.party,
            role=args.role,
            now_s=time.time(),
            label=args.label,
        )
    finally:
        store.close()
    print(token)
    print(
        f"tokens new: {rec.id} ({rec.party}, {rec.role}); the token above is shown only now",
        file=sys.stderr,
    )
    return 0


def list_(args: argparse.Namespace) -> int:
    """Handle ``skyparley tokens list``."""
    store = SqliteStore(_existing_db(args.db))
    try:
        tokens = store.tokens(args.party)
    finally:
        store.close()
    rows = [
        {
            "id": t.id,
            "party": t.party,
            "role": t.role,
            "label": t.label,
            "created": format_time(t.created_s),
            "revoked": None if t.revoked_s is None else format_time(t.revoked_s),
        }
        for t in tokens
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
    store = SqliteStore(_existing_db(args.db))
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

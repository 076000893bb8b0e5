"""``skyparley hotline send|inbox|ack``: the structured hotline through the service.

Messages are rendered by the service in the reader's language (a template) or shown as
written with their language marked (free text). ``inbox`` reads after a cursor and prints
the next cursor on stderr, so ``--after`` resumes with no gap and no duplicate.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from skyparley.cli._remote import connect, non_blank, print_jsonl
from skyparley.errors import InputError

__all__ = ["ack", "inbox", "send"]

_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+")


def _args(pairs: list[str]) -> dict[str, str | int | float]:
    out: dict[str, str | int | float] = {}
    for k, pair in enumerate(pairs):
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(field=f"--arg[{k}]", reason=f"{pair!r} is not NAME=VALUE")
        if name in out:
            raise InputError(field=f"--arg[{k}]", reason=f"{name!r} is given twice")
        if _INT.fullmatch(value):
            out[name] = int(value)
        elif _FLOAT.fullmatch(value):
            out[name] = float(value)
        else:
            out[name] = value
    return out


def send(args: argparse.Namespace) -> int:
    """Handle ``skyparley hotline send``."""
    if args.reply_to is not None:
        non_blank(args.reply_to, "--reply-to")
    if args.template is not None:
        if args.text is not None:
            raise InputError(field="--text", reason="give --template or --text, not both")
        if args.lang is not None:
            raise InputError(
                field="--lang",
                reason="is the language of --text only: a --template message is rendered "
                "in each reader's language",
            )
        content: dict[str, Any] = {"template": args.template, "args": _args(args.arg)}
    else:
        if args.text is None:
            raise InputError(field="--text", reason="give --text TEXT --lang LANG or --template")
        if args.lang is None:
            raise InputError(field="--lang", reason="free text needs its language: ar, en or ru")
        if args.arg:
            raise InputError(field="--arg", reason="free text takes no arguments")
        content = {"text": args.text, "lang": args.lang}
    with connect(args, "hotline") as client:
        out = client.send(args.kind, args.to, content, reply_to=args.reply_to, about=args.about)
    if args.format == "jsonl":
        print_jsonl([out])
    else:
        deadline = f", acknowledge by {out['deadline']}" if out.get("deadline") else ""
        print(f"{out['id']}  {out['kind']} to {', '.join(out['to'])}{deadline}")
    signed = "service-attested" if out.get("attested") else "signed by the party"
    print(f"hotline send: sent, ledger #{out.get('ledger_index')}, {signed}", file=sys.stderr)
    return 0


def _ack_state(m: dict[str, Any], me: str | None) -> str:
    if not m.get("requires_ack"):
        return "-"
    acked = {a["party"] for a in m.get("acks", [])}
    if me is not None and me in acked:
        return "acked"
    levels = [e["level"] for e in m.get("escalations", [])]
    return f"DUE {m.get('deadline')}" + (f" (esc {max(levels)})" if levels else "")


def inbox(args: argparse.Namespace) -> int:
    """Handle ``skyparley hotline inbox``."""
    with connect(args, "hotline") as client:
        page = client.inbox(after=args.after, limit=args.limit)
        me = client.head()["party"] if args.format == "table" else None
    messages: list[dict[str, Any]] = page["messages"]
    if args.format == "jsonl":
        print_jsonl(messages)
    elif not messages:
        print(f"no messages after {args.after}")
    else:
        print(f"{'seq':>5} {'id':<27} {'sent':<20} {'from':<24} {'kind':<10} {'ack':<28} text")
        for m in messages:
            r = m.get("rendered", {})
            text = " ".join(str(r.get("text", "")).split())
            if not r.get("translated") and r.get("source_lang"):
                text = f"[{r['source_lang']}] {text}"
            print(
                f"{m.get('seq', ''):>5} {m['id']:<27} {m['sent']:<20} {m['from']:<24} "
                f"{m['kind']:<10} {_ack_state(m, me):<28} {text}"
            )
    print(
        f"hotline inbox: {len(messages)} message{'s' if len(messages) != 1 else ''}; "
        f"next: --after {page['cursor']}",
        file=sys.stderr,
    )
    return 0


def ack(args: argparse.Namespace) -> int:
    """Handle ``skyparley hotline ack``."""
    non_blank(args.message_id, "MESSAGE_ID")
    with connect(args, "hotline") as client:
        out = client.ack(args.message_id)
    if args.format == "jsonl":
        print_jsonl([out])
    else:
        late = " (LATE: after the deadline)" if out.get("late") else ""
        again = " (already acknowledged)" if out.get("replayed") else ""
        print(f"{out['message_id']}: acknowledged by {out['party']} at {out['at']}{late}{again}")
    return 0

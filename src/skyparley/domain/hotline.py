"""The hotline: structured messages between parties, their acknowledgement and escalation.

Pure rules only; the service keeps the messages, the deadlines and the ledger entries.

Message content
---------------
A message says one of two things, never both:

- **structured**: ``{"template": "<name>", "args": {...}}``. ``name`` is one of
  :data:`TEMPLATES`, each with fixed argument names. The service renders it for every
  reader in the reader's language (ar, en, ru) from the message catalogs, so a duty officer
  reads every structured message in their own language.
- **free text**: ``{"text": "...", "lang": "en"}``. It stays as written, marked with the
  language it was written in; nothing translates it.

Kinds
-----
``notice``, ``alert``, ``request``, ``reply``, ``text`` (the protocol's kinds, each with its
``requires_ack`` and ``deadline_s``), ``ack`` (never acknowledged itself), and two kinds only
the service sends: ``finding`` (a strategic finding; acknowledged under the protocol's rule
for ``notice``) and ``escalation``.

Escalation
----------
A message that requires acknowledgement starts at the first rung of the protocol's ladder
(``hotline.escalation``) with its kind's deadline. When that deadline passes and an
addressee has not acknowledged, the message escalates, for that addressee, to the next rung;
each later rung's own ``deadline_s`` after that, to the one after. The last rung has no
deadline of its own. Levels are numbered from 1 (the first rung). :func:`escalation_due`
gives, for one addressee, the next rung and when it falls due.

Examples
--------
>>> content = MessageContent.from_dict({"template": "request_shift",
...     "args": {"notice": "russia/ru-0930-raqqa@1", "minutes": 60}})
>>> content.template, content.args["minutes"]
('request_shift', 60)
>>> MessageContent.from_dict({"text": "Call at 10:00Z", "lang": "en"}).to_dict()
{'text': 'Call at 10:00Z', 'lang': 'en'}
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from skyparley.domain._fields import Fields
from skyparley.domain.protocol import LANGUAGES, EscalationLevel, MessageRule, Protocol
from skyparley.errors import InputError

__all__ = [
    "ALL_KINDS",
    "MAX_TEXT_CHARS",
    "PARTY_KINDS",
    "SERVICE_KINDS",
    "TEMPLATES",
    "Escalation",
    "MessageContent",
    "ack_rule",
    "escalation_due",
]

PARTY_KINDS: Final = ("notice", "alert", "request", "reply", "text", "ack")
"""Kinds a party may send."""
SERVICE_KINDS: Final = ("finding", "escalation")
"""Kinds only the service sends."""
ALL_KINDS: Final = PARTY_KINDS + SERVICE_KINDS
MAX_TEXT_CHARS: Final = 2000
"""Longest free text of one message."""

TEMPLATES: Final[Mapping[str, tuple[str, ...]]] = {
    # a party filed, changed or cancelled an operation notice (to every other party)
    "notice_filed": ("party", "notice", "start", "end", "volumes"),
    "notice_version": ("party", "notice", "start", "end", "volumes"),
    "notice_cancelled": ("party", "notice"),
    # strategic findings, one per reader (see domain.strategic)
    "finding_notice_conflict": ("other", "notice", "start", "end", "lower", "upper"),
    "finding_protected_area": ("other", "notice", "start", "end", "lower", "upper"),
    "finding_zone_notice": ("zone", "notice", "hours"),
    "finding_zone_closed": ("zone", "notice"),
    "finding_cleared": ("notice",),
    # requests and replies between duty officers
    "request_shift": ("notice", "minutes"),
    "request_call": ("at",),
    "request_info": ("notice",),
    "reply_accept": ("message",),
    "reply_decline": ("message",),
    # tactical alerts
    "alert_conflict": ("level", "own", "other", "time_to_los_s", "hdist_nm", "vdist_ft"),
    # acknowledgement and escalation
    "ack": ("message",),
    "escalation": ("message", "party", "level", "level_name"),
}
"""Structured message templates and their argument names (every argument is required)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ARG_TEXT_CHARS: Final = 200


def _arg(value: object, *, field: str) -> str | int | float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(field=field, reason=f"must be text or a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(field=field, reason=f"must be finite, got {value!r}")
    if isinstance(value, str):
        if len(value) > _ARG_TEXT_CHARS:
            raise InputError(field=field, reason=f"has more than {_ARG_TEXT_CHARS} characters")
        if _CONTROL.search(value):
            raise InputError(field=field, reason="must not hold control characters")
    return value


@dataclass(frozen=True)
class MessageContent:
    """What a message says: a template with its arguments, or free text in a language."""

    template: str | None = None
    args: Mapping[str, str | int | float] = field(default_factory=dict)
    text: str | None = None
    lang: str | None = None

    def __post_init__(self) -> None:
        if (self.template is None) == (self.text is None):
            raise InputError(field="content", reason="give either template and args, or text")
        if self.template is not None:
            if self.template not in TEMPLATES:
                raise InputError(
                    field="content.template",
                    reason=f"{self.template!r} is not a message template; one of "
                    + ", ".join(sorted(TEMPLATES)),
                )
            names = TEMPLATES[self.template]
            for name in sorted(self.args):
                if name not in names:
                    raise InputError(
                        field=f"content.args.{name}",
                        reason=f"is not an argument of {self.template}"
                        f" (its arguments: {', '.join(names)})",
                    )
            for name in names:
                if name not in self.args:
                    raise InputError(field=f"content.args.{name}", reason="is required")
                _arg(self.args[name], field=f"content.args.{name}")
            object.__setattr__(self, "args", dict(self.args))
        else:
            assert self.text is not None
            if not isinstance(self.text, str) or not self.text.strip():
                raise InputError(field="content.text", reason="must be non-empty text")
            if len(self.text) > MAX_TEXT_CHARS:
                raise InputError(
                    field="content.text",
                    reason=f"has {len(self.text)} characters; at most {MAX_TEXT_CHARS}",
                )
            if _CONTROL.search(self.text):
                raise InputError(field="content.text", reason="must not hold control characters")
            if self.lang not in LANGUAGES:
                raise InputError(
                    field="content.lang",
                    reason=f"must be one of {', '.join(LANGUAGES)}, got {self.lang!r}",
                )
            if self.args:
                raise InputError(field="content.args", reason="free text takes no arguments")

    @property
    def structured(self) -> bool:
        """Whether the content is a template (rendered per reader) rather than free text."""
        return self.template is not None

    @classmethod
    def from_dict(cls, obj: object, *, field: str = "content") -> MessageContent:
        """Read content from its JSON form; errors name the member."""
        f = Fields(obj, field)
        if f.has("template"):
            template = f.text("template")
            raw = f.raw("args", {})
            if not isinstance(raw, Mapping):
                raise InputError(field=f.at("args"), reason="must be an object")
            f.done()
            return cls(template=template, args=dict(raw))
        text = f.raw("text")
        if not isinstance(text, str):
            raise InputError(field=f.at("text"), reason=f"must be text, got {text!r}")
        lang = f.text("lang", choices=LANGUAGES)
        f.done()
        return cls(text=text, lang=lang)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form :meth:`from_dict` reads back."""
        if self.template is not None:
            return {"template": self.template, "args": dict(self.args)}
        return {"text": self.text, "lang": self.lang}


def ack_rule(protocol: Protocol, kind: str) -> MessageRule:
    """Whether a message of ``kind`` must be acknowledged, and within how many seconds.

    The protocol's rule for the five hotline kinds; a ``finding`` follows ``notice``'s rule;
    ``ack`` and ``escalation`` are never acknowledged.

    Examples
    --------
    >>> from skyparley.domain.protocol import MessageRule
    >>> class P:  # the part of a Protocol this reads
    ...     messages = {"notice": MessageRule(True, 900.0)}
    >>> ack_rule(P(), "finding"), ack_rule(P(), "ack")
    (MessageRule(requires_ack=True, deadline_s=900.0), MessageRule(requires_ack=False, \
deadline_s=None))
    """
    if kind in ("ack", "escalation"):
        return MessageRule(False, None)
    rule = protocol.messages.get("notice" if kind == "finding" else kind)
    if rule is None:
        return MessageRule(False, None)
    return rule


@dataclass(frozen=True, slots=True)
class Escalation:
    """The next rung of the ladder for one addressee: ``level`` (from 1), its name, and when
    it falls due if the message is still unacknowledged then."""

    level: int
    name: str
    due_s: float


def escalation_due(
    ladder: tuple[EscalationLevel, ...],
    *,
    sent_s: float,
    deadline_s: float,
    reached: int = 1,
) -> Escalation | None:
    """The next escalation of a message for one addressee, or None at the top of the ladder.

    ``sent_s`` is when the log took the message, ``deadline_s`` its kind's deadline and
    ``reached`` the level already reached (1: the first rung, where every message starts).

    Examples
    --------
    >>> from skyparley.domain.protocol import EscalationLevel as L
    >>> ladder = (L("duty officer", 0, ()), L("operations commander", 600, ()),
    ...           L("chief of staff", 1800, ()))
    >>> escalation_due(ladder, sent_s=0, deadline_s=900)
    Escalation(level=2, name='operations commander', due_s=900.0)
    >>> escalation_due(ladder, sent_s=0, deadline_s=900, reached=2)
    Escalation(level=3, name='chief of staff', due_s=1500.0)
    >>> escalation_due(ladder, sent_s=0, deadline_s=900, reached=3) is None
    True
    """
    if reached < 1:
        raise ValueError(f"reached={reached}: levels count from 1")
    if reached >= len(ladder):
        return None
    due = float(sent_s) + float(deadline_s)
    for k in range(1, reached):
        due += ladder[k].deadline_s
    return Escalation(reached + 1, ladder[reached].name, due)

"""Message catalogs: hotline messages and labels in Arabic, English and Russian.

The catalogs are Fluent files shipped as package data (``skyparley/data/catalogs/``: one
``.ftl`` per language of :data:`~skyparley.domain.protocol.LANGUAGES`). Each holds one
message per template of :data:`~skyparley.domain.hotline.TEMPLATES` (the id is the template
name with ``_`` written ``-``, see :func:`message_id`), whose variables are exactly the
template's arguments, and the labels a reader needs: ``kind-<kind>`` for every message kind,
``lang-<code>`` for the language names and ``free-text-marker``.

:class:`Catalogs` loads the three files once, when it is constructed, and checks that every
template has its message; nothing is loaded at import time and nothing changes afterwards.
:meth:`Catalogs.render` renders a message's content for one reader:

- **structured** content in the reader's language (``translated=True``);
- **free text** as written (``translated=False``), with ``source_lang`` the language it was
  written in and ``marker`` saying so in the reader's language ("free text, written in
  Russian"). Nothing translates free text.

Each message is also compiled, once, into Python closures that render it as Fluent's
resolver does, in about half the time (a filing renders a message for each reader of each
of its findings); whatever the compiled form does not take, Fluent renders (see
``_compile``).

Values in the messages
----------------------
Three functions are available to the catalogs, all of them lenient: a template's arguments
may be text or numbers, and a value the function cannot read is shown as given, so that a
valid :class:`~skyparley.domain.hotline.MessageContent` always renders.

- ``NUMBER($x)``: the number written for the locale (``12,000`` in English, ``12 000`` in
  Russian); text that is a number counts as one. A number of 10^21 or more (no message
  counts anything that large, and Babel cannot write it) is shown as given, here and as
  any argument. With ``maximumFractionDigits`` it rounds the value itself, so that a
  plural selector agrees with the number the reader sees (``44.6`` seconds is
  "45 секунд", not "45 секунды").
- ``TIME($t)``: an RFC 3339 time (or epoch seconds) as UTC, ``2015-09-30 06:00Z`` (seconds
  only when not zero). The same text in every language: both sides of a hotline quote the
  same time.
- ``ALT($a, unit: "ft")``: an altitude as a notice writes it: text such as ``FL150`` as given,
  a number of feet with the unit the catalog passes.

Digits are Latin in all three languages (CLDR's default for ``ar`` in Babel), like the
identifiers and the times the messages carry.

Bidirectional text
------------------
Fluent can wrap every placeable in Unicode isolation marks (FSI U+2068 ... PDI U+2069).
They are **on for Arabic**: its messages are right-to-left and carry left-to-right values
(notice ids such as ``russia/ru-0930-raqqa@1``, times, ``FL200``); without isolation the
bidi algorithm reorders their neutral characters (``/``, ``@``, ``-``, ``:``) with the
surrounding Arabic and a duty officer could read a wrong id or time. They are **off for
English and Russian**: both are left-to-right like their values, and the invisible marks would
only get in the way of copying an id, searching a log or comparing text. A renderer of
English or Russian text that embeds right-to-left values should isolate them itself.

Examples
--------
>>> from skyparley.domain.hotline import MessageContent
>>> catalogs = Catalogs()
>>> content = MessageContent.from_dict({"template": "request_shift",
...     "args": {"notice": "russia/ru-0930-raqqa@1", "minutes": 21}})
>>> catalogs.render(content, "en").text
'Request: shift notice russia/ru-0930-raqqa@1 by 21 minutes.'
>>> catalogs.render(content, "ru").text
'Запрос: сдвинуть уведомление russia/ru-0930-raqqa@1 на 21 минуту.'
>>> free = MessageContent.from_dict({"text": "Call at 10:00Z", "lang": "en"})
>>> r = catalogs.render(free, "ru")
>>> r.text, r.translated, r.source_lang, r.marker
('Call at 10:00Z', False, 'en', 'свободный текст на английском языке')
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Final, cast

from babel import Locale
from fluent.runtime import FluentBundle, FluentResource, resolver
from fluent.runtime.types import FluentNone, FluentNumber, FluentType, fluent_number
from fluent.runtime.utils import native_to_fluent
from fluent.syntax import ast as ftl

from skyparley.domain.hotline import TEMPLATES, MessageContent
from skyparley.domain.protocol import LANGUAGES
from skyparley.domain.times import parse_time
from skyparley.errors import InputError, SkyparleyError

__all__ = ["CATALOG_PACKAGE", "ISOLATING", "Catalogs", "Rendered", "message_id"]

CATALOG_PACKAGE: Final = "skyparley.data.catalogs"
"""The package whose ``<lang>.ftl`` files are the catalogs."""
ISOLATING: Final[Mapping[str, bool]] = {"ar": True, "en": False, "ru": False}
"""Whether placeables are wrapped in bidi isolation marks, by language (see the module)."""

_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_SHOWN_AS_GIVEN_FROM: Final = 1e21
"""Numbers this large or larger are shown as given, not written for the locale: Babel
writes a number through a 28-digit decimal context and fails past it (1e25 with its
fraction digits is 29), and no message of the catalogs counts anything this large."""


def message_id(template: str) -> str:
    """The catalog id of a template's message.

    Examples
    --------
    >>> message_id("finding_zone_notice")
    'finding-zone-notice'
    """
    return template.replace("_", "-")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message's content as one reader sees it.

    ``lang`` is the reader's language, the one the content was rendered for. ``text`` is what
    the reader reads. ``translated`` is True when ``text`` was rendered from a template in
    ``lang``, False for free text shown as written. ``source_lang`` is the language free text
    was written in (None for a template) and ``marker`` says so in ``lang``
    ("free text, written in Arabic").
    """

    lang: str
    text: str
    translated: bool
    source_lang: str | None
    marker: str | None = None


class Catalogs:
    """The message catalogs of every language, loaded from the package data.

    Construct it once (it parses and checks the three files) and share it: it does not
    change after construction.

    Raises :class:`~skyparley.errors.SkyparleyError` when a catalog has a syntax error or
    lacks a template's message.
    """

    def __init__(self) -> None:
        root = resources.files(CATALOG_PACKAGE)
        bundles: dict[str, FluentBundle] = {}
        compiled: dict[str, dict[str, _Compiled]] = {}
        for lang in LANGUAGES:
            source = root.joinpath(f"{lang}.ftl").read_text(encoding="utf-8")
            bundles[lang] = bundle = _bundle(lang, source)
            compiled[lang] = {
                mid: fn for mid in bundle._messages if (fn := _compile(bundle, mid)) is not None
            }
        self._bundles: Mapping[str, FluentBundle] = bundles
        self._compiled: Mapping[str, Mapping[str, _Compiled]] = compiled

    @property
    def languages(self) -> tuple[str, ...]:
        """The language codes there are catalogs for."""
        return tuple(self._bundles)

    def render(self, content: MessageContent, lang: str) -> Rendered:
        """``content`` as a reader of ``lang`` sees it: a template rendered in ``lang``, free
        text as written and marked with its language.

        Raises :class:`~skyparley.errors.InputError` (``field="lang"``) for a language there
        is no catalog for.
        """
        bundle = self._bundle_for(lang)
        if content.template is None:
            text, source = content.text, content.lang
            assert text is not None
            assert source is not None
            marker = self._format(bundle, lang, "free-text-marker", {"lang": source})
            return Rendered(lang, text, translated=False, source_lang=source, marker=marker)
        text = self._format(bundle, lang, message_id(content.template), content.args)
        return Rendered(lang, text, translated=True, source_lang=None)

    def label(self, message_id: str, lang: str, /, **args: str | int | float) -> str:
        """A label of the catalogs in ``lang``: ``kind-<kind>``, ``lang-<code>``,
        ``free-text-marker`` (with ``lang=<code>``).

        Raises :class:`~skyparley.errors.InputError` for an unknown language (``field="lang"``)
        or message (``field="message_id"``).
        """
        bundle = self._bundle_for(lang)
        if not bundle.has_message(message_id):
            raise InputError(
                field="message_id", reason=f"{message_id!r} is not in the {lang} catalog"
            )
        return self._format(bundle, lang, message_id, args)

    def _format(self, bundle: FluentBundle, lang: str, mid: str, args: Mapping[str, object]) -> str:
        """A message's text: through its compiled form (see :func:`_compile`) where it has
        one and the arguments take it; else through Fluent's resolver, which also reports
        what is wrong with them."""
        args = {name: _shown(v) for name, v in args.items()}
        fn = self._compiled[lang].get(mid)
        if fn is not None:
            try:
                return str(fn({name: native_to_fluent(v) for name, v in args.items()}))
            except _FallbackError:
                pass
        return _format(bundle, lang, mid, args)

    def _bundle_for(self, lang: str) -> FluentBundle:
        bundle = self._bundles.get(lang) if isinstance(lang, str) else None
        if bundle is None:
            raise InputError(
                field="lang",
                reason=f"must be one of {', '.join(self._bundles)}, got {lang!r}",
            )
        return bundle


def _bundle(lang: str, source: str) -> FluentBundle:
    """A checked bundle of one catalog, every message compiled."""
    resource = FluentResource(source)
    for entry in resource.body:
        if isinstance(entry, ftl.Junk):
            first = (entry.content or "").strip().partition("\n")[0]
            raise SkyparleyError(f"catalog {lang}.ftl: syntax error at {first!r}")
    functions = cast(
        "dict[str, Callable[[Any], FluentType]]",
        {"NUMBER": _number, "TIME": _time, "ALT": _altitude},
    )
    bundle = FluentBundle([lang], functions=functions, use_isolating=ISOLATING.get(lang, True))
    bundle.add_resource(resource)
    missing = [t for t in TEMPLATES if not bundle.has_message(message_id(t))]
    if missing:
        raise SkyparleyError(f"catalog {lang}.ftl: no message for template(s) {', '.join(missing)}")
    for entry in resource.body:  # compile now, so that a shared bundle is only read
        if isinstance(entry, ftl.Message):
            bundle.get_message(entry.id.name)
    return bundle


def _format(bundle: FluentBundle, lang: str, mid: str, args: Mapping[str, object]) -> str:
    pattern = bundle.get_message(mid).value
    if pattern is None:
        raise SkyparleyError(f"catalog {lang}.ftl: {mid} has no value")
    text, errors = bundle.format_pattern(pattern, dict(args))
    if errors:
        raise SkyparleyError(f"catalog {lang}.ftl: {mid}: " + "; ".join(str(e) for e in errors))
    return str(text)


# --------------------------------------------------------------------------- compiled messages
#
# Fluent's resolver walks a message's tree for every rendering, through an environment, a
# generator and a type check per node: about 0.1-0.2 ms for a finding's message, which a
# filing renders once per reader. _compile turns the same tree (the bundle's compiled
# resolver nodes, so every choice Fluent made when it compiled the message stays made)
# into nested Python closures that do what each node's __call__ does, in the same order,
# with the same checks. What it does not know (a message or term reference, a function the
# bundle lacks, a message too large for Fluent's part limit) it leaves to Fluent. At run
# time any case where Fluent would record an error (a missing or unsupported argument, a
# function that raises, a part over Fluent's length limit) raises _FallbackError, and the
# message goes to Fluent, which reports it. tests/adapters/test_catalogs.py checks the two
# agree on every message of every catalog, on generated arguments.

_Compiled = Callable[[Mapping[str, Any]], Any]
"""A compiled node: the fluent arguments in, what the node's ``__call__`` returns out."""

_FSI, _PDI = "\u2068", "\u2069"


class _FallbackError(Exception):
    """Raised by a compiled message where Fluent would record an error."""


class _UnsupportedError(Exception):
    """Raised by :func:`_compile_node` for a node it leaves to Fluent."""


@dataclass(frozen=True, slots=True)
class _MatchContext:
    """What :func:`fluent.runtime.resolver.match` reads of its environment."""

    context: FluentBundle


def _resolved(value: Any, locale: Locale) -> Any:
    """:func:`fluent.runtime.resolver.resolve`, with _FallbackError for its ValueError."""
    if isinstance(value, FluentType):
        return value.format(locale)
    if isinstance(value, str) and len(value) > resolver.MAX_PART_LENGTH:
        raise _FallbackError
    return value


def _compile(bundle: FluentBundle, mid: str) -> _Compiled | None:
    """Message ``mid`` of ``bundle`` compiled, or None where Fluent must render it."""
    value = bundle.get_message(mid).value
    if value is None:
        return None
    parts = [0]
    try:
        fn = _compile_node(bundle, value, parts)
    except _UnsupportedError:
        return None
    if parts[0] >= resolver.Pattern.MAX_PARTS:  # Fluent's limit could apply: let it count
        return None
    return fn


def _compile_node(bundle: FluentBundle, node: Any, parts: list[int]) -> _Compiled:
    locale = bundle._babel_locale
    if isinstance(node, resolver.TextElement | resolver.StringLiteral):
        text = node(_NO_ENV)
        return lambda _: text
    if isinstance(node, resolver.NumberLiteral):
        number = node.value
        return lambda _: number
    if isinstance(node, resolver.Pattern):
        elements = [_compile_node(bundle, e, parts) for e in node.elements]
        parts[0] += len(elements)

        def pattern(args: Mapping[str, Any]) -> str:
            return "".join(_resolved(e(args), locale) for e in elements)

        return pattern
    if isinstance(node, resolver.NeverIsolatingPlaceable):
        inner = _compile_node(bundle, node.expression, parts)
        return lambda args: _resolved(inner(args), locale)
    if isinstance(node, resolver.Placeable):
        inner = _compile_node(bundle, node.expression, parts)
        if not bundle.use_isolating:
            return lambda args: _resolved(inner(args), locale)
        return lambda args: _FSI + _resolved(inner(args), locale) + _PDI
    if isinstance(node, resolver.VariableReference):
        name = node.id.name

        def variable(args: Mapping[str, Any]) -> Any:
            value = args.get(name, _MISSING)
            if not isinstance(value, FluentType | str):  # missing or unsupported: an error
                raise _FallbackError
            return value

        return variable
    if isinstance(node, resolver.FunctionReference):
        function = bundle._functions.get(node.id.name)
        if function is None:
            raise _UnsupportedError
        positional = [_compile_node(bundle, a, parts) for a in node.arguments.positional]
        named = {a.name.name: a.value(_NO_ENV) for a in node.arguments.named}  # literals

        def call(args: Mapping[str, Any]) -> Any:
            values = [p(args) for p in positional]
            try:
                return function(*values, **named)
            except Exception:  # noqa: BLE001 (Fluent records it as an error: let it)
                raise _FallbackError from None

        return call
    if isinstance(node, resolver.SelectExpression):
        selector = _compile_node(bundle, node.selector, parts)
        variants = [
            (v.key(_NO_ENV), bool(v.default), _compile_node(bundle, v.value, parts))
            for v in node.variants
        ]
        env = _MatchContext(bundle)

        def select(args: Mapping[str, Any]) -> Any:
            key = selector(args)
            default = None
            for vkey, is_default, value in variants:
                if is_default:
                    default = value
                if resolver.match(key, vkey, env):  # type: ignore[arg-type]
                    return value(args)
            if default is None:
                raise _FallbackError
            return default(args)

        return select
    raise _UnsupportedError


_MISSING: Final = object()
_NO_ENV: Final[Any] = None
"""The environment given to a literal node (a text, a number, a string, an identifier),
which none of them reads."""


def _as_number(value: object) -> int | float | None:
    """A finite number under :data:`_SHOWN_AS_GIVEN_FROM` in magnitude, from a number or
    text that is one, else None."""
    if isinstance(value, bool):
        return None
    number: int | float
    if isinstance(value, int):
        number = int(value)
    elif isinstance(value, float):
        number = float(value)
    elif isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        text = value.strip()
        number = float(text) if "." in text else int(text)
    else:
        return None
    return number if _finite(number) and abs(number) < _SHOWN_AS_GIVEN_FROM else None


def _finite(number: int | float) -> bool:
    """Whether ``number`` is finite; an ``int`` always is (``math.isfinite`` would turn one
    past 1e308 into a float and raise)."""
    return isinstance(number, int) or math.isfinite(number)


def _shown(value: object) -> object:
    """An argument as the catalogs take it: a number too large to write for a locale as its
    text (shown as given), anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return str(value) if _finite(value) and abs(value) >= _SHOWN_AS_GIVEN_FROM else value


def _number(value: object, **options: Any) -> FluentType | str:
    """Fluent's NUMBER, lenient with text and rounding the value to the digits shown."""
    if isinstance(value, FluentNone):
        return value
    number = _as_number(value)
    if number is None:
        return str(value)
    digits = options.get("maximumFractionDigits")
    if isinstance(digits, int) and isinstance(number, float):
        number = round(number, digits)
        if digits <= 0:
            number = int(number)
    return cast(FluentNumber, fluent_number(number, **options))


def _time(value: object) -> FluentType | str:
    """An RFC 3339 time or epoch seconds as ``YYYY-MM-DD HH:MMZ``; anything else as given."""
    if isinstance(value, FluentNone):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return str(value)
    return _time_text(value)


@functools.lru_cache(maxsize=1024, typed=True)
def _time_text(value: str | int | float) -> str:
    # typed: 10**20 and 1e20 are equal keys but are shown as given, differently
    try:
        t = parse_time(value, field="time")
    except InputError:
        return str(value)
    dt = datetime.fromtimestamp(t, tz=UTC)
    text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}"
    if dt.second:
        text += f":{dt.second:02d}"
    return text + "Z"


class _Quantity(FluentType):
    """A number with its unit, formatted for the locale when the message is."""

    def __init__(self, number: FluentNumber, unit: str) -> None:
        self.number = number
        self.unit = unit

    def format(self, locale: Locale) -> str:
        return f"{self.number.format(locale)}\u00a0{self.unit}"


def _altitude(value: object, *, unit: str = "ft") -> FluentType | str:
    """An altitude: a number of feet with ``unit``; text such as ``FL150`` as given."""
    if isinstance(value, FluentNone):
        return value
    number = _as_number(value)
    if number is None:
        return str(value)
    if isinstance(number, float):
        number = round(number)
    return _Quantity(cast(FluentNumber, fluent_number(number)), str(unit))

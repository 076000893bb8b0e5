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

Values in the messages
----------------------
Three functions are available to the catalogs, all of them lenient: a template's arguments
may be text or numbers, and a value the function cannot read is shown as given, so that a
valid :class:`~skyparley.domain.hotline.MessageContent` always renders.

- ``NUMBER($x)``: the number written for the locale (``12,000`` in English, ``12 000`` in
  Russian); text that is a number counts as one. With ``maximumFractionDigits`` it rounds the
  value itself, so that a plural selector agrees with the number the reader sees
  (``44.6`` seconds is "45 секунд", not "45 секунды").
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

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Final, cast

from babel import Locale
from fluent.runtime import FluentBundle, FluentResource
from fluent.runtime.types import FluentNone, FluentNumber, FluentType, fluent_number
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
        for lang in LANGUAGES:
            source = root.joinpath(f"{lang}.ftl").read_text(encoding="utf-8")
            bundles[lang] = _bundle(lang, source)
        self._bundles: Mapping[str, FluentBundle] = bundles

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
            marker = _format(bundle, lang, "free-text-marker", {"lang": source})
            return Rendered(lang, text, translated=False, source_lang=source, marker=marker)
        text = _format(bundle, lang, message_id(content.template), dict(content.args))
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
        return _format(bundle, lang, message_id, args)

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


def _as_number(value: object) -> int | float | None:
    """A finite number from a number or text that is one, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        text = value.strip()
        return float(text) if "." in text else int(text)
    return None


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

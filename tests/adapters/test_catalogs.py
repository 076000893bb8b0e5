"""Message catalogs: what a duty officer reads in Arabic, English and Russian."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
from fluent.syntax import FluentParser, ast, visitor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyparley.adapters.catalogs import Catalogs, Rendered, _format, _shown, message_id
from skyparley.domain.hotline import ALL_KINDS, TEMPLATES, MessageContent
from skyparley.domain.protocol import LANGUAGES
from skyparley.errors import InputError

FSI, PDI = "\u2068", "\u2069"
NOTICE = "russia/ru-0930-raqqa@1"
LABELS = ("free-text-marker", *(f"kind-{k}" for k in ALL_KINDS), *(f"lang-{c}" for c in LANGUAGES))

SAMPLE: dict[str, str | int | float] = {
    "party": "russia",
    "notice": NOTICE,
    "start": "2015-09-30T06:00:00Z",
    "end": "2015-09-30T10:30:00Z",
    "volumes": 3,
    "other": "coalition",
    "lower": "FL200",
    "upper": 35000,
    "zone": "euphrates-line",
    "hours": 24,
    "minutes": 45,
    "at": "2015-09-30T09:15:00Z",
    "message": "msg-000123",
    "level": 2,
    "own": "RF01",
    "time_to_los_s": 45,
    "hdist_nm": 2.4,
    "vdist_ft": 800,
    "level_name": "operations commander",
}
"""One value per argument name; every template takes its arguments from here."""

SHOWN: dict[str, dict[str, str]] = {
    "en": {"upper": "35,000 ft", "hdist_nm": "2.4"},
    "ru": {"upper": "35 000 фт", "hdist_nm": "2,4"},
    "ar": {"upper": "35,000 قدم", "hdist_nm": "2.4"},
}
"""How a value a locale writes its own way reads there."""
TIMES = {"start": "2015-09-30 06:00Z", "end": "2015-09-30 10:30Z", "at": "2015-09-30 09:15Z"}
"""Times read as UTC minutes in every language."""

CYRILLIC, ARABIC = "[\u0400-\u04ff]", "[\u0621-\u064a]"
SCRIPT = {"en": re.compile("[A-Za-z]"), "ru": re.compile(CYRILLIC), "ar": re.compile(ARABIC)}
"""Letters each language is written in."""
FOREIGN = {
    "en": re.compile(f"{CYRILLIC}|{ARABIC}"),
    "ru": re.compile(ARABIC),
    "ar": re.compile(CYRILLIC),
}
"""Letters a reader of each language should not meet in a structured message."""


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs()


def visible(text: str) -> str:
    """The text as a reader sees it: without the invisible isolation marks, plain spaces."""
    return text.replace(FSI, "").replace(PDI, "").replace("\u00a0", " ")


def structured(template: str, **args: str | int | float) -> MessageContent:
    return MessageContent(template=template, args=args)


def sample(template: str) -> MessageContent:
    return structured(template, **{name: SAMPLE[name] for name in TEMPLATES[template]})


def parsed(lang: str) -> dict[str, ast.Message]:
    source = resources.files("skyparley.data.catalogs").joinpath(f"{lang}.ftl")
    resource = FluentParser().parse(source.read_text(encoding="utf-8"))
    junk = [e.content for e in resource.body if isinstance(e, ast.Junk)]
    assert not junk, f"{lang}.ftl has syntax errors: {junk}"
    return {e.id.name: e for e in resource.body if isinstance(e, ast.Message)}


class _Variables(visitor.Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_VariableReference(self, node: ast.VariableReference) -> None:  # noqa: N802
        self.names.add(node.id.name)
        self.generic_visit(node)


def variables(message: ast.Message) -> set[str]:
    found = _Variables()
    found.visit(message)
    return found.names


# ------------------------------------------------------------------ what the catalogs hold


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_template_has_a_message_with_exactly_its_arguments(lang: str) -> None:
    messages = parsed(lang)
    for template, names in TEMPLATES.items():
        mid = message_id(template)
        assert mid in messages, f"{lang}.ftl has no message {mid} for template {template}"
        assert variables(messages[mid]) == set(names), f"{lang}.ftl: {mid}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_the_same_messages_as_english(lang: str) -> None:
    assert sorted(parsed(lang)) == sorted(parsed("en"))
    assert set(LABELS) <= set(parsed(lang))


def test_the_catalogs_cover_the_protocol_languages(catalogs: Catalogs) -> None:
    assert sorted(catalogs.languages) == sorted(LANGUAGES)


# ------------------------------------------------------------------ structured messages


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_template_renders_with_every_argument_in_the_readers_language(
    catalogs: Catalogs, lang: str, template: str
) -> None:
    rendered = catalogs.render(sample(template), lang)
    text = visible(rendered.text)
    assert rendered == Rendered(lang, rendered.text, translated=True, source_lang=None)
    for name in TEMPLATES[template]:
        shown = TIMES.get(name) or SHOWN[lang].get(name) or str(SAMPLE[name])
        assert shown in text, f"{lang} {template}: {name} should read {shown!r} in {text!r}"
    assert SCRIPT[lang].search(text.replace(NOTICE, "")), text
    assert not FOREIGN[lang].search(text), text
    assert "{" not in text
    assert "???" not in text


def test_a_structured_message_reads_as_an_officer_would_write_it(catalogs: Catalogs) -> None:
    content = structured("request_shift", notice=NOTICE, minutes=60)
    assert catalogs.render(content, "en").text == f"Request: shift notice {NOTICE} by 60 minutes."
    assert (
        catalogs.render(content, "ru").text == f"Запрос: сдвинуть уведомление {NOTICE} на 60 минут."
    )
    assert (
        visible(catalogs.render(content, "ar").text)
        == f"طلب: تعديل توقيت الإخطار {NOTICE} بمقدار 60 دقيقة."
    )


@pytest.mark.parametrize(
    ("lang", "minutes", "words"),
    [
        ("ru", 1, "на 1 минуту."),
        ("ru", 2, "на 2 минуты."),
        ("ru", 5, "на 5 минут."),
        ("ru", 21, "на 21 минуту."),
        ("ru", 1.5, "на 1,5 минуты."),
        ("ar", 1, "بمقدار دقيقة واحدة."),
        ("ar", 2, "بمقدار دقيقتين."),
        ("ar", 5, "بمقدار 5 دقائق."),
        ("ar", 21, "بمقدار 21 دقيقة."),
        ("ar", 100, "بمقدار 100 دقيقة."),
        ("en", 1, "by 1 minute."),
        ("en", 2, "by 2 minutes."),
        ("en", 21, "by 21 minutes."),
    ],
)
def test_minutes_take_the_plural_form_of_the_number(
    catalogs: Catalogs, lang: str, minutes: float, words: str
) -> None:
    text = catalogs.render(structured("request_shift", notice=NOTICE, minutes=minutes), lang).text
    assert visible(text).endswith(words)


@pytest.mark.parametrize(
    ("lang", "hours", "words"),
    [
        ("ru", 1, "за 1 час;"),
        ("ru", 2, "за 2 часа;"),
        ("ru", 5, "за 5 часов;"),
        ("ru", 21, "за 21 час;"),
        ("ar", 1, "قبل ساعة واحدة على الأقل"),
        ("ar", 2, "قبل ساعتين على الأقل"),
        ("ar", 5, "قبل 5 ساعات على الأقل"),
        ("ar", 21, "قبل 21 ساعة على الأقل"),
    ],
)
def test_hours_take_the_plural_form_of_the_number(
    catalogs: Catalogs, lang: str, hours: int, words: str
) -> None:
    content = structured("finding_zone_notice", zone="euphrates-line", notice=NOTICE, hours=hours)
    assert words in visible(catalogs.render(content, lang).text)


@pytest.mark.parametrize(
    ("lang", "volumes", "words"),
    [
        ("ru", 1, ": 1 объём воздушного пространства,"),
        ("ru", 2, ": 2 объёма воздушного пространства,"),
        ("ru", 5, ": 5 объёмов воздушного пространства,"),
        ("ru", 21, ": 21 объём воздушного пространства,"),
        ("ar", 1, "ويشمل نطاقًا واحدًا،"),
        ("ar", 2, "ويشمل نطاقين،"),
        ("ar", 5, "ويشمل 5 نطاقات،"),
        ("ar", 21, "ويشمل 21 نطاقًا،"),
        ("en", 1, ": 1 volume,"),
        ("en", 5, ": 5 volumes,"),
    ],
)
def test_volumes_take_the_plural_form_of_the_number(
    catalogs: Catalogs, lang: str, volumes: int, words: str
) -> None:
    content = sample("notice_filed")
    content = structured("notice_filed", **{**content.args, "volumes": volumes})
    assert words in visible(catalogs.render(content, lang).text)


def test_a_rounded_number_takes_the_plural_form_of_what_is_shown(catalogs: Catalogs) -> None:
    args = {**sample("alert_conflict").args, "time_to_los_s": 44.6, "hdist_nm": 1.004}
    text = visible(catalogs.render(structured("alert_conflict", **args), "ru").text)
    assert "через 45 секунд;" in text
    assert "— 1 морская миля по горизонтали" in text


def test_numbers_are_written_for_the_readers_locale(catalogs: Catalogs) -> None:
    args = {**sample("alert_conflict").args, "hdist_nm": 0.35, "vdist_ft": 12000}
    content = structured("alert_conflict", **args)
    assert "0.35 NM horizontally and 12,000 ft" in catalogs.render(content, "en").text
    assert "0,35 морской мили по горизонтали и 12 000 футов" in visible(
        catalogs.render(content, "ru").text
    )


def test_numbers_given_as_text_read_as_numbers(catalogs: Catalogs) -> None:
    as_text = structured("request_shift", notice=NOTICE, minutes="21")
    assert catalogs.render(as_text, "ru").text.endswith("на 21 минуту.")
    words = structured("request_shift", notice=NOTICE, minutes="twenty")
    assert catalogs.render(words, "en").text.endswith("by twenty minutes.")


def test_times_read_as_utc_minutes_and_other_text_as_given(catalogs: Catalogs) -> None:
    at = catalogs.render(structured("request_call", at="2015-09-30T12:15:30+03:00"), "en")
    assert at.text == "Request: please call us on the hotline at 2015-09-30 09:15:30Z."
    epoch = catalogs.render(structured("request_call", at=1443593700), "ru")
    assert epoch.text.endswith("в 2015-09-30 06:15Z.")
    words = catalogs.render(structured("request_call", at="after the briefing"), "en")
    assert words.text.endswith("at after the briefing.")


def test_a_time_out_of_range_is_shown_as_given_whichever_was_rendered_first(
    catalogs: Catalogs,
) -> None:
    # 10**20 and 1e20 are equal numbers, but each is shown as it was given
    big_int = catalogs.render(structured("request_call", at=10**20), "en")
    big_float = catalogs.render(structured("request_call", at=1e20), "en")
    assert big_int.text.endswith("at 100000000000000000000.")
    assert big_float.text.endswith("at 1e+20.")


def test_arabic_isolates_left_to_right_values_and_english_and_russian_do_not(
    catalogs: Catalogs,
) -> None:
    content = sample("request_info")
    assert f"{FSI}{NOTICE}{PDI}" in catalogs.render(content, "ar").text
    for lang in ("en", "ru"):
        text = catalogs.render(content, lang).text
        assert FSI not in text
        assert PDI not in text


# ------------------------------------------------------------------ free text


@pytest.mark.parametrize(
    ("source", "reader", "marker"),
    [
        ("en", "ru", "свободный текст на английском языке"),
        ("ar", "en", "free text, written in Arabic"),
        ("ru", "ar", "نص حر مكتوب باللغة الروسية"),
        ("ru", "ru", "свободный текст на русском языке"),
    ],
)
def test_free_text_is_shown_as_written_and_marked_with_its_language(
    catalogs: Catalogs, source: str, reader: str, marker: str
) -> None:
    text = {"en": "Call at 10:00Z", "ru": "Позвоните в 10:00Z", "ar": "اتصلوا الساعة 10:00Z"}
    content = MessageContent(text=text[source], lang=source)
    rendered = catalogs.render(content, reader)
    assert rendered.text == text[source]
    assert rendered.translated is False
    assert rendered.source_lang == source
    assert rendered.lang == reader
    assert rendered.marker is not None
    assert visible(rendered.marker) == marker


# ------------------------------------------------------------------ labels and errors


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_label_reads_in_the_readers_language(catalogs: Catalogs, lang: str) -> None:
    for mid in LABELS:
        text = visible(catalogs.label(mid, lang, lang="en"))
        assert SCRIPT[lang].search(text), f"{lang}: {mid} reads {text!r}"
    kinds = {catalogs.label(f"kind-{kind}", lang) for kind in ALL_KINDS}
    assert len(kinds) == len(ALL_KINDS)


def test_labels_name_kinds_and_languages(catalogs: Catalogs) -> None:
    assert catalogs.label("kind-notice", "en") == "Notice"
    assert catalogs.label("kind-notice", "ru") == "Уведомление"
    assert catalogs.label("kind-notice", "ar") == "إخطار"
    assert catalogs.label("lang-ar", "ar") == "العربية"
    assert catalogs.label("lang-ru", "en") == "Russian"


@pytest.mark.parametrize("lang", ["fr", "EN", "", "en-GB"])
def test_an_unknown_language_is_an_input_error_naming_lang(catalogs: Catalogs, lang: str) -> None:
    with pytest.raises(InputError) as render:
        catalogs.render(sample("ack"), lang)
    assert render.value.field == "lang"
    assert "ar, en, ru" in render.value.reason
    with pytest.raises(InputError) as label:
        catalogs.label("kind-ack", lang)
    assert label.value.field == "lang"


def test_an_unknown_label_is_an_input_error_naming_it(catalogs: Catalogs) -> None:
    with pytest.raises(InputError) as caught:
        catalogs.label("kind-telegram", "en")
    assert caught.value.field == "message_id"
    assert "kind-telegram" in caught.value.reason


# ------------------------------------------------------------------ compiled messages
#
# Catalogs renders a message through its compiled form (catalogs._compile) and leaves to
# Fluent's resolver only what that form does not take. The two must give the same text,
# and the same error, for any arguments: generated here for every message of every
# catalog, with values of the kinds the functions read differently.

_TEXTS = st.one_of(
    st.sampled_from(
        ["", "12", "-3", "1.5", " 7 ", "FL150", "2015-09-30T06:00:00Z", "1443592800", "x" * 2501]
    ),
    st.text(max_size=12),
)
_NUMBERS = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([0, 1, 2, 3, 5, 11, 21, 22, 25, 101, 1000, 12000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 1.0, 1.5, 2.4, 44.6, 1e-7, 1e20, -0.0]),
)
_VALUES = st.one_of(_TEXTS, _NUMBERS, st.booleans())


def _outcome(fn: Any) -> tuple[str, str]:
    try:
        return "text", fn()
    except Exception as exc:  # noqa: BLE001 (whatever either raises, both must raise it)
        return type(exc).__name__, str(exc)


_VARIABLES = {
    lang: {mid: sorted(variables(m)) for mid, m in parsed(lang).items()} for lang in LANGUAGES
}
"""Each message's variables, by language and message id."""


@pytest.mark.parametrize("lang", LANGUAGES)
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_compiled_message_renders_as_fluent_does(
    catalogs: Catalogs, lang: str, data: st.DataObject
) -> None:
    mid = data.draw(st.sampled_from(sorted(_VARIABLES[lang])))
    names = _VARIABLES[lang][mid]
    args = data.draw(st.fixed_dictionaries({}, optional=dict.fromkeys(names, _VALUES)))
    args |= data.draw(st.dictionaries(st.sampled_from(["extra", "x"]), _VALUES, max_size=1))
    bundle = catalogs._bundles[lang]
    shown = {name: _shown(v) for name, v in args.items()}
    fluent = _outcome(lambda: _format(bundle, lang, mid, shown))
    compiled = _outcome(lambda: catalogs._format(bundle, lang, mid, args))
    assert compiled == fluent


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(
    "number",
    [1e25, -1e21, 10**30, pytest.param(10**400, id="10**400"), "1" + "0" * 30],
)
def test_a_number_too_large_to_write_for_the_locale_is_shown_as_given(
    catalogs: Catalogs, lang: str, number: float | int | str
) -> None:
    for template, args in [
        ("request_shift", {"notice": NOTICE, "minutes": number}),
        ("ack", {"message": number}),
        (
            "alert_conflict",
            {**{n: SAMPLE[n] for n in TEMPLATES["alert_conflict"]}, "hdist_nm": number},
        ),
    ]:
        text = visible(catalogs.render(structured(template, **args), lang).text)
        assert str(number) in text, (template, text)


def test_every_template_message_is_compiled(catalogs: Catalogs) -> None:
    """The messages a filing renders take the compiled path (a test that could pass with
    every message left to Fluent would prove nothing above)."""
    for lang in LANGUAGES:
        for template in TEMPLATES:
            assert message_id(template) in catalogs._compiled[lang], (lang, template)

"""The protocol file: validation with field names, the content hash, the published schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from skyparley.adapters.protocol_file import load_protocol, read_protocol_document
from skyparley.domain.protocol import content_hash, parse_protocol
from skyparley.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "src/skyparley/data/protocols/syria-2015.yaml"
SCHEMA = json.loads((ROOT / "docs/protocol.schema.json").read_text(encoding="utf-8"))


def example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def schema_accepts(doc: Any) -> bool:
    return jsonschema.Draft202012Validator(SCHEMA).is_valid(doc)


def test_the_shipped_protocol_is_valid_and_complete() -> None:
    p = load_protocol(EXAMPLE)
    assert [x.id for x in p.parties] == ["coalition", "russia", "relief"]
    assert [x.language for x in p.parties] == ["en", "ru", "ar"]
    assert p.tactical.minima.hsep_nm == 5.0
    assert p.tactical.minima.effective_vsep_ft == 900.0
    assert [a.time_to_los_s for a in p.tactical.alert_levels] == [300.0, 120.0, 60.0]
    assert p.messages["alert"].deadline_s == 120.0
    assert p.messages["notice"].deadline_s == 900.0
    assert not p.messages["reply"].requires_ack
    assert [e.name for e in p.escalation] == ["duty officer", "operations commander",
                                              "chief of staff"]  # fmt: skip
    euphrates = next(z for z in p.zones if z.id == "euphrates-line")
    assert euphrates.rules.notice_hours == 24.0
    assert euphrates.rules.side == "east"
    assert p.sharing.tracks_within_nm == 40.0
    assert schema_accepts(example())
    ring = p.keyring()
    assert sorted(ring) == ["coalition", "relief", "russia"]
    assert ring["russia"].to_text().startswith("russia+1c79736a+")


def test_the_content_hash_ignores_layout_but_not_substance(tmp_path: Path) -> None:
    doc = example()
    reordered = dict(reversed(list(doc.items())))
    assert content_hash(reordered) == content_hash(doc)
    # The same agreement in TOML has the same hash.
    toml_path = tmp_path / "same.toml"
    toml_path.write_text(_to_toml(doc), encoding="utf-8")
    assert load_protocol(toml_path).content_hash == load_protocol(EXAMPLE).content_hash
    changed = copy.deepcopy(doc)
    changed["tactical"]["hsep_nm"] = 3
    assert content_hash(changed) != content_hash(doc)
    # 5 and 5.0 are the same number.
    floaty = copy.deepcopy(doc)
    floaty["tactical"]["hsep_nm"] = 5.0
    assert content_hash(floaty) == content_hash(doc)


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        (
            ("hotline", "messages", "notice", "deadline_s"),
            10**30,
            "hotline.messages.notice.deadline_s",
        ),
        (("zones", 0, "rules", "notice_hours"), -(2**53), "zones[0].rules.notice_hours"),
        (("tactical", "hsep_nm"), float("inf"), "tactical.hsep_nm"),
    ],
)
def test_a_number_json_cannot_hold_is_refused_naming_it(
    where: tuple[Any, ...], value: Any, field: str
) -> None:
    """The content hash is taken first: its error names the number, not the document."""
    doc = example()
    node = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(InputError) as err:
        parse_protocol(doc)
    assert err.value.field == field


def _edit(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = example()
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "reason"),
    [
        (("version",), 0, "version", "at least 1"),
        (("protocol",), _DELETE, "protocol", "is required"),
        (("target_list",), ["x"], "target_list", "not a known field"),
        (("parties", 1, "language"), "fr", "parties[1].language", "one of ar, en, ru"),
        (("parties", 0, "public_key"), "coalition+00000000+AAAA", "parties[0].public_key", ""),
        (("parties", 1, "id"), "coalition", "parties[1].id", "listed twice"),
        (("parties", 2, "id"), "ocha", "parties[2].public_key", "carries the party id"),
        (("parties", 2, "weapons"), "none", "parties[2].weapons", "not a known field"),
        (("tactical", "hsep_nm"), -5, "tactical.hsep_nm", "positive"),
        (("tactical", "alt_tolerance_ft"), 1000, "tactical.alt_tolerance_ft", "smaller than"),
        (("tactical", "alert_levels", 2, "time_to_los_s"), 200,
         "tactical.alert_levels[2].time_to_los_s", "shorter time"),
        (("tactical", "hysteresis", "m"), 5, "tactical.hysteresis.m", "must not exceed n"),
        (("strategic", "lateral_nm"), "five", "strategic.lateral_nm", "must be a number"),
        (("hotline", "messages", "alert", "deadline_s"), _DELETE,
         "hotline.messages.alert.deadline_s", "is required"),
        (("hotline", "escalation", 0, "deadline_s"), 60, "hotline.escalation[0].deadline_s",
         "message kind's"),
        (("zones", 1, "rules", "owner"), "nato", "zones[1].rules.owner", "not a party"),
        (("zones", 0, "rules", "side"), _DELETE, "zones[0].rules.side", "needs the side"),
        (("zones", 1, "geometry", "radius_nm"), -1, "zones[1].geometry.radius_nm", ""),
        (("sharing", "tracks", "within_nm"), _DELETE, "sharing.tracks.within_nm", "is required"),
        (("sharing", "volumes"), "everything", "sharing.volumes", "one of"),
    ],
)  # fmt: skip
def test_errors_name_the_field_and_the_reason(
    path: tuple[Any, ...], value: Any, field: str, reason: str
) -> None:
    with pytest.raises(InputError) as err:
        parse_protocol(_edit(path, value))
    assert err.value.field == field
    assert reason in err.value.reason


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("target_list",), ["x"]),
        (("parties", 1, "language"), "fr"),
        (("parties", 2, "weapons"), "none"),
        (("hotline", "escalation", 0, "deadline_s"), 60),
        (("sharing", "volumes"), "everything"),
        (("zones", 1, "geometry", "radius_nm"), -1),
    ],
)
def test_the_published_schema_refuses_what_the_parser_refuses(
    path: tuple[Any, ...], value: Any
) -> None:
    doc = _edit(path, value)
    assert not schema_accepts(doc)
    with pytest.raises(InputError):
        parse_protocol(doc)


def test_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_protocol_document(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("protocol: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"not valid YAML at line \d+"):
        read_protocol_document(bad)
    other = tmp_path / "p.json"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match=r"\.yaml, \.yml or \.toml"):
        read_protocol_document(other)
    broken = tmp_path / "p.toml"
    broken.write_text("protocol = \n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        read_protocol_document(broken)


def test_load_protocol_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "memo.yaml"
    path.write_text(yaml.safe_dump(_edit(("version",), "one")), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_protocol(path)
    assert str(err.value).startswith(f"{path}: version: must be a whole number")


def _to_toml(doc: dict[str, Any]) -> str:
    """A small TOML writer for the protocol's shapes (tables, arrays of tables, values)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(v)

    out: list[str] = []

    def table(prefix: str, d: dict[str, Any]) -> None:
        plain = {k: v for k, v in d.items() if not _is_table(v) and not _is_table_list(v)}
        for k, v in plain.items():
            out.append(f"{k} = {value(v)}")
        for k, v in d.items():
            name = f"{prefix}.{k}" if prefix else k
            if _is_table(v):
                out.append(f"\n[{name}]")
                table(name, v)
            elif _is_table_list(v):
                for item in v:
                    out.append(f"\n[[{name}]]")
                    for ik, iv in item.items():
                        out.append(f"{ik} = {value(iv)}")

    table("", doc)
    return "\n".join(out) + "\n"


def _is_table(v: Any) -> bool:
    return isinstance(v, dict)


def _is_table_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def test_a_key_written_twice_is_refused(tmp_path: Path) -> None:
    # Two readers of one signed agreement must never see different values.
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "  hsep_nm: 5\n", "  hsep_nm: 5\n  hsep_nm: 0.5\n", 1
    )
    path = tmp_path / "twice.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="the key 'hsep_nm' appears twice"):
        load_protocol(path)


def test_a_number_too_large_for_a_float_is_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        parse_protocol(_edit(("tactical", "hsep_nm"), 10**400))
    assert err.value.field == "tactical.hsep_nm"
    assert "too large" in err.value.reason

"""``skyparley plan check``: a table or JSON; exit 0 clear, 1 findings, 2 bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skyparley.cli import main

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "src/skyparley/data/protocols/syria-2015.yaml"
SCENARIO = ROOT / "src/skyparley/data/scenarios/syria-2015"


def beat(name: str) -> str:
    return str(SCENARIO / f"{name}.json")


def plan(*args: str) -> list[str]:
    return ["plan", "check", "--protocol", str(PROTOCOL), *args]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(plan(*args))
    out, err = capsys.readouterr()
    return code, out, err


def notice_obj(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(beat(name)).read_text(encoding="utf-8"))
    return data


def write(path: Path, obj: object) -> str:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------- findings and exit codes


def test_beat_2_conflict_exits_1_with_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, beat("beat2-russia-raqqa-v1"), "--against", str(SCENARIO))
    assert code == 1
    header, row = out.splitlines()[:2]
    assert header.split() == ["kind", "yours", "other", "overlap", "km2", "band", "interval",
                              "(UTC)", "finding"]  # fmt: skip
    assert row.startswith("notice_conflict  ru-20150930-raqqa@1 #0  coalition")
    assert "19,500-30,500 ft" in row
    assert "2015-09-30T06:52:30Z .. 2015-09-30T07:37:30Z" in row
    assert "of an operation notified by coalition" in out
    assert "plan check: russia/ru-20150930-raqqa@1: 1 finding for russia" in err


def test_the_shifted_version_is_clear_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, beat("beat2-russia-raqqa-v2"), "--against", str(SCENARIO))
    assert code == 0
    assert out == "clear: no findings for russia\n"
    assert "clear for russia" in err


def test_without_others_only_the_zone_rules_apply(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, beat("beat2-russia-raqqa-v1"))[0] == 0
    code, out, _ = run(capsys, beat("beat5-russia-deir-ez-zor"))
    assert code == 1
    assert out.startswith("kind")
    assert "zone_notice" in out
    assert "filed 2 h before volume 0 starts" in out


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, beat("beat5-russia-deir-ez-zor"), "--against", str(SCENARIO), "--format", "json"
    )
    assert code == 1
    data = json.loads(out)
    assert data["notice"] == "russia/ru-20170910-deir-ez-zor@1"
    assert data["reader"] == "russia"
    assert data["filed"] == "2017-09-10T06:00:00Z"
    assert data["clear"] is False
    kinds = [f["kind"] for f in data["findings"]]
    assert kinds == ["protected_area", "zone_notice"]
    area = data["findings"][0]
    assert area["other"] == "a protected area of coalition"
    assert area["overlap"]["area"]["type"] == "Polygon"
    assert area["overlap"]["lower"] == 9500.0
    assert "other_volume" not in area
    assert "co-partner-forces" not in out
    assert len(area["id"]) == 32


def test_json_when_clear(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, beat("beat2-russia-raqqa-v2"), "--against", str(SCENARIO), "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["findings"] == []
    assert json.loads(out)["clear"] is True


def test_as_another_party(capsys: pytest.CaptureFixture[str]) -> None:
    args = (beat("beat1-russia-homs-hama"), "--against", str(SCENARIO), "--format", "json")
    _, out, _ = run(capsys, *args)
    (seen,) = json.loads(out)["findings"]
    code, out, _ = run(capsys, *args, "--as", "relief")
    assert code == 1
    (told,) = json.loads(out)["findings"]
    assert told["id"] == seen["id"]
    assert told["reader"] == "relief"
    assert told["other"] == "russia"
    assert "russia was notified" in told["detail"]
    assert run(capsys, *args, "--as", "coalition")[0] == 0


def test_now_checks_the_notice_as_filed_then(capsys: pytest.CaptureFixture[str]) -> None:
    dez = beat("beat5-russia-deir-ez-zor")
    assert run(capsys, dez, "--now", "2017-09-09T07:00:00Z")[0] == 0
    code, out, _ = run(capsys, dez, "--now", "2017-09-10T07:30:00Z")
    assert code == 1
    assert "filed 0.5 h before" in out


def test_no_filed_time_takes_the_clock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    obj = notice_obj("beat5-russia-deir-ez-zor")
    del obj["filed"]
    # Years after the notice's volume: filed after it started, so the rule is broken.
    code, out, _ = run(capsys, write(tmp_path / "n.json", obj))
    assert code == 1
    assert "after volume 0 started" in out


def test_against_a_file_holding_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    others = [notice_obj("beat2-coalition-raqqa"), notice_obj("beat1-relief-hama-hospital")]
    for o in others:
        del o["type"]  # told apart by their fields
    path = write(tmp_path / "others.json", others)
    assert run(capsys, beat("beat2-russia-raqqa-v1"), "--against", path)[0] == 1
    assert run(capsys, beat("beat2-russia-raqqa-v2"), "--against", path)[0] == 0


# ---------------------------------------------------------------- bad input: exit 2


def test_a_forbidden_field_exits_2_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path / "n.json", {**notice_obj("beat2-russia-raqqa-v1"), "target": "bridge"})
    code, out, err = run(capsys, bad)
    assert code == 2
    assert out == ""
    assert f"{bad}: target: is not a field of an operation notice" in err
    assert "Traceback" not in err


def test_a_bowtie_exits_2_naming_the_volume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    obj = notice_obj("beat2-russia-raqqa-v1")
    obj["volumes"][0]["area"]["coordinates"] = [[[38, 35], [39, 36], [39, 35], [38, 36]]]
    bad = write(tmp_path / "n.json", obj)
    code, _, err = run(capsys, bad)
    assert code == 2
    assert f"{bad}: volumes[0].area.coordinates: the boundary crosses itself" in err


def test_a_bad_item_among_the_others_names_file_and_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    area = notice_obj("beat1-relief-hama-hospital")
    area["volume"]["weapon"] = "x"
    path = write(tmp_path / "others.json", [notice_obj("beat2-coalition-raqqa"), area])
    code, _, err = run(capsys, beat("beat2-russia-raqqa-v1"), "--against", path)
    assert code == 2
    assert f"{path}: [1].volume.weapon: is not a field of a volume" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "is not valid JSON at line 1, column 2"),
        ('{"party": "russia", "party": "coalition"}', "has an object with the member party twice"),
        ('{"volumes": NaN}', "holds NaN, which is not a JSON number"),
        ("[]", "document: must be a table of fields"),
    ],
)
def test_bad_json_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "n.json"
    path.write_text(content, encoding="utf-8")
    code, _, err = run(capsys, str(path))
    assert code == 2
    assert message in err
    assert str(path) in err


def test_unknown_parties_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stranger = write(tmp_path / "n.json", {**notice_obj("beat2-russia-raqqa-v1"), "party": "x"})
    code, _, err = run(capsys, stranger)
    assert (code, f"{stranger}: party: 'x' is not a party" in err) == (2, True)
    owner = write(tmp_path / "a.json", {**notice_obj("beat1-relief-hama-hospital"), "owner": "y"})
    code, _, err = run(capsys, beat("beat2-russia-raqqa-v1"), "--against", owner)
    assert (code, f"{owner}: owner: 'y' is not a party" in err) == (2, True)
    code, _, err = run(capsys, beat("beat2-russia-raqqa-v1"), "--as", "nobody")
    assert (code, "--as: 'nobody' is not a party" in err) == (2, True)


def test_missing_files_and_folders_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, str(tmp_path / "none.json"))
    assert (code, "none.json: no such file" in err) == (2, True)
    code, _, err = run(capsys, beat("beat2-russia-raqqa-v1"), "--against", str(tmp_path))
    assert (code, "is a folder without any .json file" in err) == (2, True)
    code, _, err = run(capsys, beat("beat2-russia-raqqa-v1"), "--now", "teatime")
    assert (code, "--now: 'teatime' is not epoch seconds" in err) == (2, True)
    assert main(["plan", "check", beat("beat2-russia-raqqa-v1")]) == 2  # no --protocol
    assert "--protocol" in capsys.readouterr().err


def test_the_same_version_twice_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    co = notice_obj("beat2-coalition-raqqa")
    write(tmp_path / "a.json", co)
    path = write(tmp_path / "b.json", [co])
    code, _, err = run(capsys, beat("beat2-russia-raqqa-v1"), "--against", str(tmp_path))
    assert code == 2
    assert (
        f"{path}: [0].id: operation notice coalition/co-20150930-raqqa version 1 is also in" in err
    )


def test_checking_a_protected_area_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, beat("beat1-relief-hama-hospital"))
    assert code == 2
    assert "type: must be operation_notice, got 'protected_area'" in err


@pytest.mark.parametrize(
    ("edit", "field", "reason"),
    [
        (lambda o: o["volumes"][0]["area"].__setitem__("type", []), "volumes[0].area.type",
         "is not one of Polygon, Circle, Corridor"),
        (lambda o: o["volumes"][0]["area"]["coordinates"][0][0].__setitem__(0, 10**400),
         "volumes[0].area.coordinates[0][0][0]", "too large"),
    ],
)  # fmt: skip
def test_hostile_values_exit_2_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, field: str, reason: str
) -> None:
    # A crash must never pass for "findings" (exit 1): these are input errors, exit 2.
    obj = notice_obj("beat2-russia-raqqa-v1")
    edit(obj)
    bad = tmp_path / "n.json"
    bad.write_text(json.dumps(obj).replace("1" + "0" * 400, "1" + "0" * 400), encoding="utf-8")
    code, _, err = run(capsys, str(bad))
    assert code == 2
    assert field in err
    assert reason in err
    assert "Traceback" not in err


def test_an_internal_fault_is_exit_70_with_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bug of skyparley's own must never look like "clear" (0), "findings" (1) or bad
    # input (2).
    import skyparley.cli._plan as plan_module

    def broken(*_: object, **__: object) -> int:
        raise TypeError("unexpected")

    monkeypatch.setattr(plan_module, "check", broken)
    monkeypatch.delenv("SKYPARLEY_DEBUG", raising=False)
    code, _, err = run(capsys, beat("beat2-russia-raqqa-v1"))
    assert code == 70
    assert "internal error: TypeError: unexpected" in err
    assert "Traceback" not in err

"""``skyparley protocol check``: a summary on success, exit 2 naming the field otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from skyparley.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "src/skyparley/data/protocols/syria-2015.yaml"


def test_check_prints_a_summary_with_the_content_hash(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocol", "check", str(EXAMPLE)]) == 0
    out, err = capsys.readouterr()
    assert "syria-2015-mou, version 1" in out
    assert "coalition" in out
    assert "russia" in out
    assert "relief" in out
    assert "advisory within 300 s" in out
    assert "euphrates-line" in out
    assert "tanf (area, 9,5" in out
    assert "is valid" in err


def test_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocol", "check", str(EXAMPLE), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["protocol"] == "syria-2015-mou"
    assert len(data["content_hash"]) == 64
    assert [p["id"] for p in data["parties"]] == ["coalition", "russia", "relief"]


def test_a_bad_protocol_exits_2_naming_the_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    doc["parties"][1]["language"] = "fr"
    bad = tmp_path / "memo.yaml"
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert main(["protocol", "check", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{bad}: parties[1].language: must be one of ar, en, ru" in err
    assert "Traceback" not in err


def test_a_missing_protocol_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["protocol", "check", str(tmp_path / "none.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err

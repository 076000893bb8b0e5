"""The ``skyparley`` argument parser: help with examples, defaults, version, instant help."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

import skyparley
from skyparley.cli import build_parser, main

# The options the issue promises on `skyparley detect`.
DETECT_OPTIONS = (
    "--start",
    "--end",
    "--step-s",
    "--lookahead-s",
    "--hsep-nm",
    "--vsep-ft",
    "--alt-tolerance-ft",
    "--cross-party-only",
    "--format",
    "--out",
    "--skip-bad",
    "--stale-s",
)


def skyparley_cmd() -> list[str]:
    """The installed console script of this virtual environment, else ``python -m skyparley``."""
    script = Path(sys.executable).with_name("skyparley")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "skyparley"]


def subcommands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> dict[str, argparse.ArgumentParser]:
    """Every command, nested ones included, by its words (``"protocol check"``)."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                words = f"{prefix} {name}".strip()
                found[words] = sub
                found.update(subcommands(sub, words))
    return found


def test_every_command_has_help_with_an_example() -> None:
    parser = build_parser()
    commands = subcommands(parser)
    assert {"detect", "demo", "protocol", "protocol check"} <= commands.keys()
    assert "example" in (parser.epilog or "")
    for name, sub in commands.items():
        assert "example" in (sub.epilog or ""), f"`skyparley {name} --help` shows no example"
        assert f"skyparley {name}" in (sub.epilog or ""), f"{name}: example does not run {name}"
        assert sub.description, f"`skyparley {name}` has no description"


def test_every_subcommand_help_prints_its_example(capsys: pytest.CaptureFixture[str]) -> None:
    for name in subcommands(build_parser()):
        assert main([*name.split(), "--help"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: skyparley {name}")
        assert "example" in out


def test_detect_help_lists_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--help"]) == 0
    out = capsys.readouterr().out
    missing = [opt for opt in DETECT_OPTIONS if opt not in out]
    assert not missing


def test_detect_defaults() -> None:
    args = build_parser().parse_args(["detect", "tracks.csv"])
    assert args.files == ["tracks.csv"]
    assert (args.start, args.end, args.out) == (None, None, None)
    assert args.step_s == 1.0
    assert args.lookahead_s == 300.0
    assert args.hsep_nm == 5.0
    assert args.vsep_ft == 1000.0
    assert args.alt_tolerance_ft == 100.0
    assert args.stale_s == 30.0
    assert args.format == "table"
    assert args.cross_party_only is False
    assert args.skip_bad is False


def test_detect_format_choices() -> None:
    (fmt,) = [a for a in subcommands(build_parser())["detect"]._actions if a.dest == "format"]
    assert set(fmt.choices or ()) == {"table", "jsonl", "csv", "parquet"}


def test_no_arguments_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: skyparley")
    assert "detect" in out
    assert "demo" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"skyparley {skyparley.__version__}"


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detcet", "x.csv"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'detcet'" in err
    assert "Traceback" not in err


def test_real_entry_point_help_version_and_no_arguments() -> None:
    cmd = skyparley_cmd()
    run = subprocess.run([*cmd, "--help"], capture_output=True, text=True, check=False)
    assert run.returncode == 0
    assert "example" in run.stdout
    run = subprocess.run([*cmd, "--version"], capture_output=True, text=True, check=False)
    assert (run.returncode, run.stdout.strip()) == (0, f"skyparley {skyparley.__version__}")
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert run.returncode == 2
    assert "usage: skyparley" in run.stdout
    assert "Traceback" not in run.stderr


def test_help_is_instant_it_loads_no_heavy_module() -> None:
    """`skyparley --help` must not import numpy, numba, pyarrow or tqdm (seconds of start-up)."""
    code = (
        "import sys\n"
        "from skyparley.cli import main\n"
        "assert main(['--help']) == 0\n"
        "assert main(['detect', '--help']) == 0\n"
        "heavy = [m for m in ('numpy', 'numba', 'pyarrow', 'tqdm') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "HEAVY []" in run.stderr

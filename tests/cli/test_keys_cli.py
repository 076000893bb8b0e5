"""``skyparley keys new``: mode 0600 from creation, round trip, no overwrite, passphrases."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from skyparley.cli import main
from skyparley.cli._keys import write_new_file
from skyparley.domain.ledger import load_private_key_pem, parse_verifier_key
from skyparley.errors import InputError, LedgerInputError


def keys_new(out: Path, *extra: str, party: str = "coalition") -> int:
    return main(["keys", "new", "--party", party, "--out", str(out), *extra])


def test_new_writes_a_private_key_0600_and_prints_the_verifier_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "keys"
    assert keys_new(out) == 0
    printed, err = capsys.readouterr()
    key_file, pub_file = out / "coalition.key", out / "coalition.pub"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert not list(out.glob(".*.part"))  # no temporary file left behind
    vkey = parse_verifier_key(printed.strip())
    assert vkey.name == "coalition"
    assert pub_file.read_text(encoding="ascii") == printed
    assert "NOT encrypted" in err
    # round trip: the private key loads and signs what the printed key verifies
    key = load_private_key_pem("coalition", key_file.read_bytes())
    assert key.verifier == vkey
    assert vkey.verify(b"notice", key.sign(b"notice"))


def test_the_key_file_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        assert keys_new(tmp_path) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "coalition.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "coalition.pub").stat().st_mode) == 0o644


def test_new_refuses_to_overwrite_a_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert keys_new(tmp_path) == 0
    before = (tmp_path / "coalition.key").read_bytes()
    capsys.readouterr()
    assert keys_new(tmp_path) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "--out:" in err
    assert "coalition.key already exists: a key is never overwritten" in err
    assert (tmp_path / "coalition.key").read_bytes() == before


def test_a_stray_public_file_also_blocks_a_new_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "russia.pub").write_text("old\n", encoding="ascii")
    assert keys_new(tmp_path, party="russia") == 2
    assert "russia.pub already exists" in capsys.readouterr().err
    assert not (tmp_path / "russia.key").exists()


def test_write_new_file_never_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "x.key"
    target.write_bytes(b"mine")
    with pytest.raises(InputError, match="already exists"):
        write_new_file(target, b"theirs", 0o600)
    assert target.read_bytes() == b"mine"
    assert [p.name for p in tmp_path.iterdir()] == ["x.key"]


def test_passphrase_from_the_environment_encrypts_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKYPARLEY_TEST_PASS", "correct horse battery staple")
    assert keys_new(tmp_path, "--passphrase-env", "SKYPARLEY_TEST_PASS", party="russia") == 0
    printed, err = capsys.readouterr()
    assert "encrypted with the passphrase" in err
    pem = (tmp_path / "russia.key").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem
    key = load_private_key_pem("russia", pem, b"correct horse battery staple")
    assert key.verifier.to_text() == printed.strip()
    with pytest.raises(LedgerInputError, match="passphrase is wrong") as wrong:
        load_private_key_pem("russia", pem, b"wrong horse")
    assert wrong.value.field == "private_key"
    with pytest.raises(LedgerInputError, match="a passphrase is needed"):
        load_private_key_pem("russia", pem)


def test_an_unset_passphrase_variable_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SKYPARLEY_TEST_PASS", raising=False)
    assert keys_new(tmp_path / "k", "--passphrase-env", "SKYPARLEY_TEST_PASS") == 2
    err = capsys.readouterr().err
    assert "--passphrase-env: the environment variable SKYPARLEY_TEST_PASS is not set" in err
    assert not (tmp_path / "k").exists()


@pytest.mark.parametrize(
    "party", ["../evil", ".hidden", "a b", "x+y", "", "a" * 300, "coalition.key"]
)
def test_a_party_id_that_is_not_a_file_name_exits_2(
    party: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert keys_new(tmp_path, party=party) == 2
    assert "--party:" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("", encoding="ascii")
    assert keys_new(tmp_path / "f") == 2
    assert "is not a folder" in capsys.readouterr().err

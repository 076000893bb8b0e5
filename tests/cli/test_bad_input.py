"""Bad input to ``serve``, ``tokens``, ``demo``, ``hotline`` and the track commands: exit 2
naming the option and the reason, no traceback, and nothing created or changed on disk."""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.service_server import PROTOCOL_PATH, free_port

from skyparley.adapters.store_sqlite import MIGRATIONS, SqliteStore, store_schema_version
from skyparley.cli import main


def _serve(db: Path, *extra: str) -> list[str]:
    return ["serve", "--protocol", str(PROTOCOL_PATH), "--db", str(db), *extra]


def _new_token(db: Path, *extra: str) -> list[str]:
    return ["tokens", "new", "--db", str(db), "--protocol", str(PROTOCOL_PATH), *extra]


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for a folder)."""
    return {
        str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
    }


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> str:
    """Run ``argv``: exit 2, an error line holding ``words``, no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "internal error" not in err
    for word in words:
        assert word in err, err
    return err


@pytest.fixture
def bad_dbs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Files that are no skyparley database, with the reason the error must give."""
    junk = tmp_path / "junk.db"
    junk.write_text("not a database\n")
    folder = tmp_path / "folder.db"
    folder.mkdir()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (n INTEGER)")
    conn.close()
    return {
        "text": (junk, "is not a skyparley database"),
        "folder": (folder, "is a folder"),
        "other sqlite": (other, "is not a skyparley database (it holds other tables: invoices)"),
    }


@pytest.mark.parametrize("kind", ["text", "folder", "other sqlite"])
def test_a_db_that_is_not_skyparley_s_is_refused_untouched(
    kind: str,
    bad_dbs: dict[str, tuple[Path, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, reason = bad_dbs[kind]
    before = _snapshot(tmp_path)
    for argv in (
        _new_token(db, "--party", "russia", "--role", "admin"),
        ["tokens", "list", "--db", str(db)],
        ["tokens", "revoke", "--db", str(db), "tok_000000000000"],
        _serve(db, "--port", str(free_port())),
    ):
        err = _refused(argv, capsys, f"error: --db: {db}", reason)
        assert "no tokens" not in err
        assert _snapshot(tmp_path) == before, argv  # no table added, no key file made


def test_serve_refuses_a_party_s_key_before_anything_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys"
    assert main(["keys", "new", "--party", "russia", "--out", str(keys)]) == 0
    capsys.readouterr()
    before = _snapshot(tmp_path)
    db = tmp_path / "s.db"
    argv = _serve(db, "--service-key", str(keys / "russia.key"), "--port", str(free_port()))
    _refused(argv, capsys, "error: --service-key: ", "'russia' is a party id")
    assert _snapshot(tmp_path) == before  # no s.db, -wal, -shm or s.db.service.key


def test_serve_refuses_a_bad_origin_before_anything_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _serve(tmp_path / "s.db", "--origin", "two\nlines", "--port", str(free_port()))
    _refused(argv, capsys, "error: --origin: must be one non-empty line")
    assert _snapshot(tmp_path) == {}


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_serve_names_the_host_or_the_port_it_cannot_listen_on(
    tmp_path: Path, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    err = _refused(_serve(db, "--host", "999.1.1.1", "--port", "18766"), capsys, "--host: ")
    assert "--port" not in err
    err = _refused(_serve(db, "--port", str(busy_port)), capsys, "--port: ", "in use")
    assert _snapshot(tmp_path) == {}


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate and its key, PEM files in ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / f"{name}.pem"
    key_path = folder / f"{name}.key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_names_the_tls_file_that_does_not_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    cert, key = _certificate(certs, "server")
    _, other_key = _certificate(certs, "other")
    db = tmp_path / "s.db"
    proto = str(PROTOCOL_PATH)
    tls = "--ssl-certfile", "--ssl-keyfile"
    for files, words in (
        ((proto, proto), ("--ssl-certfile: ", "could not be loaded as a certificate")),
        ((str(cert), proto), ("--ssl-keyfile: ", "could not be loaded as a private key")),
        ((str(cert), str(other_key)), ("--ssl-keyfile: ", "is not the private key")),
    ):
        argv = _serve(db, tls[0], files[0], tls[1], files[1], "--port", str(free_port()))
        err = _refused(argv, capsys, *words)
        assert "PEM lib" not in err
    argv = _serve(db, tls[0], str(cert), tls[1], str(key), "--ssl-ca-certs", proto)
    _refused(argv, capsys, "--ssl-ca-certs: ", "could not be loaded as CA certificates")
    assert not db.exists()


def test_tokens_new_checks_its_input_before_the_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "t.db"
    _refused(_new_token(db, "--party", "nobody", "--role", "operator"), capsys, "--party: ")
    argv = _new_token(db, "--party", "russia", "--role", "operator", "--label", "a\nb")
    _refused(argv, capsys, "--label: ")
    assert _snapshot(tmp_path) == {}
    # a first token before the service ever ran makes the database
    assert main(_new_token(db, "--party", "russia", "--role", "admin")) == 0
    assert capsys.readouterr().out.startswith("skp_")
    assert main(["tokens", "list", "--db", str(db)]) == 0
    assert "russia" in capsys.readouterr().out


def test_tokens_list_creates_and_migrates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.db"
    _refused(["tokens", "list", "--db", str(missing)], capsys, "--db: ", "no such file")
    empty = tmp_path / "empty.db"
    empty.touch()
    _refused(["tokens", "list", "--db", str(empty)], capsys, "--db: ", "blank")
    assert _snapshot(tmp_path) == {"empty.db": b""}

    # a store of an older skyparley (schema 1) is listed as it is, not migrated
    old = tmp_path / "old.db"
    SqliteStore(old).close()
    conn = sqlite3.connect(old)
    with conn:
        conn.execute("UPDATE store_schema SET version = 1")
        conn.execute(
            "INSERT INTO tokens (id, party, role, token_sha256, created_s, label) "
            "VALUES ('tok_0123456789ab', 'relief', 'viewer', 'x', 0, 'wall')"
        )
    conn.close()
    assert main(["tokens", "list", "--db", str(old)]) == 0
    assert "tok_0123456789ab" in capsys.readouterr().out
    # ... and reading it left no -wal or -shm file beside it
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("old.db")) == ["old.db"]
    conn = sqlite3.connect(old)
    try:
        assert store_schema_version(conn) == 1 < len(MIGRATIONS)
    finally:
        conn.close()


def test_serve_help_keeps_each_example_on_its_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--db skyparley.db \\\n      --sbs 127.0.0.1:30003" in out


def test_demo_port_is_range_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _refused(["demo", "--port", "99999", "--no-serve-after"], capsys, "--port", "1 to 65535")
    assert _snapshot(tmp_path) == {}


def test_hotline_send_template_with_lang_names_lang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SKYPARLEY_TOKEN", "skp_" + "x" * 43)
    send = ["hotline", "send", "--to", "russia", "--kind", "request"]
    _refused([*send, "--template", "request_call", "--lang", "en"], capsys, "error: --lang: ")
    _refused([*send, "--template", "request_call", "--text", "hi"], capsys, "error: --text: ")


@pytest.mark.parametrize("command", [["detect"], ["tracks", "push"], ["replay"]])
def test_a_missing_track_file_is_named_without_row_or_column(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SKYPARLEY_TOKEN", "skp_" + "x" * 43)
    missing = tmp_path / "nosuch.csv"
    argv = [*command, str(missing)]
    if command == ["replay"]:
        argv += ["--protocol", str(PROTOCOL_PATH), "--out", str(tmp_path / "out")]
    err = _refused(argv, capsys, f"error: {missing}: no such file")
    assert "column" not in err
    assert _snapshot(tmp_path) == {}

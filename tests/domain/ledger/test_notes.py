"""Keys (C2SP vkeys, PKCS #8 PEM) and signed notes: round trips, tampering, unknown keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import bit_of, flip_bit

from skyparley.domain.ledger import (
    COSIGNATURE_V1,
    ED25519,
    Note,
    NoteSignature,
    SigningKey,
    generate_key,
    load_private_key_pem,
    parse_note,
    parse_verifier_key,
    sign_note,
    verify_note,
)
from skyparley.errors import LedgerError, LedgerInputError, VerificationError

SERVICE = SigningKey.from_seed("skyparley.example/log", bytes(range(32)))
BLUE = SigningKey.from_seed("blue", bytes(range(1, 33)))
RED = SigningKey.from_seed("red", bytes(range(2, 34)))

note_texts = st.lists(
    st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=40), min_size=1
).map(lambda lines: "".join(line + "\n" for line in lines))


@given(note_texts)
def test_a_signed_note_round_trips_and_verifies(text: str) -> None:
    note = sign_note(text, SERVICE, BLUE)
    back = parse_note(note.encode())
    assert back == note
    assert back.text == text
    assert verify_note(back, [SERVICE.verifier, BLUE.verifier]) == (
        SERVICE.verifier,
        BLUE.verifier,
    )


@given(note_texts, st.data())
def test_a_tampered_body_fails(text: str, data: st.DataObject) -> None:
    note = str(sign_note(text, SERVICE))
    body = note[: len(text)]
    i = data.draw(st.integers(0, len(body) - 1), label="position")
    replacement = data.draw(
        st.sampled_from(["x", "\u00e9", " ", "\n"]).filter(lambda c: c != body[i])
    )
    tampered = note[:i] + replacement + note[i + 1 :]
    with pytest.raises(LedgerError):  # a verification failure, or no longer a note at all
        verify_note(tampered, [SERVICE.verifier])


@given(st.data())
def test_any_flipped_signature_bit_fails(data: st.DataObject) -> None:
    note = sign_note("checkpoint body\n", SERVICE)
    (sig,) = note.signatures
    bad = NoteSignature(
        sig.name, sig.key_id, flip_bit(sig.signature, data.draw(bit_of(sig.signature)))
    )
    with pytest.raises(VerificationError, match="does not verify"):
        verify_note(Note(note.text, (bad,)), [SERVICE.verifier])


def test_unknown_keys_are_ignored_but_one_known_key_is_needed() -> None:
    note = sign_note("hello\n", RED, SERVICE)
    assert verify_note(note, [SERVICE.verifier]) == (SERVICE.verifier,)
    with pytest.raises(VerificationError, match="no signature by a known key"):
        verify_note(note, [BLUE.verifier])
    # Same name, another key: unknown (name and key id must both match), so ignored.
    impostor = SigningKey.from_seed("skyparley.example/log", bytes(32))
    assert verify_note(sign_note("hello\n", impostor, SERVICE), [SERVICE.verifier])


def test_a_bad_signature_by_a_known_key_fails_the_whole_note() -> None:
    good = sign_note("hello\n", SERVICE, BLUE)
    forged = Note(good.text, (good.signatures[0], sign_note("other\n", BLUE).signatures[0]))
    with pytest.raises(VerificationError, match="signature line 2, key blue"):
        verify_note(forged, [SERVICE.verifier, BLUE.verifier])


def test_a_key_signing_twice_is_refused() -> None:
    note = sign_note("hello\n", SERVICE, SERVICE)
    with pytest.raises(VerificationError, match="twice"):
        verify_note(note, [SERVICE.verifier])


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("hello\n", "no blank line"),
        ("hello\n\n", "no signature line"),
        ("hello\n\n- blue AAAA\n", "does not start with"),
        ("hello\n\n\u2014 blue\n", "no signature after the name"),
        ("hello\n\n\u2014 blue !!!!\n", "not base64"),
        ("hello\n\n\u2014 blue AAAA\n", "malformed"),
        ("hel\tlo\n\n\u2014 blue AAAAAAA=\n", "control character"),
        ("hello\n\n\u2014 blue AAAAAAA=", "ends in a newline"),
        (b"hello\xff\n\n\xe2\x80\x94 blue AAAAAAA=\n", "UTF-8"),
    ],
)
def test_malformed_notes_are_input_errors(message: str | bytes, reason: str) -> None:
    with pytest.raises(LedgerInputError, match=reason):
        parse_note(message)


def test_a_note_text_may_hold_blank_lines() -> None:
    text = "first\n\nthird\n\n"
    note = sign_note(text, BLUE)
    assert parse_note(str(note)).text == text
    assert verify_note(str(note), [BLUE.verifier])


def test_verifier_key_text_round_trips_for_both_types() -> None:
    for sig_type in (ED25519, COSIGNATURE_V1):
        key = generate_key("blue.example/witness", sig_type)
        text = key.verifier.to_text()
        assert text.startswith("blue.example/witness+")
        assert parse_verifier_key(text) == key.verifier
    assert BLUE.verifier.key_id != BLUE.with_type(COSIGNATURE_V1).verifier.key_id


def test_mangled_verifier_keys_are_refused() -> None:
    text = BLUE.verifier.to_text()
    name, hex_id, material = text.split("+", 2)
    for bad in (
        text[:-1],
        text + "A",
        f"{name}+{hex_id}",
        f"{name}+{hex_id[:-1]}0+{material}"
        if not hex_id.endswith("0")
        else f"{name}+{hex_id[:-1]}1+{material}",
        f"{name}+{hex_id.upper()}+{material}",
        f"b lue+{hex_id}+{material}",
        f"+{hex_id}+{material}",
        text.replace("+A", "+B", 1),  # signature type 0x05
    ):
        with pytest.raises(LedgerInputError):
            parse_verifier_key(bad)


def test_key_names_follow_signed_note() -> None:
    for bad in ("", "a b", "a+b", "a\u00a0b", "a\nb"):
        with pytest.raises(LedgerInputError):
            generate_key(bad)


@pytest.mark.parametrize("passphrase", [None, b"correct horse battery staple"])
def test_private_key_pem_round_trips(passphrase: bytes | None) -> None:
    pem = BLUE.to_pkcs8_pem(passphrase)
    assert pem.startswith(
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----" if passphrase else b"-----BEGIN PRIVATE KEY-----"
    )
    back = load_private_key_pem("blue", pem, passphrase)
    assert back.verifier == BLUE.verifier
    assert BLUE.verifier.verify(b"m", back.sign(b"m"))


def test_private_key_pem_refuses_a_wrong_or_missing_passphrase() -> None:
    pem = BLUE.to_pkcs8_pem(b"right")
    with pytest.raises(LedgerInputError, match="passphrase is wrong"):
        load_private_key_pem("blue", pem, b"wrong")
    with pytest.raises(LedgerInputError, match="a passphrase is needed"):
        load_private_key_pem("blue", pem)
    with pytest.raises(LedgerInputError, match="no passphrase is needed"):
        load_private_key_pem("blue", BLUE.to_pkcs8_pem(), b"right")
    with pytest.raises(LedgerInputError, match="private_key"):
        load_private_key_pem("blue", b"not a key")


def test_signing_keys_do_not_show_their_secret() -> None:
    assert "private_key" not in repr(BLUE)
    assert BLUE.private_key.private_bytes_raw().hex() not in repr(BLUE)


def test_a_cosigning_key_needs_the_time() -> None:
    with pytest.raises(LedgerInputError, match="time"):
        sign_note("x\n", BLUE.with_type(COSIGNATURE_V1))
    with pytest.raises(LedgerInputError, match="time_s"):
        sign_note("x\n", BLUE.with_type(COSIGNATURE_V1), time_s=-1)

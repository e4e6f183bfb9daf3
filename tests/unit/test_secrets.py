"""Secret redaction: registered tokens, and text shaped like a JWT or a PAT, never pass `redact`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runner.secrets import REDACTED, clear_secrets, redact, redact_bytes, redact_piece, register_secret
from tests.unit.auth.fakes import jwt_expiring


def a_token() -> str:
    return jwt_expiring(datetime.now(UTC) + timedelta(hours=1), appid="app-id")


def test_a_registered_secret_is_redacted_wherever_it_appears() -> None:
    token = a_token()
    register_secret(token)

    assert redact(f"Bearer {token} and again {token}") == f"Bearer {REDACTED} and again {REDACTED}"


def test_short_values_are_not_registered() -> None:
    # Redacting "abc" or "true" would mangle ordinary text, and no token is that short.
    for value in ("", "abc", "true", "1234567"):
        register_secret(value)

    assert redact("abc is true, 1234567") == "abc is true, 1234567"


def test_values_of_token_length_are_registered() -> None:
    register_secret("12345678")

    assert redact("pin 12345678") == f"pin {REDACTED}"


def test_clearing_forgets_every_secret() -> None:
    secret = "a registered value that looks like nothing in particular"  # a JWT would be redacted by its shape
    register_secret(secret)

    clear_secrets()

    assert redact(secret) == secret


def test_text_shaped_like_a_jwt_or_a_pat_is_redacted_without_being_registered() -> None:
    jwt = a_token()
    classic_pat = "a2b3c4d5e6f7" * 4 + "abcd"  # 52 characters of lowercase base32
    current_pat = "A1b2C3d4" * 9 + "A1b2" + "AZDO" + "x9Y8"  # 84 characters, AZDO at 76

    text = f"Bearer {jwt}; user:{classic_pat}; pat={current_pat}."

    assert redact(text) == f"Bearer {REDACTED}; user:{REDACTED}; pat={REDACTED}."


def test_ordinary_long_words_and_digests_are_not_taken_for_pats() -> None:
    text = f"sha256:{'ab12' * 16} commit {'0f' * 20} {'unbreakable' * 4}"

    assert redact(text) == text


def test_a_secret_registered_after_earlier_redactions_is_redacted_too() -> None:
    first, second = "first-secret-value", "second-secret-value-longer"
    register_secret(first)
    assert redact(f"{first} {second}") == f"{REDACTED} {second}"

    register_secret(second)

    assert redact(f"{first} {second}") == f"{REDACTED} {REDACTED}"


def test_values_passed_along_are_redacted_longest_first_with_the_registered_ones() -> None:
    register_secret("outer-secret-holding-inner")

    assert redact("outer-secret-holding-inner; inner", also=["inner", ""]) == f"{REDACTED}; {REDACTED}"


def test_shapes_are_found_in_text_that_is_not_ascii_too() -> None:
    classic_pat = "a2b3c4d5e6f7" * 4 + "abcd"

    assert redact(f"Schlüssel: {classic_pat} — {a_token()}") == f"Schlüssel: {REDACTED} — {REDACTED}"


def test_a_pat_is_found_wherever_it_sits_in_a_line() -> None:
    classic_pat = "a2b3c4d5e6f7" * 4 + "abcd"
    for prefix in ("", '{"msg":"', " " * 25, "-" * 51):
        assert redact(f"{prefix}{classic_pat}") == f"{prefix}{REDACTED}"


def test_a_piece_holds_back_what_could_start_a_jwt_a_pat_or_the_longest_registered_secret() -> None:
    register_secret("r" * 100)
    ordinary = "ordinary text, " * 20

    assert redact_piece(ordinary) == (ordinary[:-99], ordinary[-99:])  # the longest secret but one character
    assert redact_piece("short") == ("", "short")
    clear_secrets()
    assert redact_piece(ordinary) == (ordinary[:-83], ordinary[-83:])  # a PAT of the newer format but one
    started = "eyJhbGciOiJSUzI1NiJ9." + "e" * 500  # a JWT the next piece may still complete: held back unredacted
    assert redact_piece(ordinary + started) == (ordinary[:-83], ordinary[-83:] + started)
    done = ordinary + started + ".signature and more" + ordinary
    assert redact_piece(done) == (ordinary + REDACTED + " and more" + ordinary[:-83], ordinary[-83:])


def test_bytes_are_redacted_as_their_text_is() -> None:
    jwt = a_token()
    registered = "a registered value that is no JWT"
    register_secret(registered)
    register_secret(a_token())  # a registered JWT: `redact_bytes` finds it by its shape's start
    pat = "A1b2C3d4" * 9 + "A1b2" + "AZDO" + "x9Y8"
    texts = [
        "nothing to see here",
        f"Bearer {jwt}",
        f"user:{registered}; later {registered}",
        f"pat={pat}.",
        f"ünïcödé {pat} ünïcödé",
        f"sha256:{'ab12' * 16} commit {'0f' * 20}",
        "\n".join(["line one", f"line {jwt} two", "line three"]),
    ]
    for text in texts:
        assert redact_bytes(text.encode()) == redact(text).encode(), text


def test_bytes_that_are_not_utf8_are_redacted_too() -> None:
    register_secret("a registered value that is no JWT")

    assert redact_bytes(b"\xff a registered value that is no JWT \xfe") == f"\ufffd {REDACTED} \ufffd".encode()
    assert redact_bytes(b"\xff nothing \xfe") == b"\xff nothing \xfe"  # nothing to redact: left as it came

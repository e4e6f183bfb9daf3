"""Secret redaction: registered tokens, and text shaped like a JWT or a PAT, never pass `redact`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runner.secrets import REDACTED, clear_secrets, redact, register_secret
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

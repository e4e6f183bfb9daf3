"""The process-wide set of secret values (tokens) that must never reach a log, report or message.

Every token the runner obtains is registered here first; `redact` is applied to everything the runner writes that
could echo a value back (our own log events, the Renovate log files, error texts).
"""

from __future__ import annotations

import threading

REDACTED = "**redacted**"

_lock = threading.Lock()
_secrets: set[str] = set()

# Values shorter than this are never registered: redacting them would mangle ordinary text.
_MIN_SECRET_LENGTH = 8


def register_secret(value: str) -> None:
    if len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `REDACTED`."""
    with _lock:
        # Longest first: a secret that contains another is replaced whole, not around the shorter one.
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def longest_secret() -> int:
    """The length of the longest registered secret (0 when there is none)."""
    with _lock:
        return max(map(len, _secrets), default=0)


def clear_secrets() -> None:
    """Forget all registered secrets (tests use this to isolate cases)."""
    with _lock:
        _secrets.clear()

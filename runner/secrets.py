"""The process-wide set of secret values (tokens) that must never reach a log, report or message, and `redact`,
the one redaction everything the runner writes goes through.

Every token the runner obtains is registered here first; `redact` is applied to everything the runner writes that
could echo a value back (our own log events, the Renovate log files, error texts, test reports). It also replaces
text shaped like a credential that was never registered: a JWT, or an Azure DevOps PAT.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

REDACTED = "**redacted**"

_lock = threading.Lock()
_secrets: set[str] = set()

# Values shorter than this are never registered: redacting them would mangle ordinary text.
_MIN_SECRET_LENGTH = 8
# A JWT (header, payload and signature, base64url; the header always starts `{"` = `eyJ`), and the two formats of
# Azure DevOps PATs: 52 characters of lowercase base32, and since 2024 84 characters with `AZDO` at position 76.
_JWT_SHAPE = re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*")
_PAT_SHAPE = re.compile(r"\b[a-z2-7]{52}\b|\b[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}\b")
# Every log line passes here: a line without 52 letters and digits in a row is cleared of PATs at a third of the
# cost of looking for them (benchmarks/log_stream.py).
_LONG_RUN = re.compile(r"[A-Za-z0-9]{52}")


def register_secret(value: str) -> None:
    if len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str, also: Iterable[str] = ()) -> str:
    """`text` with every registered secret, each value of `also`, and whatever is shaped like a JWT or a PAT
    replaced by `REDACTED`."""
    with _lock:
        known = {*_secrets, *(value for value in also if value)}
    # Longest first: a secret that contains another is replaced whole, not around the shorter one.
    for secret in sorted(known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _JWT_SHAPE.sub(REDACTED, text)
    return _PAT_SHAPE.sub(REDACTED, text) if _LONG_RUN.search(text) else text


def longest_secret() -> int:
    """The length of the longest registered secret (0 when there is none)."""
    with _lock:
        return max(map(len, _secrets), default=0)


def clear_secrets() -> None:
    """Forget all registered secrets (tests use this to isolate cases)."""
    with _lock:
        _secrets.clear()

"""The process-wide set of secret values (tokens) that must never reach a log, report or message, and `redact`,
the one redaction everything the runner writes goes through.

Every token the runner obtains is registered here first; `redact` is applied to everything the runner writes that
could echo a value back (our own log events, the Renovate log files, error texts, test reports). It also replaces
text shaped like a credential that was never registered: a JWT, or an Azure DevOps PAT.
"""

from __future__ import annotations

import re
import string
import threading
from collections.abc import Iterable

REDACTED = "**redacted**"

_lock = threading.Lock()
_secrets: set[str] = set()
# The registered values, longest first, rebuilt whenever the set changes: `redact` runs for every log line, and
# sorting on each call cost more than the replacing.
_by_length: tuple[str, ...] = ()

# Values shorter than this are never registered: redacting them would mangle ordinary text.
_MIN_SECRET_LENGTH = 8
# A JWT (header, payload and signature, base64url; the header always starts `{"` = `eyJ`), and the two formats of
# Azure DevOps PATs: 52 characters of lowercase base32, and since 2024 84 characters with `AZDO` at position 76.
_JWT_START = "eyJ"
_JWT_SHAPE = re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*")
_PAT_SHAPE = re.compile(r"\b[a-z2-7]{52}\b|\b[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}\b")
_PAT_MAX_LENGTH = 84
# Either PAT shape is a run of at least 52 ASCII letters and digits. Every log line passes here, and a regular
# expression looking for such a run costs about 10 us on a 300-character line (it tries each position in turn);
# mapping letters and digits to one byte and looking for 52 of them costs a tenth of that.
_RUN = 52
_ALNUM = frozenset((string.ascii_letters + string.digits).encode())
_ALNUM_TO_A = bytes(ord("a") if byte in _ALNUM else ord(" ") for byte in range(256))
_A_RUN = b"a" * _RUN
_LONG_RUN = re.compile(rf"[A-Za-z0-9]{{{_RUN}}}")  # the same test for text that is not ASCII
# How far back from the end of a piece a JWT may have started and still be completed by the next piece; longer
# than any Entra ID access token, and a bound on what an over-long line holds back.
_JWT_MAX_HOLD = 16 * 1024
_JWT_TAIL = re.compile(r"eyJ[\w.-]*\Z")


def register_secret(value: str) -> None:
    global _by_length  # noqa: PLW0603 - the one cache of the module's one set
    if len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)
            _by_length = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str, also: Iterable[str] = ()) -> str:
    """`text` with every registered secret, each value of `also`, and whatever is shaped like a JWT or a PAT
    replaced by `REDACTED`."""
    known = _by_length  # one tuple, replaced whole: reading it needs no lock
    if also:  # most calls pass none
        known = tuple(sorted({*known, *(value for value in also if value)}, key=len, reverse=True))
    # Longest first: a secret that contains another is replaced whole, not around the shorter one.
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if _JWT_START in text:
        text = _JWT_SHAPE.sub(REDACTED, text)
    return _PAT_SHAPE.sub(REDACTED, text) if _may_hold_pat(text) else text


def _may_hold_pat(text: str) -> bool:
    if text.isascii():
        return _A_RUN in text.encode("ascii").translate(_ALNUM_TO_A)
    return _LONG_RUN.search(text) is not None


def redact_piece(text: str) -> tuple[str, str]:
    """`text`, which more text will follow, split in two: the redacted part that is safe to write now, and the
    end to hold back and redact together with what follows, because it could be the start of a registered secret,
    a PAT or a JWT (see LogSink)."""
    window = max(0, len(text) - _JWT_MAX_HOLD)
    jwt = _JWT_TAIL.search(text, window) if text.find(_JWT_START, window) >= 0 else None
    cut = jwt.start() if jwt else len(text)  # redacting a JWT that is still arriving would leave its end out
    head = redact(text[:cut])
    keep = min(len(head), max(longest_secret(), _PAT_MAX_LENGTH) - 1)
    return head[: len(head) - keep], head[len(head) - keep :] + text[cut:]


def longest_secret() -> int:
    """The length of the longest registered secret (0 when there is none)."""
    known = _by_length
    return len(known[0]) if known else 0


def clear_secrets() -> None:
    """Forget all registered secrets (tests use this to isolate cases)."""
    global _by_length  # noqa: PLW0603
    with _lock:
        _secrets.clear()
        _by_length = ()

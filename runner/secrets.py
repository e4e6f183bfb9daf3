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
# The values `redact_bytes` looks for one by one: those that do not hold `eyJ`, which it looks for anyway (the
# runner's tokens are JWTs), encoded.
_searched_utf8: tuple[bytes, ...] = ()

# Values shorter than this are never registered: redacting them would mangle ordinary text.
_MIN_SECRET_LENGTH = 8
# A JWT (header, payload and signature, base64url; the header always starts `{"` = `eyJ`), and the two formats of
# Azure DevOps PATs: 52 characters of lowercase base32, and since 2024 84 characters with `AZDO` at position 76.
_JWT_START = "eyJ"
_JWT_START_UTF8 = _JWT_START.encode()
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
    if len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)
            _rebuild()


def _rebuild() -> None:
    global _by_length, _searched_utf8  # noqa: PLW0603 - the caches of the module's one set
    _by_length = tuple(sorted(_secrets, key=len, reverse=True))
    _searched_utf8 = tuple(secret.encode("utf-8", "surrogatepass") for secret in _by_length if _JWT_START not in secret)


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


def redact_bytes(data: bytes) -> bytes:
    """`redact` for UTF-8 text given as bytes, such as a block of a container's output: the same replacements.

    Most output holds nothing to redact, and telling so on the bytes costs a few scans in C; only data that may
    hold something is decoded and given to `redact` (invalid UTF-8 in it becomes U+FFFD, as a decoder's
    replacement would make it anyway).
    """
    if _JWT_START_UTF8 in data or any(secret in data for secret in _searched_utf8) or _has_alnum_run(data):
        return redact(data.decode("utf-8", "replace")).encode()
    return data


def looks_like_credential(text: str) -> bool:
    """Whether `text` holds something shaped like a JWT or an Azure DevOps PAT (the shapes `redact` replaces)."""
    return (_JWT_START in text and _JWT_SHAPE.search(text) is not None) or (
        _may_hold_pat(text) and _PAT_SHAPE.search(text) is not None
    )


def _may_hold_pat(text: str) -> bool:
    if text.isascii():
        return _has_alnum_run(text.encode("ascii"))
    return _LONG_RUN.search(text) is not None


def _has_alnum_run(data: bytes) -> bool:
    """Whether `data` holds a run of `_RUN` ASCII letters and digits (bytes of multi-byte characters break a run,
    as the characters break it in the text)."""
    return _A_RUN in data.translate(_ALNUM_TO_A)


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
    with _lock:
        _secrets.clear()
        _rebuild()

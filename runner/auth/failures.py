"""Turning what azure-identity raises into an `AuthError` that names the mode, what it used, and what to do.

azure-identity's messages are useful (AADSTS codes, "Please run 'az login'") but long and sometimes
multi-line; we keep their first line, capped, and redacted (`runner.secrets.redact`).
"""

from __future__ import annotations

from collections.abc import Iterable

from azure.core.exceptions import AzureError

from runner.errors import AuthError
from runner.secrets import redact

# Failures a credential can raise while it is built or asked for a token. AzureError covers
# CredentialUnavailableError, ClientAuthenticationError and transport errors; ValueError is how azure-identity
# reports a malformed tenant id or authority; OSError a federated token file it cannot read.
CREDENTIAL_FAILURES = (AzureError, ValueError, OSError)

_MAX_REASON_LENGTH = 300


class CredentialError(AuthError):
    """One auth mode could not produce a token; `reason` is the short cause, fit for a list of attempts."""

    def __init__(self, *, mode: str, reason: str, looked_for: str, remedy: str) -> None:
        self.mode = mode
        self.reason = reason
        super().__init__(
            f"auth mode '{mode}' could not get an Azure DevOps token: {reason}. "
            f"It uses {looked_for}. What to do: {remedy}"
        )


def short_reason(error: BaseException, secrets: Iterable[str]) -> str:
    """The first line of `error`'s message, capped, with `secrets` (and every registered one) redacted."""
    if isinstance(error, AzureError):
        text = str(error.message)
    elif isinstance(error, OSError) and error.filename is not None:
        text = f"{error.strerror or error}: {error.filename}"
    else:
        text = str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = redact(lines[0] if lines else type(error).__name__, also=secrets).rstrip(".")
    if len(reason) > _MAX_REASON_LENGTH:
        reason = reason[: _MAX_REASON_LENGTH - 1] + "…"
    return reason

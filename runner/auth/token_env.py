"""The `token-env` mode's credential: an Entra ID access token obtained elsewhere, read from the environment.

It cannot refresh: every request returns the same token until it expires. Only JWTs with an `exp` claim are
accepted, because the runner must know when the token expires, and because Personal Access Tokens are exactly
what this project replaces.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from azure.core.credentials import AccessToken

from runner.auth.claims import NotAJwtError, decode_claims

_NOT_SUPPORTED = "Personal Access Tokens (PATs) are not supported"


class EnvironmentTokenCredential:
    """Implements azure-core's `get_token` protocol over one fixed token."""

    def __init__(self, variable: str, value: str, *, clock: Callable[[], float] = time.time) -> None:
        self._variable = variable
        self._value = value
        self._clock = clock
        try:
            claims = decode_claims(value)
        except NotAJwtError as error:
            raise ValueError(
                f"{variable} does not hold an Entra ID access token, which is a JWT ({error}); {_NOT_SUPPORTED}"
            ) from None
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            # ValueError, like azure-identity's credentials for bad input: the token source catches that.
            raise ValueError(  # noqa: TRY004
                f"the JWT in {variable} has no numeric 'exp' claim; {_NOT_SUPPORTED}"
            )
        self._expires_on = int(exp)

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        if self._clock() >= self._expires_on:
            expired_at = datetime.fromtimestamp(self._expires_on, tz=UTC).isoformat()
            from azure.identity import CredentialUnavailableError  # noqa: PLC0415 - lazily, see runner/auth/modes.py

            raise CredentialUnavailableError(message=f"the token in {self._variable} expired at {expired_at}")
        return AccessToken(self._value, self._expires_on)

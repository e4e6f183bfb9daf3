"""`AdoToken`: an Entra ID access token for Azure DevOps, with its expiry and the identity it belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from azure.core.credentials import AccessToken

from runner.auth.claims import NotAJwtError, decode_claims, describe_identity

# Azure DevOps' application id in Entra ID; `.default` asks for the permissions the principal has been given.
ADO_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"


@dataclass(frozen=True)
class AdoToken:
    value: str = field(repr=False)  # the bearer token itself: never shown by repr() or str()
    expires_on: datetime  # aware, UTC
    mode: str  # the auth mode that produced it
    claims: Mapping[str, Any] = field(repr=False)  # decoded JWT payload, signature not checked

    def remaining(self, now: datetime) -> timedelta:
        """How long the token stays valid after `now` (negative once it has expired)."""
        return self.expires_on - now

    @property
    def identity(self) -> str:
        """Who the token is for, e.g. `appid=... oid=... tid=...`, fit for logs."""
        return describe_identity(self.claims)


def ado_token_from(access: AccessToken, mode: str) -> AdoToken:
    """An `AdoToken` from what an azure-identity credential returned.

    The expiry is the earlier of the credential's `expires_on` and the token's own `exp` claim: Azure DevOps
    enforces `exp`, and some credentials report a derived time (the Azure CLI prints a local wall-clock time).
    """
    try:
        claims = decode_claims(access.token)
    except NotAJwtError:
        claims = {}  # still usable; only the identity in logs is unknown
    expires_on = datetime.fromtimestamp(access.expires_on, tz=UTC)
    exp = claims.get("exp")
    if isinstance(exp, int | float):
        expires_on = min(expires_on, datetime.fromtimestamp(exp, tz=UTC))
    return AdoToken(value=access.token, expires_on=expires_on, mode=mode, claims=MappingProxyType(claims))

"""Verification of RS256 access tokens, as a resource server such as Azure DevOps does it.

What it checks: the RS256 signature against one public key, the audience (the Azure DevOps resource id by
default), ``exp`` (required) and ``nbf`` (when present), optionally the issuer. What it leaves out: key
discovery through OpenID metadata and key rotation (the key is given), ``scp``/``roles`` authorization, and
clock skew: the leeway is zero unless a test asks for one, so a token that expired a second ago is refused.
"""

from __future__ import annotations

from typing import Any, Final

import jwt

AZURE_DEVOPS_RESOURCE_ID: Final = "499b84ac-1321-427f-aa17-267ca6975798"


class InvalidToken(Exception):
    """The token was refused; ``reason`` says why in a word or two (signature, audience, expired, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Order matters: PyJWT's specific errors derive from its general ones.
_REASONS: Final[tuple[tuple[type[jwt.PyJWTError], str], ...]] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not yet valid"),
    (jwt.InvalidAudienceError, "audience"),
    (jwt.InvalidIssuerError, "issuer"),
    (jwt.InvalidSignatureError, "signature"),
    (jwt.InvalidAlgorithmError, "algorithm"),
    (jwt.MissingRequiredClaimError, "missing claim"),
    (jwt.DecodeError, "malformed"),
)


class JwtVerifier:
    """Verifies tokens signed by the holder of the private key that matches ``public_key_pem``."""

    def __init__(
        self,
        public_key_pem: str | bytes,
        *,
        audience: str = AZURE_DEVOPS_RESOURCE_ID,
        issuer: str | None = None,
        leeway_s: float = 0.0,
    ) -> None:
        self._key = public_key_pem
        self._audience = audience
        self._issuer = issuer
        self._leeway_s = leeway_s

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims when it verifies; raises ``InvalidToken`` otherwise."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(_reason(error)) from error
        return claims


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims of a token whatever its signature, for logging who a refused token claimed to be."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return claims


def _reason(error: jwt.PyJWTError) -> str:
    for error_type, reason in _REASONS:
        if isinstance(error, error_type):
            return reason
    return "invalid"

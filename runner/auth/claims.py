"""Reading the payload of an Entra ID access token (a JWT), to know who it is for and when it expires.

The signature is not checked: Azure DevOps is the token's audience and checks it; we only read what the token
says about itself to plan its use and to log the identity it belongs to.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any


class NotAJwtError(ValueError):
    """The text is not a compact JWS (`header.payload.signature`) with a JSON object as its payload."""


def decode_claims(token: str) -> dict[str, Any]:
    """The JSON payload of a compact JWT, without verifying its signature."""
    parts = token.split(".")
    if len(parts) != 3:  # noqa: PLR2004 - a compact JWS has exactly three parts
        raise NotAJwtError("expected three dot-separated parts (header.payload.signature)")
    try:
        payload = json.loads(_b64url_decode(parts[1]))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotAJwtError("the payload is not base64url-encoded JSON") from error
    if not isinstance(payload, dict):
        raise NotAJwtError("the payload is not a JSON object")
    return payload


def _b64url_decode(segment: str) -> bytes:
    # JWTs drop the base64 padding (RFC 7515, section 2); the decoder needs it back. `validate=True` refuses
    # characters outside the alphabet instead of silently skipping them.
    padded = segment + "=" * (-len(segment) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


# The claims that name a principal without saying more than a log line needs: the application (v1 `appid`,
# v2 `azp`), the object and tenant ids, and for a person signed in with `az login` or `azd`, the sign-in name.
_IDENTITY_CLAIMS = ("appid", "azp", "oid", "tid", "upn")


def describe_identity(claims: Mapping[str, Any]) -> str:
    """`appid=... oid=... tid=...` for the identity claims present; nothing else from the token."""
    parts = [f"{name}={claims[name]}" for name in _IDENTITY_CLAIMS if claims.get(name)]
    return " ".join(parts) if parts else "unknown (the token names no appid, azp, oid, tid or upn)"

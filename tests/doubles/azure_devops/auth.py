"""The bearer check every request passes, and the refusals Azure DevOps Services answers with.

Accepted: ``Authorization: Bearer <JWT>`` whose RS256 signature, audience, ``exp`` and ``nbf`` verify against the
Entra ID double's key (``JwtVerifier``) and, when the organization has a tenant, whose ``tid`` is that tenant.

Refused, on REST routes:
- no ``Authorization`` header, or a bearer JWT that does not verify: 401 with ``WWW-Authenticate: Bearer
  authorization_uri=<authority>/<tenant>`` (then ``Basic realm=...`` and ``TFS-Federated``), and a
  ``TF400813`` error body;
- credentials that are no Entra token at all (``Basic`` credentials such as a PAT, or a bearer value that is not
  a JWT): 203 Non-Authoritative Information with the HTML sign-in page, which is what Azure DevOps Services
  answers when it does not recognise credentials and falls back to its interactive sign-in.

Refused on git routes: always 401 with the same ``WWW-Authenticate`` headers and a plain text body, which makes
git fail ("Authentication failed" / "could not read Username") instead of cloning.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from typing import Any, Final

from tests.doubles.jwt_verifier import InvalidToken, JwtVerifier, unverified_claims

from .routing import ApiError, Response

DEFAULT_AUTHORITY: Final = "https://login.microsoftonline.com"


class Refusal(Enum):
    MISSING = "missing"  # no Authorization header
    INVALID_TOKEN = "invalid token"  # a JWT that does not verify
    NOT_ENTRA = "not an Entra token"  # Basic credentials, or a bearer value that is no JWT


@dataclass(frozen=True, kw_only=True)
class Credentials:
    """What a request's Authorization header amounts to. ``oid`` is read even from a token that failed, to show
    in the request log who it claimed to be; only ``verified`` credentials are let through."""

    verified: bool
    oid: str | None = None
    claims: dict[str, Any] | None = None
    refusal: Refusal | None = None
    reason: str | None = None  # why a token did not verify: signature, audience, expired, not yet valid, tenant


def authenticate(header: str | None, verifier: JwtVerifier, tenant_id: str | None) -> Credentials:
    if not header:
        return Credentials(verified=False, refusal=Refusal.MISSING, reason="no Authorization header")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return Credentials(verified=False, refusal=Refusal.NOT_ENTRA, reason=f"{scheme} credentials")
    return _bearer(value.strip(), verifier, tenant_id)


def _bearer(token: str, verifier: JwtVerifier, tenant_id: str | None) -> Credentials:
    claimed = unverified_claims(token)
    if claimed is None:
        return Credentials(verified=False, refusal=Refusal.NOT_ENTRA, reason="bearer value is not a JWT")
    oid = claimed.get("oid") if isinstance(claimed.get("oid"), str) else None
    try:
        claims = verifier.verify(token)
    except InvalidToken as error:
        return Credentials(verified=False, oid=oid, refusal=Refusal.INVALID_TOKEN, reason=error.reason)
    if tenant_id is not None and claims.get("tid") != tenant_id:
        return Credentials(verified=False, oid=oid, refusal=Refusal.INVALID_TOKEN, reason="tenant")
    if not oid:
        return Credentials(verified=False, refusal=Refusal.INVALID_TOKEN, reason="missing claim")
    return Credentials(verified=True, oid=oid, claims=claims)


def challenge_headers(authority: str, tenant_id: str | None, realm: str) -> tuple[tuple[str, str], ...]:
    return (
        ("WWW-Authenticate", f"Bearer authorization_uri={authority.rstrip('/')}/{tenant_id or 'common'}"),
        ("WWW-Authenticate", f'Basic realm="{realm}"'),
        ("WWW-Authenticate", "TFS-Federated"),
        ("X-TFS-FedAuthRealm", realm),
    )


def rest_refusal(credentials: Credentials, challenge: tuple[tuple[str, str], ...]) -> Response:
    if credentials.refusal is Refusal.NOT_ENTRA:
        return Response(
            status=HTTPStatus.NON_AUTHORITATIVE_INFORMATION,
            body=SIGN_IN_PAGE.encode(),
            content_type="text/html; charset=utf-8",
        )
    refused = ApiError(
        HTTPStatus.UNAUTHORIZED,
        "UnauthorizedRequestException",
        "TF400813: The user '' is not authorized to access this resource.",
    ).response()
    return Response(status=refused.status, body=refused.body, content_type=refused.content_type, headers=challenge)


def git_refusal(challenge: tuple[tuple[str, str], ...]) -> Response:
    return Response(
        status=HTTPStatus.UNAUTHORIZED,
        body=b"TF400813: The user '' is not authorized to access this resource.\n",
        content_type="text/plain; charset=utf-8",
        headers=challenge,
    )


SIGN_IN_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Azure DevOps Services | Sign In</title></head>
<body>
<p>You need to sign in to continue to Azure DevOps.</p>
<form method="post" action="/_signin"><input type="submit" value="Sign in"></form>
</body>
</html>
"""

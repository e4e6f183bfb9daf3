"""A Microsoft Entra ID double: the token endpoint azure-identity's client-assertion credentials call, over HTTPS
on 127.0.0.1, issuing RS256-signed access tokens for Azure DevOps.

What it implements:

- ``POST /{tenant}/oauth2/v2.0/token`` with the client-credentials grant and a JWT client assertion, exactly as
  ``AzurePipelinesCredential``, ``WorkloadIdentityCredential`` and ``ClientAssertionCredential`` send it
  (azure-identity's ``AadClient`` posts straight to this URL: it asks for no instance or tenant discovery).
  The tenant must exist, ``client_id`` must be an application registered in it, the scope must be
  ``<resource>/.default`` for a known resource (Azure DevOps), and the assertion must be an RS256 JWT from an
  issuer this double trusts (its JWKS given to ``trust_issuer``), signed by a key of that issuer, within its
  ``nbf``/``exp``, and matching one of the application's federated identity credentials by issuer, audience
  (``api://AzureADTokenExchange``) and subject, compared case-sensitively as Entra ID does. Failures answer
  like the real service: ``{error, error_description: "AADSTS<code>: ...", error_codes, timestamp, trace_id,
  correlation_id, error_uri}`` with 400 (``invalid_request``, ``unauthorized_client``, ``invalid_scope``,
  ``invalid_resource``, ``unsupported_grant_type``) or 401 (``invalid_client``: every assertion problem).
- Success answers ``{token_type, expires_in, ext_expires_in, access_token}``. The access token is a v1.0 app-only
  token as Entra ID issues it for Azure DevOps: header ``{typ, alg: RS256, kid, x5t}``; claims ``aud`` (the
  resource id), ``iss`` ``https://sts.windows.net/<tenant>/``, ``iat``, ``nbf``, ``exp``, ``appid``,
  ``appidacr``, ``idp``, ``idtyp``, ``oid``, ``sub``, ``tid``, ``uti`` (unique per token), ``ver``, and
  ``xms_mirid`` for a managed identity. Its lifetime is ``token_lifetime`` seconds, settable at any time.
- Verification material for resource servers (the Azure DevOps double): ``verify_access_token``,
  ``public_key`` / ``public_key_pem``, ``jwks()``, and over HTTPS ``GET /{tenant}/discovery/v2.0/keys``,
  ``/{tenant}/discovery/keys`` and the v1.0 and v2.0 ``.well-known/openid-configuration`` documents.
- ``issue_access_token`` for the managed identity double, and ``mint_access_token`` for negative tests (any
  lifetime, including an expired one; any audience; a tampered payload whose signature no longer matches).
- Records: every request (``requests``) and every token issued or minted (``issued``, ``issued_tokens``).

What it leaves out: every other grant (client secret, certificate, refresh token, authorization code, device
code, on-behalf-of), interactive sign-in, instance discovery (``/common/discovery/instance``), v2.0 access
tokens, ID and refresh tokens, claims challenges and CAE, multi-tenant applications, key rollover, throttling,
and token lifetime policies (one lifetime for every token).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from types import MappingProxyType
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.doubles.loopback import IncomingRequest, LoopbackDouble, LoopbackServer, RecordedRequest, Reply
from tests.doubles.tls import LoopbackCA

ADO_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"  # Azure DevOps' application id in Entra ID
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"  # the audience of every federated credential
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_TOKEN_LIFETIME = 3600
_DEFAULT_SCOPE_SUFFIX = "/.default"
_OPENID_CONFIGURATION_ROUTES = frozenset({".well-known/openid-configuration", "v2.0/.well-known/openid-configuration"})


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair that signs RS256 JWTs; its key id goes into each token's header."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    kid: str

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), secrets.token_urlsafe(20))

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    @property
    def public_key_pem(self) -> str:
        return (
            self.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
            .strip()
        )

    def sign(self, claims: Mapping[str, Any], **headers: str) -> str:
        """A compact RS256 JWT of `claims`; `headers` are added to `typ`, `alg` and `kid`."""
        return jwt.encode(dict(claims), self.private_key, algorithm="RS256", headers={"kid": self.kid, **headers})

    def jwk(self) -> dict[str, Any]:
        key = RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        return {**key, "use": "sig", "kid": self.kid, "alg": "RS256"}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk()]}


@dataclass(frozen=True, kw_only=True)
class FederatedCredential:
    """A federated identity credential of an application: which external tokens it accepts as its assertion."""

    issuer: str
    subject: str
    audience: str = TOKEN_EXCHANGE_AUDIENCE


@dataclass(frozen=True, kw_only=True)
class ServicePrincipal:
    """An application (or managed identity) registered in the tenant: the principal an access token names."""

    client_id: str  # `appid` in its tokens
    object_id: str  # `oid`: the service principal's object id
    display_name: str
    federated_credentials: tuple[FederatedCredential, ...] = ()
    managed_identity_resource_id: str | None = None  # `xms_mirid`, for managed identities only


@dataclass(frozen=True, kw_only=True)
class IssuedToken:
    value: str = field(repr=False)
    client_id: str
    claims: Mapping[str, Any] = field(repr=False)
    via: str  # "client_assertion", "managed_identity" or "minted"


class EntraError(Exception):
    """A refusal in Entra ID's terms: the OAuth error, the AADSTS code and its description."""

    def __init__(self, status: HTTPStatus, error: str, code: int, description: str) -> None:
        self.status = status
        self.error = error
        self.code = code
        self.description = description
        super().__init__(f"{error}: AADSTS{code}: {description}")


class AccessTokenRejected(Exception):
    """`verify_access_token` refused a token; `reason` is one word fit for a branch or an assertion."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason  # malformed, signature, expired, not_yet_valid, audience, issuer, claims
        super().__init__(f"access token rejected ({reason}): {detail}")


_REJECTION_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAudienceError, "audience"),
    (jwt.InvalidIssuerError, "issuer"),
    (jwt.InvalidSignatureError, "signature"),
    (jwt.MissingRequiredClaimError, "claims"),
    (jwt.DecodeError, "malformed"),
)


class EntraDouble(LoopbackDouble):
    """The Entra ID double for one tenant; a context manager that serves HTTPS while open."""

    def __init__(
        self,
        ca: LoopbackCA,
        *,
        tenant_id: str,
        token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
        resources: Iterable[str] = (ADO_RESOURCE,),
    ) -> None:
        self.tenant_id = tenant_id
        self.token_lifetime = token_lifetime  # seconds; read at each issue, so a test may change it any time
        self.resources = frozenset(resources)
        self.signing_key = SigningKey.generate()
        self._principals: dict[str, ServicePrincipal] = {}
        self._trusted_issuers: dict[str, jwt.PyJWKSet] = {}
        self._issued: list[IssuedToken] = []
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handle, ssl_context=ca.server_context(), name="entra-double")

    # -- lifecycle and addresses

    @property
    def authority(self) -> str:
        """``https://127.0.0.1:<port>``: the value for AZURE_AUTHORITY_HOST or a credential's `authority`."""
        return self._server.base_url

    @property
    def issuer(self) -> str:
        """The `iss` of the access tokens this double issues (v1.0 tokens)."""
        return f"https://sts.windows.net/{self.tenant_id}/"

    @property
    def token_endpoint(self) -> str:
        return f"{self.authority}/{self.tenant_id}/oauth2/v2.0/token"

    # -- configuration

    def register(self, principal: ServicePrincipal) -> ServicePrincipal:
        with self._lock:
            self._principals[principal.client_id] = principal
        return principal

    def trust_issuer(self, issuer: str, jwks: Mapping[str, Any]) -> None:
        """Accept assertions from `issuer`, signed by a key of `jwks` (what Entra ID would fetch from it)."""
        with self._lock:
            self._trusted_issuers[issuer] = jwt.PyJWKSet.from_dict(dict(jwks))

    # -- verification material for resource servers

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.signing_key.public_key

    @property
    def public_key_pem(self) -> str:
        return self.signing_key.public_key_pem

    def jwks(self) -> dict[str, Any]:
        return self.signing_key.jwks()

    def verify_access_token(self, token: str, *, audience: str = ADO_RESOURCE, leeway: float = 0) -> dict[str, Any]:
        """The claims of `token` when this double signed it for `audience` and it is valid now; else raises
        AccessTokenRejected naming the first problem found."""
        try:
            return jwt.decode(
                token,
                self.public_key,
                algorithms=["RS256"],
                audience=audience,
                issuer=self.issuer,
                leeway=leeway,
                options={"require": ["exp", "nbf", "iat", "aud", "iss", "oid", "tid"]},
            )
        except jwt.PyJWTError as error:
            reason = next((name for kind, name in _REJECTION_REASONS if isinstance(error, kind)), "invalid")
            raise AccessTokenRejected(reason, str(error)) from None

    # -- records

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        return self._server.requests

    def clear_requests(self) -> None:
        self._server.clear_requests()

    @property
    def issued(self) -> tuple[IssuedToken, ...]:
        with self._lock:
            return tuple(self._issued)

    @property
    def issued_tokens(self) -> tuple[str, ...]:
        """Every access token string this double handed out or minted, for scanning outputs for leaks."""
        return tuple(token.value for token in self.issued)

    @property
    def exchanges(self) -> int:
        """How many access tokens the token endpoint issued."""
        return sum(1 for token in self.issued if token.via == "client_assertion")

    # -- issuing

    def issue_access_token(
        self, principal: ServicePrincipal, *, resource: str = ADO_RESOURCE, via: str = "managed_identity"
    ) -> tuple[str, dict[str, Any]]:
        """A signed access token for a registered principal, valid for `token_lifetime`; its claims too."""
        if resource not in self.resources:
            raise _unknown_resource(resource, self.tenant_id)
        with self._lock:
            if self._principals.get(principal.client_id) != principal:
                raise _unknown_application(principal.client_id, self.tenant_id)
        claims = self._claims(principal, audience=resource, lifetime=self.token_lifetime)
        token = self._sign(claims)
        self._record(token, principal, claims, via=via)
        return token, claims

    def mint_access_token(
        self,
        *,
        principal: ServicePrincipal | None = None,
        lifetime: float | None = None,
        audience: str = ADO_RESOURCE,
        tampered: bool = False,
    ) -> str:
        """A token for negative tests, for any principal (registered or not) and any `audience`.

        `lifetime` is in seconds (default `token_lifetime`); zero or negative gives a token that expired that
        long ago. With `tampered`, the payload is altered after signing, so the signature no longer matches.
        """
        principal = principal or MINTED_PRINCIPAL
        seconds = self.token_lifetime if lifetime is None else int(lifetime)
        claims = self._claims(principal, audience=audience, lifetime=seconds)
        if seconds <= 0:  # it was valid for the usual hour, which ended `-seconds` ago
            claims["iat"] = claims["nbf"] = claims["exp"] - DEFAULT_TOKEN_LIFETIME
        token = self._sign(claims)
        if tampered:
            token = _tamper(token, claims)
        self._record(token, principal, claims, via="minted")
        return token

    def _claims(self, principal: ServicePrincipal, *, audience: str, lifetime: int) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": principal.client_id,
            "appidacr": "2",  # authenticated with an assertion (or as a managed identity), not a secret
            "idp": self.issuer,
            "idtyp": "app",
            "oid": principal.object_id,
            "sub": principal.object_id,
            "tid": self.tenant_id,
            "uti": secrets.token_urlsafe(16),
            "ver": "1.0",
        }
        if principal.managed_identity_resource_id:
            claims["xms_mirid"] = principal.managed_identity_resource_id
        return claims

    def _sign(self, claims: Mapping[str, Any]) -> str:
        # Entra ID's headers carry the key id twice: as `kid` and as the certificate thumbprint `x5t`.
        return self.signing_key.sign(claims, x5t=self.signing_key.kid)

    def _record(self, token: str, principal: ServicePrincipal, claims: Mapping[str, Any], *, via: str) -> None:
        issued = IssuedToken(value=token, client_id=principal.client_id, claims=MappingProxyType(dict(claims)), via=via)
        with self._lock:
            self._issued.append(issued)

    # -- HTTP

    def _handle(self, request: IncomingRequest) -> Reply:
        parts = request.path.strip("/").split("/")
        tenant, route = parts[0], "/".join(parts[1:])
        if request.method == "POST" and route == "oauth2/v2.0/token":
            return self._token_reply(tenant, request.form)
        if request.method == "GET" and route in {"discovery/v2.0/keys", "discovery/keys"}:
            return self._tenant_document(tenant, self.jwks)
        if request.method == "GET" and route in _OPENID_CONFIGURATION_ROUTES:
            return self._tenant_document(tenant, lambda: self._openid_configuration(v2=route.startswith("v2.0")))
        return Reply(status=HTTPStatus.NOT_FOUND, body={"error": "not_found"}, refusal="unknown route")

    def _tenant_document(self, tenant: str, document: Callable[[], dict[str, Any]]) -> Reply:
        if tenant != self.tenant_id:
            return self._error_reply(_unknown_tenant(tenant))
        return Reply(status=HTTPStatus.OK, body=document())

    def _openid_configuration(self, *, v2: bool) -> dict[str, Any]:
        base = f"{self.authority}/{self.tenant_id}"
        return {
            "issuer": f"https://login.microsoftonline.com/{self.tenant_id}/v2.0" if v2 else self.issuer,
            "token_endpoint": f"{base}/oauth2/v2.0/token" if v2 else f"{base}/oauth2/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys" if v2 else f"{base}/discovery/keys",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "tenant_region_scope": "EU",
        }

    def _token_reply(self, tenant: str, form: Mapping[str, str]) -> Reply:
        try:
            principal, resource = self._authenticate(tenant, form)
            token, claims = self.issue_access_token(principal, resource=resource, via="client_assertion")
        except EntraError as error:
            return self._error_reply(error)
        lifetime = claims["exp"] - claims["iat"]
        body = {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}
        return Reply(status=HTTPStatus.OK, body=body, headers={"Pragma": "no-cache"})

    def _authenticate(self, tenant: str, form: Mapping[str, str]) -> tuple[ServicePrincipal, str]:
        """The principal the request authenticates as and the resource it asks for, or EntraError."""
        if tenant != self.tenant_id:
            raise _unknown_tenant(tenant)
        if form.get("grant_type") != "client_credentials":
            raise EntraError(
                HTTPStatus.BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{form.get('grant_type', '')}'.",
            )
        for name in ("client_id", "scope"):
            if not form.get(name):
                raise EntraError(
                    HTTPStatus.BAD_REQUEST,
                    "invalid_request",
                    900144,
                    f"The request body must contain the following parameter: '{name}'.",
                )
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE or not form.get("client_assertion"):
            raise EntraError(
                HTTPStatus.UNAUTHORIZED,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            )
        with self._lock:
            principal = self._principals.get(form["client_id"])
        if principal is None:
            raise _unknown_application(form["client_id"], self.tenant_id)
        resource = _resource_of(form["scope"])
        if resource not in self.resources:
            raise _unknown_resource(resource, self.tenant_id)
        self._check_assertion(form["client_assertion"], principal)
        return principal, resource

    def _check_assertion(self, assertion: str, principal: ServicePrincipal) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _invalid_client(50027, "JWT token is invalid or malformed.") from None
        issuer = str(unverified.get("iss", ""))
        credentials = [fic for fic in principal.federated_credentials if fic.issuer == issuer]
        if not credentials:
            raise _no_matching_record(700211, "issuer", issuer)
        key = self._issuer_key(issuer, header.get("kid"))
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                options={"verify_aud": False, "require": ["exp", "iss", "sub", "aud"]},
            )
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            raise _outside_valid_time(unverified) from None
        except jwt.PyJWTError:
            raise _invalid_client(700027, "Client assertion failed signature validation.") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        credentials = [fic for fic in credentials if fic.audience in audiences]
        if not credentials:
            raise _no_matching_record(700212, "audience", " ".join(map(str, audiences)))
        if not any(fic.subject == claims["sub"] for fic in credentials):
            raise _no_matching_record(700213, "subject", str(claims["sub"]))

    def _issuer_key(self, issuer: str, kid: Any) -> jwt.PyJWK:
        with self._lock:
            keys = self._trusted_issuers.get(issuer)
        if keys is None:
            # Entra ID would fetch the issuer's OpenID configuration and fail; this double knows only trusted ones.
            raise _invalid_client(50166, f"Request to External OIDC endpoint failed for issuer '{issuer}'.")
        try:
            return keys[str(kid)]
        except KeyError:
            raise _invalid_client(700027, "Client assertion failed signature validation.") from None

    def _error_reply(self, error: EntraError) -> Reply:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        body = {
            "error": error.error,
            "error_description": (
                f"AADSTS{error.code}: {error.description} Trace ID: {trace_id} "
                f"Correlation ID: {correlation_id} Timestamp: {now}"
            ),
            "error_codes": [error.code],
            "timestamp": now,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"{self.authority}/error?code={error.code}",
        }
        return Reply(status=error.status, body=body, refusal=f"AADSTS{error.code}")


# The principal of minted tokens unless a test names another: an application no tenant registers.
MINTED_PRINCIPAL = ServicePrincipal(
    client_id="0d5d6e1f-0000-4000-8000-00000000beef",
    object_id="0d5d6e1f-0000-4000-8000-00000000cafe",
    display_name="minted test principal",
)


def _resource_of(scope: str) -> str:
    # Client-credential flows take exactly one `<resource>/.default` scope.
    if " " in scope.strip() or not scope.endswith(_DEFAULT_SCOPE_SUFFIX):
        raise EntraError(
            HTTPStatus.BAD_REQUEST,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value "
            "with /.default suffixed to the resource identifier (application ID URI).",
        )
    return scope.removesuffix(_DEFAULT_SCOPE_SUFFIX)


def _tamper(token: str, claims: Mapping[str, Any]) -> str:
    """`token` with a payload granting one more day: the signature still belongs to the original payload."""
    header, _, signature = token.split(".")
    forged = json.dumps({**claims, "exp": claims["exp"] + 86400}).encode()
    return f"{header}.{base64.urlsafe_b64encode(forged).rstrip(b'=').decode()}.{signature}"


def _unknown_tenant(tenant: str) -> EntraError:
    return EntraError(
        HTTPStatus.BAD_REQUEST,
        "invalid_request",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into "
        "the correct cloud.",
    )


def _unknown_application(client_id: str, tenant: str) -> EntraError:
    return EntraError(
        HTTPStatus.BAD_REQUEST,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen "
        "if the application has not been installed by the administrator of the tenant or consented to by any "
        "user in the tenant. You may have sent your authentication request to the wrong tenant.",
    )


def _unknown_resource(resource: str, tenant: str) -> EntraError:
    return EntraError(
        HTTPStatus.BAD_REQUEST,
        "invalid_resource",
        500011,
        f"The resource principal named {resource} was not found in the tenant named {tenant}. This can happen "
        "if the application has not been installed by the administrator of the tenant or consented to by any "
        "user in the tenant. You might have sent your authentication request to the wrong tenant.",
    )


def _invalid_client(code: int, description: str) -> EntraError:
    return EntraError(HTTPStatus.UNAUTHORIZED, "invalid_client", code, description)


def _no_matching_record(code: int, claim: str, value: str) -> EntraError:
    return _invalid_client(
        code,
        f"No matching federated identity record found for presented assertion {claim} '{value}'. Please note that "
        "the matching is done using a case-sensitive comparison. Check your federated identity credential "
        "Subject, Audience and Issuer against the presented assertion.",
    )


def _outside_valid_time(claims: Mapping[str, Any]) -> EntraError:
    def moment(name: str) -> str:
        value = claims.get(name)
        if not isinstance(value, int | float):
            return "(none)"
        return datetime.fromtimestamp(value, tz=UTC).strftime("%m/%d/%Y %H:%M:%S")

    now = datetime.now(UTC).strftime("%m/%d/%Y %H:%M:%S")
    return _invalid_client(
        700024,
        f"Client assertion is not within its valid time range. Current time: {now}, assertion valid from "
        f"{moment('nbf')}, expiry time of assertion {moment('exp')}.",
    )

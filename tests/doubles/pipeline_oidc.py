"""The Azure Pipelines OIDC endpoint double (what ``SYSTEM_OIDCREQUESTURI`` points to), and the other federated
token source a workload can present to Entra ID: a federated token file, as Entra Workload ID keeps one on AKS.

What it implements:

- ``POST {SYSTEM_OIDCREQUESTURI}?api-version=7.1&serviceConnectionId=<id>`` with
  ``Authorization: Bearer <System.AccessToken>``, as ``AzurePipelinesCredential`` sends it, over HTTP or HTTPS
  on 127.0.0.1. The path is the real one's shape:
  ``/<organization>/<project id>/_apis/distributedtask/hubs/build/plans/<plan id>/jobs/<job id>/oidctoken``.
  It checks the bearer token equals the job's system access token (else 401, ``TF400813``), that an
  ``api-version`` is given (else 400) and that the service connection is one the pipeline may use (else 404).
  Each accepted request answers ``{"oidcToken": "<JWT>"}`` with a new token, RS256-signed by the issuer's key:
  ``iss`` ``https://vstoken.dev.azure.com/<organization id>``, ``sub``
  ``sc://<organization>/<project>/<service connection name>``, ``aud`` ``api://AzureADTokenExchange``,
  ``iat``/``nbf``/``exp`` (``token_lifetime`` seconds, short like the real ones), and a unique ``jti``.
- ``OidcIssuer``: any issuer's signing key and JWKS, so Entra ID (``EntraDouble.trust_issuer``) can verify what
  it signs; ``write_federated_token_file`` writes one of its tokens where ``AZURE_FEDERATED_TOKEN_FILE`` points.
- A request log (``requests``) and the OIDC tokens handed out (``issued_tokens``).

What it leaves out: the issuer's own ``.well-known/openid-configuration`` and JWKS routes (Entra ID is given the
keys directly), the other OIDC claims Azure DevOps may add, service connection authorization checks beyond a
fixed list, the 302/203 sign-in answers a browser-like client gets without ``X-TFS-FedAuthRedirect: Suppress``,
and refreshing a token file while a test runs (write it again to rotate it).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from tests.doubles.entra import TOKEN_EXCHANGE_AUDIENCE, FederatedCredential, SigningKey
from tests.doubles.loopback import IncomingRequest, LoopbackDouble, LoopbackServer, RecordedRequest, Reply
from tests.doubles.tls import LoopbackCA

OIDC_TOKEN_LIFETIME = 600  # seconds; Azure DevOps' OIDC tokens are meant to be exchanged at once
_SUPPORTED_API_VERSIONS = frozenset({"7.1", "7.1-preview.1"})


@dataclass(frozen=True)
class OidcIssuer:
    """An OpenID Connect issuer: its URL (the `iss` of its tokens) and the key that signs them."""

    url: str
    key: SigningKey

    @classmethod
    def create(cls, url: str) -> OidcIssuer:
        return cls(url, SigningKey.generate())

    def mint(
        self,
        subject: str,
        *,
        lifetime: int = OIDC_TOKEN_LIFETIME,
        audience: str = TOKEN_EXCHANGE_AUDIENCE,
        **claims: Any,
    ) -> str:
        """A signed token for `subject`; a negative `lifetime` gives one that expired that long ago."""
        now = int(time.time())
        # An expired token was valid for the usual span, which ended `-lifetime` seconds ago.
        issued_at = now if lifetime > 0 else now + lifetime - OIDC_TOKEN_LIFETIME
        payload = {
            "jti": str(uuid.uuid4()),
            "iss": self.url,
            "sub": subject,
            "aud": audience,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": now + lifetime,
            **claims,
        }
        return self.key.sign(payload)

    def jwks(self) -> dict[str, Any]:
        return self.key.jwks()

    def federated_credential(self, subject: str) -> FederatedCredential:
        """The federated identity credential an application needs to accept this issuer's tokens for `subject`."""
        return FederatedCredential(issuer=self.url, subject=subject)


@dataclass(frozen=True, kw_only=True)
class ServiceConnection:
    """An Azure Resource Manager service connection with workload identity federation."""

    id: str
    name: str
    project: str


class PipelineOidcDouble(LoopbackDouble):
    """One pipeline job's OIDC endpoint; a context manager that serves while open."""

    def __init__(
        self,
        *,
        organization: str,
        organization_id: str,
        project_id: str,
        system_access_token: str,
        ca: LoopbackCA | None = None,
        token_lifetime: int = OIDC_TOKEN_LIFETIME,
    ) -> None:
        self.organization = organization
        self.project_id = project_id
        self.system_access_token = system_access_token
        self.token_lifetime = token_lifetime
        self.issuer = OidcIssuer.create(f"https://vstoken.dev.azure.com/{organization_id}")
        self._path = (
            f"/{organization}/{project_id}/_apis/distributedtask/hubs/build/plans/{uuid.uuid4()}"
            f"/jobs/{uuid.uuid4()}/oidctoken"
        )
        self._connections: dict[str, ServiceConnection] = {}
        self._issued: list[str] = []
        self._lock = threading.Lock()
        context = ca.server_context() if ca is not None else None
        self._server = LoopbackServer(self._handle, ssl_context=context, name="pipeline-oidc-double")

    @property
    def request_uri(self) -> str:
        """The value of SYSTEM_OIDCREQUESTURI for this job."""
        return self._server.base_url + self._path

    def add_service_connection(self, connection: ServiceConnection) -> FederatedCredential:
        """Let the pipeline use `connection`; returns the federated credential its application needs."""
        with self._lock:
            self._connections[connection.id] = connection
        return self.issuer.federated_credential(self.subject(connection))

    def subject(self, connection: ServiceConnection) -> str:
        return f"sc://{self.organization}/{connection.project}/{connection.name}"

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        return self._server.requests

    @property
    def issued_tokens(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._issued)

    def _handle(self, request: IncomingRequest) -> Reply:
        if request.path != self._path:
            return _vss_error(HTTPStatus.NOT_FOUND, "unknown route", f"No route matches {request.path}.")
        if request.method != "POST":
            return _vss_error(HTTPStatus.METHOD_NOT_ALLOWED, "method", "The OIDC token endpoint accepts POST only.")
        if request.bearer_token() != self.system_access_token:
            return _unauthorized()
        if request.query.get("api-version") not in _SUPPORTED_API_VERSIONS:
            return _vss_error(
                HTTPStatus.BAD_REQUEST,
                "api-version",
                "No supported api-version was supplied for the POST request (use api-version=7.1).",
                type_key="VssVersionNotSpecifiedException",
            )
        connection_id = request.query.get("serviceConnectionId", "")
        with self._lock:
            connection = self._connections.get(connection_id)
        if connection is None:
            return _vss_error(
                HTTPStatus.NOT_FOUND,
                "unknown service connection",
                f"Service connection '{connection_id}' was not found, or this pipeline is not authorized to use it.",
                type_key="ServiceEndpointNotFoundException",
            )
        token = self.issuer.mint(self.subject(connection), lifetime=self.token_lifetime)
        with self._lock:
            self._issued.append(token)
        return Reply(status=HTTPStatus.OK, body={"oidcToken": token})


def write_federated_token_file(path: Path, issuer: OidcIssuer, subject: str, *, lifetime: int = 3600) -> str:
    """Write a token of `issuer` for `subject` to `path` (as the AKS webhook projects it); returns the token."""
    token = issuer.mint(subject, lifetime=lifetime)
    path.write_text(token)
    return token


def new_system_access_token() -> str:
    """A stand-in for System.AccessToken: opaque to everyone but the OIDC endpoint that checks it."""
    return secrets.token_urlsafe(32)


def _unauthorized() -> Reply:
    body = _vss_body(
        "TF400813: The user '' is not authorized to access this resource.",
        type_key="UnauthorizedRequestException",
    )
    return Reply(
        status=HTTPStatus.UNAUTHORIZED,
        body=body,
        headers={"WWW-Authenticate": "Bearer"},
        refusal="system access token",
    )


def _vss_error(status: HTTPStatus, refusal: str, message: str, *, type_key: str = "VssServiceException") -> Reply:
    return Reply(status=status, body=_vss_body(message, type_key=type_key), refusal=refusal)


def _vss_body(message: str, *, type_key: str) -> dict[str, Any]:
    # The shape of Azure DevOps' error answers (a serialized VssServiceException).
    return {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": f"Microsoft.VisualStudio.Services.Common.{type_key}",
        "typeKey": type_key,
        "errorCode": 0,
        "eventId": 3000,
    }

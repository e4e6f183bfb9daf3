"""An App Service managed identity endpoint double: what ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER`` point a
process to on App Service and Azure Functions.

What it implements: ``GET /msi/token?api-version=2019-08-01&resource=<resource>`` over plain HTTP on 127.0.0.1
(App Service serves it on loopback without TLS too), as azure-identity's ``ManagedIdentityCredential`` sends it
through MSAL. It checks the ``X-IDENTITY-HEADER`` secret (else 401), the api-version (else 400), and the
optional ``client_id`` / ``object_id`` / ``mi_res_id`` selectors against the one identity it serves (else 400,
"No Managed Identity found"). It answers ``{access_token, expires_on, resource, token_type, client_id}`` with
``expires_on`` in epoch seconds as a string, like App Service; the token is issued by the Entra ID double for
the identity registered there, so it carries the same signing key and claims (plus ``xms_mirid``) as any other
token the Entra double issues, and lives ``EntraDouble.token_lifetime`` seconds. Errors come back as
``{statusCode, message, correlationId}``. Requests are recorded.

What it leaves out: the older ``2017-09-01`` protocol (``MSI_ENDPOINT``/``MSI_SECRET``), several identities per
host, Service Fabric, Azure Arc, Cloud Shell and the VM instance metadata service, claims challenges, and any
caching on the service side (each request issues a new token).
"""

from __future__ import annotations

import secrets
import uuid
from http import HTTPStatus

from tests.doubles.entra import EntraDouble, EntraError, ServicePrincipal
from tests.doubles.loopback import IncomingRequest, LoopbackDouble, LoopbackServer, RecordedRequest, Reply

API_VERSION = "2019-08-01"
_PATH = "/msi/token"


class ManagedIdentityDouble(LoopbackDouble):
    """The token endpoint of one host with one managed identity; a context manager that serves while open."""

    def __init__(self, entra: EntraDouble, identity: ServicePrincipal, *, identity_header: str | None = None) -> None:
        self.entra = entra
        self.identity = identity
        self.identity_header = identity_header or secrets.token_urlsafe(24)
        self._server = LoopbackServer(self._handle, name="managed-identity-double")

    @property
    def endpoint(self) -> str:
        """The value of IDENTITY_ENDPOINT."""
        return self._server.base_url + _PATH

    def environ(self) -> dict[str, str]:
        """IDENTITY_ENDPOINT and IDENTITY_HEADER, as App Service sets them."""
        return {"IDENTITY_ENDPOINT": self.endpoint, "IDENTITY_HEADER": self.identity_header}

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        return self._server.requests

    def _handle(self, request: IncomingRequest) -> Reply:
        query = request.query
        if request.method != "GET" or request.path.rstrip("/") != _PATH:
            return _error(HTTPStatus.NOT_FOUND, "unknown route", f"No route matches {request.method} {request.path}.")
        if request.headers.get("x-identity-header") != self.identity_header:
            return _error(
                HTTPStatus.UNAUTHORIZED, "identity header", "The X-IDENTITY-HEADER header is missing or wrong."
            )
        if query.get("api-version") != API_VERSION:
            return _error(HTTPStatus.BAD_REQUEST, "api-version", f"Use api-version={API_VERSION}.")
        if not self._selects_identity(query):
            return _error(
                HTTPStatus.BAD_REQUEST,
                "unknown identity",
                "No Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
            )
        resource = query.get("resource", "")
        try:
            token, claims = self.entra.issue_access_token(self.identity, resource=resource)
        except EntraError as error:
            return _error(HTTPStatus.BAD_REQUEST, f"AADSTS{error.code}", f"AADSTS{error.code}: {error.description}")
        body = {
            "access_token": token,
            "expires_on": str(claims["exp"]),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": self.identity.client_id,
        }
        return Reply(status=HTTPStatus.OK, body=body)

    def _selects_identity(self, query: dict[str, str]) -> bool:
        wanted = {
            "client_id": self.identity.client_id,
            "object_id": self.identity.object_id,
            "mi_res_id": self.identity.managed_identity_resource_id,
        }
        return all(query[name] == value for name, value in wanted.items() if name in query)


def _error(status: HTTPStatus, refusal: str, message: str) -> Reply:
    body = {"statusCode": status.value, "message": message, "correlationId": str(uuid.uuid4())}
    return Reply(status=status, body=body, refusal=refusal)

"""The HTTP server of the Azure DevOps double: one organization and the profile service, on 127.0.0.1.

URL layout (``http://127.0.0.1:<port>``):
- ``/<org>/...``: the organization (``organization_url``): REST under ``[<project>/]_apis/...`` and git smart HTTP
  under ``<project>/_git/<repo>``;
- ``/vssps/...``: the profile service (``vssps_url``), standing in for ``https://app.vssps.visualstudio.com/``.

Each request is authenticated first (``auth.py``), then routed; everything is recorded, refused and unknown
requests included, as a ``RecordedRequest``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.doubles.jwt_verifier import JwtVerifier
from tests.doubles.latency import Latency, wait

from . import git
from .auth import Credentials, authenticate, challenge_headers, git_refusal, rest_refusal
from .routes import ORGANIZATION_ROUTES, VSSPS_ROUTES
from .routing import ApiError, Request, Response, Route, UnknownRoute, check_api_version, requested_api_version
from .security import GitPermission
from .site import VSSPS_PREFIX, Site
from .state import State

LOOPBACK: Final = "127.0.0.1"
_GIT_PATH: Final = re.compile(r"^(?:(?P<project>[^/]+)/)?_git/(?P<repository>[^/]+)/(?P<suffix>.+)$")
GIT_ROUTE_PREFIX: Final = "{project}/_git/{repository}/"


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    """One request as the double saw it. ``route`` is the matched template (``GET {project}/_apis/git/...``), or
    None when the double implements nothing there; ``oid`` is the token's claim even when it did not verify."""

    method: str
    path: str  # percent-decoded, without the query string
    query: str
    route: str | None
    status: int
    oid: str | None
    verified: bool
    reason: str | None  # why the credentials were refused, when they were
    api_version: str | None


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    verifier: JwtVerifier
    tenant_id: str | None
    authority: str
    latency: Latency = Latency.NONE


class DoubleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: State, settings: ServerSettings) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        self.state = state
        self.settings = settings
        host, port = self.server_address[:2]
        self.site = Site(base_url=f"http://{host!s}:{port}", organization=state.organization)
        self.recorded: list[RecordedRequest] = []
        self.record_lock = threading.Lock()

    def record(self, request: RecordedRequest) -> None:
        with self.record_lock:
            self.recorded.append(request)


@dataclass(frozen=True, kw_only=True)
class _Incoming:
    method: str
    raw_path: str  # below the base (organization or vssps), percent-encoded, no leading slash
    query: str
    base: str | None  # "org", "vssps", or None for neither


class _Handler(BaseHTTPRequestHandler):
    server: DoubleServer
    protocol_version = "HTTP/1.1"  # keep-alive, as git and Node clients expect of Azure DevOps

    def _handle(self) -> None:
        incoming = self._incoming()
        body = self._read_body()
        credentials = authenticate(
            self.headers.get("Authorization"), self.server.settings.verifier, self.server.settings.tenant_id
        )
        git_match = _GIT_PATH.match(incoming.raw_path) if incoming.base == "org" else None
        if git_match is not None and git.is_smart_http_suffix(git_match["suffix"]):
            wait(self.server.settings.latency.git_s)
            response = self._git(git_match, incoming, credentials, body)
            route_name = f"{self.command} {GIT_ROUTE_PREFIX}{git_match['suffix']}"
            self._finish(incoming, route_name, credentials, None, response)
            return
        wait(self.server.settings.latency.rest_s)
        query = {key.lower(): value for key, value in parse_qsl(incoming.query, keep_blank_values=True)}
        api_version = requested_api_version(query, self.headers.get("Accept"))
        known_route, response = self._rest(incoming, query, api_version, credentials, body)
        self._finish(incoming, known_route, credentials, api_version, response)

    def _rest(
        self,
        incoming: _Incoming,
        query: dict[str, str],
        api_version: str | None,
        credentials: Credentials,
        body: bytes,
    ) -> tuple[str | None, Response]:
        """The matched route's name (None for an unknown route) and the answer."""
        routes = {"org": ORGANIZATION_ROUTES, "vssps": VSSPS_ROUTES}.get(incoming.base or "", ())
        route, values, other_method = _find_route(routes, self.command, incoming.raw_path)
        if not credentials.verified:
            return (route.name if route else None), rest_refusal(credentials, self._challenge())
        if route is None:
            status = HTTPStatus.NOT_FOUND if other_method is None else HTTPStatus.METHOD_NOT_ALLOWED
            return None, _unknown(status, self.command, incoming)
        if route.project_required and not values.get("project"):
            return None, _needs_project(route, incoming)
        assert credentials.oid is not None  # verified credentials always name an object id
        request = Request(
            method=self.command,
            values=values,
            query=query,
            body=body,
            caller=self.server.state.identity(credentials.oid),
            state=self.server.state,
            site=self.server.site,
            api_version=api_version,
            accept=(self.headers.get("Accept") or "application/json").split(";")[0].strip().lower(),
        )
        try:
            if route.location is not None:
                check_api_version(route.location, self.command, api_version)
            return route.name, route.handler(request)
        except ApiError as error:
            return route.name, error.response()
        except UnknownRoute:
            return None, _unknown(HTTPStatus.NOT_FOUND, self.command, incoming)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def _incoming(self) -> _Incoming:
        parts = urlsplit(self.path)
        first, _, rest = parts.path.lstrip("/").partition("/")
        base = None
        if unquote(first).lower() == self.server.state.organization.lower():
            base = "org"
        elif first.lower() == VSSPS_PREFIX:
            base = "vssps"
        return _Incoming(method=self.command, raw_path=rest, query=parts.query, base=base)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailer lines
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _challenge(self) -> tuple[tuple[str, str], ...]:
        settings = self.server.settings
        return challenge_headers(settings.authority, settings.tenant_id, self.server.site.organization_url)

    def _git(self, match: re.Match[str], incoming: _Incoming, credentials: Credentials, body: bytes) -> Response:
        if not credentials.verified:
            return git_refusal(self._challenge())
        assert credentials.oid is not None
        state = self.server.state
        project, name = unquote(match["project"] or match["repository"]), unquote(match["repository"])
        repository = state.find_repository(project, name)
        readable = repository is not None and state.may(credentials.oid, repository, GitPermission.GENERIC_READ)
        if repository is None or not readable or repository.disabled:
            message = (
                f"TF401019: The Git repository with name or identifier {name} does not exist or you do not have "
                "permissions for the operation you are attempting.\n"
            )
            return Response(status=HTTPStatus.NOT_FOUND, body=message.encode(), content_type="text/plain")
        identity = state.identity(credentials.oid)
        answer = git.http_backend(
            repository.path,
            git.SmartHttpRequest(
                method=self.command,
                suffix=match["suffix"],
                query=incoming.query,
                content_type=self.headers.get("Content-Type"),
                content_encoding=self.headers.get("Content-Encoding"),
                git_protocol=self.headers.get("Git-Protocol"),
                body=body,
            ),
            user=identity.unique_name,
            permissions=state.permissions(credentials.oid, repository.security_token),
        )
        content_type = next((v for k, v in answer.headers if k.lower() == "content-type"), "text/plain")
        extra = tuple((k, v) for k, v in answer.headers if k.lower() not in ("content-type", "content-length"))
        return Response(status=answer.status, body=answer.body, content_type=content_type, headers=extra)

    def _finish(
        self,
        incoming: _Incoming,
        route: str | None,
        credentials: Credentials,
        api_version: str | None,
        response: Response,
    ) -> None:
        self.server.record(
            RecordedRequest(
                method=self.command,
                path="/" + unquote(urlsplit(self.path).path.lstrip("/")),
                query=incoming.query,
                route=route,
                status=int(response.status),
                oid=credentials.oid,
                verified=credentials.verified,
                reason=credentials.reason,
                api_version=api_version,
            )
        )
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line: the request log is the record."""


def _find_route(
    routes: tuple[Route, ...], method: str, raw_path: str
) -> tuple[Route | None, dict[str, str], str | None]:
    """The first route matching method and path, its values, and whether any route matched the path alone."""
    path_only: str | None = None
    for route in routes:
        values = route.match(raw_path)
        if values is None:
            continue
        if route.method == method:
            return route, values, None
        if route.location is not None:  # not the catch-all OPTIONS route of the location service
            path_only = route.template
    return None, {}, path_only


def _needs_project(route: Route, incoming: _Incoming) -> Response:
    """Azure DevOps' answer to a project-scoped resource asked for without a project: no such route. Recorded as
    an unknown request, so a test that expects none catches the caller that left the project out."""
    return ApiError(
        HTTPStatus.NOT_FOUND,
        "HttpException",
        f"The resource cannot be found: /{incoming.raw_path} needs a project in its path ({route.template}).",
    ).response()


def _unknown(status: HTTPStatus, method: str, incoming: _Incoming) -> Response:
    return ApiError(
        status,
        "NotImplementedByDoubleException",
        f"The Azure DevOps double does not implement {method} /{incoming.raw_path}.",
    ).response()

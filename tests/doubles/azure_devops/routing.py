"""Route templates as Azure DevOps writes them, matched the way its clients fill them in.

azure-devops-node-api expands a location's ``routeTemplate`` by dropping every ``{value}`` it was not given, so
``{project}/_apis/git/repositories/{repositoryId}`` serves ``_apis/git/repositories``,
``P/_apis/git/repositories`` and ``P/_apis/git/repositories/<id>``. Here a leading or trailing ``{value}``
is optional and ``{*value}`` takes the rest of the path; matching ignores case, as Azure DevOps does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

if TYPE_CHECKING:
    from .site import Site
    from .state import Identity, State

_SERVER_NAMESPACE: Final = "Microsoft.TeamFoundation.Framework.Server"
_PARAM: Final = re.compile(r"^\{(\*?)([A-Za-z][A-Za-z0-9]*)\}$")


class ApiError(Exception):
    """An answer in Azure DevOps' error shape: ``{"message", "typeName", "typeKey", ...}``."""

    def __init__(self, status: HTTPStatus, type_key: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type_key = type_key
        self.message = message

    def response(self) -> Response:
        return Response.json(
            self.status,
            {
                "$id": "1",
                "innerException": None,
                "message": self.message,
                "typeName": f"{_SERVER_NAMESPACE}.{self.type_key}, {_SERVER_NAMESPACE}",
                "typeKey": self.type_key,
                "errorCode": 0,
                "eventId": 3000,
            },
        )


@dataclass(frozen=True, kw_only=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, payload: Any) -> Response:
        return cls(status=status, body=json.dumps(payload).encode())

    @classmethod
    def ok(cls, payload: Any) -> Response:
        return cls.json(HTTPStatus.OK, payload)

    @classmethod
    def collection(cls, items: list[Any]) -> Response:
        """Azure DevOps wraps lists: ``{"count": n, "value": [...]}``."""
        return cls.json(HTTPStatus.OK, {"count": len(items), "value": items})


@dataclass(frozen=True, kw_only=True)
class Request:
    """One authenticated REST request, with its route values decoded."""

    method: str
    values: Mapping[str, str]
    query: Mapping[str, str]  # keys lower-cased: Azure DevOps reads query parameters case-insensitively
    body: bytes
    caller: Identity
    state: State
    site: Site
    api_version: str | None
    accept: str = "application/json"  # the media type of the Accept header, parameters dropped

    def value(self, name: str) -> str | None:
        return self.values.get(name)

    def required(self, name: str) -> str:
        found = self.values.get(name)
        if not found:
            raise ApiError(
                HTTPStatus.BAD_REQUEST, "ArgumentNullException", f"Value cannot be null. Parameter name: {name}"
            )
        return found

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise ApiError(
                HTTPStatus.BAD_REQUEST, "VssRequestContentException", "The request body is not valid JSON."
            ) from None


Handler = Callable[[Request], Response]


class UnknownRoute(Exception):
    """Raised by a handler that matched a pattern but finds nothing it implements (an unknown area)."""


@dataclass(frozen=True, kw_only=True)
class Location:
    """One entry of the location service: what ``OPTIONS _apis/<area>`` lists and clients route by."""

    id: str
    area: str
    resource_name: str
    route_template: str  # as Azure DevOps writes it, with {area} and {resource}
    resource_version: int
    released_version: str = "7.1"  # "0.0": never released, callers must ask for a -preview version
    min_version: str = "1.0"
    max_version: str = "7.2"
    # The resource lives in a project: without one in the path Azure DevOps has no such route and answers 404,
    # though clients fill the template in without it (a leading `{project}` is optional for them).
    project_required: bool = False

    @property
    def concrete_template(self) -> str:
        return self.route_template.replace("{area}", self.area).replace("{resource}", self.resource_name)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "area": self.area,
            "resourceName": self.resource_name,
            "routeTemplate": self.route_template,
            "resourceVersion": self.resource_version,
            "minVersion": self.min_version,
            "maxVersion": self.max_version,
            "releasedVersion": self.released_version,
        }


@dataclass(frozen=True, kw_only=True)
class Route:
    method: str
    template: str  # concrete: {area} and {resource} already filled in
    handler: Handler
    location: Location | None = None  # None for routes outside the location service (git, OPTIONS)
    project_required: bool = False  # see Location.project_required
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", compile_template(self.template))

    @classmethod
    def at(cls, location: Location, method: str, handler: Handler) -> Route:
        return cls(
            method=method,
            template=location.concrete_template,
            handler=handler,
            location=location,
            project_required=location.project_required,
        )

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path)
        if found is None:
            return None
        return {key: unquote(value) for key, value in found.groupdict().items() if value is not None}


def compile_template(template: str) -> re.Pattern[str]:
    segments = template.strip("/").split("/")
    literal_positions = [index for index, segment in enumerate(segments) if not _PARAM.match(segment)]
    first, last = literal_positions[0], literal_positions[-1]
    leading = "".join(f"(?:{_piece(segment)}/)?" for segment in segments[:first])
    middle = "/".join(_piece(segment) for segment in segments[first : last + 1])
    trailing = ""
    for segment in reversed(segments[last + 1 :]):
        trailing = f"(?:/{_piece(segment)}{trailing})?"
    return re.compile(f"^{leading}{middle}{trailing}/?$", re.IGNORECASE)


def _piece(segment: str) -> str:
    param = _PARAM.match(segment)
    if param is not None:
        catch_all, name = param.groups()
        return f"(?P<{name}>.+)" if catch_all else f"(?P<{name}>[^/]+)"
    # A literal segment, or one with a value inside it such as ``${type}``.
    parts = re.split(r"\{([A-Za-z][A-Za-z0-9]*)\}", segment)
    return "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)" for index, part in enumerate(parts))


_VERSION: Final = re.compile(r"^(\d+)\.(\d+)(-preview(?:\.(\d+))?)?$")


def requested_api_version(query: Mapping[str, str], accept: str | None) -> str | None:
    """``api-version`` from the query string, else from ``Accept: application/json;api-version=...``
    (where azure-devops-node-api puts it)."""
    if "api-version" in query:
        return query["api-version"]
    for parameter in (accept or "").split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "api-version":
            return value.strip()
    return None


def check_api_version(location: Location, method: str, requested: str | None) -> None:
    """Refuses versions as Azure DevOps does: none on a write, above the maximum, or unreleased without -preview."""
    if requested is None:
        if method == "GET":
            return
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            "VssVersionNotSpecifiedException",
            f"No api-version was supplied for the {method} request. Please add the api-version query parameter.",
        )
    parsed = _VERSION.match(requested)
    if parsed is None:
        raise ApiError(HTTPStatus.BAD_REQUEST, "VssInvalidApiVersionException", f"Invalid api-version '{requested}'.")
    major, minor, preview, resource_version = parsed.groups()
    version = (int(major), int(minor))
    if version > _as_tuple(location.max_version):
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            "VssVersionOutOfRangeException",
            f"The requested REST API version of {major}.{minor} is out of range for this server. "
            f"The latest REST API version this server supports is {location.max_version}.",
        )
    if not preview and version > _as_tuple(location.released_version):
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            "VssInvalidPreviewVersionException",
            f'The requested version "{requested}" of the resource is under preview. The -preview flag must be '
            f'supplied in the api-version for such requests. For example: "{requested}-preview"',
        )
    if resource_version and int(resource_version) > location.resource_version:
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            "VssVersionOutOfRangeException",
            f"The requested resource version {resource_version} of the {location.resource_name} resource is "
            f"greater than the latest version {location.resource_version} this server supports.",
        )


def _as_tuple(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)

"""A Visual Studio Marketplace double: the gallery routes that tfx-cli 0.23.1 calls to publish and share an
extension, and the extension events API, over HTTP on 127.0.0.1.

What it implements:

- ``OPTIONS /_apis/gallery``: the resource locations (ids, route templates, versions) that azure-devops-node-api
  looks up to build the URL of every call below.
- ``GET /_apis/gallery/publishers/{publisher}/extensions/{extension}``: a published extension with its versions,
  newest first, and the accounts it is shared with; 404 when it was never published. Validation is instant: every
  version is ``validated`` at once, so tfx's wait for validation ends at its first poll.
- Publishing, with the JSON body ``{"extensionManifest": <base64 VSIX>}`` that tfx sends to every gallery other than
  https://marketplace.visualstudio.com: ``POST /_apis/gallery/extensions`` creates, ``PUT
  /_apis/gallery/publishers/{publisher}/extensions/{extension}`` updates. The package must be a zip with an
  ``extension.vsixmanifest`` naming publisher, id and version (400 otherwise); the caller must be a member of that
  publisher (403 ``Access Denied``; an unknown publisher is refused the same way, as the service's access check on
  ``/<publisher>`` fails for it too); creating an existing extension is 409, an update must come from the
  extension of its URL (400) with a higher version (400). Each accepted package is recorded (``uploads``) with its
  bytes, so a test can open it.
- ``POST /_apis/gallery/publisher/{publisher}/extension/{extension}/accountsbyname/{organization}``: sharing with
  an organization (recorded in ``shares`` and in the extension's ``sharedWith``).
- ``GET /_apis/gallery/publishers/{publisher}/extensions/{extension}/events``: the events seeded with
  ``add_events``, per type, filtered by ``include`` (all types when absent) and ``afterDate`` (on or after it; ISO
  8601, or RFC 1123 as the official client sends it), oldest first; ``count`` (the latest N per type) takes
  precedence over ``afterDate``. ``events_page_limit`` cuts every answer to the earliest N events per type, as a
  service limit would. Failures scripted with ``fail_events`` (a status and a Retry-After) are answered first.
- Authentication on every route but ``OPTIONS``, checked like the Azure DevOps double does: ``Authorization:
  Basic base64(<any user>:<token>)`` (tfx sends the user ``OAuth``) or ``Bearer <token>``; the token must verify
  with the given ``JwtVerifier`` (RS256 signature of the Entra double's key, audience Azure DevOps, not expired),
  else 401 with Azure DevOps' ``TF400813`` body. The caller is the token's ``oid``. An ``api-version`` is required,
  in the query or in the ``Accept`` header as azure-devops-node-api sends it (400 otherwise).
- Records: ``requests`` (the loopback log), ``uploads``, ``shares``; ``on_request`` is called with each request
  before it is answered (a test looks at the processes running at that moment).

What it leaves out: the raw ``application/octet-stream`` upload that tfx uses only against
https://marketplace.visualstudio.com (the same package, not base64-wrapped); the Marketplace's checks of a
package's contents (images, sizes, contribution schemas); asynchronous or failing validation; publisher roles
(every member may do everything) and creating publishers; unpublishing, unsharing, queries (``extensionquery``),
statistics other than events, reviews; the wording of the permission named in a 403 (the format is the
service's, the permission text the double's own).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import threading
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from tests.doubles.jwt_verifier import InvalidToken, JwtVerifier
from tests.doubles.loopback import IncomingRequest, LoopbackDouble, LoopbackServer, RecordedRequest, Reply

_ASSEMBLY = "Microsoft.VisualStudio.Services.Gallery.WebApi"
_VSIX_NAMESPACE = "{http://schemas.microsoft.com/developer/vsx-schema/2011}"
_GALLERY_LOCATIONS: tuple[tuple[str, str, str, int], ...] = (
    # (location id, resource, route template, resource version), as azure-devops-node-api's GalleryApi names them
    ("a41192c8-9525-4b58-bc86-179fa549d80d", "extensions", "_apis/gallery/extensions/{extensionId}", 2),
    (
        "e11ea35a-16fe-4b80-ab11-c4cab88a0966",
        "extensions",
        "_apis/gallery/publishers/{publisherName}/extensions/{extensionName}",
        2,
    ),
    (
        "a1e66d8f-f5de-4d16-8309-91a4e015ee46",
        "accountsbyname",
        "_apis/gallery/publisher/{publisherName}/extension/{extensionName}/accountsbyname/{accountName}",
        1,
    ),
    (
        "3d13c499-2168-4d06-bef4-14aba185dcd5",
        "events",
        "_apis/gallery/publishers/{publisherName}/extensions/{extensionName}/events",
        1,
    ),
)


@dataclass(frozen=True, kw_only=True)
class Upload:
    """One package the double accepted."""

    operation: str  # "create" or "update"
    publisher: str
    extension_id: str
    version: str
    display_name: str
    gallery_flags: tuple[str, ...]
    package: bytes = field(repr=False)  # the VSIX as uploaded

    def open(self) -> zipfile.ZipFile:
        return zipfile.ZipFile(io.BytesIO(self.package))


@dataclass(frozen=True, kw_only=True)
class Share:
    publisher: str
    extension_id: str
    organization: str


@dataclass
class _Extension:
    publisher: str
    extension_id: str
    display_name: str
    gallery_flags: tuple[str, ...]
    versions: list[tuple[str, datetime]]  # (version, published), oldest first
    shared_with: list[str]
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.refusal)
        self.reply = reply


class MarketplaceDouble(LoopbackDouble):
    """The Marketplace double; a context manager that serves HTTP on 127.0.0.1 while open."""

    def __init__(self, verifier: JwtVerifier, *, on_request: Callable[[IncomingRequest], None] | None = None) -> None:
        self.verifier = verifier
        self.on_request = on_request
        self.events_page_limit: int | None = None  # the most events of one type in one answer
        self._members: dict[str, set[str]] = {}  # publisher -> object ids of its members
        self._extensions: dict[tuple[str, str], _Extension] = {}
        self._events: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
        self._event_failures: deque[tuple[HTTPStatus, dict[str, str]]] = deque()
        self._uploads: list[Upload] = []
        self._shares: list[Share] = []
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handle, name="marketplace-double")

    # -- lifecycle and records

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/``: the value for tfx's ``--service-url`` and ``--marketplace-url``."""
        return self._server.base_url + "/"

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        return self._server.requests

    @property
    def uploads(self) -> tuple[Upload, ...]:
        with self._lock:
            return tuple(self._uploads)

    @property
    def shares(self) -> tuple[Share, ...]:
        with self._lock:
            return tuple(self._shares)

    # -- configuration

    def add_publisher(self, name: str, *, members: Iterable[str]) -> None:
        """A publisher whose members are the given Entra ID object ids (the ``oid`` of their tokens)."""
        with self._lock:
            self._members[name] = set(members)

    def add_events(self, publisher: str, extension: str, event_type: str, events: Iterable[Mapping[str, Any]]) -> None:
        """Events as the service returns them: ``{"id", "statisticDate" (ISO 8601), "version", "properties"}``."""
        with self._lock:
            by_type = self._events.setdefault((publisher, extension), {})
            by_type.setdefault(event_type, []).extend(dict(event) for event in events)

    def fail_events(self, status: HTTPStatus, *, times: int = 1, retry_after: str | None = None) -> None:
        """Answer the next `times` events requests with `status` (and Retry-After), before anything else."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self._lock:
            self._event_failures.extend([(status, headers)] * times)

    # -- HTTP

    def _handle(self, request: IncomingRequest) -> Reply:
        if self.on_request is not None:
            self.on_request(request)
        try:
            return self._route(request)
        except _Refused as refused:
            return refused.reply

    def _route(self, request: IncomingRequest) -> Reply:
        parts = [unquote(part) for part in request.path.strip("/").split("/")]
        if parts[:2] != ["_apis", "gallery"]:
            raise _Refused(_error(HTTPStatus.NOT_FOUND, "The resource cannot be found.", "NotFound"))
        match request.method, parts[2:]:
            case "OPTIONS", []:
                return Reply(status=HTTPStatus.OK, body={"count": len(_GALLERY_LOCATIONS), "value": _locations()})
            case "GET", ["publishers", publisher, "extensions", extension, "events"]:
                # Scripted failures come before authentication, as a throttling front end answers.
                return self._events_reply(request, publisher=publisher, extension=extension)
            case "GET", ["publishers", publisher, "extensions", extension]:
                self._authenticate(request)
                return self._extension_reply(publisher, extension)
            case "POST", ["extensions"]:
                return self._publish(request, self._authenticate(request), operation="create", route_identity=None)
            case "PUT", ["publishers", publisher, "extensions", extension]:
                caller = self._authenticate(request)
                return self._publish(request, caller, operation="update", route_identity=(publisher, extension))
            case "POST", ["publisher", publisher, "extension", extension, "accountsbyname", organization]:
                return self._share(self._authenticate(request), publisher, extension, organization)
        raise _Refused(_error(HTTPStatus.NOT_FOUND, "The resource cannot be found.", "NotFound"))

    def _authenticate(self, request: IncomingRequest) -> str:
        """The caller's object id; raises _Refused (401, or 400 without an api-version) otherwise."""
        accept = request.headers.get("accept", "")
        if "api-version" not in request.query and "api-version=" not in accept:
            raise _Refused(
                _error(
                    HTTPStatus.BAD_REQUEST,
                    "No api-version was supplied for the request. An api-version must be supplied.",
                    "VssVersionNotSpecifiedException",
                )
            )
        token = _token(request.headers.get("authorization", ""))
        try:
            claims = self.verifier.verify(token or "")
        except InvalidToken as error:
            raise _Refused(_unauthorized(f"token {error.reason}")) from None
        return str(claims.get("oid", ""))

    def _require_member(self, caller: str, publisher: str, action: str) -> None:
        with self._lock:
            members = self._members.get(publisher)
        if members is None or caller not in members:
            message = (
                f"Access Denied: {caller} needs the following permission(s) on the resource /{publisher} "
                f"to perform this action: {action}"
            )
            raise _Refused(_error(HTTPStatus.FORBIDDEN, message, "AccessCheckException", refusal="not a member"))

    def _extension_reply(self, publisher: str, extension: str) -> Reply:
        with self._lock:
            found = self._extensions.get((publisher, extension))
            body = _published_extension(found) if found is not None else None
        if body is None:
            raise _Refused(
                _error(
                    HTTPStatus.NOT_FOUND,
                    f"TF1590006: Extension '{publisher}.{extension}' doesn't exist.",
                    "ExtensionDoesNotExistException",
                )
            )
        return Reply(status=HTTPStatus.OK, body=body)

    def _publish(
        self, request: IncomingRequest, caller: str, *, operation: str, route_identity: tuple[str, str] | None
    ) -> Reply:
        package = _package_from(request.body)
        identity = _identity_of(package)
        publisher, extension_id, version, display_name, flags = identity
        self._require_member(caller, publisher, "Create or update extension")
        if route_identity is not None and route_identity != (publisher, extension_id):
            raise _Refused(_bad_request(f"The package is {publisher}.{extension_id}, not {'.'.join(route_identity)}."))
        now = datetime.now(UTC)
        with self._lock:
            existing = self._extensions.get((publisher, extension_id))
            if operation == "create" and existing is not None:
                raise _Refused(
                    _error(
                        HTTPStatus.CONFLICT,
                        f"TF1590019: Extension '{publisher}.{extension_id}' already exists.",
                        "ExtensionAlreadyExistsException",
                    )
                )
            if operation == "update" and existing is None:
                raise _Refused(_bad_request(f"Extension '{publisher}.{extension_id}' doesn't exist."))
            if existing is not None and not _newer(version, existing.versions[-1][0]):
                raise _Refused(
                    _bad_request(f"Version number must increase each time an extension is published: {version}.")
                )
            if existing is None:
                existing = _Extension(publisher, extension_id, display_name, flags, [], [])
                self._extensions[(publisher, extension_id)] = existing
            existing.display_name, existing.gallery_flags = display_name, flags
            existing.versions.append((version, now))
            self._uploads.append(
                Upload(
                    operation=operation,
                    publisher=publisher,
                    extension_id=extension_id,
                    version=version,
                    display_name=display_name,
                    gallery_flags=flags,
                    package=package,
                )
            )
            body = _published_extension(existing)
        return Reply(status=HTTPStatus.OK if operation == "update" else HTTPStatus.CREATED, body=body)

    def _share(self, caller: str, publisher: str, extension: str, organization: str) -> Reply:
        self._require_member(caller, publisher, "Share extension")
        with self._lock:
            found = self._extensions.get((publisher, extension))
            if found is not None:
                if organization not in found.shared_with:
                    found.shared_with.append(organization)
                self._shares.append(Share(publisher=publisher, extension_id=extension, organization=organization))
        if found is None:
            raise _Refused(_bad_request(f"Extension '{publisher}.{extension}' doesn't exist."))
        return Reply(status=HTTPStatus.OK, body={})

    def _events_reply(self, request: IncomingRequest, *, publisher: str, extension: str) -> Reply:
        with self._lock:
            failure = self._event_failures.popleft() if self._event_failures else None
        if failure is not None:
            status, headers = failure
            body = {"message": f"scripted {status.value}", "typeKey": "ScriptedFailure"}
            return Reply(status=status, body=body, headers=headers, refusal="scripted")
        caller = self._authenticate(request)
        self._require_member(caller, publisher, "View extension statistics")
        query = request.query
        with self._lock:
            known = (publisher, extension) in self._events or (publisher, extension) in self._extensions
            stored = {kind: list(events) for kind, events in self._events.get((publisher, extension), {}).items()}
        if not known:
            raise _Refused(
                _error(
                    HTTPStatus.NOT_FOUND,
                    f"TF1590006: Extension '{publisher}.{extension}' doesn't exist.",
                    "ExtensionDoesNotExistException",
                )
            )
        include = [name for name in query.get("include", "").split(",") if name] or list(stored)
        after = _after_date(query.get("afterDate"))
        count = int(query["count"]) if query.get("count") else None
        events = {kind: self._select(stored.get(kind, []), after, count) for kind in include}
        return Reply(
            status=HTTPStatus.OK,
            body={"publisherName": publisher, "extensionName": extension, "events": events},
        )

    def _select(self, events: list[dict[str, Any]], after: datetime | None, count: int | None) -> list[dict[str, Any]]:
        ordered = sorted(events, key=lambda event: _moment(event["statisticDate"]))
        if count is not None:
            return ordered[-count:] if count else []  # the latest `count`, whatever afterDate says
        if after is not None:
            ordered = [event for event in ordered if _moment(event["statisticDate"]) >= after]
        return ordered[: self.events_page_limit] if self.events_page_limit is not None else ordered


def _locations() -> list[dict[str, Any]]:
    return [
        {
            "id": location_id,
            "area": "gallery",
            "resourceName": resource,
            "routeTemplate": template,
            "resourceVersion": resource_version,
            "minVersion": "1.0",
            "maxVersion": "7.2",
            "releasedVersion": "0.0",
        }
        for location_id, resource, template, resource_version in _GALLERY_LOCATIONS
    ]


def _token(authorization: str) -> str | None:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None  # the password; the user name does not matter
    return None


def _package_from(body: bytes) -> bytes:
    try:
        document = json.loads(body)
        return base64.b64decode(document["extensionManifest"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _Refused(_bad_request("The request body must be {extensionManifest: <base64 VSIX>}.")) from None


def _identity_of(package: bytes) -> tuple[str, str, str, str, tuple[str, ...]]:
    """(publisher, extension id, version, display name, gallery flags) from the package's vsixmanifest."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            manifest = archive.read("extension.vsixmanifest")
        root = ElementTree.fromstring(manifest)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        raise _Refused(_bad_request("The package is not a VSIX with an extension.vsixmanifest.")) from None
    metadata = root.find(f"{_VSIX_NAMESPACE}Metadata")
    identity = metadata.find(f"{_VSIX_NAMESPACE}Identity") if metadata is not None else None
    if metadata is None or identity is None or not all(identity.get(key) for key in ("Publisher", "Id", "Version")):
        raise _Refused(_bad_request("The vsixmanifest has no Metadata/Identity with Publisher, Id and Version."))
    display_name = metadata.findtext(f"{_VSIX_NAMESPACE}DisplayName", default="")
    flags = tuple(metadata.findtext(f"{_VSIX_NAMESPACE}GalleryFlags", default="").split())
    return identity.get("Publisher", ""), identity.get("Id", ""), identity.get("Version", ""), display_name, flags


def _published_extension(extension: _Extension) -> dict[str, Any]:
    public = "Public" in extension.gallery_flags
    return {
        "extensionId": extension.uuid,
        "extensionName": extension.extension_id,
        "displayName": extension.display_name,
        "publisher": {"publisherName": extension.publisher, "displayName": extension.publisher},
        "flags": "validated, public" if public else "validated",
        "versions": [
            {"version": version, "flags": "validated", "lastUpdated": published.isoformat()}
            for version, published in reversed(extension.versions)
        ],
        "sharedWith": [{"name": name, "type": "account"} for name in extension.shared_with],
        "lastUpdated": extension.versions[-1][1].isoformat(),
    }


def _newer(version: str, than: str) -> bool:
    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(part) if part.isdigit() else 0 for part in text.split("."))

    return parts(version) > parts(than)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _after_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return _moment(text)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise _Refused(_bad_request(f"The value '{text}' is not valid for afterDate.")) from None


def _error(status: HTTPStatus, message: str, type_key: str, *, refusal: str | None = None) -> Reply:
    # The shape of every Azure DevOps service error.
    body = {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": f"Microsoft.VisualStudio.Services.Gallery.WebApi.{type_key}, {_ASSEMBLY}",
        "typeKey": type_key,
        "errorCode": 0,
        "eventId": 3000,
    }
    return Reply(status=status, body=body, refusal=refusal or message)


def _bad_request(message: str) -> Reply:
    return _error(HTTPStatus.BAD_REQUEST, message, "InvalidOperationException")


def _unauthorized(refusal: str) -> Reply:
    return _error(
        HTTPStatus.UNAUTHORIZED,
        "TF400813: The user '' is not authorized to access this resource.",
        "UnauthorizedRequestException",
        refusal=refusal,
    )

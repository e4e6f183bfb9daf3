"""A loopback double of Azure Artifacts feeds, for tests only (never shipped).

What it implements, under ``/{org}/{project}/_packaging/{feed}/`` (``/{org}/_packaging/{feed}/`` for a feed of the
organization), as Renovate 44.121.2's datasources read it:

- npm: ``npm/registry/<name>`` (scoped names as ``@scope%2fname``, either case, or a plain slash): the packument
  with ``name``, ``dist-tags``, ``versions`` and ``time``;
- NuGet v3: ``nuget/v3/index.json`` (the service index naming ``RegistrationsBaseUrl/3.6.0`` and
  ``PackageBaseAddress/3.0.0``), registration indexes with their pages inlined
  (``nuget/v3/registrations2-semver2/<id>/index.json``), the flat container's version list
  (``nuget/v3/flat2/<id>/index.json``) and ``.nuspec`` files;
- PyPI: the simple index ``pypi/simple/<name>/``, PEP 691 JSON when ``Accept`` asks for
  ``application/vnd.pypi.simple.v1+json``, PEP 503 HTML otherwise;
- authentication as the service checks an Entra ID token: ``Basic`` with any user name and the token as password,
  or ``Bearer <token>``; the token must verify like at Azure DevOps (signature, audience, expiry, tenant; the
  Azure DevOps double's ``authenticate``). Without credentials, or with ones that do not verify: 401 with the
  service's challenge (``WWW-Authenticate: Bearer authorization_uri=...``, ``Basic realm=...``,
  ``TFS-Federated``). An identity with no role on the feed: 403 with ``FeedNeedsPermissionsException``;
- a request log (the loopback server's), with why a request was refused.

What it leaves out: publishing, upstream sources, views (``@Release``), package downloads (tarballs, ``.nupkg``,
wheels), Maven, search, the feed management REST API and any role above Reader.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import unquote

from tests.doubles.azure_devops.auth import DEFAULT_AUTHORITY, authenticate, challenge_headers
from tests.doubles.jwt_verifier import JwtVerifier
from tests.doubles.loopback import IncomingRequest, LoopbackDouble, LoopbackServer, RecordedRequest, Reply
from tests.doubles.registry import normalize_python_name

_FEED_PATH: Final = re.compile(
    r"^/(?P<org>[^/]+)/(?:(?P<project>[^/_][^/]*)/)?_packaging/(?P<feed>[^/]+)/(?P<protocol>npm|nuget|pypi)/(?P<rest>.*)$"
)
PEP_691_JSON: Final = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True, kw_only=True)
class FeedPackages:
    """What one feed holds: package name -> version -> publish time (ISO 8601), per protocol."""

    npm: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    nuget: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    pypi: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Feed:
    project: str | None  # None for a feed of the organization
    name: str
    packages: FeedPackages
    readers: frozenset[str]  # object ids holding Feed Reader (or more)


class AzureArtifactsDouble(LoopbackDouble):
    """Feeds of one organization on 127.0.0.1; a context manager."""

    def __init__(
        self,
        verifier: JwtVerifier,
        *,
        organization: str,
        tenant_id: str,
        authority: str = DEFAULT_AUTHORITY,
    ) -> None:
        self.organization = organization
        self._verifier = verifier
        self._tenant_id = tenant_id
        self._authority = authority
        self._feeds: dict[tuple[str | None, str], Feed] = {}
        self._server = LoopbackServer(self._handle, name="azure-artifacts-double")

    def add_feed(
        self, project: str | None, name: str, packages: FeedPackages, *, readers: frozenset[str] = frozenset()
    ) -> str:
        """A feed holding `packages`, readable by the object ids in `readers`; its base URL (ends in `/`)."""
        self._feeds[(project, name.lower())] = Feed(project=project, name=name, packages=packages, readers=readers)
        return self.feed_url(project, name)

    def grant_reader(self, project: str | None, name: str, object_id: str) -> None:
        feed = self._feeds[(project, name.lower())]
        self._feeds[(project, name.lower())] = Feed(
            project=project, name=feed.name, packages=feed.packages, readers=feed.readers | {object_id}
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: what `endpoints.azure_artifacts` names in the tests."""
        return self._server.base_url

    def feed_url(self, project: str | None, name: str) -> str:
        scope = f"{project}/" if project else ""
        return f"{self.base_url}/{self.organization}/{scope}_packaging/{name}/"

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        return self._server.requests

    # -- answering

    def _handle(self, request: IncomingRequest) -> Reply:
        match = _FEED_PATH.match(request.path)
        if request.method not in ("GET", "HEAD") or match is None or unquote(match["org"]) != self.organization:
            return Reply(status=HTTPStatus.NOT_FOUND, body=_error("The resource cannot be found."), refusal="no route")
        credentials = authenticate(_as_bearer(request.headers.get("authorization")), self._verifier, self._tenant_id)
        if not credentials.verified:
            return self._challenge(credentials.reason or "refused")
        project = unquote(match["project"]) if match["project"] else None
        feed = self._feeds.get((project, unquote(match["feed"]).lower()))
        if feed is None:
            message = f"Feed '{unquote(match['feed'])}' doesn't exist."
            return Reply(status=HTTPStatus.NOT_FOUND, body=_error(message, "FeedIdNotFoundException"))
        if credentials.oid not in feed.readers:
            message = (
                f"User '{credentials.oid}' lacks permission to complete this action. You need to have 'ReadPackages'."
            )
            return Reply(
                status=HTTPStatus.FORBIDDEN,
                body=_error(message, "FeedNeedsPermissionsException"),
                refusal="no role on the feed",
            )
        protocol, rest = match["protocol"], unquote(match["rest"])
        base = self.feed_url(project, feed.name)
        answer = {"npm": _npm, "nuget": _nuget, "pypi": _pypi}[protocol](feed.packages, rest, base, request)
        return answer or Reply(status=HTTPStatus.NOT_FOUND, body=_error("The package cannot be found."))

    def _challenge(self, reason: str) -> Reply:
        realm = f"{self.base_url}/"
        return Reply(
            status=HTTPStatus.UNAUTHORIZED,
            body=_error("TF400813: The user '' is not authorized to access this resource."),
            repeated_headers=challenge_headers(self._authority, self._tenant_id, realm),
            refusal=reason,
        )


def _as_bearer(header: str | None) -> str | None:
    """Basic credentials whose password is a token count as that token, as Azure Artifacts takes them."""
    if not header or not header.lower().startswith("basic "):
        return header
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return header
    _user, _, password = decoded.partition(":")
    return f"Bearer {password}" if password else header


def _error(message: str, type_key: str = "UnauthorizedRequestException") -> dict[str, Any]:
    return {"$id": "1", "innerException": None, "message": message, "typeName": type_key, "typeKey": type_key}


# -- npm


def _npm(packages: FeedPackages, rest: str, _base: str, _request: IncomingRequest) -> Reply | None:
    name = rest.removeprefix("registry/")
    if name == rest or not name:
        return None
    versions = packages.npm.get(name)
    if versions is None:
        return None
    latest = max(versions, key=_version_key)
    times = sorted(versions.values())
    return Reply(
        status=HTTPStatus.OK,
        body={
            "_id": name,
            "name": name,
            "dist-tags": {"latest": latest},
            "versions": {version: {"name": name, "version": version} for version in versions},
            "time": {"created": times[0], "modified": times[-1], **versions},
        },
    )


# -- NuGet v3


def _nuget(packages: FeedPackages, rest: str, base: str, _request: IncomingRequest) -> Reply | None:  # noqa: PLR0911 - one return per resource of the protocol
    v3 = f"{base}nuget/v3/"
    if rest == "v3/index.json":
        return Reply(
            status=HTTPStatus.OK,
            body={
                "version": "3.0.0",
                "resources": [
                    {"@id": f"{v3}registrations2-semver2/", "@type": "RegistrationsBaseUrl/3.6.0"},
                    {"@id": f"{v3}flat2/", "@type": "PackageBaseAddress/3.0.0"},
                ],
            },
        )
    found = re.fullmatch(r"v3/(?P<kind>registrations2-semver2|flat2)/(?P<id>[^/]+)/(?P<file>.+)", rest)
    if found is None:
        return None
    package_id = next((name for name in packages.nuget if name.lower() == found["id"]), None)
    if package_id is None:
        return None
    versions = packages.nuget[package_id]
    ordered = sorted(versions, key=_version_key)
    if found["kind"] == "flat2" and found["file"] == "index.json":
        return Reply(status=HTTPStatus.OK, body={"versions": ordered})
    if found["kind"] == "flat2" and found["file"].endswith(".nuspec"):
        return Reply(
            status=HTTPStatus.OK, body=_nuspec(package_id, found["file"].split("/")[0]), content_type="application/xml"
        )
    if found["file"] != "index.json":
        return None
    registration = f"{v3}registrations2-semver2/{found['id']}/index.json"
    entries = [
        {
            "@id": f"{v3}registrations2-semver2/{found['id']}/{version}.json",
            "catalogEntry": {
                "id": package_id,
                "version": version,
                "published": versions[version],
                "listed": True,
                "packageContent": f"{v3}flat2/{found['id']}/{version}/{found['id']}.{version}.nupkg",
            },
        }
        for version in ordered
    ]
    page = {
        "@id": f"{registration}#page",
        "count": len(entries),
        "lower": ordered[0],
        "upper": ordered[-1],
        "items": entries,
    }
    return Reply(status=HTTPStatus.OK, body={"@id": registration, "count": 1, "items": [page]})


def _nuspec(package_id: str, version: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">\n'
        f"  <metadata><id>{html.escape(package_id)}</id><version>{html.escape(version)}</version></metadata>\n"
        "</package>\n"
    )


# -- PyPI simple index


def _pypi(packages: FeedPackages, rest: str, base: str, request: IncomingRequest) -> Reply | None:
    found = re.fullmatch(r"simple/(?P<name>[^/]+)/?", rest)
    if found is None:
        return None
    wanted = normalize_python_name(found["name"])
    name = next((n for n in packages.pypi if normalize_python_name(n) == wanted), None)
    if name is None:
        return None
    files = [
        (f"{wanted.replace('-', '_')}-{version}.tar.gz", uploaded)
        for version, uploaded in sorted(packages.pypi[name].items(), key=lambda item: _version_key(item[0]))
    ]
    download = f"{base}pypi/download/{wanted}"
    if PEP_691_JSON in request.headers.get("accept", ""):
        body = {
            "meta": {"api-version": "1.0"},
            "name": wanted,
            "files": [
                {"filename": file, "url": f"{download}/{file}", "hashes": {}, "upload-time": uploaded}
                for file, uploaded in files
            ],
        }
        return Reply(status=HTTPStatus.OK, body=json.dumps(body), content_type=PEP_691_JSON)
    links = "\n".join(f'<a href="{download}/{file}">{file}</a><br/>' for file, _ in files)
    page = f"<!DOCTYPE html>\n<html><head><title>Links for {wanted}</title></head><body>\n{links}\n</body></html>\n"
    return Reply(status=HTTPStatus.OK, body=page, content_type="text/html")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))

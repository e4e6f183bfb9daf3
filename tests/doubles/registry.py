"""A loopback package-registry double that serves frozen versions to Renovate's npm and PyPI datasources.

What it implements, as Renovate 44 reads it (lib/modules/datasource/npm/get.ts and pypi/index.ts):

- npm packuments: ``GET /<name>`` and, for scoped packages, ``GET /@scope%2Fname`` (either case of
  ``%2F``, or a plain slash). The body carries ``name``, ``dist-tags``, ``versions`` (each with ``name``,
  ``version`` and ``repository``), ``time`` (one ISO timestamp per version), ``repository`` and
  ``homepage``. That is also enough for ``npm view <pkg>@<range> version``.
- the PyPI JSON API: ``GET /pypi/<name>/json``, names matched after PEP 503 normalization. The body carries
  ``info`` (``name``, ``version``, ``home_page``, ``project_urls``) and ``releases``, one sdist entry per
  version with its ``upload_time``.
- new releases while it runs (`publish`): a test moves the versions between two sweeps, as time does to a
  real registry, and the next lookup sees the release with its publish time and `latest` moved to it.
- a request log: every request, answered or not, is recorded as (method, path, status), so tests can assert
  that Renovate asked this registry for exactly the expected packages. Unknown names get 404; methods other
  than GET get 405.

What it leaves out: tarballs and ``dist`` metadata, version documents (``GET /<name>/<version>``), search,
audit, login and publish, the PyPI simple API (PEP 503/691) and per-version JSON. Renovate uses the JSON API
when its registry URL does not end in ``/simple/``; only after a failed JSON lookup (an unknown name) does it
retry ``GET /pypi/<name>/``, which this double answers 404 and records.

Caching: responses say ``Cache-Control: no-store``. Renovate keeps npm packuments in its package cache only
when they are marked public, so every npm lookup reaches this double. Renovate's PyPI datasource caches
results for 15 minutes under the registry URL, which holds this double's random port: a Renovate cache
directory shared between runs against the same double instance can answer a repeated PyPI lookup without
asking again.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from tests.doubles.latency import Latency, wait

DATA_DIR = Path(__file__).with_name("registry_data")
LOOPBACK = "127.0.0.1"
PYPI_PREFIX = "/pypi/"

_PYPI_JSON_PATH = re.compile(r"^/pypi/(?P<name>[^/]+)/json/?$")
_STALL_LIMIT_S = 600
_NPM_NAME = re.compile(r"^(?:@[^/@]+/)?[^/@][^/]*$")


def normalize_python_name(name: str) -> str:
    """PEP 503 normalization, the form Renovate and pip put into index URLs."""
    return re.sub(r"[-_.]+", "-", name).lower()


class NpmPackage(BaseModel):
    """One npm package of the frozen data: its versions with their publish times."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    repository: str | dict[str, str] | None = None
    homepage: str | None = None
    dist_tags: dict[str, str] = Field(alias="dist-tags")
    versions: dict[str, str]

    @model_validator(mode="after")
    def _tags_name_known_versions(self) -> Self:
        unknown = {tag: version for tag, version in self.dist_tags.items() if version not in self.versions}
        if unknown or "latest" not in self.dist_tags:
            raise ValueError(f"dist-tags need 'latest' and must name listed versions; unknown: {unknown}")
        return self


class PypiProject(BaseModel):
    """One PyPI project of the frozen data: its releases with their upload times."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    latest: str
    home_page: str | None = None
    project_urls: dict[str, str] = Field(default_factory=dict)
    releases: dict[str, str]

    @model_validator(mode="after")
    def _latest_is_a_release(self) -> Self:
        if self.latest not in self.releases:
            raise ValueError(f"latest {self.latest!r} is not among the releases")
        return self


@dataclass(frozen=True, kw_only=True)
class FrozenPackages:
    """Everything the double serves, keyed by npm name and by normalized Python name."""

    npm: dict[str, NpmPackage]
    pypi: dict[str, PypiProject]

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR) -> FrozenPackages:
        npm = TypeAdapter(dict[str, NpmPackage]).validate_json((data_dir / "npm.json").read_bytes())
        pypi = TypeAdapter(dict[str, PypiProject]).validate_json((data_dir / "pypi.json").read_bytes())
        misnamed = [key for key in pypi if key != normalize_python_name(key)]
        if misnamed:
            raise ValueError(f"pypi.json keys must be PEP 503 normalized: {misnamed}")
        return cls(npm=npm, pypi=pypi)


def npm_packument(name: str, package: NpmPackage) -> dict[str, Any]:
    """The full packument the npm registry answers for one package."""
    times = sorted(package.versions.values())
    return {
        "_id": name,
        "name": name,
        "dist-tags": package.dist_tags,
        "versions": {
            version: {"name": name, "version": version, "repository": package.repository}
            for version in package.versions
        },
        "time": {"created": times[0], "modified": times[-1], **package.versions},
        "repository": package.repository,
        "homepage": package.homepage,
    }


def pypi_project_json(project: PypiProject) -> dict[str, Any]:
    """The answer of the PyPI JSON API (``/pypi/<name>/json``) for one project."""
    return {
        "info": {
            "name": project.name,
            "version": project.latest,
            "home_page": project.home_page,
            "project_urls": project.project_urls,
        },
        "releases": {
            version: [
                {
                    "filename": f"{normalize_python_name(project.name).replace('-', '_')}-{version}.tar.gz",
                    "packagetype": "sdist",
                    "upload_time": uploaded,
                    "upload_time_iso_8601": f"{uploaded}.000000Z",
                    "requires_python": None,
                    "yanked": False,
                }
            ]
            for version, uploaded in project.releases.items()
        },
    }


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it arrived: the path keeps its query string and percent-encoding."""

    method: str
    path: str
    status: int


class _RegistryServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, packages: FrozenPackages, latency: Latency) -> None:
        super().__init__((LOOPBACK, 0), _RegistryHandler)
        self.packages = packages
        self.latency = latency
        self.stalled: frozenset[str] = frozenset()  # names whose lookups never get an answer
        self.closing = threading.Event()
        self.recorded: list[RecordedRequest] = []
        self.lock = threading.Lock()

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.recorded.append(request)


class _RegistryHandler(BaseHTTPRequestHandler):
    server: _RegistryServer
    # Keep-alive lets npm and Renovate reuse one connection, as they do with a real registry.
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        wait(self.server.latency.registry_s)
        path = urlsplit(self.path).path
        if unquote(path.removeprefix("/")) in self.server.stalled:
            # A registry that accepted the connection and then hung: the client waits until its own timeout.
            self.server.record(RecordedRequest(self.command, self.path, 0))
            self.server.closing.wait(_STALL_LIMIT_S)
            self.close_connection = True
            return
        body = self._lookup(path)
        if body is None:
            self._answer(HTTPStatus.NOT_FOUND, {"error": "Not found"})
        else:
            self._answer(HTTPStatus.OK, body)

    def _lookup(self, path: str) -> dict[str, Any] | None:
        packages = self.server.packages
        pypi_match = _PYPI_JSON_PATH.match(path)
        if pypi_match:
            project = packages.pypi.get(normalize_python_name(unquote(pypi_match["name"])))
            return pypi_project_json(project) if project else None
        if path.startswith(PYPI_PREFIX):
            return None
        name = unquote(path.removeprefix("/"))
        package = packages.npm.get(name) if _NPM_NAME.match(name) else None
        return npm_packument(name, package) if package else None

    def _refuse(self) -> None:
        # The request body stays unread, so this connection cannot carry another request.
        self.close_connection = True
        self._answer(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "This registry double only answers GET"})

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _refuse

    def _answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        self.server.record(RecordedRequest(self.command, self.path, status.value))
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line: the request log is the record."""


class RegistryDouble:
    """A started-on-demand registry on 127.0.0.1 at a free port; use it as a context manager.

    With a `latency`, each lookup waits `latency.registry_s` before it is answered, as a real registry makes it.
    """

    def __init__(self, packages: FrozenPackages | None = None, *, latency: Latency = Latency.NONE) -> None:
        self._server = _RegistryServer(packages or FrozenPackages.load(), latency)
        self._thread = threading.Thread(target=self._serve, name="registry-double", daemon=True)

    def _serve(self) -> None:
        # A short poll keeps close() quick: shutdown() waits for the serving loop to notice it.
        self._server.serve_forever(poll_interval=0.05)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def publish(self, name: str, version: str, published_at: str) -> None:
        """Release `version` of the npm package `name` at `published_at` (ISO 8601) and make it `latest`."""
        packages = self._server.packages
        package = packages.npm[name]
        released = package.model_copy(
            update={
                "versions": {**package.versions, version: published_at},
                "dist_tags": {**package.dist_tags, "latest": version},
            }
        )
        self._server.packages = dataclasses.replace(packages, npm={**packages.npm, name: released})

    def stall(self, *names: str) -> None:
        """From now on, lookups of these npm packages hang without an answer (recorded with status 0)."""
        self._server.stalled = frozenset(names)

    def close(self) -> None:
        self._server.closing.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def packages(self) -> FrozenPackages:
        return self._server.packages

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request so far, in arrival order."""
        with self._server.lock:
            return tuple(self._server.recorded)

    def clear_requests(self) -> None:
        with self._server.lock:
            self._server.recorded.clear()


def npm_registry_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/"


def pypi_registry_url(base_url: str) -> str:
    # Without a trailing /simple/ Renovate's PyPI datasource uses the JSON API: <url><name>/json.
    return f"{base_url.rstrip('/')}{PYPI_PREFIX}"


def renovate_options(base_url: str) -> dict[str, Any]:
    """Renovate config options that send every npm and PyPI lookup to the double at ``base_url``.

    Merge them into Renovate's global config (``RENOVATE_CONFIG``). Other datasources are switched off:
    each of them would look up on the internet, which a test must not depend on.
    """
    return {
        "fetchChangeLogs": "off",
        # Renovate 44 warns about requests to loopback addresses unless an admin host rule names the host.
        "hostRules": [{"matchHost": base_url.rstrip("/"), "allowInternal": True}],
        "packageRules": [
            {"matchDatasources": ["npm"], "registryUrls": [npm_registry_url(base_url)]},
            {"matchDatasources": ["pypi"], "registryUrls": [pypi_registry_url(base_url)]},
            {"matchDatasources": ["!npm", "!pypi"], "enabled": False},
        ],
    }

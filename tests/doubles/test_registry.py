"""The registry double answers as npm and PyPI clients (and Renovate) expect, and records every request."""

import json
import re
import shutil
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .expected_updates import EXPECTED_REQUEST_PATHS, EXPECTED_UPDATES, updates_in_report
from .fixtures import registry_double_fixture  # noqa: F401 - pytest finds fixtures among module attributes
from .registry import (
    FrozenPackages,
    RecordedRequest,
    RegistryDouble,
    normalize_python_name,
    renovate_options,
)

EXAMPLES_DIR = Path(__file__).parents[2] / "examples"
SAMPLES_DIR = Path(__file__).with_name("samples")


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, Any], dict[str, str]]:
    request = urllib.request.Request(url, method=method)  # noqa: S310 - loopback http URLs built by the tests
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error), dict(error.headers)


def _registry_urls(options: dict[str, Any], datasource: str) -> list[str]:
    rules = [rule for rule in options["packageRules"] if rule.get("matchDatasources") == [datasource]]
    assert len(rules) == 1
    urls: list[str] = rules[0]["registryUrls"]
    return urls


def test_npm_packument_has_the_fields_renovate_reads(registry_double: RegistryDouble) -> None:
    status, body, headers = _get(f"{registry_double.base_url}/express")

    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert body["name"] == "express"
    assert body["dist-tags"] == {"latest": "5.1.0", "next": "5.0.0-beta.3"}
    assert list(body["versions"]) == ["4.17.1", "4.18.2", "4.21.2", "5.0.0-beta.3", "5.0.0", "5.1.0"]
    assert body["versions"]["4.17.1"] == {
        "name": "express",
        "version": "4.17.1",
        "repository": "expressjs/express",
    }
    assert body["time"]["4.17.1"] == "2019-05-26T04:25:34.606Z"
    assert set(body["versions"]) <= set(body["time"])
    assert body["repository"] == "expressjs/express"


@pytest.mark.parametrize("path", ["/@types%2Fnode", "/@types%2fnode", "/@types/node"])
def test_scoped_npm_package_is_served_however_the_slash_is_written(registry_double: RegistryDouble, path: str) -> None:
    status, body, _ = _get(registry_double.base_url + path)

    assert status == 200
    assert body["name"] == "@types/node"
    assert body["dist-tags"]["latest"] == "22.10.1"
    assert body["repository"]["directory"] == "types/node"


def test_pypi_json_api_matches_names_after_normalization(registry_double: RegistryDouble) -> None:
    status, body, _ = _get(f"{registry_double.base_url}/pypi/Python_Dateutil/json")

    assert status == 200
    assert body["info"]["name"] == "python-dateutil"
    assert body["info"]["version"] == "2.9.0.post0"
    assert list(body["releases"]) == ["2.8.1", "2.8.2", "2.9.0", "2.9.0.post0"]
    (sdist,) = body["releases"]["2.8.1"]
    assert sdist["upload_time"] == "2019-11-03T05:42:31"
    assert sdist["yanked"] is False


@pytest.mark.parametrize(
    "path",
    [
        "/left-pad",
        "/@nobody%2Fnothing",
        "/express/4.17.1",
        "/-/v1/search?text=express",
        "/pypi/no-such-project/json",
        "/pypi/requests/",
        "/pypi/requests/2.25.1/json",
    ],
)
def test_unknown_packages_and_routes_get_404_and_are_recorded(registry_double: RegistryDouble, path: str) -> None:
    status, body, _ = _get(registry_double.base_url + path)

    assert status == 404
    assert body == {"error": "Not found"}
    assert registry_double.requests == (RecordedRequest("GET", path, 404),)


def test_every_request_is_recorded_in_order_with_its_status(registry_double: RegistryDouble) -> None:
    base = registry_double.base_url
    _get(f"{base}/lodash")
    _get(f"{base}/pypi/flask/json?x=1")
    post_status, _, _ = _get(f"{base}/lodash", method="POST")
    _get(f"{base}/unknown")

    assert post_status == 405
    assert registry_double.requests == (
        RecordedRequest("GET", "/lodash", 200),
        RecordedRequest("GET", "/pypi/flask/json?x=1", 200),
        RecordedRequest("POST", "/lodash", 405),
        RecordedRequest("GET", "/unknown", 404),
    )


def test_clear_requests_empties_the_log(registry_double: RegistryDouble) -> None:
    _get(f"{registry_double.base_url}/lodash")
    registry_double.clear_requests()
    _get(f"{registry_double.base_url}/axios")

    assert registry_double.requests == (RecordedRequest("GET", "/axios", 200),)


def test_double_listens_on_loopback_and_stops_on_exit() -> None:
    with RegistryDouble() as double:
        base_url = double.base_url
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        assert _get(f"{base_url}/lodash")[0] == 200

    with pytest.raises(urllib.error.URLError):
        _get(f"{base_url}/lodash")


def test_renovate_options_point_both_datasources_at_the_double(registry_double: RegistryDouble) -> None:
    options = renovate_options(registry_double.base_url)
    (npm_url,) = _registry_urls(options, "npm")
    (pypi_url,) = _registry_urls(options, "pypi")

    # Build lookup URLs the way Renovate 44 does: npm joins the registry URL and the name with its slash
    # encoded; PyPI resolves "<normalized name>/json" against the registry URL with a trailing slash.
    npm_status, npm_body, _ = _get(f"{npm_url.rstrip('/')}/{'@types/node'.replace('/', '%2F')}")
    pypi_status, pypi_body, _ = _get(f"{pypi_url.rstrip('/')}/{normalize_python_name('Jinja2')}/json")

    assert (npm_status, npm_body["name"]) == (200, "@types/node")
    assert (pypi_status, pypi_body["info"]["name"]) == (200, "Jinja2")
    assert options["fetchChangeLogs"] == "off"
    assert options["hostRules"] == [{"matchHost": registry_double.base_url, "allowInternal": True}]
    assert {"matchDatasources": ["!npm", "!pypi"], "enabled": False} in options["packageRules"]


def _npm(registry_double: RegistryDouble, tmp_path: Path, *args: str) -> Any:
    npm = shutil.which("npm")
    assert npm, "npm is needed for this test: install Node.js and npm"
    userconfig = tmp_path / "npmrc"
    userconfig.write_text("")
    result = subprocess.run(
        [
            npm,
            *args,
            "--json",
            "--registry",
            f"{registry_double.base_url}/",
            "--userconfig",
            str(userconfig),
            "--cache",
            str(tmp_path / "npm-cache"),
            "--no-update-notifier",
            "--prefer-online",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("spec", "expected_versions", "expected_path"),
    [
        ("express@^4.17.0", ["4.17.1", "4.18.2", "4.21.2"], "/express"),
        ("@types/node@>=14 <21", ["14.14.31", "14.18.63", "20.11.0"], "/@types%2fnode"),
        ("typescript@latest", "5.7.2", "/typescript"),
    ],
)
def test_npm_cli_resolves_versions_from_the_double(
    registry_double: RegistryDouble, tmp_path: Path, spec: str, expected_versions: Any, expected_path: str
) -> None:
    versions = _npm(registry_double, tmp_path, "view", spec, "version")

    assert versions == expected_versions
    assert [request.path for request in registry_double.requests] == [expected_path]


def _example_dependencies() -> dict[str, set[tuple[str, str]]]:
    """(ecosystem, name==version or name+range) of every dependency the sample repositories declare."""
    package_json = json.loads((EXAMPLES_DIR / "npm-app" / "package.json").read_text())
    npm = {
        (name, version)
        for section in ("dependencies", "devDependencies")
        for name, version in package_json[section].items()
    }
    requirement = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?P<spec>[=<>!~].*)$")
    lines = (EXAMPLES_DIR / "pip-app" / "requirements.txt").read_text().splitlines()
    pyproject = tomllib.loads((EXAMPLES_DIR / "py-lib" / "pyproject.toml").read_text())
    python_requirements = [line for line in lines if line and not line.startswith("#")]
    python_requirements += pyproject["project"]["dependencies"]
    python_requirements += [req for group in pyproject["project"]["optional-dependencies"].values() for req in group]
    python_requirements += pyproject["build-system"]["requires"]
    pypi = set()
    for line in python_requirements:
        match = requirement.match(line)
        assert match, line
        pypi.add((match["name"], match["spec"]))
    return {"npm": npm, "pypi": pypi}


def test_the_double_serves_every_dependency_of_the_sample_repositories() -> None:
    packages = FrozenPackages.load()
    declared = _example_dependencies()

    assert {name for name, _ in declared["npm"]} == set(packages.npm)
    assert {normalize_python_name(name) for name, _ in declared["pypi"]} == set(packages.pypi)
    for name, version in declared["npm"]:
        assert version in packages.npm[name].versions, name
    for name, spec in declared["pypi"]:
        if spec.startswith("=="):
            assert spec.removeprefix("==") in packages.pypi[normalize_python_name(name)].releases, name


def test_expected_updates_name_versions_the_double_serves() -> None:
    packages = FrozenPackages.load()
    served = {name: set(package.versions) for name, package in packages.npm.items()}
    served |= {name: set(project.releases) for name, project in packages.pypi.items()}

    assert set(EXPECTED_UPDATES) == {"npm-app", "pip-app", "py-lib"}
    for updates in EXPECTED_UPDATES.values():
        for update in updates:
            key = update.dep_name if update.manager == "npm" else normalize_python_name(update.dep_name)
            assert update.new_version in served[key], update


def test_expected_request_paths_are_served(registry_double: RegistryDouble) -> None:
    paths = sorted(path for paths in EXPECTED_REQUEST_PATHS.values() for path in paths)
    statuses = [_get(registry_double.base_url + path)[0] for path in paths]

    assert statuses == [200] * len(paths)
    assert set(EXPECTED_REQUEST_PATHS) == set(EXPECTED_UPDATES)


def test_updates_in_report_reads_a_real_renovate_report() -> None:
    report = json.loads((SAMPLES_DIR / "npm-app.report.json").read_text())

    assert updates_in_report(report) == EXPECTED_UPDATES["npm-app"]


def test_a_stalled_package_gets_no_answer_until_the_client_gives_up() -> None:
    with RegistryDouble() as registry:
        registry.stall("lodash")
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            urllib.request.urlopen(f"{registry.base_url}/lodash", timeout=0.5)  # noqa: S310 - a loopback double
        assert time.monotonic() - started >= 0.5
        status, _, _ = _get(f"{registry.base_url}/express")  # other packages still answer
        assert status == 200
        assert [(request.path, request.status) for request in registry.requests] == [("/lodash", 0), ("/express", 200)]


def test_a_published_release_is_served_as_latest_from_the_next_lookup(registry_double: RegistryDouble) -> None:
    registry_double.publish("express", "5.2.0", "2025-12-01T10:00:00.000Z")

    status, body, _ = _get(f"{registry_double.base_url}/express")

    assert status == 200
    assert body["dist-tags"]["latest"] == "5.2.0"
    assert list(body["versions"])[-1] == "5.2.0"
    assert body["time"]["5.2.0"] == "2025-12-01T10:00:00.000Z"
    assert body["time"]["modified"] == "2025-12-01T10:00:00.000Z"

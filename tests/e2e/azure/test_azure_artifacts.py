"""Private packages on Azure Artifacts with the same Entra ID token as the repository, no PAT anywhere.

One repository depends on a private npm package, a private NuGet package (a `PackageReference` in a `.csproj`) and a
private PyPI package, all on a feed of the Azure Artifacts double, and on public npm and PyPI packages on the
registry double. Real Renovate, in the pinned image, looks them all up with the host rules the runner gives it
and opens exactly one pull request per update. An identity with no role on the feed gets a problem in the report
naming the feed and the role to grant.

Doubled: Entra ID, the pipeline's OIDC endpoint, Azure DevOps, the feed (npm registry, NuGet v3, PyPI simple
index) and the public registries, all on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Final

import pytest

from tests.doubles.azure_artifacts import FeedPackages
from tests.doubles.identity_fixtures import PIPELINE_APP
from tests.doubles.registry import npm_registry_url, pypi_registry_url

from .organization import Organization, changed_files, git_show, package_json

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

APP: Final = "Platform/app"
FEED: Final = "private"
CSPROJ: Final = "src/App/App.csproj"


def csproj(logging_version: str) -> str:
    return (
        '<Project Sdk="Microsoft.NET.Sdk">\n'
        "  <PropertyGroup>\n    <TargetFramework>net8.0</TargetFramework>\n  </PropertyGroup>\n"
        "  <ItemGroup>\n"
        f'    <PackageReference Include="Contoso.Logging" Version="{logging_version}" />\n'
        "  </ItemGroup>\n"
        "</Project>\n"
    )


def app_package_json(widgets: str, lodash: str) -> str:
    return package_json("app", {"@contoso/widgets": widgets, "lodash": lodash})


def requirements(auth: str, requests: str) -> str:
    return f"contoso-auth=={auth}\nrequests=={requests}\n"


SEED: Final = {
    "package.json": app_package_json("1.0.0", "4.17.15"),
    CSPROJ: csproj("2.0.0"),
    "requirements.txt": requirements("1.0.0", "2.25.1"),
}
PACKAGES: Final = FeedPackages(
    npm={"@contoso/widgets": {"1.0.0": "2024-01-10T10:00:00.000Z", "1.4.2": "2024-06-01T10:00:00.000Z"}},
    nuget={"Contoso.Logging": {"2.0.0": "2024-01-10T10:00:00+00:00", "2.1.0": "2024-05-01T10:00:00+00:00"}},
    pypi={"contoso-auth": {"1.0.0": "2024-01-10T10:00:00", "1.1.0": "2024-05-01T10:00:00"}},
)
# Branch -> (pull request title, the file it changes, what the file then holds).
EXPECTED: Final = {
    "renovate/contoso-widgets-1.x": (
        "Update dependency @contoso/widgets to v1.4.2",
        "package.json",
        app_package_json("1.4.2", "4.17.15"),
    ),
    "renovate/lodash-4.x": (
        "Update dependency lodash to v4.17.21",
        "package.json",
        app_package_json("1.0.0", "4.17.21"),
    ),
    "renovate/contoso.logging-2.x": ("Update dependency Contoso.Logging to 2.1.0", CSPROJ, csproj("2.1.0")),
    "renovate/contoso-auth-1.x": (
        "Update dependency contoso-auth to v1.1.0",
        "requirements.txt",
        requirements("1.1.0", "2.25.1"),
    ),
    "renovate/requests-2.x": (
        "Update dependency requests to v2.32.3",
        "requirements.txt",
        requirements("1.0.0", "2.32.3"),
    ),
}


def feed_options(organization: Organization, feed_url: str) -> dict[str, Any]:
    """Renovate's global options: public packages from the registry double, `@contoso/*`, `Contoso.*` and
    `contoso-*` from the feed, as a team's config (or their .npmrc / nuget.config) would name them."""
    registry = organization.registry.base_url
    return {
        "hostRules": [
            {"matchHost": registry, "allowInternal": True},
            {"matchHost": organization.feeds.base_url, "allowInternal": True},  # loopback, not a PAT
        ],
        "packageRules": [
            {"matchDatasources": ["npm"], "registryUrls": [npm_registry_url(registry)]},
            {"matchDatasources": ["pypi"], "registryUrls": [pypi_registry_url(registry)]},
            {"matchDatasources": ["!npm", "!pypi", "!nuget"], "enabled": False},
            {"matchPackageNames": ["@contoso/**"], "registryUrls": [f"{feed_url}npm/registry/"]},
            {"matchDatasources": ["nuget"], "registryUrls": [f"{feed_url}nuget/v3/index.json"]},
            {"matchPackageNames": ["contoso-auth"], "registryUrls": [f"{feed_url}pypi/simple/"]},
        ],
    }


def test_private_npm_nuget_and_pypi_packages_update_with_the_repositorys_own_token(
    organization: Organization,
) -> None:
    feed_url = organization.feeds.add_feed("Platform", FEED, PACKAGES, readers=frozenset({PIPELINE_APP.object_id}))
    organization.seed(APP, SEED)
    organization.configure([APP], mode="pipelines", renovate_global=feed_options(organization, feed_url))

    sweep = organization.sweep(organization.environ("pipelines"))

    assert sweep.exit_code == 0, sweep.run.describe()
    outcome = sweep.outcomes[APP]
    assert outcome["status"] == "succeeded", outcome
    assert outcome["problems"] == [], outcome["problems"]
    bare = organization.devops.bare_path("Platform", "app")
    pulls = organization.devops.pull_requests("Platform", "app")
    assert {pr.source_ref.removeprefix("refs/heads/"): pr.title for pr in pulls} == {
        branch: title for branch, (title, _, _) in EXPECTED.items()
    }
    for branch, (_, path, content) in EXPECTED.items():
        assert changed_files(bare, branch) == [path], branch
        assert git_show(bare, branch, path) == content, branch

    # The runner asked the feed once (with its bearer token) whether the identity may read it; then every
    # ecosystem's lookup reached the feed with Basic credentials carrying an Entra token of the pipeline's identity,
    # and the feed refused nothing.
    runner_probe, *renovate_requests = organization.feeds.requests
    assert runner_probe.headers["authorization"].startswith("Bearer ")
    asked = {request.path.split("/_packaging/private/")[1].split("/")[0] for request in renovate_requests}
    assert asked == {"npm", "nuget", "pypi"}
    assert [(request.path, request.status) for request in renovate_requests if request.status != 200] == []
    schemes = {request.headers["authorization"].split(" ")[0] for request in renovate_requests}
    assert schemes == {"Basic"}
    passwords = {basic_password(request.headers["authorization"]) for request in renovate_requests}
    assert passwords <= set(organization.entra.issued_tokens)
    assert organization.refused_requests() == []


def basic_password(header: str) -> str:
    return base64.b64decode(header.split(" ", 1)[1]).decode().partition(":")[2]


def test_an_identity_without_a_role_on_the_feed_gets_a_problem_naming_the_feed_and_the_role(
    organization: Organization,
) -> None:
    feed_url = organization.feeds.add_feed("Platform", FEED, PACKAGES)  # nobody holds a role on it
    organization.seed(APP, SEED)
    organization.configure([APP], mode="pipelines", renovate_global=feed_options(organization, feed_url))

    sweep = organization.sweep(organization.environ("pipelines"))

    outcome = sweep.outcomes[APP]
    messages = [problem["message"] for problem in outcome["problems"] if problem["level"] == "warning"]
    feed_problems = [message for message in messages if "Feed Reader" in message]
    assert len(feed_problems) == 1, json.dumps(outcome["problems"], indent=2)
    (problem,) = feed_problems
    identity = f"the identity Service principal {PIPELINE_APP.object_id[:8]} "
    identity += f"({organization.devops.identity_id(PIPELINE_APP.object_id)})"
    assert problem == (
        f"{identity} has no role on the Azure Artifacts feed {organization.feeds.organization}/Platform/{FEED}, so "
        "Renovate cannot look up or update the packages it holds; grant it Feed Reader on the feed (Artifacts > "
        f"{FEED} > Feed settings > Permissions > Add users/groups)"
    )
    # The public updates still happen; the private ones cannot.
    titles = {pr.title for pr in organization.devops.pull_requests("Platform", "app")}
    assert titles == {"Update dependency lodash to v4.17.21", "Update dependency requests to v2.32.3"}
    assert {request.status for request in organization.feeds.requests} == {403}

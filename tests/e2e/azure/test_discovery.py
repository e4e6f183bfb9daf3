"""Discovery: `discover:` lists repositories through the Azure DevOps API, and `renovate-runner plan` shows exactly
the repositories its projects, include and exclude globs select, without disabled, empty or unreadable ones."""

from __future__ import annotations

import pytest

from tests.doubles.identity_fixtures import PIPELINE_APP

from .organization import (
    Organization,
    package_json,
)

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

FILES = {"package.json": package_json("app", {"lodash": "4.17.15"})}


def test_discover_selects_exactly_the_repositories_its_filters_name(organization: Organization) -> None:
    selected = ["Platform/api", "Platform/legacy-tool", "Platform/web", "Web/site"]
    for name in selected:
        organization.seed(name, FILES)
    organization.seed("Platform/docs-archive", FILES)  # excluded: *-archive
    organization.seed("Web/legacy-portal", FILES)  # excluded: Web/legacy-* (the Platform one stays)
    organization.seed("Platform/retired", FILES, disabled=True)  # disabled
    organization.seed("Platform/new-service", empty=True)  # empty: no default branch
    organization.seed("Platform/secret", FILES, permissions=None)  # the identity cannot even see it
    organization.seed("Tools/cli", FILES)  # a project discover does not list
    organization.configure(
        # A file for a discovered repository keeps its settings; the others get the defaults.
        {"Platform/api": {"timeout": "10m"}},
        mode="pipelines",
        timeout="5m",
        discover={"projects": ["Platform", "Web"], "include": ["*"], "exclude": ["*-archive", "Web/legacy-*"]},
    )

    run, plan = organization.plan(organization.environ("pipelines"))

    assert run.exit_code == 0, run.describe()
    assert [(repo["name"], repo["kind"], repo["timeout_s"]) for repo in plan["repositories"]] == [
        ("Platform/api", "azure", 600),
        ("Platform/legacy-tool", "azure", 300),
        ("Platform/web", "azure", 300),
        ("Web/site", "azure", 300),
    ]
    assert plan["auth"]["applies"] == "pipelines"
    [discovery] = run.events_named("discovery")
    assert discovery["listed"] == 8  # the repositories of Platform and Web the identity can read
    assert sorted(discovery["skipped_disabled_or_empty"]) == ["Platform/new-service", "Platform/retired"]
    # Listed through the API, project by project, with the service connection's token.
    listings = [r.path for r in organization.devops.requests if r.path.endswith("/_apis/git/repositories")]
    assert listings == ["/contoso/Platform/_apis/git/repositories", "/contoso/Web/_apis/git/repositories"]
    assert {request.oid for request in organization.devops.requests} == {PIPELINE_APP.object_id}
    assert organization.refused_requests() == []
    assert organization.unknown_requests() == []

"""The product's main path, as a scheduled pipeline runs it: an `AzureCLI@2` step with a workload identity service
connection, `auth.mode: pipelines`, a sweep over three repositories at concurrency 2 with Renovate in full mode.

The service connection's token comes from the pipeline's OIDC endpoint, is exchanged at Entra ID, and Renovate
uses it against Azure DevOps: it clones, pushes branches that bump exactly the versions the frozen registry
offers, and opens pull requests, which the report lists. A second sweep over the same repositories keeps those
pull requests instead of opening them again.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from tests.doubles.azure_devops import PullRequestSnapshot, RecordedRequest
from tests.doubles.identity_fixtures import PIPELINE_APP
from tests.doubles.tls import LoopbackCA

from .organization import Organization, SweepOutput, changed_files, git_show, package_json

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

WEB = "Platform/web"  # npm
API = "Platform/api"  # Python: requirements.txt
TOOLS = "Platform/tools"  # npm, with its own renovate.json: one grouped pull request, with labels
REPOSITORIES = (WEB, API, TOOLS)

SEEDS: dict[str, dict[str, str]] = {
    WEB: {"package.json": package_json("web", {"lodash": "4.17.15", "express": "4.17.1"})},
    API: {"requirements.txt": "requests==2.25.1\nFlask==2.0.1\n"},
    TOOLS: {
        "package.json": package_json("tools", {"lodash": "4.17.15", "typescript": "4.1.3"}),
        "renovate.json": json.dumps(
            {
                "labels": ["dependencies", "grouped"],
                "separateMajorMinor": False,
                "packageRules": [{"matchManagers": ["npm"], "groupName": "npm dependencies"}],
            }
        ),
    },
}


@dataclass(frozen=True)
class Expected:
    """One pull request Renovate must open: its title, and the file its branch changes with what it holds."""

    title: str
    file: str
    content: str


# Branch -> pull request, per repository; the versions are the frozen registry's (tests/doubles/registry_data).
EXPECTED: dict[str, dict[str, Expected]] = {
    WEB: {
        "renovate/lodash-4.x": Expected(
            "Update dependency lodash to v4.17.21",
            "package.json",
            package_json("web", {"lodash": "4.17.21", "express": "4.17.1"}),
        ),
        "renovate/express-4.x": Expected(
            "Update dependency express to v4.21.2",
            "package.json",
            package_json("web", {"lodash": "4.17.15", "express": "4.21.2"}),
        ),
        "renovate/express-5.x": Expected(
            "Update dependency express to v5",
            "package.json",
            package_json("web", {"lodash": "4.17.15", "express": "5.1.0"}),
        ),
    },
    API: {
        "renovate/requests-2.x": Expected(
            "Update dependency requests to v2.32.3", "requirements.txt", "requests==2.32.3\nFlask==2.0.1\n"
        ),
        "renovate/flask-2.x": Expected(
            "Update dependency Flask to v2.3.3", "requirements.txt", "requests==2.25.1\nFlask==2.3.3\n"
        ),
        "renovate/flask-3.x": Expected(
            "Update dependency Flask to v3", "requirements.txt", "requests==2.25.1\nFlask==3.1.0\n"
        ),
    },
    TOOLS: {
        "renovate/npm-dependencies": Expected(
            "Update npm dependencies",
            "package.json",
            package_json("tools", {"lodash": "4.17.21", "typescript": "5.7.2"}),
        ),
    },
}
# The runner's own calls before any container starts; the rest of the request log is Renovate's.
PREFLIGHT_LAST_ROUTE = "post _apis/security/permissionevaluationbatch"
# How azure-devops-node-api creates a pull request (the template's trailing id is optional).
CREATE_PULL_REQUEST = "POST {project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}"


@dataclass(frozen=True)
class FirstSweep:
    organization: Organization
    output: SweepOutput
    pull_requests: list[PullRequestSnapshot]
    branches: dict[str, dict[str, str]]  # repository -> branch -> commit
    requests: int  # how many requests the Azure DevOps double had recorded when it finished


@pytest.fixture(scope="module", name="first_sweep")
def first_sweep_fixture(
    tmp_path_factory: pytest.TempPathFactory,
    loopback_ca: LoopbackCA,
    ca_bundle: Path,
    renovate_image: str,
    docker_client: docker.DockerClient,
) -> Iterator[FirstSweep]:
    """The organization after the first sweep; the second sweep's test continues from it."""
    with Organization(
        tmp_path_factory.mktemp("pipeline-sweep"),
        ca=loopback_ca,
        ca_bundle=ca_bundle,
        image=renovate_image,
        docker_client=docker_client,
    ) as organization:
        for repository, files in SEEDS.items():
            organization.seed(repository, files)
        organization.configure(REPOSITORIES, mode="pipelines", concurrency=2)
        output = organization.sweep(organization.environ("pipelines"))
        yield FirstSweep(
            organization=organization,
            output=output,
            pull_requests=organization.devops.pull_requests(),
            branches={name: organization.devops.branches(*name.split("/")) for name in REPOSITORIES},
            requests=len(organization.devops.requests),
        )


def route_counts(requests: Sequence[RecordedRequest]) -> collections.Counter[str]:
    return collections.Counter(str(request.route) for request in requests)


def test_a_pipeline_sweep_pushes_branches_and_opens_the_pull_requests_it_reports(first_sweep: FirstSweep) -> None:
    organization, sweep = first_sweep.organization, first_sweep.output
    devops = organization.devops

    assert sweep.exit_code == 0, sweep.run.describe()
    assert sorted(sweep.outcomes) == sorted(REPOSITORIES)
    for repository in REPOSITORIES:
        outcome = sweep.outcomes[repository]
        assert (outcome["status"], outcome["renovate_version"]) == ("succeeded", "44.121.2"), outcome
        started = [line for line in sweep.renovate_log(repository) if line.get("msg") == "Repository started"]
        assert [line["renovateVersion"] for line in started] == ["44.121.2"]  # Renovate's own word

    # Azure DevOps holds the branches and pull requests, each branch changing exactly the expected version.
    for repository, expected in EXPECTED.items():
        project, name = repository.split("/")
        assert set(devops.branches(project, name)) == {"main", *expected}, repository
        pulls = devops.pull_requests(project, name)
        assert {pr.source_ref.removeprefix("refs/heads/"): pr.title for pr in pulls} == {
            branch: pull.title for branch, pull in expected.items()
        }
        assert all(
            (pr.status, pr.target_ref, pr.created_by_oid) == ("active", "refs/heads/main", PIPELINE_APP.object_id)
            for pr in pulls
        )
        bare = devops.bare_path(project, name)
        for branch, pull in expected.items():
            assert changed_files(bare, branch) == [pull.file], branch
            assert git_show(bare, branch, pull.file) == pull.content, branch
    tools = devops.pull_requests("Platform", "tools")
    # The repository's own renovate.json. Renovate adds a pull request's labels with concurrent requests
    # (Promise.all in its azure platform), so their order is the order they happened to arrive in.
    assert [sorted(pr.labels) for pr in tools] == [["dependencies", "grouped"]]

    # The report lists every pull request by number and title, in each of its three forms.
    cases = sweep.junit_cases
    for pr in first_sweep.pull_requests:
        branch = pr.source_ref.removeprefix("refs/heads/")
        listed = sweep.outcomes[pr.repository]["prs"]
        # Created in this run: open since the run started (the history store dates it for later sweeps).
        opened = sweep.report["started_at"]
        assert {
            "number": pr.id,
            "title": pr.title,
            "branch": branch,
            "action": "created",
            "opened_at": opened,
        } in listed
        project, name = pr.repository.split("/")
        page = f"{devops.organization_url.rstrip('/')}/{project}/_git/{name}/pullrequest/{pr.id}"
        assert f"[!{pr.id}]({page}) created: {pr.title}" in sweep.summary  # linked to its Azure DevOps page
        system_out = cases[pr.repository].findtext("system-out") or ""
        assert f"!{pr.id} created: {pr.title} ({branch})" in system_out
    assert sum(len(outcome["prs"]) for outcome in sweep.outcomes.values()) == len(first_sweep.pull_requests) == 7

    # Every request reached Azure DevOps with a valid bearer token of the service connection's identity, and
    # Renovate called nothing the double does not implement.
    assert organization.refused_requests() == []
    assert organization.unknown_requests() == []
    assert {request.oid for request in devops.requests} == {PIPELINE_APP.object_id}

    # The identity came the pipeline's way: OIDC token from the job, exchanged at Entra ID, masked in the log.
    assert organization.entra.exchanges >= 1
    assert {(token.client_id, token.via) for token in organization.entra.issued} == {
        (PIPELINE_APP.client_id, "client_assertion")
    }
    assert len(organization.pipeline.issued_tokens) == organization.entra.exchanges
    masked = [line for line in sweep.run.stdout.splitlines() if line.startswith("##vso[task.setsecret]")]
    assert {line.removeprefix("##vso[task.setsecret]") for line in masked} == set(organization.entra.issued_tokens)

    requests = devops.requests[: first_sweep.requests]
    renovate_from = 1 + max(
        i for i, request in enumerate(requests) if str(request.route).lower() == PREFLIGHT_LAST_ROUTE
    )
    renovate_routes = route_counts(requests[renovate_from:])
    assert renovate_routes[CREATE_PULL_REQUEST] == 7
    print(
        f"\npipeline sweep: {len(REPOSITORIES)} repositories, {len(first_sweep.pull_requests)} pull requests, "
        f"{organization.entra.exchanges} token exchanges, {sweep.run.duration_s:.1f}s wall; routes Renovate called:"
    )
    for route, count in sorted(renovate_routes.items()):
        print(f"  {count:4d}  {route}")


def test_a_second_sweep_keeps_the_pull_requests_instead_of_opening_them_again(first_sweep: FirstSweep) -> None:
    organization = first_sweep.organization
    devops = organization.devops

    second = organization.sweep(organization.environ("pipelines"))

    assert second.exit_code == 0, second.run.describe()
    assert {name: outcome["status"] for name, outcome in second.outcomes.items()} == dict.fromkeys(
        REPOSITORIES, "succeeded"
    )
    # The same pull requests, no new one, and the branches where the first sweep left them.
    assert devops.pull_requests() == first_sweep.pull_requests
    assert {name: devops.branches(*name.split("/")) for name in REPOSITORIES} == first_sweep.branches
    assert route_counts(devops.requests[first_sweep.requests :])[CREATE_PULL_REQUEST] == 0

    # The report lists each of them, by number and title, as kept unchanged; Renovate says why in its log.
    for repository in REPOSITORIES:
        listed = second.outcomes[repository]["prs"]
        kept = [pr for pr in first_sweep.pull_requests if pr.repository == repository]
        assert sorted((pr["number"], pr["title"], pr["action"]) for pr in listed) == sorted(
            (pr.id, pr.title, "unchanged") for pr in kept
        )
        # Open since the first sweep, which the history store recorded (Renovate's report has no creation time).
        assert {pr["opened_at"] for pr in listed} == {first_sweep.output.report["started_at"]}
        said = {line.get("msg") for line in second.renovate_log(repository)}
        assert {f"Pull Request #{pr.id} does not need updating" for pr in kept} <= said
        row = next(line for line in second.summary.splitlines() if line.startswith(f"| {repository} |"))
        assert f"| {len(kept)} unchanged |" in row
    assert organization.refused_requests() == []
    assert organization.unknown_requests() == []

"""The github.com token in a real sweep from an Azure Pipelines step: handed to Renovate, checked before anything
starts, a warning when its quota is low or when there is none, and a refusal when GitHub rejects it.

Doubled: GitHub's API (`GET /rate_limit`, 401 for an unknown token), Entra ID, the pipeline's OIDC endpoint,
Azure DevOps and the registries.
"""

from __future__ import annotations

from typing import Final

import docker
import pytest

from runner.report.markdown import text as markdown_text
from tests.doubles.github_api import Quota

from .leaks import WITNESS
from .organization import Organization, package_json

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

WEB: Final = "Platform/web"
API: Final = "Platform/api"
SEEDS: Final = {
    WEB: {"package.json": package_json("web", {"lodash": "4.17.21"})},
    API: {"requirements.txt": "requests==2.32.3\n"},
}


def seeded(organization: Organization) -> None:
    for repository, files in SEEDS.items():
        organization.seed(repository, files)


def test_a_low_quota_is_one_warning_in_log_pipeline_and_summary_and_renovate_gets_the_token(
    organization: Organization,
) -> None:
    token = organization.github.issue_token(Quota(limit=5000, used=4990))
    WITNESS.add_secrets("github.com token", [token])
    seeded(organization)
    organization.configure([WEB, API], mode="pipelines", github_token_env="RENOVATE_GITHUB_TOKEN")

    sweep = organization.sweep(organization.environ("pipelines") | {"RENOVATE_GITHUB_TOKEN": token})

    assert sweep.exit_code == 0, sweep.run.describe()
    (warning,) = sweep.report["warnings"]
    assert warning.startswith("the GitHub token in RENOVATE_GITHUB_TOKEN has 10 of 5000 API calls left until ")
    assert "fewer than the about 100 this sweep of 2 repositories may need" in warning
    assert [event["warning"] for event in sweep.run.events_named("sweep_warning")] == [warning]
    issues = [line for line in sweep.run.stdout.splitlines() if line.startswith("##vso[task.logissue type=warning;]")]
    assert issues == [f"##vso[task.logissue type=warning;]{warning}"]
    assert f"- {markdown_text(warning)}" in sweep.summary.splitlines()
    assert f"##vso[task.setsecret]{token}" in sweep.run.stdout.splitlines()  # masked before anything could print it
    # Renovate in each container turned RENOVATE_GITHUB_COM_TOKEN into its github.com host rule.
    for repository in SEEDS:
        said = {line.get("msg") for line in sweep.renovate_log(repository)}
        assert "Converting GITHUB_COM_TOKEN into a global host rule" in said, repository
    (request,) = organization.github.requests
    assert request.path == "/rate_limit"


def test_a_token_github_rejects_stops_the_run_before_anything_starts(
    organization: Organization, docker_client: docker.DockerClient
) -> None:
    seeded(organization)
    organization.configure([WEB, API], mode="pipelines", github_token_env="RENOVATE_GITHUB_TOKEN")
    revoked = "github_pat_" + "x" * 40
    WITNESS.add_secrets("revoked github.com token", [revoked])

    sweep = organization.sweep(organization.environ("pipelines") | {"RENOVATE_GITHUB_TOKEN": revoked})

    assert sweep.exit_code == 3, sweep.run.describe()
    assert sweep.run.stderr.splitlines()[-1] == (
        "renovate-runner: GitHub rejects the token in RENOVATE_GITHUB_TOKEN (Bad credentials); it has expired or been "
        "revoked: create a new one (no permissions needed) and update the secret, or remove github_token_env; "
        "nothing was started"
    )
    assert not (sweep.report_dir / "report.json").exists()
    assert organization.devops.pull_requests() == []
    run_id = sweep.run.args[sweep.run.args.index("--run-id") + 1]  # other tests' sweeps may run at the same time
    assert docker_client.containers.list(all=True, filters={"name": f"renovate-{run_id}-"}) == []
    assert [request.status for request in organization.github.requests] == [401]


def test_without_a_token_the_sweep_warns_once_not_once_per_repository(organization: Organization) -> None:
    seeded(organization)
    organization.configure([WEB, API], mode="pipelines")

    sweep = organization.sweep(organization.environ("pipelines"))

    assert sweep.exit_code == 0, sweep.run.describe()
    (warning,) = sweep.report["warnings"]
    assert warning.startswith("no github.com token: Renovate skips github-tags and github-releases dependencies")
    issues = [line for line in sweep.run.stdout.splitlines() if "github.com token" in line]
    assert issues == [f"##vso[task.logissue type=warning;]{warning}"]
    assert organization.github.requests == ()

"""Renovate's own validation before a sweep from an Azure Pipelines step, with the real validator of the pinned image:
an invalid option stops the run with exit 2 before any repository starts, naming the runner's file, line and key; an
option that needs migration is a warning in the log, the pipeline and the report, and the sweep runs; the flag turns
the check off.

Doubled: Entra ID, the pipeline's OIDC endpoint, Azure DevOps and the registries.
"""

from __future__ import annotations

from typing import Final

import docker
import pytest

from .organization import Organization, package_json

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

WEB: Final = "Platform/web"


def test_an_invalid_option_stops_the_run_before_any_repository_starts(
    organization: Organization, docker_client: docker.DockerClient
) -> None:
    organization.seed(WEB, {"package.json": package_json("web", {"lodash": "4.17.15"})})
    config = organization.configure({WEB: {"renovate": {"packageRule": [{"matchPackageNames": ["lodash"]}]}}})

    sweep = organization.sweep(organization.environ("pipelines"))

    assert sweep.exit_code == 2, sweep.run.describe()
    assert f"  {config}/repos/Platform-web.yaml:3: renovate.packageRule: Invalid configuration option: packageRule" in (
        sweep.run.stderr.splitlines()
    )
    assert not (sweep.report_dir / "report.json").exists()
    assert organization.devops.pull_requests() == []
    run_id = sweep.run.args[sweep.run.args.index("--run-id") + 1]  # other tests' sweeps may run at the same time
    assert docker_client.containers.list(all=True, filters={"name": f"renovate-{run_id}-"}) == []

    skipped = organization.sweep(organization.environ("pipelines"), "--no-renovate-validation")
    assert skipped.exit_code == 0, skipped.run.describe()  # Renovate itself ignores the unknown option


def test_an_option_that_needs_migration_is_a_warning_and_the_sweep_runs(organization: Organization) -> None:
    organization.seed(WEB, {"package.json": package_json("web", {"lodash": "4.17.21"})})
    config = organization.configure([WEB], renovate_global={"baseBranches": ["main"]})

    sweep = organization.sweep(organization.environ("pipelines"))

    assert sweep.exit_code == 0, sweep.run.describe()
    migration = [warning for warning in sweep.report["warnings"] if "needs migration" in warning]
    line = next(
        number
        for number, text in enumerate((config / "runner.yaml").read_text().splitlines(), start=1)
        if text.strip().startswith("baseBranches:")
    )
    assert migration == [
        f"{config}/runner.yaml:{line}: renovate.global.baseBranches: needs migration: Renovate now reads it as "
        'baseBranchPatterns: ["main"]; write that instead'
    ]
    assert f"##vso[task.logissue type=warning;]{migration[0]}" in sweep.run.stdout.splitlines()
    assert sweep.outcomes[WEB]["status"] == "succeeded"

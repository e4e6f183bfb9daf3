"""Preflight in a real sweep: a repository that does not exist, one that is disabled and one the identity may only
read are reported `failed` with reason `preflight` and what to do, without a container, while the others run."""

from __future__ import annotations

import pytest

from tests.doubles.azure_devops import GitPermission
from tests.doubles.identity_fixtures import PIPELINE_APP

from .organization import (
    Organization,
    package_json,
)

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

GOOD = "Platform/web"
MISSING = "Platform/ghost"
DISABLED = "Platform/archive"
READ_ONLY = "Platform/readonly"


def test_repositories_the_identity_cannot_update_fail_preflight_with_what_to_grant_and_the_rest_run(
    organization: Organization,
) -> None:
    files = {"package.json": package_json("app", {"lodash": "4.17.15"})}
    organization.seed(GOOD, files)
    organization.seed(DISABLED, files, disabled=True)
    organization.seed(READ_ONLY, files, permissions=GitPermission.GENERIC_READ)
    organization.configure([GOOD, MISSING, DISABLED, READ_ONLY], mode="pipelines")

    sweep = organization.sweep(organization.environ("pipelines"))

    assert sweep.exit_code == 1, sweep.run.describe()
    statuses = {name: (outcome["status"], outcome["reason"]) for name, outcome in sweep.outcomes.items()}
    assert statuses == {
        GOOD: ("succeeded", None),
        MISSING: ("failed", "preflight"),
        DISABLED: ("failed", "preflight"),
        READ_ONLY: ("failed", "preflight"),
    }
    identity = f"the identity Service principal {PIPELINE_APP.object_id[:8]} "
    identity += f"({organization.devops.identity_id(PIPELINE_APP.object_id)})"
    details = {name: sweep.outcomes[name]["detail"] for name in (MISSING, DISABLED, READ_ONLY)}
    assert details == {
        MISSING: (
            f"{MISSING} was not found in the organization; check the project and repository names, "
            f"or grant {identity} Read on it"
        ),
        DISABLED: (
            f"{DISABLED} is disabled in Azure DevOps; enable it (Project settings > Repositories) or set enabled: false"
        ),
        READ_ONLY: (
            f"{identity} may not update {READ_ONLY}: missing Contribute, Create branch, Contribute to pull "
            "requests; grant them to it (or a group it is in) under Project settings > Repositories > Security"
        ),
    }

    # No container ran for them: no log, no exit code, and Renovate never cloned them.
    for name in details:
        assert (sweep.outcomes[name]["log"], sweep.outcomes[name]["exit_code"]) == (None, None)
    cloned = {
        request.path.split("/_git/")[1].split("/")[0]
        for request in organization.devops.requests
        if "/_git/" in request.path
    }
    assert cloned == {"web"}
    assert [pr.title for pr in organization.devops.pull_requests()] == ["Update dependency lodash to v4.17.21"]

    # Each failure is in every form of the report, and in the pipeline's log as an error.
    for name, detail in details.items():
        failure = sweep.junit_cases[name].find("failure")
        assert failure is not None
        assert (failure.get("type"), failure.get("message")) == ("failed", f"preflight: {detail}")
        assert any(line.startswith(f"| {name} | ❌ failed |") for line in sweep.summary.splitlines())
        assert any(
            line.startswith("##vso[task.logissue type=error;]") and name in line
            for line in sweep.run.stdout.splitlines()
        )
    assert "##vso[task.complete result=SucceededWithIssues;]" in sweep.run.stdout
    assert organization.refused_requests() == []
    assert organization.unknown_requests() == []

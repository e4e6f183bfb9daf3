"""The other workload identities: an App Service managed identity, and Entra Workload ID's federated token file.
Each gets its token from the doubles through the product, unmodified azure-identity underneath, and a dry-run
sweep of one repository proves Azure DevOps accepts it for Renovate's whole run."""

from __future__ import annotations

import pytest

from .organization import (
    AuthModeName,
    Organization,
    package_json,
)

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

REPOSITORY = "Platform/web"
# auth mode -> how Entra ID issued its tokens
ISSUED_VIA: dict[AuthModeName, str] = {"managed-identity": "managed_identity", "workload-identity": "client_assertion"}


@pytest.mark.parametrize("mode", ISSUED_VIA)
def test_a_mode_gets_a_token_from_the_doubles_that_azure_devops_accepts_for_a_whole_run(
    organization: Organization, mode: AuthModeName
) -> None:
    organization.seed(REPOSITORY, {"package.json": package_json("web", {"lodash": "4.17.15"})})
    organization.configure([REPOSITORY], mode=mode)
    principal = organization.principal(mode)

    sweep = organization.sweep(organization.environ(mode), "--dry-run")

    assert sweep.exit_code == 0, sweep.run.describe()
    outcome = sweep.outcomes[REPOSITORY]
    assert (outcome["status"], outcome["renovate_version"]) == ("succeeded", "44.121.2"), outcome
    assert {(u["dependency"], u["new_version"]) for u in outcome["updates"]} == {("lodash", "4.17.21")}
    assert sweep.report["dry_run"] is True
    # The token named the mode's identity, came the mode's way, and Azure DevOps accepted every request with it.
    assert {(token.client_id, token.via) for token in organization.entra.issued} == {
        (principal.client_id, ISSUED_VIA[mode])
    }
    assert {request.oid for request in organization.devops.requests} == {principal.object_id}
    assert any(request.route and request.route.endswith("git-upload-pack") for request in organization.devops.requests)
    assert organization.refused_requests() == []
    assert organization.unknown_requests() == []
    assert organization.devops.pull_requests() == []  # a dry run pushes nothing
    [ready] = sweep.run.events_named("token_source_ready")
    assert ready["mode"] == mode
    if mode == "managed-identity":
        assert [r.status for r in organization.managed_identity.requests] == [200] * len(organization.entra.issued)
    else:
        assert organization.entra.exchanges == len(organization.entra.issued) >= 1

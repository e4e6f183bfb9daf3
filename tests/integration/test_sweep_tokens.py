"""The token freshness rule in a whole sweep: an Azure DevOps repository whose token would expire before its
timeout ends never gets a container, while the rest of the sweep runs (scripted Renovate: tests/integration/scripted).
"""

from __future__ import annotations

import time

import docker
import pytest

from tests.doubles.azure_devops.double import AzureDevOpsDouble
from tests.doubles.azure_devops.fixtures import TEST_OID, SigningKey
from tests.integration.scripted import FINISHES
from tests.integration.scripted.workspace import Workspace, containers_of, repositories_created

pytestmark = pytest.mark.docker


def test_a_token_expiring_before_the_timeout_fails_its_repository_without_a_container(
    workspace: Workspace,
    run_id: str,
    docker_client: docker.DockerClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    azure_devops_double: AzureDevOpsDouble,
    ado_signing_key: SigningKey,
) -> None:
    # The organization is the Azure DevOps double, so the preflight checks pass and only the lifetime rule bites.
    azure_devops_double.add_repository("Platform", "api", {"package.json": "{}\n"})
    azure_devops_double.grant(TEST_OID)
    workspace.runner |= {
        "organization": azure_devops_double.organization_url,
        "endpoints": {"vssps": azure_devops_double.vssps_url},
        "auth": {"mode": "token-env", "margin": "5m", "floor": "5m"},
    }
    token = ado_signing_key.mint(lifetime_s=4 * 60, issued_ago_s=0)
    monkeypatch.setenv("RENOVATE_TOKEN", token)
    azure = workspace.azure_repo("Platform/api", timeout="30m")
    local = workspace.local_repo("finishes", FINISHES)
    since = int(time.time()) - 1

    output = workspace.sweep(run_id)

    assert output.exit_code == 1
    assert output.status(azure) == ("failed", "token_lifetime")
    assert output.status(local) == ("succeeded", None)
    failed = output.outcomes[azure]
    assert "valid for only 3m" in failed["detail"]
    assert "timeout 30m + margin 5m" in failed["detail"]
    assert "cannot refresh" in failed["detail"]
    assert failed["log"] is None
    assert output.junit_verdict(azure) == "failure:failed"
    assert repositories_created(docker_client, run_id, since) == [local]
    assert not containers_of(docker_client, run_id)

    printed = capsys.readouterr()
    written = [path.read_text() for path in output.report_dir.rglob("*") if path.is_file()]
    assert all(token not in text for text in (printed.out, printed.err, *written))

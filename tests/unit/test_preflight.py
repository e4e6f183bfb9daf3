"""Preflight against the Azure DevOps double: each repository the identity cannot update is marked with what to do,
the others pass; a dry run checks no write permissions."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.azure_devops import GitPermission
from runner.config import RepoConfig
from runner.errors import AuthError
from runner.preflight import run_preflight
from tests.doubles.azure_devops import AzureDevOpsDouble
from tests.doubles.azure_devops.fixtures import TEST_OID, SigningKey
from tests.unit.ado import client_for


def repos(tmp_path: Path, *names: str) -> list[RepoConfig]:
    return [RepoConfig(repository=name, source=tmp_path / "repos" / f"{name}.yaml") for name in names]


@pytest.fixture
def organization(azure_devops_double: AzureDevOpsDouble) -> AzureDevOpsDouble:
    """Platform/web the identity may update, Platform/archive disabled, Platform/new empty, Platform/readonly
    readable only; Platform/ghost does not exist."""
    double = azure_devops_double
    for name in ("web", "archive", "readonly"):
        double.add_repository("Platform", name, disabled=name == "archive")
    double.add_repository("Platform", "new", empty=True)
    for name in ("web", "archive", "new"):
        double.grant(TEST_OID, "Platform", name)
    double.grant(TEST_OID, "Platform", "readonly", bits=GitPermission.GENERIC_READ)
    return double


def test_each_problem_says_what_to_do_and_the_usable_repository_passes(
    organization: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    names = ("Platform/web", "Platform/ghost", "Platform/archive", "Platform/new", "Platform/readonly")

    result = run_preflight(client_for(organization, ado_signing_key), repos(tmp_path, *names), dry_run=False)

    identity = f"the identity {result.identity.display_name or result.identity.id} ({result.identity.id})"
    assert result.identity.id == organization.identity_id(TEST_OID)
    assert set(result.repositories) == {"Platform/web", "Platform/readonly"}
    assert result.problems == {
        "Platform/ghost": (
            "Platform/ghost was not found in the organization; check the project and repository names, "
            f"or grant {identity} Read on it"
        ),
        "Platform/archive": (
            "Platform/archive is disabled in Azure DevOps; enable it (Project settings > Repositories) "
            "or set enabled: false"
        ),
        "Platform/new": "Platform/new is empty (no default branch); push a first commit or set enabled: false",
        "Platform/readonly": (
            f"{identity} may not update Platform/readonly: missing Contribute, Create branch, Contribute to pull "
            "requests; grant them to it (or a group it is in) under Project settings > Repositories > Security"
        ),
    }


def test_a_dry_run_needs_no_write_permissions(
    organization: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    result = run_preflight(
        client_for(organization, ado_signing_key), repos(tmp_path, "Platform/readonly"), dry_run=True
    )

    assert result.problems == {}
    assert not any("permissionevaluationbatch" in request.path for request in organization.requests)


def test_local_and_disabled_repositories_are_not_checked(
    organization: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    (tmp_path / "app").mkdir()
    skipped = [
        RepoConfig(local=tmp_path / "app", source=tmp_path / "repos" / "app.yaml"),
        RepoConfig(repository="Platform/ghost", enabled=False, source=tmp_path / "repos" / "ghost.yaml"),
    ]
    organization.clear_requests()

    result = run_preflight(client_for(organization, ado_signing_key), skipped, dry_run=False)

    assert (result.repositories, result.problems) == ({}, {})
    assert not any("/_apis/git/repositories/" in request.path for request in organization.requests)


def test_a_token_the_organization_refuses_stops_the_sweep(organization: AzureDevOpsDouble, tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="did not accept the token"):
        run_preflight(client_for(organization, SigningKey.generate()), repos(tmp_path, "Platform/web"), dry_run=False)

"""AzureDevOpsClient against the Azure DevOps double: the identity, repositories, permissions, and refusals."""

from __future__ import annotations

import pytest

from runner.azure_devops import GIT_REPOSITORIES_NAMESPACE, AzureDevOpsClient, GitPermission, PermissionCheck
from runner.errors import AuthError
from tests.doubles.azure_devops import AzureDevOpsDouble
from tests.doubles.azure_devops.fixtures import TEST_OID, SigningKey
from tests.unit.ado import client_for


def test_the_profile_names_the_identity_behind_the_token(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    client = client_for(azure_devops_double, ado_signing_key)

    client.connection_data()
    profile = client.profile()

    assert profile.id == azure_devops_double.identity_id(TEST_OID)


def test_repositories_are_listed_and_found_by_name(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    seeded = azure_devops_double.add_repository("Platform", "web")
    azure_devops_double.add_repository("Platform", "new", empty=True)
    azure_devops_double.add_repository("Tools", "cli", disabled=True)
    azure_devops_double.grant(TEST_OID)
    client = client_for(azure_devops_double, ado_signing_key)

    found = client.repository("Platform", "web")

    assert found is not None
    assert (found.id, found.full_name, found.default_branch) == (seeded.id, "Platform/web", "refs/heads/main")
    assert found.security_token == seeded.security_token
    assert client.repository("Platform", "ghost") is None
    assert sorted(repository.full_name for repository in client.repositories("Platform")) == [
        "Platform/new",
        "Platform/web",
    ]
    everything = {repository.full_name: repository for repository in client.repositories()}
    assert everything["Platform/new"].is_empty
    assert everything["Tools/cli"].is_disabled


def test_permissions_are_evaluated_for_the_token_identity(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    web = azure_devops_double.add_repository("Platform", "web")
    docs = azure_devops_double.add_repository("Platform", "docs")
    azure_devops_double.grant(TEST_OID, "Platform", "web")
    azure_devops_double.grant(TEST_OID, "Platform", "docs", bits=GitPermission.GENERIC_READ)
    client = client_for(azure_devops_double, ado_signing_key)

    allowed = client.has_permissions(
        [
            PermissionCheck(namespace_id=GIT_REPOSITORIES_NAMESPACE, token=repository.security_token, permissions=bit)
            for repository in (web, docs)
            for bit in (GitPermission.GENERIC_READ, GitPermission.GENERIC_CONTRIBUTE)
        ]
    )

    assert allowed == [True, True, True, False]
    assert client.has_permissions([]) == []


def test_a_token_the_organization_does_not_accept_is_an_auth_error(
    azure_devops_double: AzureDevOpsDouble,
) -> None:
    stranger = SigningKey.generate()  # signed by a key the double does not trust
    client = client_for(azure_devops_double, stranger)

    with pytest.raises(
        AuthError, match=r"Azure DevOps did not accept the token for .*_apis/connectionData \(HTTP 401\)"
    ):
        client.connection_data()


def test_a_client_for_the_profile_service_only_refuses_organization_calls(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    client = AzureDevOpsClient(None, ado_signing_key.mint, vssps_url=azure_devops_double.vssps_url)

    assert client.profile().id == azure_devops_double.identity_id(TEST_OID)
    with pytest.raises(ValueError, match="profile service only"):
        client.repositories()

"""Explicit modes: each builds the right azure-identity credential from the given environment, or says what is
missing and what to do. The credentials are real; their attributes are inspected, nothing is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azure.identity import (
    AzureCliCredential,
    AzureDeveloperCliCredential,
    AzurePipelinesCredential,
    ClientAssertionCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from runner.auth import make_token_source
from runner.auth.modes import AZD, AZURE_CLI, MANAGED_IDENTITY, PIPELINES, WORKLOAD_IDENTITY
from runner.errors import AuthError

from .fakes import CLIENT, CONNECTION, PIPELINES_ENV, SYSTEM_TOKEN, TENANT, Settings, executable


def inside(obj: object) -> dict[str, Any]:
    """A credential's private state, to check what azure-identity was given."""
    return vars(obj)


def test_pipelines_builds_azure_pipelines_credential_from_the_azurecli_task_variables() -> None:
    credential = PIPELINES.build({**PIPELINES_ENV, "AZURE_AUTHORITY_HOST": "https://login.example.test"})

    assert isinstance(credential, AzurePipelinesCredential)
    assert inside(credential)["_service_connection_id"] == CONNECTION
    assert inside(credential)["_system_access_token"] == SYSTEM_TOKEN
    client = inside(inside(credential)["_client_assertion_credential"])["_client"]
    assert (client._tenant_id, client._client_id) == (TENANT, CLIENT)
    assert client._authority == "https://login.example.test"


def test_pipelines_without_the_system_token_says_how_to_map_it() -> None:
    environ = {name: value for name, value in PIPELINES_ENV.items() if name != "SYSTEM_ACCESSTOKEN"}

    with pytest.raises(AuthError) as raised:
        make_token_source(Settings(mode="pipelines"), environ)

    message = str(raised.value)
    assert message.startswith("auth mode 'pipelines' cannot run here: it uses AZURESUBSCRIPTION_TENANT_ID")
    assert "(unset: SYSTEM_ACCESSTOKEN)" in message
    assert "What to do: run the sweep in an AzureCLI@2 step" in message
    assert "`env: {SYSTEM_ACCESSTOKEN: $(System.AccessToken)}`" in message


def test_pipelines_with_a_plain_http_authority_fails_without_echoing_the_system_token() -> None:
    environ = {**PIPELINES_ENV, "AZURE_AUTHORITY_HOST": "http://127.0.0.1:8443"}

    with pytest.raises(AuthError) as raised:
        make_token_source(Settings(mode="pipelines"), environ)

    message = str(raised.value)
    assert message.startswith("auth mode 'pipelines' could not get an Azure DevOps token: ")
    assert "The value must be a TLS protected (https) URL" in message
    assert "It uses AZURESUBSCRIPTION_TENANT_ID" in message
    assert SYSTEM_TOKEN not in message


def test_pipelines_with_a_malformed_tenant_id_is_an_auth_error() -> None:
    environ = {**PIPELINES_ENV, "AZURESUBSCRIPTION_TENANT_ID": "not a tenant!"}

    with pytest.raises(AuthError, match=r"auth mode 'pipelines' could not get .*: Invalid tenant ID provided"):
        make_token_source(Settings(mode="pipelines"), environ)


def test_workload_identity_builds_from_the_federated_token_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    environ = {
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_TENANT_ID": TENANT,
    }

    credential = WORKLOAD_IDENTITY.build(environ)

    assert isinstance(credential, WorkloadIdentityCredential)
    assert inside(credential)["_token_file_path"] == str(token_file)
    client = inside(credential)["_client"]
    assert (client._tenant_id, client._client_id) == (TENANT, CLIENT)


def test_workload_identity_builds_a_client_assertion_from_the_azurecli_task_id_token() -> None:
    environ = {"idToken": "oidc-token-from-the-task", "servicePrincipalId": CLIENT, "tenantId": TENANT}

    credential = WORKLOAD_IDENTITY.build(environ)

    assert isinstance(credential, ClientAssertionCredential)
    assert inside(credential)["_func"]() == "oidc-token-from-the-task"
    client = inside(credential)["_client"]
    assert (client._tenant_id, client._client_id) == (TENANT, CLIENT)


def test_workload_identity_prefers_the_federated_token_file_when_both_are_present(tmp_path: Path) -> None:
    environ = {
        "AZURE_FEDERATED_TOKEN_FILE": str(tmp_path / "token"),
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_TENANT_ID": TENANT,
        "idToken": "oidc",
        "servicePrincipalId": "other",
        "tenantId": TENANT,
    }

    assert isinstance(WORKLOAD_IDENTITY.build(environ), WorkloadIdentityCredential)


def test_workload_identity_with_an_unreadable_token_file_names_the_file(tmp_path: Path) -> None:
    missing_file = tmp_path / "no-such-token"
    environ = {
        "AZURE_FEDERATED_TOKEN_FILE": str(missing_file),
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_TENANT_ID": TENANT,
    }
    source = make_token_source(Settings(mode="workload-identity"), environ)

    # The file is read before any request is made, so this fails without a network.
    with pytest.raises(AuthError) as raised:
        source.token()

    message = str(raised.value)
    assert message.startswith(
        f"auth mode 'workload-identity' could not get an Azure DevOps token: No such file or directory: {missing_file}."
    )
    assert "What to do: enable Entra Workload ID for the pod's service account" in message


def test_workload_identity_lists_both_sets_of_variables_when_neither_is_complete() -> None:
    with pytest.raises(AuthError) as raised:
        make_token_source(Settings(mode="workload-identity"), {"AZURE_CLIENT_ID": CLIENT, "idToken": "t"})

    assert "(unset: AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID; and servicePrincipalId, tenantId)" in str(raised.value)


def test_managed_identity_passes_azure_client_id_for_a_user_assigned_identity() -> None:
    credential = MANAGED_IDENTITY.build({"AZURE_CLIENT_ID": CLIENT})

    assert isinstance(credential, ManagedIdentityCredential)
    assert inside(inside(credential)["_credential"])["_settings"]["client_id"] == CLIENT


def test_managed_identity_defaults_to_the_system_assigned_identity() -> None:
    credential = MANAGED_IDENTITY.build({})

    assert inside(inside(credential)["_credential"])["_settings"]["client_id"] is None


def test_managed_identity_chosen_explicitly_needs_no_variable() -> None:
    # On a VM the instance metadata service answers without any variable being set.
    source = make_token_source(Settings(mode="managed-identity"), {})

    assert source.mode == "managed-identity"


def test_azure_cli_builds_azure_cli_credential_when_az_is_on_path(tmp_path: Path) -> None:
    executable(tmp_path, "az")

    source = make_token_source(Settings(mode="azure-cli"), {"PATH": str(tmp_path)})

    assert source.mode == "azure-cli"
    assert isinstance(AZURE_CLI.build({}), AzureCliCredential)


def test_azure_cli_without_az_says_to_sign_in() -> None:
    with pytest.raises(AuthError) as raised:
        make_token_source(Settings(mode="azure-cli"), {"PATH": ""})

    message = str(raised.value)
    assert message.startswith("auth mode 'azure-cli' cannot run here: it uses the `az` command on PATH")
    assert "(`az` not found on PATH)" in message
    assert "What to do: run `az login`" in message


def test_azd_builds_azure_developer_cli_credential_when_azd_is_on_path(tmp_path: Path) -> None:
    executable(tmp_path, "azd")

    source = make_token_source(Settings(mode="azd"), {"PATH": f"/nonexistent:{tmp_path}"})

    assert source.mode == "azd"
    assert isinstance(AZD.build({}), AzureDeveloperCliCredential)


def test_azd_without_azd_says_to_sign_in() -> None:
    with pytest.raises(AuthError, match=r"\(`azd` not found on PATH\)\. What to do: run `azd auth login`"):
        make_token_source(Settings(mode="azd"), {})


def test_an_unknown_mode_lists_the_known_ones() -> None:
    with pytest.raises(AuthError) as raised:
        make_token_source(Settings(mode="pat"), {})

    assert str(raised.value) == (
        "unknown auth mode 'pat'. What to do: use one of auto, pipelines, azure-cli, workload-identity, "
        "managed-identity, azd, token-env."
    )

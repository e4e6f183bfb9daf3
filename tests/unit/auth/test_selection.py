"""Mode auto: which modes apply in which environment, the first that returns a token wins, and when none does
the error lists every mode with what was looked for or why it failed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError

from runner.auth import make_token_source
from runner.auth.modes import Mode, modes_for
from runner.auth.selection import select_token_source
from runner.errors import AuthError

from .fakes import PIPELINES_ENV, SYSTEM_TOKEN, Settings, executable, failing, jwt_expiring, working

LATER = datetime(2030, 1, 1, tzinfo=UTC)


def all_working() -> list[Mode]:
    """The real modes (real detection of their inputs), each with a credential whose token is tagged with
    the mode's name."""
    return [replace(mode, build=working(LATER, appid=mode.name)) for mode in modes_for(Settings(mode="auto"))]


def chosen(environ: Mapping[str, str], modes: list[Mode]) -> str:
    source = select_token_source("auto", environ, modes)
    assert source.token().claims["appid"] == source.mode  # the token really came from that mode's credential
    return source.mode


@pytest.fixture
def cli_path(tmp_path: Path) -> str:
    executable(tmp_path, "az")
    executable(tmp_path, "azd")
    return str(tmp_path)


@pytest.fixture
def azd_only_path(tmp_path: Path) -> str:
    executable(tmp_path, "azd")
    return str(tmp_path)


def test_in_an_azurecli_step_pipelines_comes_before_the_cli(cli_path: str) -> None:
    assert chosen({**PIPELINES_ENV, "PATH": cli_path}, all_working()) == "pipelines"


def test_on_a_workstation_az_comes_before_azd(cli_path: str) -> None:
    assert chosen({"PATH": cli_path}, all_working()) == "azure-cli"


def test_azd_alone_is_found(azd_only_path: str) -> None:
    assert chosen({"PATH": azd_only_path, "RENOVATE_TOKEN": "x"}, all_working()) == "azd"


@pytest.mark.parametrize(
    "environ",
    [
        {"AZURE_FEDERATED_TOKEN_FILE": "/var/run/token", "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"},
        {"idToken": "oidc", "servicePrincipalId": "c", "tenantId": "t"},
    ],
    ids=["federated-token-file", "azurecli-addSpnToEnvironment"],
)
def test_workload_identity_is_found_from_either_set_of_variables(environ: dict[str, str]) -> None:
    assert chosen({**environ, "IDENTITY_ENDPOINT": "http://169.254.1.1/msi"}, all_working()) == "workload-identity"


@pytest.mark.parametrize("variable", ["IDENTITY_ENDPOINT", "MSI_ENDPOINT"])
def test_managed_identity_is_found_from_its_endpoint_variable(variable: str) -> None:
    assert chosen({variable: "http://127.0.0.1:41741/msi/token", "RENOVATE_TOKEN": "x"}, all_working()) == (
        "managed-identity"
    )


def test_token_env_is_the_last_resort() -> None:
    assert chosen({"RENOVATE_TOKEN": "x", "PATH": ""}, all_working()) == "token-env"


def test_token_env_reads_the_configured_variable_in_auto() -> None:
    value = jwt_expiring(datetime.now(UTC) + timedelta(hours=1))

    source = make_token_source(Settings(mode="auto", token_env="ADO_TOKEN"), {"ADO_TOKEN": value})

    assert source.mode == "token-env"
    assert source.token().value == value


def test_partial_pipeline_variables_do_not_make_pipelines_apply(cli_path: str) -> None:
    environ = {name: value for name, value in PIPELINES_ENV.items() if name != "SYSTEM_OIDCREQUESTURI"}

    assert chosen({**environ, "PATH": cli_path}, all_working()) == "azure-cli"


def test_a_failing_mode_is_skipped_for_the_next_that_works(cli_path: str) -> None:
    modes = all_working()
    modes[0] = replace(
        modes[0], build=failing(ClientAuthenticationError("AADSTS700213: no matching federated identity"))
    )

    assert chosen({**PIPELINES_ENV, "PATH": cli_path}, modes) == "azure-cli"


def recording(mode: Mode, built: list[str]) -> Mode:
    def build(environ: Mapping[str, str]) -> TokenCredential:
        built.append(mode.name)
        return mode.build(environ)

    return replace(mode, build=build)


def test_modes_after_the_chosen_one_are_not_tried(cli_path: str) -> None:
    built: list[str] = []
    modes = [recording(mode, built) for mode in all_working()]

    chosen({**PIPELINES_ENV, "PATH": cli_path, "RENOVATE_TOKEN": "x"}, modes)

    assert built == ["pipelines"]


def test_with_nothing_set_every_mode_says_what_it_looked_for() -> None:
    with pytest.raises(AuthError) as raised:
        make_token_source(Settings(mode="auto"), {})

    lines = str(raised.value).splitlines()
    assert lines[0] == "auth mode 'auto' found no way to get an Azure DevOps token. Tried, in order:"
    assert [line.split(":")[0].strip() for line in lines[1:7]] == [
        "pipelines",
        "azure-cli",
        "workload-identity",
        "managed-identity",
        "azd",
        "token-env",
    ]
    assert lines[1].startswith("  pipelines: not applicable: looked for AZURESUBSCRIPTION_TENANT_ID")
    assert lines[1].endswith(
        "(unset: AZURESUBSCRIPTION_TENANT_ID, AZURESUBSCRIPTION_CLIENT_ID, "
        "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID, SYSTEM_ACCESSTOKEN, SYSTEM_OIDCREQUESTURI)"
    )
    assert lines[2] == (
        "  azure-cli: not applicable: looked for the `az` command on PATH, signed in (`az` not found on PATH)"
    )
    assert lines[3].startswith("  workload-identity: not applicable: looked for AZURE_FEDERATED_TOKEN_FILE")
    assert lines[4].startswith("  managed-identity: not applicable: looked for IDENTITY_ENDPOINT or MSI_ENDPOINT")
    assert lines[4].endswith("(neither is set)")
    assert lines[5] == (
        "  azd: not applicable: looked for the `azd` command on PATH, signed in with `azd auth login` "
        "(`azd` not found on PATH)"
    )
    assert lines[6] == (
        "  token-env: not applicable: looked for an Entra ID access token (a JWT) in RENOVATE_TOKEN, "
        "which cannot be refreshed (RENOVATE_TOKEN is unset)"
    )
    assert lines[7].startswith("What to do: make one of these modes work here")


def test_failures_are_listed_with_their_short_reason_and_no_secret(cli_path: str) -> None:
    modes = all_working()
    modes[0] = replace(
        modes[0],
        build=failing(
            ClientAuthenticationError(
                f"OIDC request with Bearer {SYSTEM_TOKEN} was refused\nTrace ID: 1234\nCorrelation ID: 5678"
            )
        ),
    )
    modes[1] = replace(
        modes[1], build=failing(CredentialUnavailableError("Please run 'az login' to set up an account"))
    )

    with pytest.raises(AuthError) as raised:
        select_token_source("auto", {**PIPELINES_ENV, "PATH": cli_path}, modes[:2])

    message = str(raised.value)
    assert "  pipelines: failed: OIDC request with Bearer **redacted** was refused\n" in message
    assert "  azure-cli: failed: Please run 'az login' to set up an account\n" in message
    assert SYSTEM_TOKEN not in message
    assert "Trace ID" not in message


def test_a_pat_in_renovate_token_is_reported_as_refused() -> None:
    with pytest.raises(AuthError) as raised:
        make_token_source(Settings(mode="auto"), {"RENOVATE_TOKEN": "x" * 52})

    assert "  token-env: failed: RENOVATE_TOKEN does not hold an Entra ID access token" in str(raised.value)
    assert "Personal Access Tokens (PATs) are not supported" in str(raised.value)

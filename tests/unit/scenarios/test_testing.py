"""`integration_token` and `organization_tokens`: the pipeline's variable in CI, the developer's `azd` / `az`
sign-in elsewhere (real azure-identity credentials running fake CLIs), and what each failure says."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from runner.errors import AuthError, ConfigError
from runner.scenarios.testing import (
    integration_token,
    organization_tokens,
    organization_url,
    organization_variable,
    variable_names,
)
from runner.secrets import REDACTED, redact
from tests.unit.sign_in import a_jwt, fake_az, fake_azd, signed_out

SHARED = "SECRET_INTEGRATION_TESTING_TOKEN"
MISSPELLED = "SECRET_INGETRATION_TESTING_TOKEN"
AZURE_PIPELINES = {"TF_BUILD": "True"}


# --- in CI: the variable ---


@pytest.mark.parametrize("marker", [{"TF_BUILD": "True"}, {"CI": "true"}, {"CI": "1"}])
def test_in_ci_the_token_is_the_variables_value_and_a_registered_secret(marker: dict[str, str]) -> None:
    token = a_jwt()

    assert integration_token({**marker, SHARED: token}) == token
    assert redact(f"Authorization: Bearer {token}") == f"Authorization: Bearer {REDACTED}"


def test_the_widely_copied_misspelling_is_accepted() -> None:
    token = a_jwt()

    assert integration_token({**AZURE_PIPELINES, MISSPELLED: token}) == token


def test_the_correct_spelling_wins_when_both_are_set() -> None:
    correct, misspelled = a_jwt(), a_jwt()

    assert integration_token({**AZURE_PIPELINES, SHARED: correct, MISSPELLED: misspelled}) == correct


def test_the_variable_name_is_configurable_and_keeps_its_misspelling() -> None:
    token = a_jwt()

    assert integration_token({**AZURE_PIPELINES, "E2E_TOKEN": token}, variable="E2E_TOKEN") == token
    assert variable_names("E2E_TOKEN") == ("E2E_TOKEN",)
    assert variable_names("MY_INTEGRATION_TOKEN") == ("MY_INTEGRATION_TOKEN", "MY_INGETRATION_TOKEN")
    assert integration_token({"CI": "true", "MY_INGETRATION_TOKEN": token}, variable="MY_INTEGRATION_TOKEN") == token


def test_in_ci_without_the_variable_the_error_says_how_to_map_it(bin_dir: Path) -> None:
    fake_az(bin_dir, a_jwt())  # a signed-in az is not a fallback in CI: the variable is the contract

    with pytest.raises(AuthError) as error:
        integration_token({**AZURE_PIPELINES, "PATH": str(bin_dir)})

    message = str(error.value)
    assert f"in CI (TF_BUILD is set) it is read from {SHARED} or {MISSPELLED}, and none is set" in message
    assert "`renovate-runner token --variable IntegrationTestingToken` in an AzureCLI@2 step" in message
    assert f"env: {{{SHARED}: $(IntegrationTestingToken)}}" in message


def test_an_unexpanded_macro_means_the_pipeline_lacks_the_variable() -> None:
    with pytest.raises(AuthError) as error:
        integration_token({**AZURE_PIPELINES, SHARED: "$(IntegrationTestingToken)"})

    message = str(error.value)
    assert (
        f"{SHARED} holds the text $(IntegrationTestingToken): the pipeline has no variable IntegrationTestingToken"
        in message
    )
    assert "`renovate-runner token --variable IntegrationTestingToken`" in message


def test_an_expired_token_in_the_variable_is_refused_without_showing_it() -> None:
    expired = a_jwt(valid_for=-timedelta(minutes=5))

    with pytest.raises(AuthError) as error:
        integration_token({**AZURE_PIPELINES, SHARED: expired})

    assert f"the token in {SHARED} expired at" in str(error.value)
    assert expired not in str(error.value)


def test_a_pat_in_the_variable_is_refused() -> None:
    pat = "p" * 52

    with pytest.raises(AuthError, match=r"Personal Access Tokens \(PATs\) are not supported") as error:
        integration_token({**AZURE_PIPELINES, SHARED: pat})

    assert pat not in str(error.value)


# --- on a workstation: azd, then az ---


def workstation(bin_dir: Path, **variables: str) -> dict[str, str]:
    """Not CI; PATH holds only the test's fake CLIs (azure-identity finds them through the process's PATH)."""
    return {"PATH": str(bin_dir), "CI": "false", **variables}


def test_on_a_workstation_azd_comes_first(bin_dir: Path) -> None:
    from_azd, from_az = a_jwt(appid="azd"), a_jwt(appid="az")
    fake_azd(bin_dir, from_azd)
    fake_az(bin_dir, from_az)

    assert integration_token(workstation(bin_dir)) == from_azd


def test_a_signed_out_azd_falls_back_to_az(bin_dir: Path) -> None:
    from_az = a_jwt()
    signed_out(bin_dir, "azd", "ERROR: not logged in, run `azd auth login` to login")
    fake_az(bin_dir, from_az)

    assert integration_token(workstation(bin_dir)) == from_az


def test_on_a_workstation_the_variable_is_not_read(bin_dir: Path) -> None:
    from_az = a_jwt()
    fake_az(bin_dir, from_az)

    assert integration_token(workstation(bin_dir, **{SHARED: a_jwt()})) == from_az


def test_with_nothing_available_the_error_lists_every_attempt(bin_dir: Path) -> None:
    with pytest.raises(AuthError) as error:
        integration_token(workstation(bin_dir))

    assert str(error.value).splitlines() == [
        "no Azure DevOps token for the tests. Tried, in order:",
        f"  {SHARED} / {MISSPELLED}: not read, because this is not a CI run (neither TF_BUILD nor CI is set)",
        "  azd: `azd` not found on PATH",
        "  azure-cli: `az` not found on PATH",
        "What to do: sign in with `azd auth login` or `az login` as a user of the organization; in CI, provide "
        f"the token in {SHARED}.",
    ]


def test_signed_out_clis_are_listed_with_their_reason(bin_dir: Path) -> None:
    signed_out(bin_dir, "azd", "ERROR: not logged in, run `azd auth login` to login")
    signed_out(bin_dir, "az", "ERROR: Please run 'az login' to setup account.")

    with pytest.raises(AuthError) as error:
        integration_token(workstation(bin_dir))

    lines = str(error.value).splitlines()
    assert lines[2].startswith("  azd: ")
    assert "azd auth login" in lines[2]
    assert lines[3].startswith("  azure-cli: ")
    assert "az login" in lines[3]


def test_the_process_environment_is_the_default(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = a_jwt()
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv(MISSPELLED, token)

    assert integration_token() == token
    assert os.environ[MISSPELLED] == token  # read, not consumed


# --- an explicit mode ---


def test_mode_token_env_reads_the_variable_outside_ci(bin_dir: Path) -> None:
    token = a_jwt()

    assert integration_token(workstation(bin_dir, **{SHARED: token}), mode="token-env") == token


def test_another_mode_asks_that_mode_even_in_ci(bin_dir: Path) -> None:
    from_az = a_jwt()
    fake_az(bin_dir, from_az)

    assert integration_token({**AZURE_PIPELINES, "PATH": str(bin_dir), SHARED: a_jwt()}, mode="azure-cli") == from_az


def test_an_unknown_mode_is_an_auth_error() -> None:
    with pytest.raises(AuthError, match="unknown auth mode 'pat'"):
        integration_token({}, mode="pat")


# --- several organizations ---


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("contoso", "https://dev.azure.com/contoso/"),
        ("https://dev.azure.com/contoso", "https://dev.azure.com/contoso/"),
        ("https://contoso.visualstudio.com/", "https://contoso.visualstudio.com/"),
        ("http://127.0.0.1:8080/contoso", "http://127.0.0.1:8080/contoso/"),
    ],
)
def test_organizations_are_names_or_urls(given: str, url: str) -> None:
    assert organization_url(given) == url


@pytest.mark.parametrize("given", ["contoso/project", "http://dev.azure.com/contoso/", "https://dev.azure.com/"])
def test_an_unusable_organization_is_a_config_error(given: str) -> None:
    with pytest.raises(ConfigError, match="organization"):
        organization_url(given)


@pytest.mark.parametrize(
    ("organization", "variable"),
    [
        ("contoso", f"{SHARED}_CONTOSO"),
        ("https://dev.azure.com/contoso-dev/", f"{SHARED}_CONTOSO_DEV"),
        ("https://fabrikam.visualstudio.com/", f"{SHARED}_FABRIKAM"),
    ],
)
def test_each_organization_has_its_own_variable(organization: str, variable: str) -> None:
    assert organization_variable(SHARED, organization) == variable


def test_in_ci_each_organization_uses_its_own_variable_else_the_shared_one() -> None:
    contoso, shared = a_jwt(), a_jwt()
    environ = {**AZURE_PIPELINES, f"{MISSPELLED}_CONTOSO": contoso, SHARED: shared}

    tokens = organization_tokens(["contoso", "https://dev.azure.com/fabrikam"], environ)

    assert tokens == {"https://dev.azure.com/contoso/": contoso, "https://dev.azure.com/fabrikam/": shared}


def test_in_ci_an_organization_without_a_token_is_named_in_the_error() -> None:
    environ = {**AZURE_PIPELINES, f"{SHARED}_CONTOSO": a_jwt()}

    with pytest.raises(AuthError, match=f"{SHARED}_FABRIKAM or {MISSPELLED}_FABRIKAM or {SHARED} or {MISSPELLED}"):
        organization_tokens(["contoso", "fabrikam"], environ)


def test_on_a_workstation_one_sign_in_serves_every_organization(bin_dir: Path, tmp_path: Path) -> None:
    token = a_jwt()
    fake_az(bin_dir, token)
    calls = tmp_path / "az-calls"
    script = bin_dir / "az"
    script.write_text(script.read_text().replace("#!/bin/sh\n", f"#!/bin/sh\nprintf x >> {calls}\n"))

    tokens = organization_tokens(["contoso", "fabrikam", "contoso"], workstation(bin_dir))

    assert tokens == {"https://dev.azure.com/contoso/": token, "https://dev.azure.com/fabrikam/": token}
    assert calls.read_text() == "x"

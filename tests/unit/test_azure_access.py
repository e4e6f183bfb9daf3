"""The Azure side of one invocation against the Azure DevOps double: one token source checked once, every token
announced once, and discovered repositories joined with the configured ones."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from runner.azure_access import TokenAnnouncer, candidate_repositories, connect_azure, needs_azure
from runner.config import AuthConfig, AuthMode, Discover, Endpoints, RepoConfig, RunnerConfig
from runner.errors import AuthError
from runner.secrets import REDACTED, redact
from tests.doubles.azure_devops import AzureDevOpsDouble
from tests.doubles.azure_devops.fixtures import TEST_OID, SigningKey


def runner_for(double: AzureDevOpsDouble, *, discover: Discover | None = None) -> RunnerConfig:
    return RunnerConfig(
        organization=double.organization_url,
        endpoints=Endpoints(vssps=double.vssps_url),
        auth=AuthConfig(mode=AuthMode.TOKEN_ENV),
        discover=discover,
    )


def test_the_first_token_is_obtained_and_announced_once_and_the_client_uses_it(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    token = ado_signing_key.mint()
    out = io.StringIO()
    announce = TokenAnnouncer(out, {"TF_BUILD": "True"})

    access = connect_azure(runner_for(azure_devops_double), {"RENOVATE_TOKEN": token}, announce)
    profile = access.client.profile()
    announce(token)

    assert profile.id == azure_devops_double.identity_id(TEST_OID)
    assert access.source.mode == "token-env"
    assert out.getvalue() == f"##vso[task.setsecret]{token}\n"  # once, however often it is used
    assert redact(token) == REDACTED


def test_a_token_outside_a_pipeline_is_registered_but_not_printed() -> None:
    out = io.StringIO()
    secret = "a token value the runner must never print"

    TokenAnnouncer(out, {})(secret)

    assert (out.getvalue(), redact(secret)) == ("", REDACTED)


def test_without_a_usable_token_it_fails_before_any_request(azure_devops_double: AzureDevOpsDouble) -> None:
    with pytest.raises(AuthError, match="auth mode 'token-env' cannot run here"):
        connect_azure(runner_for(azure_devops_double), {}, TokenAnnouncer(io.StringIO(), {}))

    assert azure_devops_double.requests == ()


def test_candidates_are_the_configured_repositories_plus_those_discovered(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    azure_devops_double.add_repository("Platform", "api")
    azure_devops_double.add_repository("Platform", "web")
    azure_devops_double.grant(TEST_OID)
    runner = runner_for(azure_devops_double, discover=Discover(include=("web",)))
    configured = [RepoConfig(repository="Platform/api", source=tmp_path / "repos" / "api.yaml")]
    access = connect_azure(runner, {"RENOVATE_TOKEN": ado_signing_key.mint()}, TokenAnnouncer(io.StringIO(), {}))

    candidates = candidate_repositories(runner, configured, access, config_dir=tmp_path)

    assert [(repo.name, repo.source) for repo in candidates] == [
        ("Platform/api", tmp_path / "repos" / "api.yaml"),
        ("Platform/web", tmp_path / "runner.yaml"),
    ]
    assert candidate_repositories(runner, configured, None, config_dir=tmp_path) == tuple(configured)


def test_only_runs_with_azure_repositories_or_discovery_need_azure(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    local = RepoConfig(local=tmp_path / "app", source=tmp_path / "repos" / "app.yaml")
    disabled = RepoConfig(repository="Platform/old", enabled=False, source=tmp_path / "repos" / "old.yaml")
    azure = RepoConfig(repository="Platform/api", source=tmp_path / "repos" / "api.yaml")
    runner = RunnerConfig(organization="https://dev.azure.com/contoso/")

    assert not needs_azure(runner, [local, disabled])
    assert needs_azure(runner, [local, azure])
    assert needs_azure(runner.model_copy(update={"discover": Discover()}), [local])

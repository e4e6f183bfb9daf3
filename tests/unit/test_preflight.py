"""Preflight against the Azure DevOps double: each repository the identity cannot update is marked with what to do,
the others pass; a dry run checks no write permissions."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import JsonValue

from runner.azure_devops import (
    TAGGING_NAMESPACE,
    GitPermission,
    PermissionCheck,
    TaggingPermission,
    tagging_token,
)
from runner.config import RepoConfig, RunnerConfig
from runner.errors import AuthError
from runner.preflight import PreflightResult, run_preflight
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


# --- labels: a tag new to the project needs Create tag definition (Tagging namespace) ---

LABELLING_RUNNER = RunnerConfig.model_validate(
    {"organization": "https://dev.azure.com/contoso/", "renovate": {"global": {"labels": ["dependencies"]}}}
)


def labelled(tmp_path: Path, **renovate: JsonValue) -> list[RepoConfig]:
    return [RepoConfig(repository="Platform/web", renovate=dict(renovate), source=tmp_path / "repos" / "web.yaml")]


def preflight_labelled(
    organization: AzureDevOpsDouble, key: SigningKey, tmp_path: Path, **renovate: JsonValue
) -> PreflightResult:
    """Platform/web, whose pull requests get `labels: [dependencies]` from renovate.global and `renovate`'s."""
    repositories = labelled(tmp_path, **renovate)
    return run_preflight(client_for(organization, key), repositories, dry_run=False, runner=LABELLING_RUNNER)


def test_a_label_that_is_no_tag_yet_needs_create_tag_definition(
    organization: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    organization.add_tags("Platform", "dependencies")

    result = preflight_labelled(organization, ado_signing_key, tmp_path, addLabels=["renovate", "dependencies"])

    project_id = result.repositories["Platform/web"].project_id
    identity = f"the identity {result.identity.display_name or result.identity.id} ({result.identity.id})"
    assert result.problems == {
        "Platform/web": (
            f"{identity} may not create the pull request label(s) renovate, which are no tag of project Platform "
            "yet: missing Create tag definition; grant it to the identity (or a group it is in) under Project "
            "settings > Permissions, or with `az devops security permission update --namespace-id "
            f"bb50f182-8e5e-40b8-bc21-e8752a1e7ae2 --token /{project_id} --allow-bit 2 --subject <identity>`; "
            "or create the tags first"
        )
    }


@pytest.mark.parametrize("grant", [True, False], ids=["granted", "tags-exist"])
def test_labels_pass_with_create_tag_definition_or_when_every_tag_exists(
    organization: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path, grant: bool
) -> None:
    if grant:
        organization.grant_tagging(TEST_OID, "Platform")
    else:
        organization.add_tags("Platform", "Dependencies", "renovate")

    result = preflight_labelled(organization, ado_signing_key, tmp_path, addLabels=["renovate"])

    assert result.problems == {}


def test_a_templated_label_may_need_a_new_tag(
    organization: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    organization.add_tags("Platform", "dependencies")

    result = preflight_labelled(organization, ado_signing_key, tmp_path, labels=["{{depName}}"])

    assert "may not create the pull request label(s) {{depName}}" in result.problems["Platform/web"]


def test_without_labels_the_tags_are_not_looked_at(
    organization: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    runner = RunnerConfig.model_validate({"organization": "https://dev.azure.com/contoso/"})
    organization.clear_requests()

    result = run_preflight(client_for(organization, ado_signing_key), labelled(tmp_path), dry_run=False, runner=runner)

    assert result.problems == {}
    assert not any("/_apis/wit/tags" in request.path for request in organization.requests)


def test_the_tags_of_a_project_are_read_once_for_all_its_labelled_repositories(
    organization: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    organization.add_repository("Platform", "api")
    organization.grant(TEST_OID, "Platform", "api")
    organization.add_tags("Platform", "dependencies")
    organization.clear_requests()

    result = run_preflight(
        client_for(organization, ado_signing_key),
        repos(tmp_path, "Platform/web", "Platform/api"),
        dry_run=False,
        runner=LABELLING_RUNNER,
    )

    assert set(result.repositories) == {"Platform/web", "Platform/api"}
    assert result.problems == {}
    assert sum("/_apis/wit/tags" in request.path for request in organization.requests) == 1


def test_the_double_evaluates_the_tagging_namespace_per_project(
    organization: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    organization.grant_tagging(TEST_OID, "Platform")
    client = client_for(organization, ado_signing_key)
    platform = client.repository("Platform", "web")
    other = organization.add_repository("Other", "app")
    assert platform is not None

    def may_create(project_id: str, bits: int = TaggingPermission.CREATE) -> bool:
        (allowed,) = client.has_permissions(
            [PermissionCheck(namespace_id=TAGGING_NAMESPACE, token=tagging_token(project_id), permissions=bits)]
        )
        return allowed

    assert may_create(platform.project_id)
    assert not may_create(platform.project_id, TaggingPermission.CREATE | 8)  # Delete was not granted
    assert not may_create(other.project_id)
    # A Git Repositories grant with the same bits does not count in the Tagging namespace.
    organization.grant(TEST_OID, "Other", "app", bits=TaggingPermission.CREATE)
    assert not may_create(other.project_id)


@pytest.mark.parametrize(
    "renovate",
    [
        {"packageRules": [{"matchUpdateTypes": ["major"], "addLabels": ["breaking"]}]},
        {"major": {"labels": ["breaking"]}},
        {"vulnerabilityAlerts": {"addLabels": ["breaking"]}},
        {"packageRules": [{"matchManagers": ["npm"], "major": {"labels": ["breaking"]}}]},
    ],
    ids=["package-rule", "update-type", "vulnerability-alerts", "nested"],
)
def test_labels_nested_in_renovate_options_are_checked_too(
    organization: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path, renovate: dict[str, JsonValue]
) -> None:
    organization.add_tags("Platform", "dependencies")

    result = preflight_labelled(organization, ado_signing_key, tmp_path, **renovate)

    assert "may not create the pull request label(s) breaking, which are no tag" in result.problems["Platform/web"]

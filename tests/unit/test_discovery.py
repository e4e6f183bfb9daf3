"""Discovery against the Azure DevOps double: projects, include and exclude globs, disabled and empty repositories
skipped, and configured repositories keeping their settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from runner.config import Discover, RepoConfig
from runner.discovery import discovered, with_discovered
from tests.doubles.azure_devops import AzureDevOpsDouble
from tests.doubles.azure_devops.fixtures import TEST_OID, SigningKey
from tests.unit.ado import client_for


def test_the_filters_select_exactly_the_repositories_they_name(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    double = azure_devops_double
    for name in ("Platform/api", "Platform/Web", "Platform/docs-archive", "Web/site", "Web/legacy-portal", "Tools/cli"):
        project, repository = name.split("/")
        double.add_repository(project, repository)
    double.add_repository("Platform", "retired", disabled=True)
    double.add_repository("Platform", "new-service", empty=True)
    double.grant(TEST_OID)
    discover = Discover(projects=("Platform", "Web"), include=("*",), exclude=("*-ARCHIVE", "web/legacy-*"))

    found = discovered(client_for(double, ado_signing_key), discover)

    assert [repository.full_name for repository in found] == ["Platform/api", "Platform/Web", "Web/site"]


def test_every_project_is_listed_when_none_is_named(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    azure_devops_double.add_repository("Platform", "api")
    azure_devops_double.add_repository("Tools", "cli")
    azure_devops_double.grant(TEST_OID)

    found = discovered(client_for(azure_devops_double, ado_signing_key), Discover(include=("Tools/*",)))

    assert [repository.full_name for repository in found] == ["Tools/cli"]
    listings = [r.path for r in azure_devops_double.requests if r.path.endswith("/_apis/git/repositories")]
    assert listings == [f"/{azure_devops_double.organization}/_apis/git/repositories"]


def test_configured_repositories_keep_their_settings_and_found_ones_get_the_defaults(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    for name in ("api", "web"):
        azure_devops_double.add_repository("Platform", name)
    azure_devops_double.grant(TEST_OID)
    configured = RepoConfig(
        repository="platform/API", timeout=timedelta(minutes=10), source=tmp_path / "repos" / "api.yaml"
    )
    found = discovered(client_for(azure_devops_double, ado_signing_key), Discover())

    joined = with_discovered([configured], found, source=tmp_path / "runner.yaml")

    assert [(repo.name, repo.timeout, repo.source.name) for repo in joined] == [
        ("platform/API", timedelta(minutes=10), "api.yaml"),
        ("Platform/web", None, "runner.yaml"),
    ]

"""Checks before any container starts: the token is accepted, the identity is known, and each Azure DevOps
repository exists, is usable, and may be updated by that identity.

A problem with one repository marks that repository (reported `failed` with reason `preflight`, with what to grant)
and the others still run; a token Azure DevOps does not accept stops the sweep (exit 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from runner.azure_devops import (
    GIT_REPOSITORIES_NAMESPACE,
    AzureDevOpsClient,
    GitPermission,
    PermissionCheck,
    Profile,
    Repository,
)
from runner.config import RepoConfig

log = structlog.get_logger()

# What Renovate needs to push branches and open pull requests, with the names the Security page shows.
REQUIRED_PERMISSIONS: tuple[tuple[int, str], ...] = (
    (GitPermission.GENERIC_CONTRIBUTE, "Contribute"),
    (GitPermission.CREATE_BRANCH, "Create branch"),
    (GitPermission.PULL_REQUEST_CONTRIBUTE, "Contribute to pull requests"),
)


@dataclass(frozen=True, kw_only=True)
class PreflightResult:
    identity: Profile
    repositories: dict[str, Repository] = field(default_factory=dict)  # by configured name, for those found
    problems: dict[str, str] = field(default_factory=dict)  # configured name -> what is wrong and what to do


def run_preflight(client: AzureDevOpsClient, repos: Sequence[RepoConfig], *, dry_run: bool) -> PreflightResult:
    """Check `repos` (enabled Azure DevOps ones); a dry run needs no write permissions, so those are not checked."""
    client.connection_data()  # raises AuthError when the organization does not accept the token
    identity = client.profile()
    log.info("preflight_identity", identity_id=identity.id, display_name=identity.display_name)
    result = PreflightResult(identity=identity)
    usable: list[tuple[str, Repository]] = []
    for repo in repos:
        if repo.is_local or not repo.enabled or repo.repository is None:
            continue
        project, name = repo.repository.split("/", 1)
        found = client.repository(project, name)
        problem = _repository_problem(repo.repository, found, identity)
        if problem is not None:
            result.problems[repo.name] = problem
        elif found is not None:
            result.repositories[repo.name] = found
            usable.append((repo.name, found))
    if not dry_run:
        result.problems.update(_permission_problems(client, usable, identity))
    for name, problem in sorted(result.problems.items()):
        log.warning("preflight_problem", repo=name, problem=problem)
    return result


def _repository_problem(full_name: str, found: Repository | None, identity: Profile) -> str | None:
    if found is None:
        return (
            f"{full_name} was not found in the organization; check the project and repository names, "
            f"or grant {_who(identity)} Read on it"
        )
    if found.is_disabled:
        return (
            f"{full_name} is disabled in Azure DevOps; enable it (Project settings > Repositories) "
            "or set enabled: false"
        )
    if found.is_empty:
        return f"{full_name} is empty (no default branch); push a first commit or set enabled: false"
    return None


def _permission_problems(
    client: AzureDevOpsClient, repositories: Sequence[tuple[str, Repository]], identity: Profile
) -> dict[str, str]:
    checks = [
        PermissionCheck(namespace_id=GIT_REPOSITORIES_NAMESPACE, token=repository.security_token, permissions=bit)
        for _name, repository in repositories
        for bit, _label in REQUIRED_PERMISSIONS
    ]
    allowed = iter(client.has_permissions(checks))
    problems: dict[str, str] = {}
    for name, repository in repositories:
        missing = [label for _bit, label in REQUIRED_PERMISSIONS if not next(allowed, False)]
        if missing:
            problems[name] = (
                f"{_who(identity)} may not update {repository.full_name}: missing {', '.join(missing)}; grant them "
                "to it (or a group it is in) under Project settings > Repositories > Security"
            )
    return problems


def _who(identity: Profile) -> str:
    return f"the identity {identity.display_name or identity.id} ({identity.id})"

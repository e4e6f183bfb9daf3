"""Checks before any container starts: the token is accepted, the identity is known, and each Azure DevOps
repository exists, is usable, and may be updated by that identity.

A problem with one repository marks that repository (reported `failed` with reason `preflight`, with what to grant)
and the others still run; a token Azure DevOps does not accept stops the sweep (exit 3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from runner.azure_devops import (
    GIT_REPOSITORIES_NAMESPACE,
    TAGGING_NAMESPACE,
    AzureDevOpsClient,
    GitPermission,
    PermissionCheck,
    Profile,
    Repository,
    TaggingPermission,
    tagging_token,
)
from runner.config import RepoConfig, RunnerConfig

log = structlog.get_logger()

# What Renovate needs to push branches and open pull requests, with the names the Security page shows.
REQUIRED_PERMISSIONS: tuple[tuple[int, str], ...] = (
    (GitPermission.GENERIC_CONTRIBUTE, "Contribute"),
    (GitPermission.CREATE_BRANCH, "Create branch"),
    (GitPermission.PULL_REQUEST_CONTRIBUTE, "Contribute to pull requests"),
)
# Renovate options whose values become labels (Azure DevOps tags) on pull requests.
LABEL_OPTIONS: tuple[str, ...] = ("labels", "addLabels")


@dataclass(frozen=True, kw_only=True)
class PreflightResult:
    identity: Profile
    repositories: dict[str, Repository] = field(default_factory=dict)  # by configured name, for those found
    problems: dict[str, str] = field(default_factory=dict)  # configured name -> what is wrong and what to do


def run_preflight(
    client: AzureDevOpsClient, repos: Sequence[RepoConfig], *, dry_run: bool, runner: RunnerConfig | None = None
) -> PreflightResult:
    """Check `repos` (enabled Azure DevOps ones); a dry run needs no write permissions, so those are not checked.

    With `runner`, the repositories' effective Renovate options are read too, for the permissions they need.
    """
    client.connection_data()  # raises AuthError when the organization does not accept the token
    identity = client.profile()
    log.info("preflight_identity", identity_id=identity.id, display_name=identity.display_name)
    result = PreflightResult(identity=identity)
    usable: list[tuple[str, Repository]] = []
    labels: dict[str, set[str]] = {}
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
            labels[repo.name] = pull_request_labels(repo.effective_renovate(runner)) if runner else set()
    if not dry_run:
        result.problems.update(_permission_problems(client, usable, identity))
        for name, problem in _tagging_problems(client, usable, labels, identity).items():
            result.problems[name] = f"{result.problems[name]}; also {problem}" if name in result.problems else problem
    for name, problem in sorted(result.problems.items()):
        log.warning("preflight_problem", repo=name, problem=problem)
    return result


def _repository_problem(full_name: str, found: Repository | None, identity: Profile) -> str | None:
    if found is None:
        return (
            f"{full_name} was not found in the organization; check the project and repository names, "
            f"or grant {identity_phrase(identity)} Read on it"
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
                f"{identity_phrase(identity)} may not update {repository.full_name}: missing {', '.join(missing)}; "
                "grant them to it (or a group it is in) under Project settings > Repositories > Security"
            )
    return problems


def pull_request_labels(options: Mapping[str, Any]) -> set[str]:
    """The labels Renovate may put on this repository's pull requests: `labels` and `addLabels` wherever Renovate
    takes them, at the top and in every nested object (`packageRules[]`, `major`, `lockFileMaintenance`,
    `vulnerabilityAlerts`, ...).

    Labels a repository's own renovate.json or a preset adds are not in the runner's configuration, so they are
    not seen here (docs/azure-pipelines.md says to grant the permission when they may add tags).
    """
    found: set[str] = set()
    pending: list[object] = [options]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, Mapping):
            for key, value in node.items():
                if key in LABEL_OPTIONS and isinstance(value, list):
                    found.update(str(label) for label in value)
                else:
                    pending.append(value)
    return found


def _new_labels(labels: set[str], existing: set[str]) -> list[str]:
    # A templated label ({{depName}}) may name any tag, so it may need a new one.
    return sorted(label for label in labels if "{{" in label or label.casefold() not in existing)


def _tagging_problems(
    client: AzureDevOpsClient,
    repositories: Sequence[tuple[str, Repository]],
    labels: Mapping[str, set[str]],
    identity: Profile,
) -> dict[str, str]:
    """Labels that are no tag of the project yet need *Create tag definition* there (Tagging namespace)."""
    labelled = [(name, repository) for name, repository in repositories if labels.get(name)]
    labelled_projects = {repository.project_id for _name, repository in labelled}
    existing = {project: client.tag_names(project) for project in sorted(labelled_projects)}  # once a project
    new = {name: _new_labels(labels[name], existing[repository.project_id]) for name, repository in labelled}
    needing = [(name, repository) for name, repository in labelled if new[name]]
    projects = sorted({repository.project_id for _name, repository in needing})
    checks = [
        PermissionCheck(
            namespace_id=TAGGING_NAMESPACE, token=tagging_token(project), permissions=TaggingPermission.CREATE
        )
        for project in projects
    ]
    allowed = dict(zip(projects, client.has_permissions(checks), strict=True))
    return {
        name: (
            f"{identity_phrase(identity)} may not create the pull request label(s) {', '.join(new[name])}, which are "
            f"no tag of project {repository.project} yet: missing Create tag definition; grant it to the identity "
            "(or a group it is in) under Project settings > Permissions, or with `az devops security permission update "
            f"--namespace-id {TAGGING_NAMESPACE} --token {tagging_token(repository.project_id)} --allow-bit "
            f"{TaggingPermission.CREATE} --subject <identity>`; or create the tags first"
        )
        for name, repository in needing
        if not allowed[repository.project_id]
    }


def identity_phrase(identity: Profile) -> str:
    """How messages name the identity: `the identity <display name> (<id>)`."""
    return f"the identity {identity.display_name or identity.id} ({identity.id})"

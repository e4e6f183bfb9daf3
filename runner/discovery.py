"""Discovery: the repositories `discover:` selects through the Azure DevOps API, joined with the configured ones.

Disabled and empty repositories are skipped. A repository named by a file in repos/ keeps that file's settings
and always runs; discovery only adds the others, with default settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path

import structlog

from runner.azure_devops import AzureDevOpsClient, Repository
from runner.config import Discover, RepoConfig

log = structlog.get_logger()


def matches(repository: Repository, patterns: Sequence[str]) -> bool:
    """Whether a glob matches the repository's name, or its Project/Repository for a pattern with a '/'.

    Case-insensitive, like Azure DevOps names.
    """
    for pattern in patterns:
        subject = repository.full_name if "/" in pattern else repository.name
        if fnmatchcase(subject.casefold(), pattern.casefold()):
            return True
    return False


def discovered(client: AzureDevOpsClient, discover: Discover) -> list[Repository]:
    """The repositories `discover` selects, in a stable order."""
    listed: dict[str, Repository] = {}
    for project in discover.projects or (None,):
        for repository in client.repositories(project):
            listed[repository.id] = repository
    selected = [
        repository
        for repository in listed.values()
        if not repository.is_disabled
        and not repository.is_empty
        and matches(repository, discover.include)
        and not matches(repository, discover.exclude)
    ]
    skipped = [r.full_name for r in listed.values() if r.is_disabled or r.is_empty]
    log.info("discovery", listed=len(listed), selected=len(selected), skipped_disabled_or_empty=skipped)
    return sorted(selected, key=lambda repository: repository.full_name.casefold())


def with_discovered(
    configured: Sequence[RepoConfig], found: Sequence[Repository], *, source: Path
) -> tuple[RepoConfig, ...]:
    """The configured repositories plus those found and not configured, sorted like `load_config` sorts."""
    named = {repo.name.casefold() for repo in configured}
    added = [
        RepoConfig(repository=repository.full_name, source=source)
        for repository in found
        if repository.full_name.casefold() not in named
    ]
    return tuple(sorted([*configured, *added], key=lambda repo: (repo.name.casefold(), repo.name)))

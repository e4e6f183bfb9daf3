"""Opt-in (`repositories_per_container`): several Azure DevOps repositories in one Renovate container, one after
another, so they share one Renovate start-up.

Every container pays Renovate's start-up, which on a small repository costs about as much CPU as the work itself.
A group pays it once. Only repositories that would get the very same container may share one: Azure DevOps ones,
enabled, past preflight, with the same effective Renovate options and secrets (a single Renovate process applies
one global configuration). Everything else, and every repository when the setting is 1 (the default), runs in a
container of its own. Groups keep the sweep's order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runner.config import RepoConfig, RunnerConfig


@dataclass(frozen=True)
class Unit:
    """Repositories that run in one container, by their index in the sweep; one index for a repository alone."""

    indices: tuple[int, ...]

    @property
    def grouped(self) -> bool:
        return len(self.indices) > 1


def plan_units(
    repos: Sequence[RepoConfig], runner: RunnerConfig, *, preflight_problems: Mapping[str, str]
) -> list[Unit]:
    """The sweep's containers, ordered by their first repository: groups of up to `repositories_per_container`."""
    size = runner.repositories_per_container
    units: list[list[int]] = []
    filling: dict[str, list[int]] = {}  # the group each kind of repository is being added to
    for index, repo in enumerate(repos):
        key = _group_key(repo, runner, preflight_problems) if size > 1 else None
        if key is None:
            units.append([index])
            continue
        group = filling.get(key)
        if group is None or len(group) == size:
            group = filling[key] = []
            units.append(group)
        group.append(index)
    return [Unit(tuple(indices)) for indices in units]


def _group_key(repo: RepoConfig, runner: RunnerConfig, preflight_problems: Mapping[str, str]) -> str | None:
    """What a repository's container depends on besides the repository itself; None when it must run alone."""
    if repo.is_local or not repo.enabled or repo.name in preflight_problems:
        return None
    settings = {"renovate": repo.effective_renovate(runner), "secrets_env": repo.effective_secrets_env(runner)}
    return json.dumps(settings, sort_keys=True)

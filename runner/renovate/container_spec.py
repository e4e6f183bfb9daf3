"""The container for one repository run, as data: environment, mounts, limits and labels (pure, no I/O).

Nothing from the host environment reaches a container except the names in `passthrough_env`; the token is the only
credential it gets, and only for Azure DevOps repositories: as Renovate's platform token, as the built-in secret
`AZURE_DEVOPS_TOKEN` and through it in the Azure Artifacts host rules (`feeds.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.config import CacheConfig, RepoConfig, RunnerConfig
from runner.config.models import DEFAULT_CACHE_VOLUME
from runner.locking import lock_namespace
from runner.renovate.container import (
    LABEL_REPOSITORY,
    LABEL_RUN_ID,
    LABEL_RUN_LOCK,
    LABEL_RUN_LOCK_NAMESPACE,
    BindMount,
    ContainerSpec,
)
from runner.renovate.engine import CACHE_DIR_IN_CONTAINER
from runner.renovate.feeds import with_token
from runner.run_context import RunContext

REPORT_DIR_IN_CONTAINER = "/renovate-report"
REPORT_FILE_NAME = "report.json"  # Renovate's report file, in the directory mounted at REPORT_DIR_IN_CONTAINER
REPORT_FILE_IN_CONTAINER = f"{REPORT_DIR_IN_CONTAINER}/{REPORT_FILE_NAME}"
CA_BUNDLE_IN_CONTAINER = "/etc/renovate-runner/ca-bundle.crt"
LOCAL_REPO_IN_CONTAINER = "/usr/src/app"  # the official image's workdir; the local platform reads the cwd


def container_name(run_id: str, index: int) -> str:
    return f"renovate-{run_id}-{index:04d}"


def renovate_options(repo: RepoConfig, runner: RunnerConfig, environ: Mapping[str, str]) -> dict[str, Any]:
    """Renovate's self-hosted config for this repository: global options, repo overrides, and secrets from env."""
    options = repo.effective_renovate(runner)
    secret_names = repo.effective_secrets_env(runner)
    secrets = {name: environ[variable] for name, variable in secret_names.items() if variable in environ}
    if secrets:
        options["secrets"] = {**options.get("secrets", {}), **secrets}
    return options


def container_spec(
    repo: RepoConfig, context: RunContext, *, index: int, token: str | None, report_mount: Path
) -> ContainerSpec:
    """The container that runs Renovate over `repo`; `report_mount` is the host dir for Renovate's report file."""
    runner = context.runner
    limits = runner.limits
    return ContainerSpec(
        image=context.image,
        name=container_name(context.run_id, index),
        environment=container_environment(repo, context, token=token),
        mounts=container_mounts(repo, context, report_mount=report_mount),
        working_dir=LOCAL_REPO_IN_CONTAINER if repo.local is not None else None,
        network=runner.network,
        labels={
            LABEL_RUN_ID: context.run_id,
            LABEL_REPOSITORY: repo.name,
            LABEL_RUN_LOCK: str(context.run_lock),
            LABEL_RUN_LOCK_NAMESPACE: lock_namespace(),
        },
        memory_bytes=limits.memory_bytes,
        pids_limit=limits.pids,
        nano_cpus=None if limits.cpus is None else int(limits.cpus * 1_000_000_000),
    )


def cache_mount(cache: CacheConfig) -> BindMount:
    """Renovate's cache: the host directory when `cache.directory` is set, else the volume."""
    if cache.directory is not None:
        return BindMount(source=str(cache.directory), target=CACHE_DIR_IN_CONTAINER)
    return BindMount(source=cache.volume or DEFAULT_CACHE_VOLUME, target=CACHE_DIR_IN_CONTAINER, volume=True)


def container_mounts(repo: RepoConfig, context: RunContext, *, report_mount: Path) -> tuple[BindMount, ...]:
    """The cache, the report directory, the CA bundle when there is one, and a local repository."""
    mounts = [
        cache_mount(context.runner.cache),
        BindMount(source=str(report_mount), target=REPORT_DIR_IN_CONTAINER),
    ]
    if context.ca_bundle is not None:
        mounts.append(BindMount(source=str(context.ca_bundle), target=CA_BUNDLE_IN_CONTAINER, read_only=True))
    if repo.local is not None:
        # Renovate's local platform only looks up and extracts: it never writes, so the mount is read-only.
        mounts.append(BindMount(source=str(repo.local), target=LOCAL_REPO_IN_CONTAINER, read_only=True))
    return tuple(mounts)


def container_environment(repo: RepoConfig, context: RunContext, *, token: str | None) -> dict[str, str]:
    """Renovate's environment: the passthrough variables that are set, then the runner's own settings."""
    runner, host = context.runner, context.host_environ
    environment = {name: host[name] for name in runner.passthrough_env if name in host}
    options = renovate_options(repo, runner, host)
    if token is not None:
        feed_hosts = runner.endpoints.azure_artifacts if runner.azure_artifacts else None
        options = with_token(options, token, feed_hosts=feed_hosts)
    environment |= {
        "LOG_FORMAT": "json",
        "LOG_LEVEL": runner.renovate.log_level,
        "RENOVATE_CONFIG": json.dumps(options, sort_keys=True),
        "RENOVATE_REPORT_TYPE": "file",
        "RENOVATE_REPORT_PATH": REPORT_FILE_IN_CONTAINER,
        "RENOVATE_CACHE_DIR": CACHE_DIR_IN_CONTAINER,
    }
    if context.github_token is not None:
        environment["RENOVATE_GITHUB_COM_TOKEN"] = context.github_token
    if context.ca_bundle is not None:
        # node adds it to its roots; git (clones over https) uses it instead of the image's own bundle.
        environment |= {"NODE_EXTRA_CA_CERTS": CA_BUNDLE_IN_CONTAINER, "GIT_SSL_CAINFO": CA_BUNDLE_IN_CONTAINER}
    if repo.local is not None:
        return environment | {"RENOVATE_PLATFORM": "local", "RENOVATE_DRY_RUN": "lookup"}
    if token is None or runner.organization is None or repo.repository is None:
        raise ValueError(f"{repo.name}: an Azure DevOps repository needs an organization and a token")
    environment |= {
        "RENOVATE_PLATFORM": "azure",
        "RENOVATE_ENDPOINT": runner.organization,
        "RENOVATE_REPOSITORIES": repo.repository,
        "RENOVATE_TOKEN": token,
    }
    if context.dry_run:
        environment["RENOVATE_DRY_RUN"] = "full"
    return environment

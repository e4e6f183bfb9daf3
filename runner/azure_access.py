"""The Azure side of one invocation: the token source, checked once, and a REST client that uses it.

Every token obtained is announced once: registered for redaction and, in Azure Pipelines, masked with
`##vso[task.setsecret]` before anything could print it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import structlog

from runner import pipelines
from runner.auth import TokenSource, make_token_source
from runner.azure_devops import AzureDevOpsClient
from runner.config import RepoConfig, RunnerConfig
from runner.discovery import discovered, with_discovered
from runner.secrets import register_secret

log = structlog.get_logger()


class TokenAnnouncer:
    """Registers each new token value as a secret, and masks it in Azure Pipelines, exactly once."""

    def __init__(self, out: TextIO, environ: Mapping[str, str]) -> None:
        self._out = out
        self._in_pipeline = pipelines.in_pipeline(environ)
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> None:
        with self._lock:
            if value in self._seen:
                return
            self._seen.add(value)
            register_secret(value)
            if self._in_pipeline:  # Azure Pipelines masks it in every later line of the log
                self._out.write(pipelines.setsecret(value) + "\n")
                self._out.flush()


@dataclass(frozen=True, kw_only=True)
class AzureAccess:
    source: TokenSource
    client: AzureDevOpsClient
    current_token: Callable[[], str]  # a valid token, announced; for the runner's own calls besides the client's


def needs_azure(runner: RunnerConfig, repos: Sequence[RepoConfig]) -> bool:
    """Whether this run talks to Azure DevOps at all (local repositories need no token)."""
    return runner.discover is not None or any(repo.enabled and not repo.is_local for repo in repos)


def connect_azure(runner: RunnerConfig, environ: Mapping[str, str], announce: TokenAnnouncer) -> AzureAccess:
    """A token source whose first token is obtained now (exit 3 here, not once per repository)."""
    if runner.organization is None:  # load_config requires it whenever a run needs Azure DevOps
        raise ValueError("an organization is needed to talk to Azure DevOps")
    source = make_token_source(runner.auth, environ)
    token = source.token()
    announce(token.value)
    log.info("token_source_ready", mode=token.mode, identity=token.identity, expires_on=token.expires_on.isoformat())

    def current_token() -> str:
        value = source.token().value
        announce(value)
        return value

    client = AzureDevOpsClient(runner.organization, current_token, vssps_url=runner.endpoints.vssps)
    return AzureAccess(source=source, client=client, current_token=current_token)


def candidate_repositories(
    runner: RunnerConfig, configured: Sequence[RepoConfig], access: AzureAccess | None, *, config_dir: Path
) -> tuple[RepoConfig, ...]:
    """The configured repositories, plus those `discover:` finds (when configured)."""
    if runner.discover is None or access is None:
        return tuple(configured)
    found = discovered(access.client, runner.discover)
    return with_discovered(configured, found, source=config_dir / "runner.yaml")

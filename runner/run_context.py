"""`RunContext`: what one sweep decided before any repository ran, the same for every repository."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runner.config import RunnerConfig


@dataclass(frozen=True, kw_only=True)
class RunContext:
    run_id: str
    run_lock: Path  # the lock file this run holds; its containers carry the path as a label
    runner: RunnerConfig  # with the command line's overrides (--concurrency) applied
    image: str
    dry_run: bool
    ca_bundle: Path | None
    host_environ: Mapping[str, str]
    report_dir: Path
    preflight_problems: Mapping[str, str] = field(default_factory=dict)  # repository name -> what to fix
    # repository name -> what to fix, for repositories that still run (e.g. a feed the identity may not read)
    preflight_warnings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    github_token: str | None = field(default=None, repr=False)  # RENOVATE_GITHUB_COM_TOKEN of every container
    warnings: tuple[str, ...] = ()  # the sweep's own, for the report (e.g. no github.com token)

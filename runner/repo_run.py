"""One repository's run: token, container, streamed log, outcome. Never raises: every failure is an outcome."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import docker
import structlog

from runner.auth import TokenSource, grant_for_repository
from runner.config import RepoConfig, RunnerConfig
from runner.errors import AuthError, EngineError, TokenLifetimeError
from runner.naming import slug
from runner.renovate.container import ENGINE_CONNECTION_ERRORS, RenovateContainer
from runner.renovate.container_spec import REPORT_FILE_NAME, RunContext, container_spec
from runner.renovate.logs import LogSummary
from runner.renovate.logsink import LogSink
from runner.renovate.outcome import build_outcome
from runner.report.model import Reason, RepoOutcome, Status
from runner.report.write import LOGS_DIR, RENOVATE_REPORTS_DIR
from runner.secrets import register_secret

log = structlog.get_logger()

_CANCEL_GRACE_S = 5.0


@dataclass(kw_only=True)
class SweepState:
    """Shared by the workers of one sweep."""

    client: docker.DockerClient
    runner: RunnerConfig
    context: RunContext
    report_dir: Path
    token_source: TokenSource | None
    preflight_problems: Mapping[str, str] = field(default_factory=dict)  # repository name -> what to fix
    cancel: threading.Event = field(default_factory=threading.Event)
    engine_gone: threading.Event = field(default_factory=threading.Event)
    on_token: Callable[[str], None] = register_secret  # every token obtained: redaction, pipeline masking
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def log_path(report_dir: Path, repository: str) -> Path:
    return report_dir / LOGS_DIR / f"{slug(repository)}.ndjson"


def run_repository(repo: RepoConfig, index: int, state: SweepState) -> RepoOutcome:
    with structlog.contextvars.bound_contextvars(repo=repo.name):
        if not repo.enabled:
            return RepoOutcome(
                repository=repo.name,
                status=Status.SKIPPED,
                reason=Reason.DISABLED,
                detail=f"enabled: false in {repo.source}",
            )
        if problem := state.preflight_problems.get(repo.name):
            return _not_started(repo, Status.FAILED, Reason.PREFLIGHT, problem)
        if state.cancel.is_set():
            return _not_started(repo, Status.CANCELLED, Reason.INTERRUPTED, "the sweep was interrupted before it ran")
        if state.engine_gone.is_set():
            return _not_started(repo, Status.FAILED, Reason.ENGINE, "the container engine went away during the sweep")
        started = time.monotonic()
        try:
            return _run(repo, index, state, started)
        except Exception as error:  # one repository's surprise must never take the sweep down
            log.exception("repository_crashed")
            return RepoOutcome(
                repository=repo.name,
                status=Status.CRASHED,
                reason=Reason.ENGINE,
                detail=f"unexpected error in the runner: {type(error).__name__}: {error}",
                duration_s=time.monotonic() - started,
            )


def _run(repo: RepoConfig, index: int, state: SweepState, started: float) -> RepoOutcome:
    timeout = repo.effective_timeout(state.runner)
    notes: list[str] = []
    token: str | None = None
    if not repo.is_local:
        if state.token_source is None:
            raise RuntimeError("an Azure DevOps repository needs a token source")
        auth = state.runner.auth
        try:
            grant = grant_for_repository(
                state.token_source, timeout, margin=auth.margin, floor=auth.floor, now=state.now
            )
        except TokenLifetimeError as error:
            return _failed(repo, Reason.TOKEN_LIFETIME, str(error), started)
        except AuthError as error:
            return _failed(repo, Reason.TOKEN, str(error), started)
        token = grant.token.value
        state.on_token(token)
        timeout = grant.timeout
        if grant.note:
            notes.append(grant.note)
        log.info(
            "token_ready",
            mode=grant.token.mode,
            identity=grant.token.identity,
            expires_on=grant.token.expires_on.isoformat(),
            timeout_s=int(timeout.total_seconds()),
        )

    repo_log = log_path(state.report_dir, repo.name)
    report_mount = _prepare_report_mount(state.report_dir, repo.name)
    spec = container_spec(repo, state.runner, state.context, index=index, token=token, report_mount=report_mount)
    summary = LogSummary()
    log.info("repository_started", container=spec.name, timeout_s=int(timeout.total_seconds()))
    try:
        with LogSink(repo_log, summary) as sink, RenovateContainer(state.client, spec) as container:
            container.run_streaming(sink.on_line)
            result = container.wait(timeout.total_seconds(), state.cancel, grace_s=_CANCEL_GRACE_S)
    except EngineError as error:
        if not _engine_alive(state.client):
            state.engine_gone.set()
        return _failed(repo, Reason.ENGINE, str(error), started, log=_relative(repo_log, state.report_dir))
    if sink.unparsed_long_lines:
        notes.append(f"{sink.unparsed_long_lines} output line(s) over the length cap were logged but not parsed")
    return build_outcome(
        repo.name,
        exit_code=result.exit_code,
        oom_killed=result.oom_killed,
        timed_out=result.timed_out,
        cancelled=result.cancelled,
        report_file=report_mount / REPORT_FILE_NAME,
        summary=summary,
        duration_s=time.monotonic() - started,
        log=_relative(repo_log, state.report_dir),
        notes=notes,
    )


def _prepare_report_mount(report_dir: Path, repository: str) -> Path:
    """A fresh, world-writable directory for Renovate's report file: the container runs as uid 12021."""
    path = report_dir / RENOVATE_REPORTS_DIR / slug(repository)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    path.chmod(0o777)
    return path


def _engine_alive(client: docker.DockerClient) -> bool:
    try:
        client.ping()
    except (docker.errors.DockerException, *ENGINE_CONNECTION_ERRORS):
        return False
    return True


def _relative(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix()


def _not_started(repo: RepoConfig, status: Status, reason: Reason, detail: str) -> RepoOutcome:
    return RepoOutcome(repository=repo.name, status=status, reason=reason, detail=detail)


def _failed(repo: RepoConfig, reason: Reason, detail: str, started: float, *, log: str | None = None) -> RepoOutcome:
    return RepoOutcome(
        repository=repo.name,
        status=Status.FAILED,
        reason=reason,
        detail=detail,
        duration_s=time.monotonic() - started,
        log=log,
    )

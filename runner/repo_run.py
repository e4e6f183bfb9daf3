"""One repository's run: token, container, streamed log, outcome. Never raises: every failure is an outcome."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import structlog

from runner.auth import TokenSource, grant_for_repository
from runner.config import RepoConfig
from runner.errors import AuthError, EngineError, TokenLifetimeError
from runner.naming import slug
from runner.renovate.container import ENGINE_CONNECTION_ERRORS, RenovateContainer
from runner.renovate.container_spec import REPORT_FILE_NAME, container_spec
from runner.renovate.logs import LogSummary
from runner.renovate.logsink import LogSink
from runner.renovate.outcome import build_outcome
from runner.report.model import Attempt, Reason, RepoOutcome, Status
from runner.report.write import LOGS_DIR, RENOVATE_REPORTS_DIR
from runner.retries import as_attempt, is_transient, retry_note
from runner.run_context import RunContext
from runner.secrets import register_secret

log = structlog.get_logger()

CANCEL_GRACE_S = 5.0  # what a stopped container gets between SIGTERM and SIGKILL


@dataclass(kw_only=True)
class SweepState:
    """What the workers of one sweep share: the engine, the token source and the flags they raise."""

    client: docker.DockerClient
    context: RunContext
    token_source: TokenSource | None
    cancel: threading.Event = field(default_factory=threading.Event)  # the first SIGINT/SIGTERM: stop politely
    hurry: threading.Event = field(default_factory=threading.Event)  # a second one: kill what still runs, now
    engine_gone: threading.Event = field(default_factory=threading.Event)
    on_token: Callable[[str], None] = register_secret  # every token obtained: redaction, pipeline masking
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def log_path(report_dir: Path, repository: str) -> Path:
    return report_dir / LOGS_DIR / f"{slug(repository)}.ndjson"


def log_name_of(path: Path, report_dir: Path) -> str:
    """How the report names a log file: its path below the report directory."""
    return path.relative_to(report_dir).as_posix()


def run_repository(
    repo: RepoConfig, index: int, state: SweepState, *, on_start: Callable[[RepoConfig], None] = lambda _repo: None
) -> RepoOutcome:
    """The repository's outcome; `on_start` is called once it is known to run (not skipped, failed or cancelled)."""
    with structlog.contextvars.bound_contextvars(repo=repo.name):
        if (not_run := _not_to_run(repo, state)) is not None:
            return not_run
        on_start(repo)
        earlier: list[Attempt] = []
        while True:
            outcome = _run_once(repo, index, state)
            if not _worth_another_run(outcome, len(earlier), state):
                break
            earlier.append(as_attempt(outcome, log=_keep_log(outcome.log, len(earlier) + 1, state.context.report_dir)))
            log.warning("repository_retried", reason=outcome.reason, detail=outcome.detail, attempt=len(earlier) + 1)
        if not earlier:
            return outcome
        attempts = tuple(earlier)
        return replace(outcome, attempts=attempts, notes=(retry_note(attempts), *outcome.notes))


def _worth_another_run(outcome: RepoOutcome, retried: int, state: SweepState) -> bool:
    if state.cancel.is_set() or state.engine_gone.is_set():
        return False
    return retried < state.context.runner.retries and is_transient(outcome)


def _keep_log(log_name: str | None, attempt: int, report_dir: Path) -> str | None:
    """Moves an attempt's log out of the way of the next one's: `logs/attempt-<n>/<name>`, still unique."""
    if log_name is None:
        return None
    current = report_dir / log_name
    kept = report_dir / LOGS_DIR / f"attempt-{attempt}" / current.name
    kept.parent.mkdir(parents=True, exist_ok=True)
    current.replace(kept)
    return log_name_of(kept, report_dir)


def _run_once(repo: RepoConfig, index: int, state: SweepState) -> RepoOutcome:
    started = time.monotonic()
    try:
        grant = _token_for(repo, state)
        if isinstance(grant, RepoOutcome):  # no token that lasts: the repository fails without a container
            return grant
        return _run_container(repo, index, state, grant, started)
    except Exception as error:  # one repository's surprise must never take the sweep down
        log.exception("repository_crashed")
        return RepoOutcome(
            repository=repo.name,
            status=Status.CRASHED,
            reason=Reason.ENGINE,
            detail=f"unexpected error in the runner: {type(error).__name__}: {error}",
            duration_s=time.monotonic() - started,
        )


def _not_to_run(repo: RepoConfig, state: SweepState) -> RepoOutcome | None:
    """The outcome of a repository that must not start (disabled, failed preflight, too late); None to run it."""
    if not repo.enabled:
        return _not_started(repo, Status.SKIPPED, Reason.DISABLED, f"enabled: false in {repo.source}")
    if problem := state.context.preflight_problems.get(repo.name):
        return _not_started(repo, Status.FAILED, Reason.PREFLIGHT, problem)
    if state.cancel.is_set():
        return _not_started(repo, Status.CANCELLED, Reason.INTERRUPTED, "the sweep was interrupted before it ran")
    if state.engine_gone.is_set():
        return _not_started(repo, Status.FAILED, Reason.ENGINE, "the container engine went away during the sweep")
    return None


@dataclass(frozen=True, kw_only=True)
class Grant:
    token: str | None  # None for a local repository
    timeout: timedelta
    note: str | None  # why the timeout was shortened


@dataclass(frozen=True, kw_only=True)
class NoGrant:
    reason: Reason
    detail: str


def _token_for(repo: RepoConfig, state: SweepState) -> Grant | RepoOutcome:
    """A token that outlives the repository's (possibly shortened) timeout, or the outcome saying why there is none."""
    timeout = repo.effective_timeout(state.context.runner)
    if repo.is_local:
        return Grant(token=None, timeout=timeout, note=None)
    started = time.monotonic()
    grant = grant_for(timeout, state)
    return _failed(repo, grant.reason, grant.detail, started) if isinstance(grant, NoGrant) else grant


def grant_for(timeout: timedelta, state: SweepState) -> Grant | NoGrant:
    """A token for Azure DevOps that outlives `timeout` (or a shortened one, said in the note) plus the margin."""
    if state.token_source is None:
        raise RuntimeError("an Azure DevOps repository needs a token source")
    auth = state.context.runner.auth
    try:
        grant = grant_for_repository(state.token_source, timeout, margin=auth.margin, floor=auth.floor, now=state.now)
    except TokenLifetimeError as error:
        return NoGrant(reason=Reason.TOKEN_LIFETIME, detail=str(error))
    except AuthError as error:
        return NoGrant(reason=Reason.TOKEN, detail=str(error))
    state.on_token(grant.token.value)
    log.info(
        "token_ready",
        mode=grant.token.mode,
        identity=grant.token.identity,
        expires_on=grant.token.expires_on.isoformat(),
        timeout_s=int(grant.timeout.total_seconds()),
    )
    return Grant(token=grant.token.value, timeout=grant.timeout, note=grant.note)


def _run_container(repo: RepoConfig, index: int, state: SweepState, grant: Grant, started: float) -> RepoOutcome:
    report_dir = state.context.report_dir
    repo_log = log_path(report_dir, repo.name)
    log_name = log_name_of(repo_log, report_dir)
    report_mount = prepare_report_mount(report_dir, repo.name)
    spec = container_spec(repo, state.context, index=index, token=grant.token, report_mount=report_mount)
    summary = LogSummary()
    log.info("repository_started", container=spec.name, timeout_s=int(grant.timeout.total_seconds()))
    try:
        with LogSink(repo_log, summary) as sink, RenovateContainer(state.client, spec) as container:
            container.run_streaming(sink)
            result = container.wait(
                grant.timeout.total_seconds(), state.cancel, grace_s=CANCEL_GRACE_S, hurry=state.hurry
            )
    except EngineError as error:
        if not engine_alive(state.client):
            state.engine_gone.set()
        return _failed(repo, Reason.ENGINE, str(error), started, log_name=log_name)
    notes = [grant.note] if grant.note else []
    notes += sink.notes
    return build_outcome(
        repo.name,
        exit_code=result.exit_code,
        oom_killed=result.oom_killed,
        timed_out=result.timed_out,
        cancelled=result.cancelled,
        report_file=report_mount / REPORT_FILE_NAME,
        summary=summary,
        duration_s=time.monotonic() - started,
        log=log_name,
        notes=notes,
    )


def prepare_report_mount(report_dir: Path, repository: str) -> Path:
    """A fresh, world-writable directory for Renovate's report file: the container runs as uid 12021."""
    path = report_dir / RENOVATE_REPORTS_DIR / slug(repository)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    path.chmod(0o777)
    return path


def engine_alive(client: docker.DockerClient) -> bool:
    """Whether the engine still takes new connections. A pooled connection is not proof: an engine that is shutting
    down still answers on the connections it has while it refuses new ones, so the ping goes over a fresh one."""
    try:
        client.ping()
        api = getattr(client, "api", None)
        if isinstance(api, docker.APIClient):  # a stand-in without one (a test's fake) is judged by its ping
            with _fresh_connection(api) as fresh:
                fresh.ping()
    except (docker.errors.DockerException, *ENGINE_CONNECTION_ERRORS):
        return False
    return True


def _fresh_connection(api: docker.APIClient) -> docker.APIClient:
    """A client of the same engine, with none of `api`'s pooled connections."""
    socket_path = getattr(api.get_adapter(api.base_url), "socket_path", None)  # a unix socket's adapter holds it
    fresh = docker.APIClient(
        base_url=f"unix://{socket_path}" if socket_path else api.base_url, version=api.api_version, timeout=10
    )
    fresh.verify, fresh.cert = api.verify, api.cert  # the TLS settings of a tcp engine, if any
    return fresh


def _not_started(repo: RepoConfig, status: Status, reason: Reason, detail: str) -> RepoOutcome:
    return RepoOutcome(repository=repo.name, status=status, reason=reason, detail=detail)


def _failed(
    repo: RepoConfig, reason: Reason, detail: str, started: float, *, log_name: str | None = None
) -> RepoOutcome:
    return RepoOutcome(
        repository=repo.name,
        status=Status.FAILED,
        reason=reason,
        detail=detail,
        duration_s=time.monotonic() - started,
        log=log_name,
    )

"""`renovate-runner run`: the sweep, from configuration to report and exit code.

Problems that stop everything are found in this order, before any repository's container starts: configuration
(exit 2), authentication and the github.com token (3), a report directory that cannot be written (7), another sweep
holding the locks (5), the container engine or image (4), Renovate's own check of the Renovate options (2). Then the
preflight checks mark the repositories the identity cannot update; the others run.
"""

from __future__ import annotations

import argparse
import re
import secrets
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Self, TextIO

import docker
import structlog

from runner import pipelines, side_by_side
from runner.azure_access import AzureAccess, TokenAnnouncer, candidate_repositories, connect_azure, needs_azure
from runner.capacity import ConcurrencyDecision, MachineCapacity, sweep_concurrency
from runner.commands import arguments
from runner.config import CacheConfig, RepoConfig, RunnerConfig, SweepConfig, load_config
from runner.config.concurrency import Concurrency
from runner.config.models import DEFAULT_CACHE_VOLUME
from runner.config.names import ImageReference
from runner.config.paths import OutputDirectory
from runner.console import observer_for, print_summary
from runner.errors import EngineError, ExitCode, Interrupted
from runner.feed_access import feed_warnings
from runner.github import check_github
from runner.history.location import history_url
from runner.history.recording import previous_durations, record_sweep
from runner.locking import SweepLocks, default_state_dir
from runner.preflight import identity_phrase, run_preflight
from runner.renovate import engine
from runner.renovate.cache_dir import prepare_cache_directory
from runner.renovate.validator import validate_renovate_options
from runner.repo_run import SweepState
from runner.report.markdown import published_in
from runner.report.write import LOGS_DIR, RENOVATE_REPORTS_DIR, ensure_writable, write_report
from runner.run_context import RunContext
from runner.sharding import Shard, choose_shard, select_run
from runner.sweep import SweepResult, run_sweep

log = structlog.get_logger()

DEFAULT_CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)


@dataclass(frozen=True, kw_only=True)
class SweepPlan:
    """What this invocation will do, from config and flags."""

    repos: tuple[RepoConfig, ...]
    runner: RunnerConfig
    report_dir: Path
    run_id: str
    image: str
    dry_run: bool
    shard: Shard | None  # None when the run is not split over parallel jobs
    concurrency: ConcurrencyDecision

    @property
    def shard_label(self) -> str | None:
        return self.shard.label if self.shard is not None else None


@dataclass(frozen=True, kw_only=True)
class RunArguments(arguments.SelectionArguments):
    """The command line of `run`, parsed."""

    report_dir: Path | None  # None: report_dir from the configuration
    dry_run: bool
    concurrency: int | Literal["auto"] | None  # None: concurrency from the configuration
    image: str | None
    run_id: str | None
    upload_summary: bool  # False: a later job of the pipeline uploads the (merged) summary
    cache_dir: Path | None  # None: the cache from the configuration
    history: str | None  # --history; None: history from the configuration
    validate_renovate: bool  # False: --no-renovate-validation

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> Self:
        selection = arguments.SelectionArguments.from_namespace(args)
        return cls(
            config=selection.config,
            repos=selection.repos,
            shard=selection.shard,
            report_dir=args.report_dir,
            dry_run=args.dry_run,
            concurrency=args.concurrency,
            image=args.image,
            run_id=args.run_id,
            upload_summary=args.upload_summary,
            cache_dir=args.cache_dir,
            history=args.history,
            validate_renovate=args.validate_renovate,
        )


def configure(parser: argparse.ArgumentParser) -> None:
    arguments.add_config(parser)
    arguments.add_selection(parser)
    parser.add_argument(
        "--report-dir",
        type=arguments.checked_as(OutputDirectory),
        help="where to write the report (default: report_dir from config)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="Renovate's full dry run: look up and plan updates, push nothing",
    )
    parser.add_argument(
        "--concurrency",
        type=arguments.checked_as(Concurrency),
        help="repositories at once, or auto to fit the machine (default: from config)",
    )
    parser.add_argument(
        "--image", type=arguments.checked_as(ImageReference), help="Renovate image to use instead of renovate.image"
    )
    parser.add_argument("--run-id", help="identifier of this run (default: Build.BuildId in Azure Pipelines, else new)")
    parser.add_argument(
        "--cache-dir",
        type=arguments.checked_as(OutputDirectory),
        help="host directory as Renovate's cache instead of cache.volume/cache.directory (e.g. Cache@2's path)",
    )
    arguments.add_history(parser)
    parser.add_argument(
        "--no-renovate-validation",
        dest="validate_renovate",
        action="store_false",
        help="skip Renovate's own check of the Renovate options before the sweep (renovate.validate: false)",
    )
    parser.add_argument(
        "--no-upload-summary",
        dest="upload_summary",
        action="store_false",
        help="in Azure Pipelines, leave ##vso[task.uploadsummary] to a later job that runs `report merge`",
    )


def run(namespace: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    args = RunArguments.from_namespace(namespace)
    config = load_config(args.config)
    announce = TokenAnnouncer(out, environ)
    named = [repo for repo in config.repos if not args.repos or repo.name in args.repos]
    access = connect_azure(config.runner, environ, announce) if needs_azure(config.runner, named) else None
    candidates = candidate_repositories(config.runner, config.repos, access, config_dir=config.config_dir)
    plan = make_plan(args, config.runner, candidates, environ)
    github = check_github(plan.runner, environ, repositories=len(plan.repos), on_token=announce)
    announce_warnings(github.warnings, out, environ)
    ensure_writable(plan.report_dir)
    state_dir = default_state_dir(dict(environ))
    with SweepLocks(
        state_dir=state_dir,
        run_id=plan.run_id,
        report_dir=plan.report_dir,
        cache_volume=plan.runner.cache.volume,
        cache_directory=plan.runner.cache.directory,
    ) as locks:
        (client, option_warnings), (problems, warnings) = side_by_side.both(
            lambda: _engine_checks(config, args, plan, verdicts=state_dir / "validated"),
            lambda: _preflight(access, plan),
        )
        announce_warnings(option_warnings, out, environ)
        context = RunContext(
            run_id=plan.run_id,
            run_lock=locks.run_lock.path,
            runner=plan.runner,
            image=plan.image,
            dry_run=plan.dry_run,
            ca_bundle=find_ca_bundle(plan.runner.ca_bundle, environ),
            host_environ=environ,
            report_dir=plan.report_dir,
            preflight_problems=problems,
            preflight_warnings=warnings,
            github_token=github.token,
            warnings=(*github.warnings, *option_warnings),
        )
        _clear_previous_outputs(plan.report_dir)
        state = SweepState(
            client=client,
            context=context,
            token_source=access.source if access is not None else None,
            on_token=announce,
        )
        history = plan.runner.history
        url = history_url(history, args.history, environ)
        durations = previous_durations(url, [repo.name for repo in plan.repos])
        result = _sweep(plan, state, out, environ, durations)
        recorded = record_sweep(result.report, url, failing_after=history.failing_after)
        paths = write_report(recorded.report, plan.report_dir, published=published_in(environ), trends=recorded.trends)
        log.info("report_written", report=str(paths.json))
        print_summary(recorded.report, plan.report_dir, out, environ, upload=args.upload_summary, history=recorded)
    return exit_code(result)


def announce_warnings(warnings: Sequence[str], out: TextIO, environ: Mapping[str, str]) -> None:
    """The sweep's own warnings, once each: in the log and, in Azure Pipelines, as warnings of the step."""
    for warning in warnings:
        log.warning("sweep_warning", warning=warning)
        if pipelines.in_pipeline(environ):
            out.write(pipelines.logissue("warning", warning) + "\n")
    out.flush()


def make_plan(
    args: RunArguments,
    runner: RunnerConfig,
    candidates: Sequence[RepoConfig],
    environ: Mapping[str, str],
    *,
    capacity: MachineCapacity | None = None,
) -> SweepPlan:
    """The sweep this invocation runs; `capacity` resolves `concurrency: auto` (None: this machine's)."""
    if args.concurrency is not None:
        runner = runner.model_copy(update={"concurrency": args.concurrency})
    if args.cache_dir is not None:
        # Validated as `cache: {directory: ...}` in runner.yaml would be; it replaces the configured volume.
        runner = runner.model_copy(update={"cache": CacheConfig.model_validate({"directory": args.cache_dir})})
    selection = select_run(candidates, names=args.repos, shard=choose_shard(args.shard, environ))
    return SweepPlan(
        repos=selection.repos,
        runner=runner,
        report_dir=(args.report_dir or runner.report_dir).resolve(),
        run_id=safe_run_id(args.run_id or default_run_id(environ)),
        image=args.image or runner.renovate.image,
        dry_run=args.dry_run,
        shard=selection.shard,
        concurrency=sweep_concurrency(runner, capacity),
    )


def exit_code(result: SweepResult) -> int:
    if result.signal_number is not None:
        raise Interrupted(result.signal_number)
    if result.engine_gone:
        raise EngineError("the container engine went away during the sweep; the report lists what ran")
    return int(ExitCode.OK if result.report.ok else ExitCode.REPOSITORIES_FAILED)


def default_run_id(environ: Mapping[str, str]) -> str:
    if build_id := environ.get("BUILD_BUILDID"):
        return f"build-{build_id}"
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def safe_run_id(run_id: str) -> str:
    """Run ids end up in container names: keep to what Docker accepts."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", run_id)


def find_ca_bundle(configured: Path | None, environ: Mapping[str, str]) -> Path | None:
    if configured is not None:
        return configured
    for candidate in (environ.get("SSL_CERT_FILE"), *DEFAULT_CA_BUNDLES):
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    return None


def _preflight(access: AzureAccess | None, plan: SweepPlan) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Repository problems found before anything starts (those repositories fail with reason `preflight`), and
    warnings for the others (feeds the identity may not read)."""
    if access is None or not any(repo.enabled and not repo.is_local for repo in plan.repos):
        return {}, {}
    result = run_preflight(access.client, plan.repos, dry_run=plan.dry_run, runner=plan.runner)
    runnable = [repo for repo in plan.repos if repo.enabled and repo.name not in result.problems]
    warnings = feed_warnings(
        runnable, plan.runner, token=access.current_token, identity=identity_phrase(result.identity)
    )
    return result.problems, warnings


def _engine_checks(
    config: SweepConfig, args: RunArguments, plan: SweepPlan, *, verdicts: Path
) -> tuple[docker.DockerClient, tuple[str, ...]]:
    """The engine made ready (image, cache) and Renovate's check of the options: the checks that run containers."""
    client = _prepare_engine(plan)
    return client, _validate_options(config, args, client, plan, verdicts=verdicts)


def _validate_options(
    config: SweepConfig, args: RunArguments, client: docker.DockerClient, plan: SweepPlan, *, verdicts: Path
) -> tuple[str, ...]:
    """Renovate's own check of the options: errors stop the run (exit 2); the warnings, for the report."""
    if not (args.validate_renovate and config.runner.renovate.validate_options):
        return ()
    result = validate_renovate_options(
        config, client, plan.image, name=f"renovate-{plan.run_id}-validate", verdicts=verdicts
    )
    result.raise_errors(args.config)
    return tuple(str(problem) for problem in result.warnings)


def _prepare_engine(plan: SweepPlan) -> docker.DockerClient:
    client = engine.connect()
    engine.remove_leftovers(client, own_run_id=plan.run_id)
    engine.ensure_image(client, plan.image)
    cache = plan.runner.cache
    if cache.directory is not None:
        prepare_cache_directory(cache.directory, client, plan.image)
        engine.check_cache_writable(client, plan.image, str(cache.directory), f"the cache directory {cache.directory}")
    else:
        volume = cache.volume or DEFAULT_CACHE_VOLUME
        engine.ensure_cache_volume(client, volume, plan.image)
        engine.check_cache_writable(client, plan.image, volume, f"the cache volume {volume}")
    return client


def _sweep(
    plan: SweepPlan, state: SweepState, out: TextIO, environ: Mapping[str, str], durations: Mapping[str, float]
) -> SweepResult:
    log.info(
        "sweep_started",
        run_id=plan.run_id,
        repositories=len(plan.repos),
        shard=plan.shard_label,
        concurrency=plan.concurrency.describe(),
        image=plan.image,
        report_dir=str(plan.report_dir),
        timed_by_history=len(durations),
    )
    with observer_for(plan.repos, out, environ) as observer:
        return run_sweep(
            plan.repos,
            state,
            concurrency=plan.concurrency,
            observer=observer,
            shard=plan.shard_label,
            durations=durations,
        )


def _clear_previous_outputs(report_dir: Path) -> None:
    """Logs and Renovate reports of an earlier sweep into the same directory would mix with this one's."""
    for name in (LOGS_DIR, RENOVATE_REPORTS_DIR):
        shutil.rmtree(report_dir / name, ignore_errors=True)

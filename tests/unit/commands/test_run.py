"""`renovate-runner run`'s plan: how `concurrency` (auto by default) becomes the number a sweep runs at, and the report
saying so."""

from __future__ import annotations

from pathlib import Path

from runner.capacity import MachineCapacity
from runner.cli import build_parser
from runner.commands.run import RunArguments, make_plan
from runner.config import SweepConfig
from runner.sweep import run_sweep
from tests.unit.conftest import ConfigFactory, idle_sweep_state

GIB = 1024**3
RUNNER_YAML = "organization: https://dev.azure.com/contoso/\n"
HOSTED_AGENT = MachineCapacity(cpus=2, memory_bytes=7 * GIB)
DISABLED = {f"repo-{i}.yaml": f"repository: Platform/repo-{i}\nenabled: false\n" for i in range(3)}


def parse_run(config: SweepConfig, *argv: str) -> RunArguments:
    return RunArguments.from_namespace(build_parser().parse_args(["run", "--config", str(config.config_dir), *argv]))


def test_auto_by_default_fits_the_machine(make_config: ConfigFactory) -> None:
    config = make_config(RUNNER_YAML + "limits: {memory: 2g}\n", DISABLED)
    plan = make_plan(parse_run(config), config.runner, config.repos, {}, capacity=HOSTED_AGENT)

    assert plan.concurrency.value == 3
    assert plan.concurrency.describe() == (
        "3 (auto: CPU bound 4 for 2 CPUs; memory bound 3 for 7.0 GiB at 2 GiB a container)"
    )


def test_a_number_in_the_file_or_on_the_command_line_is_taken_as_it_is(make_config: ConfigFactory) -> None:
    config = make_config(RUNNER_YAML + "concurrency: 6\nlimits: {memory: 1536m}\n", DISABLED)
    from_file = make_plan(parse_run(config), config.runner, config.repos, {}, capacity=HOSTED_AGENT)
    from_flag = make_plan(
        parse_run(config, "--concurrency", "2"), config.runner, config.repos, {}, capacity=HOSTED_AGENT
    )
    auto_flag = make_plan(
        parse_run(config, "--concurrency", "auto"), config.runner, config.repos, {}, capacity=HOSTED_AGENT
    )

    assert (from_file.concurrency.value, from_file.concurrency.basis) == (6, "configured")
    assert (from_flag.concurrency.value, from_flag.concurrency.basis) == (2, "configured")
    assert auto_flag.concurrency.value == 4  # 1.5g containers: both bounds are 4


def test_the_report_says_what_concurrency_the_sweep_ran_at(make_config: ConfigFactory, tmp_path: Path) -> None:
    config = make_config(RUNNER_YAML, DISABLED)
    plan = make_plan(parse_run(config), config.runner, config.repos, {}, capacity=HOSTED_AGENT)
    state = idle_sweep_state(plan, tmp_path)

    report = run_sweep(plan.repos, state, concurrency=plan.concurrency).report

    assert report.concurrency == plan.concurrency.value
    assert report.concurrency_basis == plan.concurrency.basis
    assert report.concurrency_basis is not None
    assert report.concurrency_basis.startswith("CPU bound 4 for 2 CPUs")


def test_run_uploads_the_summary_unless_told_a_later_job_does(make_config: ConfigFactory) -> None:
    config = make_config(RUNNER_YAML, DISABLED)

    assert parse_run(config).upload_summary is True
    assert parse_run(config, "--no-upload-summary").upload_summary is False


def test_cache_dir_replaces_the_configured_cache_volume(make_config: ConfigFactory, tmp_path: Path) -> None:
    config = make_config(RUNNER_YAML + "cache: {volume: team-cache}\n", DISABLED)

    plan = make_plan(
        parse_run(config, "--cache-dir", str(tmp_path / "pipeline-cache")),
        config.runner,
        config.repos,
        {},
        capacity=HOSTED_AGENT,
    )

    assert config.runner.cache.volume == "team-cache"
    assert (plan.runner.cache.volume, plan.runner.cache.directory) == (None, tmp_path / "pipeline-cache")

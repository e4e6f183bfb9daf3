"""Sharding a sweep over Azure Pipelines parallel jobs: stable, balanced, chosen by flag or by the pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner.capacity import ConcurrencyDecision
from runner.cli import build_parser, main
from runner.commands.run import RunArguments, make_plan
from runner.config import SweepConfig
from runner.errors import ConfigError
from runner.report.model import Status
from runner.sharding import (
    POSITION_VARIABLE,
    TOTAL_VARIABLE,
    Shard,
    choose_shard,
    parse_shard,
    select_run,
    shard_from_environ,
    shard_number,
    shard_sizes,
)
from runner.sweep import run_sweep
from tests.unit.conftest import ConfigFactory, idle_sweep_state

NAMES = [f"Project{i % 20}/repo-{i:04d}" for i in range(1000)]
RUNNER_YAML = "organization: https://dev.azure.com/contoso/\n"


def assignments(names: list[str], count: int) -> dict[str, int]:
    return {name: shard_number(name, count) for name in names}


# --- the hash ---


def test_1000_repositories_over_8_shards_are_balanced_within_25_percent() -> None:
    sizes = shard_sizes(NAMES, 8)

    mean = len(NAMES) / 8
    assert sum(sizes.values()) == len(NAMES)
    assert list(sizes) == list(range(1, 9))
    assert all(abs(size - mean) <= 0.25 * mean for size in sizes.values()), sizes


def test_adding_a_repository_moves_only_that_one() -> None:
    before = assignments(NAMES, 8)

    after = assignments([*NAMES, "Project3/repo-new"], 8)

    assert {name: after[name] for name in NAMES} == before


def test_adding_a_shard_moves_only_about_one_in_n_and_only_onto_the_new_shard() -> None:
    before = assignments(NAMES, 8)
    after = assignments(NAMES, 9)

    moved = [name for name in NAMES if after[name] != before[name]]

    # Rendezvous hashing: a name moves only when the new shard outscores its old one (1 in 9 on average);
    # modulo hashing would move about 8 in 9.
    assert {after[name] for name in moved} == {9}
    assert 0.05 * len(NAMES) < len(moved) < 0.2 * len(NAMES)


# Computed once from SHA-256 rendezvous hashing; a change of hash function or key layout moves repositories
# between shards in every pipeline that uses sharding, and must fail here first.
PINNED = [
    ("Platform/api", 8, 8),
    ("Web/portal", 8, 5),
    ("local/npm-app", 8, 8),
    ("Project0/repo-0000", 8, 8),
    ("Project7/repo-0427", 8, 7),
    ("Contoso/Billing-Service", 8, 2),
    ("Platform/api", 3, 3),
    ("Web/portal", 3, 2),
    ("local/npm-app", 3, 1),
    ("Project7/repo-0427", 3, 1),
]


@pytest.mark.parametrize(("name", "count", "expected"), PINNED)
def test_a_name_always_lands_on_the_same_shard(name: str, count: int, expected: int) -> None:
    assert shard_number(name, count) == expected
    assert Shard(expected, count).holds(name)


def test_case_alone_does_not_move_a_repository() -> None:
    # Azure DevOps names are case-insensitive; a change of case in a config file must not move a repository.
    assert [shard_number(name.upper(), 8) for name in NAMES[:50]] == [shard_number(name, 8) for name in NAMES[:50]]


def test_one_shard_holds_everything() -> None:
    assert set(assignments(NAMES[:100], 1).values()) == {1}


# --- shard values from people ---


@pytest.mark.parametrize(("text", "expected"), [("2/4", Shard(2, 4)), (" 1 / 3 ", Shard(1, 3)), ("1/1", Shard(1, 1))])
def test_shard_values_parse(text: str, expected: Shard) -> None:
    assert parse_shard(text) == expected
    assert expected.label == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0/3", "shard 0/3 does not exist: I/N needs 1 <= I <= N, e.g. 2/4"),
        ("4/3", "shard 4/3 does not exist: I/N needs 1 <= I <= N, e.g. 2/4"),
        ("1/0", "shard 1/0 does not exist: I/N needs 1 <= I <= N, e.g. 2/4"),
        ("x", "'x' is not a shard: write I/N for shard I of N, e.g. 2/4"),
        ("-1/3", "'-1/3' is not a shard: write I/N for shard I of N, e.g. 2/4"),
        ("2", "'2' is not a shard: write I/N for shard I of N, e.g. 2/4"),
    ],
)
def test_bad_shard_values_are_usage_errors(capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_shard(text)
    for command in ("run", "plan"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, f"--shard={text}"])

        assert exit_info.value.code == 2
        assert f"error: argument --shard: {message}\n" in capsys.readouterr().err


# --- the shard of an Azure Pipelines parallel job ---


def pipeline_job(position: str, total: str) -> dict[str, str]:
    return {POSITION_VARIABLE: position, TOTAL_VARIABLE: total}


def test_a_parallel_job_runs_its_own_shard() -> None:
    assert shard_from_environ(pipeline_job("3", "4")) == Shard(3, 4)
    assert choose_shard(None, pipeline_job("3", "4")) == Shard(3, 4)


def test_outside_a_parallel_job_nothing_is_split() -> None:
    assert choose_shard(None, {}) is None
    assert choose_shard(None, pipeline_job("1", "1")) is None  # an ordinary job: TotalJobsInPhase is 1


def test_the_flag_wins_over_the_pipeline_and_1_of_1_turns_sharding_off() -> None:
    assert choose_shard(Shard(1, 2), pipeline_job("3", "4")) == Shard(1, 2)
    assert choose_shard(Shard(1, 1), pipeline_job("3", "4")) is None


@pytest.mark.parametrize(("position", "total"), [("0", "4"), ("5", "4"), ("", "4"), ("two", "4"), ("1", "x")])
def test_pipeline_variables_that_name_no_shard_are_a_config_error(position: str, total: str) -> None:
    with pytest.raises(ConfigError) as error:
        choose_shard(None, pipeline_job(position, total))

    assert str(error.value) == (
        f"{POSITION_VARIABLE}={position!r} and {TOTAL_VARIABLE}={total!r} do not name a shard; Azure Pipelines "
        "sets them in jobs with `strategy: parallel`. What to do: pass --shard I/N explicitly (--shard 1/1 runs "
        "every repository)"
    )
    assert error.value.exit_code == 2


# --- which repositories a run gets ---


@pytest.fixture
def many_repos(make_config: ConfigFactory) -> SweepConfig:
    files = {f"repo-{i:02d}.yaml": f"repository: Project{i % 3}/repo-{i:02d}\n" for i in range(30)}
    files["repo-07.yaml"] += "enabled: false\n"
    return make_config(RUNNER_YAML, files)


def test_the_shards_of_a_run_partition_its_repositories_in_config_order(many_repos: SweepConfig) -> None:
    names = [repo.name for repo in many_repos.repos]

    shards = [select_run(many_repos.repos, names=[], shard=Shard(index, 3)).repos for index in (1, 2, 3)]

    assert sorted(repo.name for shard in shards for repo in shard) == sorted(names)
    assert all(shard for shard in shards)
    for shard in shards:
        in_shard = [repo.name for repo in shard]
        assert in_shard == [name for name in names if name in in_shard]  # the config's order, kept


def test_a_disabled_repository_stays_in_its_shard(many_repos: SweepConfig) -> None:
    disabled = next(repo for repo in many_repos.repos if not repo.enabled)
    home = Shard(shard_number(disabled.name, 3), 3)

    assert disabled in select_run(many_repos.repos, names=[], shard=home).repos


def test_repo_names_are_filtered_first_then_sharded(many_repos: SweepConfig) -> None:
    wanted = ["Project0/repo-00", "Project1/repo-01", "Project2/repo-02", "Project0/repo-03"]

    selection = select_run(many_repos.repos, names=wanted, shard=Shard(1, 2))

    assert [repo.name for repo in selection.selected] == sorted(wanted)
    assert [repo.name for repo in selection.repos] == [name for name in sorted(wanted) if shard_number(name, 2) == 1]
    assert selection.shard_label == "1/2"


def test_unknown_repo_names_are_a_config_error(many_repos: SweepConfig) -> None:
    with pytest.raises(ConfigError, match=r"^--repo Project9/nope: not in the configuration; configured: Project0/"):
        select_run(many_repos.repos, names=["Project9/nope"], shard=None)


# --- the run command ---


def parse_run(config: SweepConfig, *argv: str) -> RunArguments:
    return RunArguments.from_namespace(build_parser().parse_args(["run", "--config", str(config.config_dir), *argv]))


def test_run_takes_its_shard_from_the_flag(many_repos: SweepConfig) -> None:
    plan = make_plan(
        parse_run(many_repos, "--shard", "2/3"), many_repos.runner, many_repos.repos, pipeline_job("1", "3")
    )

    assert plan.shard_label == "2/3"
    assert [repo.name for repo in plan.repos] == [r.name for r in many_repos.repos if shard_number(r.name, 3) == 2]


def test_run_takes_its_shard_from_the_pipeline_without_a_flag(many_repos: SweepConfig) -> None:
    plan = make_plan(parse_run(many_repos), many_repos.runner, many_repos.repos, pipeline_job("3", "3"))

    assert plan.shard_label == "3/3"
    assert [repo.name for repo in plan.repos] == [r.name for r in many_repos.repos if shard_number(r.name, 3) == 3]


def test_a_shard_sweep_reports_its_label_and_its_disabled_repositories_as_skipped(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    files = {f"repo-{i}.yaml": f"repository: Platform/repo-{i}\nenabled: false\n" for i in range(12)}
    config = make_config(RUNNER_YAML, files)
    plan = make_plan(parse_run(config, "--shard", "1/2"), config.runner, config.repos, {})
    state = idle_sweep_state(plan, tmp_path)

    report = run_sweep(
        plan.repos, state, concurrency=ConcurrencyDecision(value=2, basis="configured"), shard=plan.shard_label
    ).report

    assert report.shard == "1/2"
    expected = [name for name in sorted(f"Platform/repo-{i}" for i in range(12)) if shard_number(name, 2) == 1]
    assert [outcome.repository for outcome in report.repositories] == expected
    assert {outcome.status for outcome in report.repositories} == {Status.SKIPPED}
    assert state.client.mock_calls == []

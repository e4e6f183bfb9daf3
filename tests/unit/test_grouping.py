"""Which repositories may share a Renovate container (`repositories_per_container`), and in what order."""

from __future__ import annotations

import pytest

from runner.config import SweepConfig
from runner.grouping import Unit, plan_units
from tests.unit.conftest import ConfigFactory

RUNNER_YAML = "organization: https://dev.azure.com/contoso/\n"


def config_with(make_config: ConfigFactory, per_container: int, repos: dict[str, str]) -> SweepConfig:
    return make_config(RUNNER_YAML + f"repositories_per_container: {per_container}\n", repos)


def azure(count: int) -> dict[str, str]:
    return {f"r{i}.yaml": f"repository: Platform/repo-{i}\n" for i in range(count)}


def units(config: SweepConfig, problems: dict[str, str] | None = None) -> list[tuple[str, ...]]:
    planned = plan_units(config.repos, config.runner, preflight_problems=problems or {})
    return [tuple(config.repos[index].name for index in unit.indices) for unit in planned]


def test_by_default_every_repository_has_a_container_of_its_own(make_config: ConfigFactory) -> None:
    config = make_config(RUNNER_YAML, azure(3))
    assert plan_units(config.repos, config.runner, preflight_problems={}) == [Unit((0,)), Unit((1,)), Unit((2,))]


def test_repositories_fill_groups_in_the_sweeps_order(make_config: ConfigFactory) -> None:
    config = config_with(make_config, 3, azure(7))
    names = [repo.name for repo in config.repos]
    assert units(config) == [tuple(names[0:3]), tuple(names[3:6]), (names[6],)]
    assert [unit.grouped for unit in plan_units(config.repos, config.runner, preflight_problems={})] == [
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("enabled: false\n", "disabled"),
        ("renovate: {labels: [deps]}\n", "options of its own"),
        ("secrets_env: {NPM_TOKEN: TEAM_NPM_TOKEN}\n", "secrets of its own"),
    ],
)
def test_a_repository_whose_container_would_differ_is_not_grouped_with_the_others(
    make_config: ConfigFactory, extra: str, why: str
) -> None:
    repos = azure(3)
    repos["r1.yaml"] += extra
    config = config_with(make_config, 4, repos)
    grouped = {name for unit in units(config) if len(unit) > 1 for name in unit}
    assert "Platform/repo-1" not in grouped, why
    assert grouped == {"Platform/repo-0", "Platform/repo-2"}


def test_repositories_with_the_same_options_of_their_own_share_a_container(make_config: ConfigFactory) -> None:
    repos = {name: text + "renovate: {labels: [deps]}\n" for name, text in azure(2).items()}
    config = config_with(make_config, 4, repos)
    assert len(units(config)) == 1


def test_local_repositories_and_those_failing_preflight_run_alone(make_config: ConfigFactory) -> None:
    repos = azure(4)
    repos["local.yaml"] = "local: ../../sample\n"
    config = make_config(RUNNER_YAML + "repositories_per_container: 8\n", repos, local_dirs=("sample",))
    assert [repo.name for repo in config.repos] == [
        "local/sample",
        "Platform/repo-0",
        "Platform/repo-1",
        "Platform/repo-2",
        "Platform/repo-3",
    ]
    assert units(config, problems={"Platform/repo-2": "no Contribute permission"}) == [
        ("local/sample",),
        ("Platform/repo-0", "Platform/repo-1", "Platform/repo-3"),  # the group keeps its first member's place
        ("Platform/repo-2",),
    ]

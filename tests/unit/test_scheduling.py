"""Start order from the history: new repositories first, then longest previous duration first, ties stable."""

from __future__ import annotations

from pathlib import Path

from runner.config import RepoConfig
from runner.grouping import Unit
from runner.scheduling import longest_first


def repos(*names: str) -> list[RepoConfig]:
    return [RepoConfig(repository=name, source=Path(f"{name.replace('/', '-')}.yaml")) for name in names]


def names(units: list[Unit], configs: list[RepoConfig]) -> list[list[str]]:
    return [[configs[index].name for index in unit.indices] for unit in units]


def test_without_history_the_stable_order_stays() -> None:
    configs = repos("P/a", "P/b", "P/c")
    units = [Unit((n,)) for n in range(3)]

    assert longest_first(units, configs, {}) == units


def test_new_repositories_start_first_then_the_longest() -> None:
    configs = repos("P/a", "P/b", "P/c", "P/d", "P/e")
    durations = {"P/a": 5.0, "P/b": 300.0, "P/d": 40.0, "P/e": 40.0}

    ordered = longest_first([Unit((n,)) for n in range(5)], configs, durations)

    assert names(ordered, configs) == [["P/c"], ["P/b"], ["P/d"], ["P/e"], ["P/a"]]


def test_a_group_counts_its_repositories_together_and_is_new_when_one_is() -> None:
    configs = repos("P/a", "P/b", "P/c", "P/d", "P/e")
    durations = {"P/a": 100.0, "P/b": 30.0, "P/c": 30.0, "P/e": 1.0}
    units = [Unit((0,)), Unit((1, 2)), Unit((3, 4))]

    assert names(longest_first(units, configs, durations), configs) == [["P/d", "P/e"], ["P/a"], ["P/b", "P/c"]]

"""The order in which a sweep starts its containers: longest previous duration first, new repositories first of all.

With a bounded number of containers at once, a long repository started last keeps the sweep running alone after
every other one has finished; started first, it overlaps with the short ones (the longest-processing-time rule).
A repository the history has never timed may be the longest of all, so it starts before every timed one. Ties, and
every repository when there is no history, keep the configuration's stable order. Only the start order changes:
the report still lists repositories in that stable order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.config import RepoConfig
from runner.grouping import Unit


def longest_first(units: Sequence[Unit], repos: Sequence[RepoConfig], durations: Mapping[str, float]) -> list[Unit]:
    """`units` reordered by their repositories' previous durations (`durations`: name -> seconds), longest first."""
    if not durations:
        return list(units)

    def key(position: int) -> tuple[bool, float, int]:
        names = [repos[index].name for index in units[position].indices]
        known = all(name in durations for name in names)
        return (known, -sum(durations.get(name, 0.0) for name in names), position)

    return [units[position] for position in sorted(range(len(units)), key=key)]

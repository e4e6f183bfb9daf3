"""Which repositories a run processes: those named by `--repo` (all by default), then those of this job's shard.

Sharding spreads one sweep over Azure Pipelines parallel jobs (`strategy: parallel: N`). A repository's shard
comes from rendezvous (highest random weight) hashing of its name: every shard scores the name with SHA-256 and
the highest score wins. The score depends on nothing but the name and the shard number, so a repository stays on
its shard from run to run and adding or removing a repository moves no other one; changing N moves only about
1/N of them. Python's `hash()` would not do: it is salted per process.

The functions take plain sequences of `RepoConfig`, not a `SweepConfig`, so repositories found by discovery
through the Azure DevOps API can be fed in next to the configured ones.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runner.config import RepoConfig
from runner.errors import ConfigError

# Azure Pipelines' System.JobPositionInPhase (1-based) and System.TotalJobsInPhase, as a step sees them.
POSITION_VARIABLE = "SYSTEM_JOBPOSITIONINPHASE"
TOTAL_VARIABLE = "SYSTEM_TOTALJOBSINPHASE"
_SHARD_PATTERN = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`, 1-based like Azure Pipelines' job positions."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.label} does not exist: I/N needs 1 <= I <= N, e.g. 2/4")

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    def __str__(self) -> str:
        return self.label

    def holds(self, name: str) -> bool:
        return shard_number(name, self.count) == self.index


def shard_number(name: str, count: int) -> int:
    """The shard (1..count) that the repository `name` belongs to when a run is split `count` ways."""
    return max(range(1, count + 1), key=lambda shard: _score(name, shard))


def _score(name: str, shard: int) -> int:
    # Azure DevOps repository names are case-insensitive (the config rejects names that differ only in
    # case), so a change of case alone does not move a repository.
    digest = hashlib.sha256(f"{name.casefold()}\0{shard}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def parse_shard(text: str) -> Shard:
    """`"2/4"` -> Shard(2, 4); ValueError with a message for people otherwise."""
    match = _SHARD_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"'{text}' is not a shard: write I/N for shard I of N, e.g. 2/4")
    return Shard(int(match[1]), int(match[2]))


def shard_from_environ(environ: Mapping[str, str]) -> Shard | None:
    """This job's shard in an Azure Pipelines job with `strategy: parallel: N`; None outside one."""
    position, total = environ.get(POSITION_VARIABLE), environ.get(TOTAL_VARIABLE)
    if not total:
        return None
    try:
        return parse_shard(f"{position}/{total}")
    except ValueError:
        raise ConfigError(
            f"{POSITION_VARIABLE}={position!r} and {TOTAL_VARIABLE}={total!r} do not name a shard; Azure "
            "Pipelines sets them in jobs with `strategy: parallel`. What to do: pass --shard I/N explicitly "
            "(--shard 1/1 runs every repository)"
        ) from None


def choose_shard(flag: Shard | None, environ: Mapping[str, str]) -> Shard | None:
    """`--shard` if given, else the pipeline's; None when the run is not split (`1/1` included)."""
    shard = flag if flag is not None else shard_from_environ(environ)
    return shard if shard is not None and shard.count > 1 else None


def select_repositories(repos: Sequence[RepoConfig], names: Sequence[str]) -> list[RepoConfig]:
    """The repositories named (all when `names` is empty), in their stable order; unknown names are an error."""
    if not names:
        return list(repos)
    by_name = {repo.name: repo for repo in repos}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name))
        raise ConfigError(f"--repo {', '.join(unknown)}: not in the configuration; configured: {known}")
    wanted = set(names)
    return [repo for repo in repos if repo.name in wanted]


def in_shard(repos: Sequence[RepoConfig], shard: Shard | None) -> list[RepoConfig]:
    """The repositories of `shard`, in their order; disabled ones too, so their shard reports them skipped."""
    return [repo for repo in repos if shard is None or shard.holds(repo.name)]


def shard_sizes(names: Sequence[str], count: int) -> dict[int, int]:
    """How many of `names` each shard 1..count gets, empty shards included."""
    sizes = dict.fromkeys(range(1, count + 1), 0)
    for name in names:
        sizes[shard_number(name, count)] += 1
    return sizes


@dataclass(frozen=True, kw_only=True)
class Selection:
    """The repositories of one run."""

    selected: tuple[RepoConfig, ...]  # named by --repo (all by default), before sharding
    shard: Shard | None
    repos: tuple[RepoConfig, ...]  # of those, this run's: the shard's, in the stable order

    @property
    def shard_label(self) -> str | None:
        return self.shard.label if self.shard is not None else None


def select_run(repos: Sequence[RepoConfig], *, names: Sequence[str], shard: Shard | None) -> Selection:
    selected = tuple(select_repositories(repos, names))
    return Selection(selected=selected, shard=shard, repos=tuple(in_shard(selected, shard)))

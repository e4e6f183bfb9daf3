"""How many repositories fit on this machine at once: `concurrency: auto`.

Two bounds, the smaller wins:
- CPU: twice the CPUs the runner may use. A Renovate container alternates between CPU work and waiting for Azure
  DevOps, git and the registries; two per CPU keep the CPUs busy through those waits on real services, while on a
  CPU-bound sweep (loopback) more than that only adds contention (see docs/performance.md for the measurements).
- memory: the memory the runner may use, less a reserve for the runner and the system, divided by each
  container's memory limit, so that every container may reach its limit at once without the machine swapping.

"May use" counts cgroup limits (a container or a pipeline agent with a quota) as well as the machine itself.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from runner.config import RunnerConfig
from runner.config.concurrency import MAX_CONCURRENCY

CPUS_PER_CONTAINER_SLOT: Final = 2
# The runner itself, the engine, the pipeline agent and the system.
MEMORY_RESERVE_BYTES: Final = 1024**3
_CGROUP_ROOT: Final = Path("/sys/fs/cgroup")
_UNLIMITED_V1: Final = 1 << 62  # cgroup v1 reports "no limit" as a huge page-aligned number


@dataclass(frozen=True, kw_only=True)
class MachineCapacity:
    """What the runner may use: CPUs (possibly fractional under a CPU quota) and bytes of memory."""

    cpus: float
    memory_bytes: int

    @classmethod
    def detect(cls, cgroup_root: Path = _CGROUP_ROOT) -> MachineCapacity:
        return cls(cpus=_cpus(cgroup_root), memory_bytes=_memory_bytes(cgroup_root))


@dataclass(frozen=True, kw_only=True)
class ConcurrencyChoice:
    """The concurrency `auto` picked, and why: both bounds, for the report and the log."""

    concurrency: int
    cpu_bound: int
    memory_bound: int
    capacity: MachineCapacity
    container_memory_bytes: int

    def explain(self) -> str:
        gib = 1024**3
        return (
            f"CPU bound {self.cpu_bound} for {self.capacity.cpus:g} CPUs; memory bound {self.memory_bound} for "
            f"{self.capacity.memory_bytes / gib:.1f} GiB at {self.container_memory_bytes / gib:.2g} GiB a container"
        )


def choose_concurrency(capacity: MachineCapacity, *, container_memory_bytes: int, maximum: int) -> ConcurrencyChoice:
    cpu_bound = max(1, math.floor(capacity.cpus * CPUS_PER_CONTAINER_SLOT))
    memory_bound = max(1, (capacity.memory_bytes - MEMORY_RESERVE_BYTES) // container_memory_bytes)
    return ConcurrencyChoice(
        concurrency=min(cpu_bound, memory_bound, maximum),
        cpu_bound=cpu_bound,
        memory_bound=memory_bound,
        capacity=capacity,
        container_memory_bytes=container_memory_bytes,
    )


@dataclass(frozen=True, kw_only=True)
class ConcurrencyDecision:
    """The concurrency a sweep runs at, and how it came about (for the log, the plan and the report)."""

    value: int
    basis: str  # "configured", or auto's two bounds

    def describe(self) -> str:
        return f"{self.value} (configured)" if self.basis == "configured" else f"{self.value} (auto: {self.basis})"


def decide_concurrency(
    configured: int | Literal["auto"], *, container_memory_bytes: int, maximum: int, capacity: MachineCapacity | None
) -> ConcurrencyDecision:
    """`configured` as it is, or `auto` resolved against `capacity` (detected from this machine when None)."""
    if configured != "auto":
        return ConcurrencyDecision(value=configured, basis="configured")
    choice = choose_concurrency(
        capacity or MachineCapacity.detect(), container_memory_bytes=container_memory_bytes, maximum=maximum
    )
    return ConcurrencyDecision(value=choice.concurrency, basis=choice.explain())


def sweep_concurrency(runner: RunnerConfig, capacity: MachineCapacity | None = None) -> ConcurrencyDecision:
    """The concurrency a sweep under `runner` gets: what `run` uses and `plan` shows."""
    return decide_concurrency(
        runner.concurrency,
        container_memory_bytes=runner.limits.memory_bytes,
        maximum=MAX_CONCURRENCY,
        capacity=capacity,
    )


def _cpus(cgroup_root: Path) -> float:
    affinity = len(os.sched_getaffinity(0))
    quota = _cpu_quota(cgroup_root)
    return min(float(affinity), quota) if quota is not None else float(affinity)


def _cpu_quota(cgroup_root: Path) -> float | None:
    """CPUs granted by a CFS quota: cgroup v2 `cpu.max` ("max 100000" when unlimited) or v1's two files."""
    text = _read(cgroup_root / "cpu.max")
    if text is not None:
        quota, _, period = text.partition(" ")
        return None if quota == "max" else int(quota) / int(period)
    quota_v1, period_v1 = (
        _read(cgroup_root / "cpu" / "cpu.cfs_quota_us"),
        _read(cgroup_root / "cpu" / "cpu.cfs_period_us"),
    )
    if quota_v1 is None or period_v1 is None or int(quota_v1) < 0:
        return None
    return int(quota_v1) / int(period_v1)


def _memory_bytes(cgroup_root: Path) -> int:
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit = _read(cgroup_root / "memory.max") or _read(cgroup_root / "memory" / "memory.limit_in_bytes")
    if limit is None or limit == "max" or int(limit) >= _UNLIMITED_V1:
        return physical
    return min(physical, int(limit))


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None

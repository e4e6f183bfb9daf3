"""`concurrency: auto`: the CPU and memory bounds, read from the machine and from cgroup limits (v1 and v2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.capacity import MachineCapacity, choose_concurrency, decide_concurrency

GIB = 1024**3


def test_a_hosted_agent_runs_four_containers_of_one_and_a_half_gib() -> None:
    # Microsoft-hosted Linux agents: 2 cores, 7 GB.
    choice = choose_concurrency(
        MachineCapacity(cpus=2, memory_bytes=7 * GIB), container_memory_bytes=int(1.5 * GIB), maximum=64
    )
    assert (choice.concurrency, choice.cpu_bound, choice.memory_bound) == (4, 4, 4)
    assert choice.explain() == "CPU bound 4 for 2 CPUs; memory bound 4 for 7.0 GiB at 1.5 GiB a container"


def test_memory_bounds_a_machine_with_many_cpus() -> None:
    choice = choose_concurrency(
        MachineCapacity(cpus=16, memory_bytes=16 * GIB), container_memory_bytes=4 * GIB, maximum=64
    )
    assert (choice.concurrency, choice.cpu_bound, choice.memory_bound) == (3, 32, 3)


def test_cpus_bound_a_machine_with_much_memory() -> None:
    choice = choose_concurrency(
        MachineCapacity(cpus=1.5, memory_bytes=64 * GIB), container_memory_bytes=GIB, maximum=64
    )
    assert (choice.concurrency, choice.cpu_bound) == (3, 3)


def test_the_configured_maximum_caps_both() -> None:
    choice = choose_concurrency(
        MachineCapacity(cpus=64, memory_bytes=512 * GIB), container_memory_bytes=GIB, maximum=64
    )
    assert choice.concurrency == 64


def test_at_least_one_even_when_a_container_does_not_fit() -> None:
    choice = choose_concurrency(
        MachineCapacity(cpus=0.25, memory_bytes=GIB), container_memory_bytes=2 * GIB, maximum=64
    )
    assert (choice.concurrency, choice.cpu_bound, choice.memory_bound) == (1, 1, 1)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return root


def test_a_cgroup_v2_quota_and_memory_limit_count(tmp_path: Path) -> None:
    root = _write(tmp_path, {"cpu.max": "150000 100000", "memory.max": str(3 * GIB)})
    capacity = MachineCapacity.detect(root)
    assert capacity.cpus == 1.5
    assert capacity.memory_bytes == 3 * GIB


def test_cgroup_v2_without_limits_leaves_the_machine(tmp_path: Path) -> None:
    root = _write(tmp_path, {"cpu.max": "max 100000", "memory.max": "max"})
    machine = MachineCapacity.detect(tmp_path / "absent")
    assert MachineCapacity.detect(root) == machine


def test_a_cgroup_v1_quota_and_memory_limit_count(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "cpu/cpu.cfs_quota_us": "50000",
            "cpu/cpu.cfs_period_us": "100000",
            "memory/memory.limit_in_bytes": str(2 * GIB),
        },
    )
    capacity = MachineCapacity.detect(root)
    assert capacity.cpus == 0.5
    assert capacity.memory_bytes == 2 * GIB


def test_cgroup_v1_without_limits_leaves_the_machine(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "cpu/cpu.cfs_quota_us": "-1",
            "cpu/cpu.cfs_period_us": "100000",
            "memory/memory.limit_in_bytes": "9223372036854771712",
        },
    )
    assert MachineCapacity.detect(root) == MachineCapacity.detect(tmp_path / "absent")


def test_the_machine_itself_without_any_cgroup_files(tmp_path: Path) -> None:
    capacity = MachineCapacity.detect(tmp_path)
    assert capacity.cpus >= 1
    assert capacity.memory_bytes > GIB


@pytest.mark.parametrize("extra_cpus", [0, 1, 8])
def test_a_quota_at_or_above_the_cpus_this_process_may_run_on_changes_nothing(tmp_path: Path, extra_cpus: int) -> None:
    cpus = len(os.sched_getaffinity(0))
    root = _write(tmp_path, {"cpu.max": f"{(cpus + extra_cpus) * 100000} 100000"})
    assert MachineCapacity.detect(root).cpus == cpus


def test_a_configured_concurrency_is_taken_as_it_is() -> None:
    decision = decide_concurrency(3, container_memory_bytes=64 * GIB, maximum=64, capacity=None)
    assert (decision.value, decision.describe()) == (3, "3 (configured)")


def test_auto_is_resolved_against_the_capacity() -> None:
    decision = decide_concurrency(
        "auto", container_memory_bytes=2 * GIB, maximum=64, capacity=MachineCapacity(cpus=2, memory_bytes=7 * GIB)
    )
    assert decision.value == 3
    assert decision.describe() == "3 (auto: CPU bound 4 for 2 CPUs; memory bound 3 for 7.0 GiB at 2 GiB a container)"

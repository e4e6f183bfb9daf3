"""CPU time spent inside containers, read from the Docker engine's parent cgroup.

With the `cgroupfs` driver every container's cgroup sits below `docker/`, and the kernel charges a container's CPU
time to each of its ancestors as it is used, so the parent's counter keeps growing across containers that have
long been removed. The difference of two readings is the CPU all containers used in between, the runner's and
Renovate's own, whatever their number; nothing else may start containers meanwhile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

_V1_USAGE: Final = Path("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage")  # nanoseconds
_V2_STAT: Final = Path("/sys/fs/cgroup/docker/cpu.stat")  # usage_usec <microseconds>


def container_cpu_seconds() -> float:
    """The CPU seconds every container of the engine has used so far."""
    if _V1_USAGE.exists():
        return int(_V1_USAGE.read_text()) / 1e9
    if _V2_STAT.exists():
        for line in _V2_STAT.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
    raise RuntimeError(
        f"neither {_V1_USAGE} nor {_V2_STAT} exists: the benchmark needs the Docker engine's cgroupfs driver"
        " (dockerd --exec-opt native.cgroupdriver=cgroupfs) to read the CPU time of its containers"
    )

"""The Renovate containers of a real sweep, inspected while they run: how Docker started them, what the kernel says
about their processes, and every process's arguments on the machine, scanned for the tokens Entra ID issued.

Doubled: Entra ID, the pipeline's OIDC endpoint and Azure DevOps (organization.py). Real: the runner as its own
process, the Docker engine, the Renovate image and its processes, the kernel's /proc.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest

from runner.renovate.container import LABEL_REPOSITORY
from runner.renovate.container_spec import CA_BUNDLE_IN_CONTAINER, REPORT_DIR_IN_CONTAINER

from .organization import Organization, package_json

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

REPOSITORY = "Platform/hardened"
MEMORY = 1024**3
PIDS = 256
PASSED = "RENOVATE_RUNNER_E2E_PASSED"  # allow-listed in passthrough_env
KEPT_BACK = "RENOVATE_RUNNER_E2E_KEPT_BACK"  # set for the runner, not allow-listed
RENOVATE_UID = "12021"
TASK_S = 8  # a post-upgrade task keeps the container running while it is inspected


@dataclass
class Seen:
    """What the watcher saw while the sweep ran."""

    inspected: dict[str, Any] | None = None
    kernel_status: dict[str, str] = field(default_factory=dict)
    memory_max: str | None = None
    scans: int = 0
    token_in_host_process: list[str] = field(default_factory=list)  # argv[0] of each, outside any container
    token_in_container_process: set[str] = field(default_factory=set)


def process_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def cgroup_memory_max(pid: int) -> str | None:
    """memory.max of the process's cgroup (v2), as the kernel enforces it; None on a v1 host."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            path = Path("/sys/fs/cgroup") / line.removeprefix("0::").lstrip("/") / "memory.max"
            return path.read_text().strip() if path.exists() else None
    return None


def processes() -> Iterator[tuple[int, bytes]]:
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                yield int(entry.name), Path(entry.path, "cmdline").read_bytes()
            except OSError:  # it ended meanwhile
                continue


def in_a_container(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/ns/pid").readlink() != Path("/proc/self/ns/pid").readlink()
    except OSError:
        return False


def scan_arguments(tokens: tuple[str, ...], seen: Seen) -> None:
    encoded = [token.encode() for token in tokens]
    for pid, cmdline in processes():
        if any(token in cmdline for token in encoded):
            program = Path(cmdline.split(b"\0", 1)[0].decode(errors="replace")).name
            (seen.token_in_container_process.add if in_a_container(pid) else seen.token_in_host_process.append)(program)
    seen.scans += 1


def watch(organization: Organization, docker_client: docker.DockerClient, done: threading.Event, seen: Seen) -> None:
    while not done.is_set():
        scan_arguments(organization.entra.issued_tokens, seen)
        if seen.inspected is None:
            running = docker_client.containers.list(filters={"label": f"{LABEL_REPOSITORY}={REPOSITORY}"})
            if running:
                running[0].reload()  # the full inspection, as `docker inspect` shows it
                attrs: dict[str, Any] = running[0].attrs
                pid = attrs["State"]["Pid"]
                if pid:
                    seen.kernel_status = process_status(pid)
                    seen.memory_max = cgroup_memory_max(pid)
                    seen.inspected = attrs
        time.sleep(0.01)


def test_the_containers_of_a_sweep_run_hardened_and_no_process_argument_holds_a_token(
    organization: Organization, docker_client: docker.DockerClient
) -> None:
    organization.seed(REPOSITORY, {"package.json": package_json(REPOSITORY, {"lodash": "4.17.15"})})
    slow_task = {"commands": [f"sleep {TASK_S}"], "fileFilters": [], "executionMode": "branch"}
    organization.configure(
        {REPOSITORY: {"renovate": {"postUpgradeTasks": slow_task}}},
        renovate_global={"allowedCommands": [r"^sleep \d+$"]},
        limits={"memory": "1g", "pids": PIDS},
        passthrough_env=[PASSED],
    )
    environ = organization.environ("pipelines") | {PASSED: "passed", KEPT_BACK: "kept-back"}
    seen, done = Seen(), threading.Event()

    with ThreadPoolExecutor(max_workers=1) as pool:
        watcher = pool.submit(watch, organization, docker_client, done, seen)
        try:
            sweep = organization.sweep(environ)
        finally:
            done.set()
        watcher.result()

    assert sweep.exit_code == 0, sweep.run.describe()
    assert sweep.outcomes[REPOSITORY]["status"] == "succeeded"
    assert seen.inspected is not None, "the container was never seen running"
    config, host = seen.inspected["Config"], seen.inspected["HostConfig"]

    # How Docker was asked to run it.
    assert config["User"] == RENOVATE_UID
    assert host["Privileged"] is False
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["CapDrop"] == ["ALL"]
    assert not host["CapAdd"]
    assert (host["Memory"], host["MemorySwap"], host["PidsLimit"]) == (MEMORY, MEMORY, PIDS)  # no swap beyond it
    assert host["Devices"] in (None, [])
    mounts = {mount["Destination"]: mount for mount in seen.inspected["Mounts"]}
    assert not any("docker.sock" in str(mount.get("Source", "")) for mount in mounts.values())
    assert not any("docker.sock" in destination for destination in mounts)
    assert mounts[CA_BUNDLE_IN_CONTAINER]["RW"] is False  # what Renovate only reads is mounted read-only
    assert mounts[REPORT_DIR_IN_CONTAINER]["RW"] is True  # its report file

    # What the kernel enforces on its first process (docker-init, whose children inherit all of it).
    status = seen.kernel_status
    assert status["Uid"].split() == [RENOVATE_UID] * 4
    assert (status["CapEff"], status["CapPrm"], status["CapBnd"]) == ("0" * 16,) * 3
    assert status["NoNewPrivs"] == "1"
    assert seen.memory_max in (None, str(MEMORY))

    # Of this process's environment only the allow-listed variable arrived; everything else is the runner's own.
    image_env = set(docker_client.images.get(config["Image"]).attrs["Config"]["Env"] or [])
    env = dict(entry.split("=", 1) for entry in set(config["Env"]) - image_env)
    assert env[PASSED] == "passed"
    assert KEPT_BACK not in env
    leaked = {name for name, value in environ.items() if name != PASSED and env.get(name) == value}
    assert leaked == set()  # SYSTEM_ACCESSTOKEN, the service connection, PATH, HOME, ...: none of them
    assert "DOCKER_HOST" not in env

    # No process outside a container ever had a token in its arguments: not the runner, not the docker client.
    # Inside the container Renovate's own git does, for the clone: Renovate's azure platform passes
    # `-c http.extraHeader=AUTHORIZATION: bearer <token>` to git (docs/reliability.md, "Security").
    assert seen.scans > 10
    assert seen.token_in_host_process == []
    assert seen.token_in_container_process <= {"git"}
    print(f"\n{seen.scans} scans of every process's arguments; a token seen in: {seen.token_in_container_process}")
    assert not docker_client.containers.list(all=True, filters={"label": f"{LABEL_REPOSITORY}={REPOSITORY}"})

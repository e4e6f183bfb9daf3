"""Renovate's start-up in one container: a whole run over an empty local repository, image against image.

The run is what every repository's container pays before it does any work of its own: Node.js starting, Renovate's
modules loading, its global configuration, the local platform's empty extraction, and the container itself.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker

from bench.containers_cpu import container_cpu_seconds

_ENVIRONMENT = {
    "RENOVATE_PLATFORM": "local",
    "RENOVATE_DRY_RUN": "lookup",
    "RENOVATE_ONBOARDING": "false",
    "RENOVATE_REQUIRE_CONFIG": "optional",
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "info",
}


@dataclass(frozen=True, kw_only=True)
class StartupRun:
    cpu_s: float
    wall_s: float


def empty_repository(parent: Path) -> Path:
    """A git repository with one empty commit: nothing for Renovate to extract."""
    path = parent / "empty"
    path.mkdir()
    git = ["git", "-C", str(path), "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run([*git, "init", "--quiet"], check=True)
    subprocess.run([*git, "commit", "--quiet", "--allow-empty", "--message", "empty"], check=True)
    path.chmod(0o755)
    return path


def run_once(client: docker.DockerClient, image: str, repository: Path) -> StartupRun:
    cpu_before, started = container_cpu_seconds(), time.monotonic()
    container = client.containers.run(
        image,
        environment=_ENVIRONMENT,
        volumes={str(repository): {"bind": "/usr/src/app", "mode": "ro"}},
        network_mode="none",
        detach=True,
    )
    try:
        status = container.wait(timeout=300)
        output = container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
    wall, cpu = time.monotonic() - started, container_cpu_seconds() - cpu_before
    if status["StatusCode"] != 0 or '"msg":"Repository finished"' not in output:
        raise RuntimeError(f"{image} did not finish the empty run (exit {status['StatusCode']}):\n{output[-2000:]}")
    return StartupRun(cpu_s=cpu, wall_s=wall)


def alternate(client: docker.DockerClient, images: dict[str, str], rounds: int) -> dict[str, list[StartupRun]]:
    """`rounds` runs of each image, in turn, so a change in the machine's load hits all of them alike."""
    runs: dict[str, list[StartupRun]] = {label: [] for label in images}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        repository = empty_repository(Path(scratch))
        for image in images.values():  # one unmeasured run each: page cache and engine warmed alike
            run_once(client, image, repository)
        for _ in range(rounds):
            for label, image in images.items():
                runs[label].append(run_once(client, image, repository))
    return runs

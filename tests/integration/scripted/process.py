"""The runner as a process of its own, for tests that signal it or run two sweeps at once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import pytest

from runner.renovate.container import LABEL_REPOSITORY
from runner.repo_run import log_path
from tests.integration.scripted.workspace import Workspace, containers_of

PROJECT_ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 60


def has_started(report_dir: Path, repository: str) -> bool:
    log = log_path(report_dir, repository)
    return log.is_file() and "Repository started" in log.read_text()


@contextmanager
def runner_process(
    workspace: Workspace, run_id: str, client: docker.DockerClient, *extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    """The runner as a process of its own; whatever the test does, nothing of it outlives the block."""
    stdout, stderr = workspace.root / "stdout.txt", workspace.root / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        runner = subprocess.Popen(
            [sys.executable, "-m", "runner", *workspace.arguments(run_id, *extra)],
            cwd=PROJECT_ROOT,
            env=workspace.environ(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        try:
            yield runner
        finally:
            if runner.poll() is None:  # the test failed before the runner ended: leave nothing behind
                runner.kill()
                runner.wait()
            for container in containers_of(client, run_id):
                container.remove(force=True)


def wait_for_running_repositories(
    client: docker.DockerClient, workspace: Workspace, run_id: str, count: int, runner: subprocess.Popen[bytes]
) -> set[str]:
    """The repositories in the run's containers, once `count` containers run (polling the engine by label) and
    their logs show that Renovate started."""
    stderr = workspace.root / "stderr.txt"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert runner.poll() is None, f"the runner exited early ({runner.returncode}):\n{stderr.read_text()}"
        running = [container for container in containers_of(client, run_id) if container.status == "running"]
        names = {container.labels[LABEL_REPOSITORY] for container in running}
        if len(names) >= count and all(has_started(workspace.report_dir, name) for name in names):
            return names
        time.sleep(0.2)
    pytest.fail(f"no {count} running containers of run {run_id} after {START_TIMEOUT_S}s:\n{stderr.read_text()}")

"""Interrupting a sweep: `python -m runner run` as its own process, stopped by SIGINT or SIGTERM while repositories
run in the scripted Renovate (tests/integration/scripted)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from runner.history.database import sqlite_url
from runner.history.location import HISTORY_FILE
from runner.history.store import HistoryStore
from runner.renovate.container import LABEL_REPOSITORY
from runner.repo_run import log_path
from tests.integration.scripted.workspace import Workspace, containers_of

pytestmark = pytest.mark.docker

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SLEEPS_LONG = """
repository_started
sleep 120
repository_finished done
"""
START_TIMEOUT_S = 60


def has_started(report_dir: Path, repository: str) -> bool:
    log = log_path(report_dir, repository)
    return log.is_file() and "Repository started" in log.read_text()


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


@pytest.mark.parametrize(
    ("signal_number", "exit_code", "concurrency"),
    [
        pytest.param(signal.SIGINT, 130, 2, id="SIGINT"),
        pytest.param(signal.SIGTERM, 143, 1, id="SIGTERM"),
    ],
)
def test_a_signal_cancels_the_sweep_removes_its_containers_and_still_writes_the_report(
    workspace: Workspace,
    run_id: str,
    docker_client: docker.DockerClient,
    signal_number: int,
    exit_code: int,
    concurrency: int,
) -> None:
    names = {workspace.local_repo(f"sleeper-{index}", SLEEPS_LONG) for index in range(3)}
    stdout, stderr = workspace.root / "stdout.txt", workspace.root / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        runner = subprocess.Popen(
            [sys.executable, "-m", "runner", *workspace.arguments(run_id, "--concurrency", str(concurrency))],
            cwd=PROJECT_ROOT,
            env=workspace.environ(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        try:
            running = wait_for_running_repositories(docker_client, workspace, run_id, concurrency, runner)
            runner.send_signal(signal_number)
            returned = runner.wait(timeout=60)
        finally:
            if runner.poll() is None:  # the test failed before the runner ended: leave nothing behind
                runner.kill()
                runner.wait()
                for container in containers_of(docker_client, run_id):
                    container.remove(force=True)

    assert returned == exit_code, stderr.read_text()
    assert not containers_of(docker_client, run_id)
    output = workspace.output(returned)
    assert output.report["interrupted"] is True
    assert set(output.outcomes) == names
    assert all(output.status(name) == ("cancelled", "interrupted") for name in names)
    # The ones that were running have the log of what they did; the others never started.
    assert {name for name in names if output.outcomes[name]["log"]} == running
    for name in running:
        assert output.logged(name, "Repository started"), name
    assert all("before it ran" in output.outcomes[name]["detail"] for name in names - running)
    assert {name: output.junit_verdict(name) for name in names} == dict.fromkeys(names, "skipped")
    assert "**interrupted**" in output.summary
    # The history holds the interrupted run whole (one transaction, after the containers were stopped): every
    # repository, cancelled, which neither extends nor breaks a failure streak.
    with HistoryStore(sqlite_url(workspace.state_dir / HISTORY_FILE)) as history:
        trends = history.trends()
    assert [(run.run_id, run.repositories, run.failed) for run in trends.runs] == [(run_id, 3, 0)]
    assert {name: tuple(point.status.value for point in trends.points(name)) for name in names} == dict.fromkeys(
        names, ("cancelled",)
    )

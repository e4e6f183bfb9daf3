"""Interrupting a sweep: `python -m runner run` as its own process, stopped by SIGINT or SIGTERM, or by the Azure
Pipelines agent's cancel sequence, while repositories run in the scripted Renovate (tests/integration/scripted)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import docker
import pytest

from runner.renovate.container import LABEL_REPOSITORY
from runner.repo_run import log_path
from tests.integration.scripted.workspace import SweepOutput, Workspace, containers_of

pytestmark = pytest.mark.docker

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SLEEPS_LONG = """
repository_started
sleep 120
repository_finished done
"""
# A Renovate that a polite stop does not end (stuck in a child process that ignores SIGTERM, say).
IGNORES_SIGTERM = """
repository_started
ignore_sigterm
sleep 120
repository_finished done
"""
START_TIMEOUT_S = 60
# The Azure Pipelines agent cancelling a step: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that
# (the agent's ProcessInvoker); the seconds are how long after the previous signal each one comes.
AGENT_CANCEL = ((signal.SIGINT, 0.0), (signal.SIGTERM, 7.5), (signal.SIGKILL, 2.5))


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


def cancel_in_sequence(
    runner: subprocess.Popen[bytes], sequence: Sequence[tuple[signal.Signals, float]]
) -> tuple[int, list[str]]:
    """Send each signal after its delay unless the runner has ended by then; its exit code and the signals sent."""
    sent: list[str] = []
    for signal_number, delay in sequence:
        try:
            runner.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            pass
        else:
            break
        runner.send_signal(signal_number)
        sent.append(signal_number.name)
    return runner.wait(timeout=60), sent


def assert_cancelled_report(output: SweepOutput, names: set[str], running: set[str]) -> None:
    """Every repository is in a complete report, `cancelled`; the running ones with the log of what they did."""
    assert output.report["interrupted"] is True
    assert set(output.outcomes) == names
    assert all(output.status(name) == ("cancelled", "interrupted") for name in names)
    assert {name for name in names if output.outcomes[name]["log"]} == running
    for name in running:
        assert output.logged(name, "Repository started"), name
    assert all("before it ran" in output.outcomes[name]["detail"] for name in names - running)
    assert {name: output.junit_verdict(name) for name in names} == dict.fromkeys(names, "skipped")
    assert "**interrupted**" in output.summary


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
    with runner_process(workspace, run_id, docker_client, "--concurrency", str(concurrency)) as runner:
        running = wait_for_running_repositories(docker_client, workspace, run_id, concurrency, runner)
        runner.send_signal(signal_number)
        returned = runner.wait(timeout=60)
        left = containers_of(docker_client, run_id)

    assert returned == exit_code, (workspace.root / "stderr.txt").read_text()
    assert not left
    assert_cancelled_report(workspace.output(returned), names, running)


@pytest.mark.parametrize(
    "sequence",
    [
        pytest.param(AGENT_CANCEL, id="agent"),
        # An impatient agent: SIGKILL 3.5 s after a second signal 1 s after the first, before the 5 s grace of the
        # polite stop is over, so only killing the containers at the second signal leaves time to remove and report.
        pytest.param(((signal.SIGINT, 0.0), (signal.SIGTERM, 1.0), (signal.SIGKILL, 3.5)), id="impatient"),
    ],
)
def test_a_cancel_sequence_ends_the_sweep_before_its_sigkill(
    workspace: Workspace,
    run_id: str,
    docker_client: docker.DockerClient,
    sequence: Sequence[tuple[signal.Signals, float]],
) -> None:
    # The worst case for the window: every running Renovate ignores the polite stop, so each must be killed.
    names = {workspace.local_repo(f"stubborn-{index}", IGNORES_SIGTERM) for index in range(3)}
    with runner_process(workspace, run_id, docker_client, "--concurrency", "2") as runner:
        running = wait_for_running_repositories(docker_client, workspace, run_id, 2, runner)
        returned, sent = cancel_in_sequence(runner, sequence)
        left = containers_of(docker_client, run_id)  # what the SIGKILL would have stranded

    stderr = (workspace.root / "stderr.txt").read_text()
    # Ended by itself with the first signal's code, not by the SIGKILL (which would leave containers running).
    assert returned == 130, f"signals sent: {sent}\n{stderr}"
    assert "SIGKILL" not in sent
    if "SIGTERM" in sent:
        assert '"event": "sweep_interrupted_again"' in stderr
    assert not left
    assert_cancelled_report(workspace.output(returned), names, running)

"""Interrupting a sweep: `python -m runner run` as its own process, stopped by SIGINT or SIGTERM, or by the Azure
Pipelines agent's cancel sequence, while repositories run in the scripted Renovate (tests/integration/scripted)."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence

import docker
import pytest

from runner.history.database import sqlite_url
from runner.history.location import HISTORY_FILE
from runner.history.store import HistoryStore
from tests.integration.scripted.process import runner_process, wait_for_running_repositories
from tests.integration.scripted.workspace import SweepOutput, Workspace, containers_of

pytestmark = pytest.mark.docker

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
# The Azure Pipelines agent cancelling a step: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that
# (the agent's ProcessInvoker); the seconds are how long after the previous signal each one comes.
AGENT_CANCEL = ((signal.SIGINT, 0.0), (signal.SIGTERM, 7.5), (signal.SIGKILL, 2.5))


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
    # The history holds the interrupted run whole (one transaction, after the containers were stopped): every
    # repository, cancelled, which neither extends nor breaks a failure streak.
    with HistoryStore(sqlite_url(workspace.state_dir / HISTORY_FILE)) as history:
        trends = history.trends()
    assert [(run.run_id, run.repositories, run.failed) for run in trends.runs] == [(run_id, 3, 0)]
    assert {name: tuple(point.status.value for point in trends.points(name)) for name in names} == dict.fromkeys(
        names, ("cancelled",)
    )


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

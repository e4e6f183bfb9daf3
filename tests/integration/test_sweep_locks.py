"""Two sweeps at once on the same report directory or the same cache: the second refuses before it touches anything,
and the first runs on undisturbed. The first is `python -m runner run` as its own process, the second runs the CLI
in this one; both with the scripted Renovate (tests/integration/scripted)."""

from __future__ import annotations

import signal
from pathlib import Path

import docker
import pytest

from tests.integration.scripted.process import runner_process, wait_for_running_repositories
from tests.integration.scripted.workspace import Workspace, containers_of

pytestmark = pytest.mark.docker

SLEEPS = """
repository_started
sleep 120
repository_finished done
"""


@pytest.mark.parametrize("shared", ["report directory", "cache volume", "cache directory"])
def test_a_second_sweep_on_the_same_report_directory_or_cache_refuses_and_leaves_the_first_alone(
    workspace: Workspace,
    run_id: str,
    cache_volume: str,
    docker_client: docker.DockerClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    shared: str,
) -> None:
    name = workspace.local_repo("sleeps", SLEEPS)
    first_cache: list[str] = []
    if shared == "report directory":  # another cache, the same report directory
        elsewhere = ["--cache-dir", str(tmp_path / "other-cache")]
        what = f"the report directory {workspace.report_dir}"
    elif shared == "cache volume":  # another report directory, the same cache volume
        elsewhere = ["--report-dir", str(tmp_path / "other-report")]
        what = f"the cache volume {cache_volume}"
    else:  # another report directory, the same cache directory (as Cache@2's, by --cache-dir)
        first_cache = ["--cache-dir", str(tmp_path / "shared-cache")]
        elsewhere = ["--report-dir", str(tmp_path / "other-report"), *first_cache]
        what = f"the cache directory {tmp_path / 'shared-cache'}"
    with runner_process(workspace, f"{run_id}-1", docker_client, *first_cache) as first:
        running = wait_for_running_repositories(docker_client, workspace, f"{run_id}-1", 1, first)
        log_before = (workspace.report_dir / "logs").iterdir()

        second = workspace.sweep(f"{run_id}-2", *elsewhere)

        message = capsys.readouterr().err.splitlines()[-1]
        still_running = [container.status for container in containers_of(docker_client, f"{run_id}-1")]
        logs_now = sorted((workspace.report_dir / "logs").iterdir())
        first.send_signal(signal.SIGINT)
        first_exit = first.wait(timeout=60)

    assert second.exit_code == 5
    assert message.startswith(f"renovate-runner: another sweep is using {what} (lock ")
    assert message.endswith("wait for it to finish, or use another report directory and cache")
    assert running == {name}
    assert still_running == ["running"]  # not taken for a leftover, not stopped
    assert logs_now == sorted(log_before)  # the first sweep's log was not cleared away
    assert not containers_of(docker_client, f"{run_id}-2")
    assert first_exit == 130
    output = workspace.output(first_exit)
    assert output.report["run_id"] == f"{run_id}-1"
    assert output.status(name) == ("cancelled", "interrupted")
    assert output.logged(name, "Repository started")

"""The Docker engine going away in the middle of a sweep, and coming back for the next run, on an engine of the
test's own (tests/integration/private_engine.py: never the shared one), with the scripted Renovate on a tiny image.

The first sweep (its own process) loses the engine while a repository runs: that repository and every one after it
fail with reason `engine`, the report is complete, and the exit code is 4. The engine is started again; the next
sweep removes what the dead run left in it and runs every repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import docker
import pytest

from tests.integration.private_engine import PrivateEngine, import_tiny_image
from tests.integration.scripted import FINISHES
from tests.integration.scripted.process import runner_process, wait_for_running_repositories
from tests.integration.scripted.workspace import Workspace, containers_of

pytestmark = pytest.mark.docker

SLEEPS = """
repository_started
sleep 120
repository_finished done
"""


@pytest.fixture(name="private_engine")
def private_engine_fixture() -> Iterator[PrivateEngine]:
    with PrivateEngine() as engine:
        yield engine


def test_the_engine_going_away_fails_the_rest_with_exit_4_and_the_next_run_cleans_up_and_runs(
    workspace: Workspace,
    run_id: str,
    private_engine: PrivateEngine,
    docker_client: docker.DockerClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = private_engine.client()
    # The tiny image is no Renovate: it has no renovate-config-validator to check the options with.
    workspace.runner["renovate"] = {"image": import_tiny_image(client), "validate": False}
    workspace.docker_host = private_engine.url
    first, second, third = (
        workspace.local_repo(name, SLEEPS if name == "first" else FINISHES) for name in ("first", "second", "third")
    )
    with runner_process(workspace, f"{run_id}-1", client, "--concurrency", "1") as runner:
        wait_for_running_repositories(client, workspace, f"{run_id}-1", 1, runner)
        private_engine.stop()  # as a service manager stops it: its containers are stopped, its socket goes
        returned = runner.wait(timeout=120)
        report = workspace.output(returned).report  # read now: the next sweep writes to the same directory
        stderr = (workspace.root / "stderr.txt").read_text()

        private_engine.start()
        left_by_the_dead_run = {container.name for container in containers_of(client, f"{run_id}-1")}
        (workspace.root / "repos" / "first" / "behaviour.sh").write_text(FINISHES)
        monkeypatch.setenv("DOCKER_HOST", private_engine.url)
        capsys.readouterr()
        next_run = workspace.sweep(f"{run_id}-2")
        events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
        left = containers_of(client, f"{run_id}-1") + containers_of(client, f"{run_id}-2")

    assert returned == 4, stderr
    assert stderr.splitlines()[-1] == (
        "renovate-runner: the container engine went away during the sweep; the report lists what ran"
    )
    outcomes = {outcome["repository"]: outcome for outcome in report["repositories"]}
    assert set(outcomes) == {first, second, third}
    # The one that ran lost its engine mid-run: however far the engine's shutdown got, it did not succeed.
    assert outcomes[first]["status"] in ("failed", "crashed"), outcomes[first]
    assert outcomes[first]["reason"] in ("engine", "no_result"), outcomes[first]
    for name in (second, third):
        assert (outcomes[name]["status"], outcomes[name]["reason"]) == ("failed", "engine")
        assert outcomes[name]["detail"] == "the container engine went away during the sweep"

    assert next_run.exit_code == 0
    assert {name: next_run.status(name) for name in next_run.outcomes} == dict.fromkeys(
        (first, second, third), ("succeeded", None)
    )
    cleaned = [event["run_id"] for event in events if event["event"] == "leftovers_removed"]
    assert cleaned == ([f"{run_id}-1"] if left_by_the_dead_run else [])
    assert left == []
    docker_client.ping()  # the shared engine never noticed
    client.close()

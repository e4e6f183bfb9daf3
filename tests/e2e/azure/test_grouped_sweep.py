"""`repositories_per_container`: several repositories in one Renovate container against the Azure DevOps double,
with real Renovate. The group opens exactly the pull requests that one container per repository opens; each
repository gets its own log and outcome; one repository's failure, hang or timeout leaves the others' outcomes
their own, and the repositories the container did not finish run again in containers of their own.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import Any

import docker
import pytest

from runner.renovate.container import LABEL_REPOSITORY, LABEL_RUN_ID

from .organization import Organization, SweepOutput, package_json
from .test_pipeline_sweep import API, EXPECTED, SEEDS, TOOLS, WEB

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

GROUPED_NOTE = "ran in one Renovate container with 2 other repositories (repositories_per_container)"
ALONE_NOTE = "ran again in a container of its own"


class ContainerCreations:
    """The containers the engine creates while it is watched, as the engine's event stream reports them.

    Read live, not afterwards with `since`: the engine keeps only its last 256 events, which a busy engine (other
    sweeps on the same machine) passes within one of these sweeps.
    """

    def __init__(self, docker_client: docker.DockerClient) -> None:
        self._stream = docker_client.events(
            decode=True, filters={"type": "container", "event": ["create", "destroy"], "label": LABEL_RUN_ID}
        )
        self._events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, name="container-creations", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):  # the stream ends in an error of its own when it is closed
            self._events.extend(self._stream)

    def of(self, sweep: SweepOutput) -> list[str]:
        """The repositories each of the sweep's containers was labelled with, in the order they were created.

        The sweep removed its containers before it ended, so once the stream has brought the removal of every
        container it created, it has brought every creation too.
        """
        run_id = sweep.run.args[sweep.run.args.index("--run-id") + 1]
        deadline = time.monotonic() + 30
        while self._open(run_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        self._stream.close()
        self._reader.join(timeout=10)
        creations = [event for event in self._of_run(run_id) if event["Action"] == "create"]
        return [event["Actor"]["Attributes"][LABEL_REPOSITORY] for event in creations]

    def _of_run(self, run_id: str) -> list[dict[str, Any]]:
        return [event for event in list(self._events) if event["Actor"]["Attributes"].get(LABEL_RUN_ID) == run_id]

    def _open(self, run_id: str) -> set[str]:
        """The sweep's containers seen created and not yet seen removed."""
        events = self._of_run(run_id)
        created = {event["Actor"]["ID"] for event in events if event["Action"] == "create"}
        return created - {event["Actor"]["ID"] for event in events if event["Action"] == "destroy"}


def test_a_group_opens_the_pull_requests_one_container_per_repository_opens(
    organization: Organization, docker_client: docker.DockerClient
) -> None:
    for repository, files in SEEDS.items():
        organization.seed(repository, files)
    organization.configure([WEB, API, TOOLS], mode="pipelines", concurrency=1, repositories_per_container=3)

    creations = ContainerCreations(docker_client)
    sweep = organization.sweep(organization.environ("pipelines"))

    assert sweep.exit_code == 0, sweep.run.describe()
    assert creations.of(sweep) == [f"{API},{TOOLS},{WEB}"]  # one, in the sweep's order
    for repository, expected in EXPECTED.items():
        outcome = sweep.outcomes[repository]
        assert (outcome["status"], outcome["renovate_version"]) == ("succeeded", "44.121.2"), outcome
        assert GROUPED_NOTE in outcome["notes"]
        pulls = organization.devops.pull_requests(*repository.split("/"))
        assert {pr.source_ref.removeprefix("refs/heads/"): pr.title for pr in pulls} == {
            branch: pull.title for branch, pull in expected.items()
        }
        assert sorted(pr["title"] for pr in outcome["prs"]) == sorted(pull.title for pull in expected.values())
        # Its log holds its own records and Renovate's own, never another repository's.
        named = {line["repository"] for line in sweep.renovate_log(repository) if "repository" in line}
        assert named == {repository}
    assert organization.refused_requests() == []


def test_a_repository_failing_inside_the_group_fails_alone(organization: Organization) -> None:
    broken = "Platform/broken"
    organization.seed(WEB, SEEDS[WEB])
    organization.seed(broken, {"package.json": package_json("broken", {"lodash": "4.17.15"}), "renovate.json": "{"})
    organization.seed(API, SEEDS[API])
    organization.configure(
        [WEB, broken, API],
        mode="pipelines",
        concurrency=1,
        repositories_per_container=3,
        renovate_global={"configValidationError": True},
    )

    sweep = organization.sweep(organization.environ("pipelines"))

    assert sweep.exit_code == 1, sweep.run.describe()
    statuses = {name: (outcome["status"], outcome["reason"]) for name, outcome in sweep.outcomes.items()}
    assert statuses == {WEB: ("succeeded", None), broken: ("failed", "renovate"), API: ("succeeded", None)}
    assert all(GROUPED_NOTE in outcome["notes"] for outcome in sweep.outcomes.values())
    assert sweep.outcomes[broken]["problems"], "the broken repository's own error is in its outcome"
    assert len(organization.devops.pull_requests("Platform", "web")) == len(EXPECTED[WEB])


def test_a_repository_hanging_inside_the_group_times_out_alone_and_the_rest_run_again(
    organization: Organization, docker_client: docker.DockerClient
) -> None:
    hanging = "Platform/hanging"  # the sweep's order is by name: api, hanging, web
    organization.seed(API, SEEDS[API])
    organization.seed(hanging, {"package.json": package_json("hanging", {"axios": "0.21.1"})})
    organization.seed(WEB, SEEDS[WEB])
    organization.registry.stall("axios")  # the registry accepts the lookup and never answers
    organization.configure(
        [API, hanging, WEB], mode="pipelines", concurrency=1, repositories_per_container=3, timeout="25s"
    )

    creations = ContainerCreations(docker_client)
    sweep = organization.sweep(organization.environ("pipelines"))

    assert sweep.exit_code == 1, sweep.run.describe()
    api, stuck, web = (sweep.outcomes[name] for name in (API, hanging, WEB))
    assert (api["status"], GROUPED_NOTE in api["notes"]) == ("succeeded", True)  # finished before the hang
    assert (stuck["status"], stuck["reason"]) == ("timed_out", "timeout")
    assert web["status"] == "succeeded"
    for outcome in (stuck, web):
        assert any(note.startswith(ALONE_NOTE) and "ran out of time" in note for note in outcome["notes"]), outcome
    assert creations.of(sweep) == [f"{API},{hanging},{WEB}", hanging, WEB]
    for repository in (API, WEB):
        assert len(organization.devops.pull_requests(*repository.split("/"))) == len(EXPECTED[repository])
    assert json.loads((sweep.report_dir / "report.json").read_text())["counts"]["timed_out"] == 1

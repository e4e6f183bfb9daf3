"""A sweep's world on disk for the integration tests: a configuration directory, local repositories whose
`behaviour.sh` scripts the Renovate double, and the report a user would read afterwards."""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import docker
import yaml
from docker.models.containers import Container

from runner.cli import main
from runner.locking import STATE_DIR_ENV
from runner.renovate.container import LABEL_REPOSITORY, LABEL_RUN_ID


class Workspace:
    """`config/runner.yaml`, `config/repos/*.yaml`, `repos/<name>/behaviour.sh` and `report/` under `root`."""

    def __init__(self, root: Path, *, image: str, cache_volume: str, **runner: Any) -> None:
        self.root = root
        self.config_dir = root / "config"
        self.report_dir = root / "report"
        self.state_dir = root / "state"  # the runner's lock files, away from the user's own
        self.docker_host: str | None = None  # another engine than the shared one, for a runner of its own process
        self.runner: dict[str, Any] = {
            "renovate": {"image": image},
            "concurrency": 2,
            "timeout": "2m",
            "cache": {"volume": cache_volume},
            "network": "none",  # the scripted Renovate talks to nobody
            "passthrough_env": [],
            **runner,
        }
        (self.config_dir / "repos").mkdir(parents=True)

    def local_repo(self, name: str, behaviour: str, **settings: Any) -> str:
        """A local repository whose Renovate does what `behaviour` (shell) says; returns its name in the report."""
        directory = self.root / "repos" / name
        directory.mkdir(parents=True)
        (directory / "behaviour.sh").write_text(behaviour)
        self._repo_file(name, {"local": str(directory), **settings})
        return f"local/{name}"

    def azure_repo(self, repository: str, **settings: Any) -> str:
        self._repo_file(repository.replace("/", "-"), {"repository": repository, **settings})
        return repository

    def _repo_file(self, stem: str, settings: Mapping[str, Any]) -> None:
        (self.config_dir / "repos" / f"{stem}.yaml").write_text(yaml.safe_dump(dict(settings)))

    def arguments(self, run_id: str, *extra: str) -> list[str]:
        """`renovate-runner` arguments for a sweep of this workspace (writes runner.yaml as it is now)."""
        (self.config_dir / "runner.yaml").write_text(yaml.safe_dump(self.runner))
        return [
            "--log-format",
            "json",
            "run",
            "--config",
            str(self.config_dir),
            "--report-dir",
            str(self.report_dir),
            "--run-id",
            run_id,
            *extra,
        ]

    def environ(self) -> dict[str, str]:
        """The environment for a runner started as a separate process."""
        engine = {"DOCKER_HOST": self.docker_host} if self.docker_host else {}
        return {**os.environ, STATE_DIR_ENV: str(self.state_dir), **engine}

    def sweep(self, run_id: str, *extra: str) -> SweepOutput:
        """Run a sweep through the CLI in this process (the caller sets STATE_DIR_ENV) and read its report."""
        exit_code = main(self.arguments(run_id, *extra))
        return self.output(exit_code)

    def output(self, exit_code: int) -> SweepOutput:
        return SweepOutput(exit_code=exit_code, report_dir=self.report_dir)


@dataclass(frozen=True)
class SweepOutput:
    """What a user finds after a sweep: its exit code and the files in the report directory."""

    exit_code: int
    report_dir: Path

    @cached_property
    def report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.report_dir / "report.json").read_text())
        return report

    @cached_property
    def outcomes(self) -> dict[str, dict[str, Any]]:
        return {outcome["repository"]: outcome for outcome in self.report["repositories"]}

    def status(self, repository: str) -> tuple[str, str | None]:
        outcome = self.outcomes[repository]
        return outcome["status"], outcome["reason"]

    @cached_property
    def junit_cases(self) -> dict[str, ET.Element]:
        """Test cases by `classname/name`, which is the repository's name."""
        root = ET.parse(self.report_dir / "junit.xml").getroot()
        return {f"{case.get('classname')}/{case.get('name')}": case for case in root.iter("testcase")}

    def junit_verdict(self, repository: str) -> str:
        """`failure:<type>`, `skipped` or `passed`, as the Tests tab shows the repository's case."""
        case = self.junit_cases[repository]
        failure = case.find("failure")
        if failure is not None:
            return f"failure:{failure.get('type')}"
        return "skipped" if case.find("skipped") is not None else "passed"

    @cached_property
    def summary(self) -> str:
        return (self.report_dir / "summary.md").read_text()

    def summary_row(self, repository: str) -> str:
        rows = [line for line in self.summary.splitlines() if line.startswith(f"| {repository} |")]
        assert len(rows) == 1, f"{repository} has {len(rows)} rows in summary.md:\n{self.summary}"
        return rows[0]

    def log_records(self, repository: str) -> list[dict[str, Any]]:
        """The repository's NDJSON log, as the report points to it."""
        relative = self.outcomes[repository]["log"]
        assert relative, f"{repository} has no log in the report"
        lines = (self.report_dir / relative).read_text().splitlines()
        return [json.loads(line) for line in lines]

    def logged(self, repository: str, msg: str) -> list[dict[str, Any]]:
        return [record for record in self.log_records(repository) if record.get("msg") == msg]


def containers_of(client: docker.DockerClient, run_id: str) -> list[Container]:
    """Every container, running or not, labelled with the run id."""
    return list(client.containers.list(all=True, filters={"label": f"{LABEL_RUN_ID}={run_id}"}))


def repositories_created(client: docker.DockerClient, run_id: str, since: int) -> list[str]:
    """The repository label of every container the engine created for the run since `since` (epoch seconds)."""
    events = client.events(
        since=since,
        until=int(time.time()) + 1,  # the stream ends then
        decode=True,
        filters={"type": "container", "event": "create", "label": f"{LABEL_RUN_ID}={run_id}"},
    )
    return [event["Actor"]["Attributes"][LABEL_REPOSITORY] for event in events]

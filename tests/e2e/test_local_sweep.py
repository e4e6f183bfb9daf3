"""A whole sweep through the CLI: the real Renovate image in real containers over three local repositories.

Doubled: the npm and PyPI registries (tests/doubles/registry.py, frozen versions on 127.0.0.1), so the expected
updates never drift. Real: the CLI, config loading, the Docker engine, Renovate 44.121.2 and everything it logs.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from runner.cli import main
from runner.renovate.container import LABEL_RUN_ID
from runner.report.model import REPORT_VERSION
from tests.doubles.expected_updates import EXPECTED_REQUEST_PATHS, EXPECTED_UPDATES
from tests.doubles.registry import RegistryDouble, renovate_options

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SAMPLES = ("npm-app", "pip-app", "py-lib")


@pytest.fixture
def cache_volume(docker_client: docker.DockerClient) -> Iterator[str]:
    name = f"renovate-runner-test-{uuid.uuid4().hex[:8]}"
    yield name
    with contextlib.suppress(docker.errors.NotFound):
        docker_client.volumes.get(name).remove(force=True)


def write_config(root: Path, registry: RegistryDouble, cache_volume: str) -> Path:
    config = root / "config"
    (config / "repos").mkdir(parents=True)
    global_options = {"onboarding": False, "requireConfig": "optional", **renovate_options(registry.base_url)}
    (config / "runner.yaml").write_text(
        "renovate:\n"
        "  log_level: debug\n"
        f"  global: {json.dumps(global_options)}\n"
        "concurrency: 2\n"
        "timeout: 10m\n"
        f"cache: {{volume: {cache_volume}}}\n"
        "network: host  # the containers reach the registry double on 127.0.0.1\n"
        "passthrough_env: []\n"
    )
    for sample in SAMPLES:
        shutil.copytree(EXAMPLES / sample, root / "repos" / sample)
        (config / "repos" / f"{sample}.yaml").write_text(f"local: ../../repos/{sample}\n")
    return config


def as_tuples(updates: list[dict[str, Any]]) -> set[tuple[str, str, str, str, str, str]]:
    return {
        (
            u["manager"],
            u["dependency"],
            u["current_value"],
            u["update_type"],
            u["new_value"],
            u["new_version"],
        )
        for u in updates
    }


def test_sweep_of_three_local_repositories(
    tmp_path: Path,
    registry_double: RegistryDouble,
    renovate_image: str,
    cache_volume: str,
    docker_client: docker.DockerClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, registry_double, cache_volume)
    report_dir = tmp_path / "report"
    run_id = f"e2e-{uuid.uuid4().hex[:8]}"

    exit_code = main(
        [
            "run",
            "--config",
            str(config),
            "--report-dir",
            str(report_dir),
            "--image",
            renovate_image,
            "--run-id",
            run_id,
        ]
    )

    assert exit_code == 0, capsys.readouterr()
    report = json.loads((report_dir / "report.json").read_text())
    assert report["version"] == REPORT_VERSION
    assert report["run_id"] == run_id
    outcomes = {outcome["repository"]: outcome for outcome in report["repositories"]}
    assert sorted(outcomes) == [f"local/{sample}" for sample in SAMPLES]

    junit = ET.parse(report_dir / "junit.xml").getroot()
    cases = {case.get("name"): case for case in junit.iter("testcase")}
    summary = (report_dir / "summary.md").read_text()

    for sample in SAMPLES:
        outcome = outcomes[f"local/{sample}"]
        assert outcome["status"] == "succeeded", outcome
        assert outcome["renovate_version"] == "44.121.2"
        expected = {
            (u.manager, u.dep_name, u.current_value, u.update_type, u.new_value, u.new_version)
            for u in EXPECTED_UPDATES[sample]
        }
        assert as_tuples(outcome["updates"]) == expected, sample

        log_file = report_dir / outcome["log"]
        lines = [json.loads(line) for line in log_file.read_text().splitlines()]
        started = [line for line in lines if line.get("msg") == "Repository started"]
        assert started
        assert started[0]["renovateVersion"] == "44.121.2"  # Renovate's own word, from its log

        assert sample in cases
        assert cases[sample].find("failure") is None
        assert f"local/{sample}" in summary

    requested = {request.path for request in registry_double.requests}
    assert requested == set().union(*EXPECTED_REQUEST_PATHS.values())
    assert all(request.status == 200 for request in registry_double.requests)
    assert not docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN_ID}={run_id}"})

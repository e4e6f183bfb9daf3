"""A report directory that cannot take the report: read-only, or a disk that fills during the sweep. Whole sweeps
through the CLI with the scripted Renovate (tests/integration/scripted), the report directory on a tmpfs of the
test's own (tests/integration/mounts.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from runner.report.write import JSON_NAME, JUNIT_NAME, MARKDOWN_NAME
from tests.integration.mounts import remount_read_only, tmpfs_at
from tests.integration.scripted import FINISHES
from tests.integration.scripted.workspace import Workspace, containers_of, repositories_created

pytestmark = pytest.mark.docker

REPORT_FILES = (JSON_NAME, MARKDOWN_NAME, JUNIT_NAME)
TMPFS_BYTES = 4 * 1024 * 1024
# Twice what the tmpfs holds, as Renovate records, then Renovate's verdict.
FLOODS_THE_DISK = f"""
repository_started
yes '{{"level":20,"msg":"filler"}}' | head -n {2 * TMPFS_BYTES // 28}
log 40 "after the flood"
repository_finished done
"""


@pytest.fixture(name="report_tmpfs")
def report_tmpfs_fixture(workspace: Workspace) -> Iterator[Path]:
    """The workspace's report directory as a small tmpfs of its own."""
    with tmpfs_at(workspace.report_dir, size_bytes=TMPFS_BYTES) as mounted:
        yield mounted


def report_files(report_dir: Path) -> dict[str, bytes]:
    return {name: (report_dir / name).read_bytes() for name in REPORT_FILES}


@pytest.fixture(name="previous_report")
def previous_report_fixture(workspace: Workspace, run_id: str, report_tmpfs: Path) -> dict[str, bytes]:
    """The files of a first sweep's report in the tmpfs (one repository, `local/finishes`, succeeded)."""
    workspace.local_repo("finishes", FINISHES)
    assert workspace.sweep(f"{run_id}-1").exit_code == 0
    return report_files(report_tmpfs)


def test_a_read_only_report_directory_stops_the_sweep_before_it_starts_and_keeps_the_previous_report(
    workspace: Workspace,
    run_id: str,
    previous_report: dict[str, bytes],
    docker_client: docker.DockerClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    remount_read_only(workspace.report_dir)
    since = int(time.time()) - 1
    capsys.readouterr()

    second = workspace.sweep(f"{run_id}-2")

    assert second.exit_code == 7
    message = capsys.readouterr().err.splitlines()[-1]
    assert message == (
        f"renovate-runner: cannot write the report to {workspace.report_dir} (Read-only file system); nothing was "
        "started, and the report already there is unchanged; make it writable, or pass another --report-dir"
    )
    assert report_files(workspace.report_dir) == previous_report
    assert second.status("local/finishes") == ("succeeded", None)  # the first sweep's, read back whole
    assert repositories_created(docker_client, f"{run_id}-2", since) == []


def test_a_disk_filling_during_the_sweep_fails_the_report_write_clearly_and_keeps_the_previous_report(
    workspace: Workspace,
    run_id: str,
    previous_report: dict[str, bytes],
    capsys: pytest.CaptureFixture[str],
    docker_client: docker.DockerClient,
) -> None:
    flood = workspace.local_repo("flood", FLOODS_THE_DISK)
    capsys.readouterr()

    second = workspace.sweep(f"{run_id}-2", "--repo", flood)

    assert second.exit_code == 7
    printed = capsys.readouterr().err
    assert printed.splitlines()[-1] == (
        f"renovate-runner: cannot write the report to {workspace.report_dir} (No space left on device); this "
        "run's report files were not written, and the report already there is unchanged; free some space there, "
        "or pass another --report-dir"
    )
    # The repository itself ran to the end: its log stopped when the disk was full, its output was still read.
    events = [json.loads(line) for line in printed.splitlines() if line.startswith("{")]
    finished = [(event["repo"], event["status"]) for event in events if event["event"] == "repository_finished"]
    assert finished == [(flood, "succeeded")]
    assert report_files(workspace.report_dir) == previous_report
    assert set(second.outcomes) == {"local/finishes"}
    assert not [path.name for path in workspace.report_dir.iterdir() if path.name.endswith(".tmp")]
    assert not containers_of(docker_client, f"{run_id}-2")

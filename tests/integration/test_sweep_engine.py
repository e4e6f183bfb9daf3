"""What a sweep does with the engine before and between repositories: leftovers of earlier runs, and the cache
volume. Whole sweeps through the CLI with the scripted Renovate (tests/integration/scripted)."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import uuid
from pathlib import Path

import docker
import docker.errors
import pytest
from docker.models.containers import Container

from runner.locking import FileLock
from runner.renovate.container import (
    LABEL_PREFIX,
    LABEL_REPOSITORY,
    LABEL_RUN_ID,
    LABEL_RUN_LOCK,
    LABEL_RUN_LOCK_NAMESPACE,
)
from runner.renovate.engine import RENOVATE_UID
from tests.integration.mounts import remount_read_only, tmpfs_at
from tests.integration.scripted import FINISHES
from tests.integration.scripted.workspace import Workspace, containers_of, repositories_created

pytestmark = pytest.mark.docker


def start_run_container(
    client: docker.DockerClient, image: str, *, run_id: str, lock: Path, namespace: str | None = None, index: int = 0
) -> Container:
    """A sleeping container labelled as a sweep labels its own (by a runner in another mount namespace when
    `namespace` is given)."""
    labels = {LABEL_RUN_ID: run_id, LABEL_RUN_LOCK: str(lock), LABEL_REPOSITORY: "Project/Repo"}
    return client.containers.run(
        image,
        entrypoint=["sleep", "300"],
        name=f"renovate-{run_id}-{index:04d}",
        labels=labels | ({LABEL_RUN_LOCK_NAMESPACE: namespace} if namespace else {}),
        network_mode="none",
        detach=True,
    )


def removed(client: docker.DockerClient, container: Container) -> bool:
    try:
        client.containers.get(str(container.id))
    except docker.errors.NotFound:
        return True
    return False


def test_start_up_removes_containers_of_dead_runs_and_spares_live_ones(
    workspace: Workspace,
    run_id: str,
    scripted_image: str,
    docker_client: docker.DockerClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repository = workspace.local_repo("finishes", FINISHES)
    suffix = uuid.uuid4().hex[:8]
    dead_lock = tmp_path / "locks" / "dead.lock"  # what a run that was killed leaves behind: a lock file nobody holds
    dead_lock.parent.mkdir()
    dead_lock.touch()
    live_lock = FileLock(tmp_path / "locks" / "live.lock", "a sweep that is still running")
    live_lock.acquire()
    dead = start_run_container(docker_client, scripted_image, run_id=f"old-{suffix}", lock=dead_lock)
    live = start_run_container(docker_client, scripted_image, run_id=f"live-{suffix}", lock=live_lock.path)
    try:
        output = workspace.sweep(run_id)

        assert output.exit_code == 0
        assert output.status(repository) == ("succeeded", None)
        assert removed(docker_client, dead)
        live.reload()
        assert live.status == "running"
        events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
        cleaned = {event["run_id"] for event in events if event["event"] == "leftovers_removed"}
        assert f"old-{suffix}" in cleaned
        assert f"live-{suffix}" not in cleaned
        assert not containers_of(docker_client, run_id)
    finally:
        live_lock.release()
        for container in (dead, live):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)


def test_a_run_whose_lock_lives_in_another_mount_namespace_keeps_its_running_containers(
    workspace: Workspace, run_id: str, scripted_image: str, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    # As a runner in a container (the engine's socket mounted) labels its containers: a lock path that names no
    # file on this side, and its own namespace.
    repository = workspace.local_repo("finishes", FINISHES)
    theirs = f"in-a-container-{uuid.uuid4().hex[:8]}"
    lock, namespace = tmp_path / "not-here" / "run.lock", "another-boot:mnt:[4026532999]"
    running = start_run_container(docker_client, scripted_image, run_id=theirs, lock=lock, namespace=namespace)
    stopped = start_run_container(docker_client, scripted_image, run_id=theirs, lock=lock, namespace=namespace, index=1)
    stopped.kill()
    stopped.wait(timeout=30)
    try:
        output = workspace.sweep(run_id)

        assert output.exit_code == 0
        assert output.status(repository) == ("succeeded", None)
        running.reload()
        assert running.status == "running"
        assert removed(docker_client, stopped)
    finally:
        for container in (running, stopped):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)


def test_a_fresh_cache_volume_is_writable_by_renovate_and_kept_between_sweeps(
    workspace: Workspace, run_id: str, cache_volume: str, docker_client: docker.DockerClient
) -> None:
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(cache_volume)
    probe = secrets.token_hex(8)
    # RENOVATE_CACHE_DIR is where the runner mounts the volume; `set -e` fails the run if a write or read fails.
    writer = workspace.local_repo(
        "writer",
        f"""
repository_started
printf '%s' {probe} >"$RENOVATE_CACHE_DIR/probe.txt"
log 30 "cache owner" "\\"uid\\":$(stat -c %u "$RENOVATE_CACHE_DIR")"
repository_finished done
""",
    )
    reader = workspace.local_repo(
        "reader",
        """
repository_started
log 30 "cache read" "\\"content\\":\\"$(cat "$RENOVATE_CACHE_DIR/probe.txt")\\""
repository_finished done
""",
    )

    first = workspace.sweep(f"{run_id}-1", "--repo", writer)

    assert first.exit_code == 0
    assert first.status(writer) == ("succeeded", None)
    assert [record["uid"] for record in first.logged(writer, "cache owner")] == [RENOVATE_UID]
    assert docker_client.volumes.get(cache_volume).attrs["Labels"] == {f"{LABEL_PREFIX}.cache": "true"}

    second = workspace.sweep(f"{run_id}-2", "--repo", reader)

    assert second.exit_code == 0
    assert second.status(reader) == ("succeeded", None)
    assert [record["content"] for record in second.logged(reader, "cache read")] == [probe]


DockerClient = docker.DockerClient
Capture = pytest.CaptureFixture[str]


def last_line(capsys: Capture) -> str:
    return capsys.readouterr().err.splitlines()[-1]


@pytest.fixture(name="since")
def since_fixture() -> int:
    """When the test began, in epoch seconds, for the engine's events since then."""
    return int(time.time()) - 1


def test_an_image_that_is_missing_and_cannot_be_pulled_stops_the_sweep_with_exit_4(
    workspace: Workspace, run_id: str, since: int, docker_client: DockerClient, capsys: Capture
) -> None:
    workspace.local_repo("finishes", FINISHES)
    image = "registry.invalid/renovate/renovate:44.121.2"  # .invalid never resolves (RFC 2606)

    output = workspace.sweep(run_id, "--image", image)

    assert output.exit_code == 4
    message = last_line(capsys)
    assert message.startswith(f"renovate-runner: image {image} is not present and could not be pulled (")
    assert message.endswith(
        "); pull or build it (scripts/renovate-image.sh builds Renovate locally) or set renovate.image"
    )
    assert not (workspace.report_dir / "report.json").exists()
    assert repositories_created(docker_client, run_id, since) == []


def test_a_cache_volume_renovates_user_cannot_write_stops_the_sweep_before_any_repository(
    workspace: Workspace, run_id: str, since: int, cache_volume: str, docker_client: DockerClient, capsys: Capture
) -> None:
    workspace.local_repo("finishes", FINISHES)
    docker_client.volumes.create(cache_volume)  # made by someone else: owned by root, mode 755

    output = workspace.sweep(run_id)

    assert output.exit_code == 4
    assert last_line(capsys) == (
        f"renovate-runner: Renovate's user (uid {RENOVATE_UID}) cannot write to the cache volume {cache_volume} "
        "(touch: cannot touch '/cache/.renovate-runner-probe': Permission denied); nothing was started. Make it "
        f"writable for uid {RENOVATE_UID}, or use another cache (cache.volume, cache.directory or --cache-dir); "
        "a cache volume the runner creates itself is prepared for that user"
    )
    assert repositories_created(docker_client, run_id, since) == []
    probes = docker_client.containers.list(all=True, filters={"label": f"{LABEL_PREFIX}.cache-init={cache_volume}"})
    assert probes == []  # the probe container is gone too


def test_a_read_only_cache_directory_stops_the_sweep_before_any_repository(
    workspace: Workspace, run_id: str, since: int, docker_client: DockerClient, tmp_path: Path, capsys: Capture
) -> None:
    workspace.local_repo("finishes", FINISHES)
    with tmpfs_at(tmp_path / "cache", size_bytes=1024 * 1024) as cache:
        remount_read_only(cache)

        output = workspace.sweep(run_id, "--cache-dir", str(cache))

    assert output.exit_code == 4
    assert last_line(capsys) == (
        f"renovate-runner: cannot hand the cache directory {cache} to Renovate's user (uid {RENOVATE_UID}): "
        "Read-only file system; make it writable, or choose another cache.directory (or --cache-dir)"
    )
    assert repositories_created(docker_client, run_id, since) == []

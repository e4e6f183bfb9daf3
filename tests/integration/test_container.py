"""`RenovateContainer` against the real engine: output, exit codes, timeouts, OOM, and removal on every path.

These use the Renovate image with its entrypoint swapped for a shell, so each case controls exactly what the
container does; the sweep tests run Renovate itself.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from runner.locking import FileLock
from runner.renovate.container import LABEL_RUN_ID, LABEL_RUN_LOCK, ContainerSpec, RenovateContainer, Stream

pytestmark = pytest.mark.docker

# The lock these containers' "run" holds: a sweep running meanwhile on the same engine must not take them for
# leftovers of a dead run (see engine.remove_leftovers).
_live_run_lock: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _hold_a_run_lock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    lock = FileLock(tmp_path_factory.mktemp("locks") / "container-tests.lock", "the container tests")
    lock.acquire()
    _live_run_lock.append(lock.path)
    yield
    _live_run_lock.clear()
    lock.release()


def shell_spec(image: str, script: str, **overrides: object) -> ContainerSpec:
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    values: dict[str, object] = {
        "image": image,
        "name": f"renovate-{run_id}",
        "entrypoint": ("/bin/sh", "-c"),
        "command": (script,),
        "environment": {},
        "network": "none",
        "labels": {LABEL_RUN_ID: run_id, LABEL_RUN_LOCK: str(_live_run_lock[0])},
        "memory_bytes": 256 * 1024 * 1024,
        "pids_limit": 64,
    }
    values.update(overrides)
    return ContainerSpec(**values)  # type: ignore[arg-type]


class Lines:
    def __init__(self) -> None:
        self.received: list[tuple[Stream, bytes, bool]] = []
        self.line_ends = 0

    def on_lines(self, stream: Stream, block: bytes) -> None:
        for line in block.split(b"\n"):
            self.received.append((stream, line, True))
            self.line_ends += 1

    def on_piece(self, stream: Stream, piece: bytes, ends_line: bool) -> None:
        self.received.append((stream, piece, False))
        self.line_ends += ends_line


def exists(client: docker.DockerClient, name: str) -> bool:
    return bool(client.containers.list(all=True, filters={"name": f"^{name}$"}))


def test_streams_lines_from_both_streams_and_returns_the_exit_code(
    docker_client: docker.DockerClient, renovate_image: str
) -> None:
    spec = shell_spec(renovate_image, 'echo \'{"level":30,"msg":"one"}\'; printf "two\\nthree"; echo oops >&2; exit 3')
    lines = Lines()
    with RenovateContainer(docker_client, spec) as container:
        container.run_streaming(lines)
        result = container.wait(60, threading.Event())
        assert exists(docker_client, spec.name)
    assert result.exit_code == 3
    assert (result.timed_out, result.cancelled, result.oom_killed) == (False, False, False)
    # Each stream keeps its order; how the two interleave is up to the engine.
    assert [(line, complete) for stream, line, complete in lines.received if stream == "stdout"] == [
        (b'{"level":30,"msg":"one"}', True),
        (b"two", True),
        (b"three", True),  # the last line has no newline: flushed when the stream ends
    ]
    assert [line for stream, line, _complete in lines.received if stream == "stderr"] == [b"oops"]
    assert not exists(docker_client, spec.name)


def test_container_runs_hardened_with_limits_and_no_host_environment(
    docker_client: docker.DockerClient, renovate_image: str
) -> None:
    spec = shell_spec(renovate_image, "sleep 30", environment={"ONLY_THIS": "1"}, pids_limit=77)
    with RenovateContainer(docker_client, spec) as container:
        container.run_streaming(Lines())
        attrs = docker_client.api.inspect_container(spec.name)
        container.stop(grace_s=1)
    host = attrs["HostConfig"]
    assert host["Privileged"] is False
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["CapDrop"] == ["ALL"]
    assert host["Memory"] == 256 * 1024 * 1024
    assert host["PidsLimit"] == 77
    assert all("docker.sock" not in (bind or "") for bind in host.get("Binds") or [])
    image_env = docker_client.images.get(renovate_image).attrs["Config"]["Env"] or []
    passed = set(attrs["Config"]["Env"]) - set(image_env)
    assert passed == {"ONLY_THIS=1"}  # nothing of this process's environment leaks in
    assert attrs["Config"]["User"] == "12021"  # the image's own non-root user, as in the official image


def test_timeout_stops_then_kills_and_removes(docker_client: docker.DockerClient, renovate_image: str) -> None:
    # `trap '' TERM` ignores the polite stop, so only the kill ends it.
    spec = shell_spec(renovate_image, "trap '' TERM; while true; do sleep 1; done")
    started = time.monotonic()
    with RenovateContainer(docker_client, spec) as container:
        container.run_streaming(Lines())
        result = container.wait(2, threading.Event(), grace_s=2)
    elapsed = time.monotonic() - started
    assert result.timed_out
    assert result.exit_code == 137  # SIGKILL
    assert elapsed < 30
    assert not exists(docker_client, spec.name)


def test_cancel_stops_a_running_container(docker_client: docker.DockerClient, renovate_image: str) -> None:
    spec = shell_spec(renovate_image, "sleep 300")
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    with RenovateContainer(docker_client, spec) as container:
        container.run_streaming(Lines())
        result = container.wait(120, cancel, grace_s=2)
    assert result.cancelled
    assert not result.timed_out
    assert not exists(docker_client, spec.name)


def test_out_of_memory_is_reported(docker_client: docker.DockerClient, renovate_image: str) -> None:
    spec = shell_spec(
        renovate_image,
        "node -e 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))'",
        memory_bytes=48 * 1024 * 1024,
    )
    with RenovateContainer(docker_client, spec) as container:
        container.run_streaming(Lines())
        result = container.wait(120, threading.Event())
    assert result.oom_killed
    assert result.exit_code == 137
    assert not exists(docker_client, spec.name)


def test_error_inside_the_block_still_removes_the_container(
    docker_client: docker.DockerClient, renovate_image: str
) -> None:
    spec = shell_spec(renovate_image, "sleep 300")

    def run_and_fail() -> None:
        with RenovateContainer(docker_client, spec) as container:
            container.run_streaming(Lines())
            assert exists(docker_client, spec.name)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_and_fail()
    assert not exists(docker_client, spec.name)


def test_long_lines_are_passed_on_in_pieces_not_held(docker_client: docker.DockerClient, renovate_image: str) -> None:
    spec = shell_spec(renovate_image, "head -c 300000 /dev/zero | tr '\\0' x; echo; echo short")
    lines = Lines()
    with RenovateContainer(docker_client, spec, max_line=100_000) as container:
        container.run_streaming(lines)
        container.wait(60, threading.Event())
    pieces = [line for _stream, line, complete in lines.received if not complete]
    assert sum(len(piece) for piece in pieces) == 300_000
    assert all(len(piece) <= 100_000 + 65536 for piece in pieces)  # never much more than the cap in memory
    assert lines.received[-1] == ("stdout", b"short", True)
    assert lines.line_ends == 2

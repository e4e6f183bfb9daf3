"""The engine before a sweep: connecting, the Renovate image (pulled with retries), leftovers of dead runs.

The Docker SDK is faked with spec'd mocks, the way testcontainers-python's unit tests do; engine errors are built
by the SDK's own `create_api_error_from_http_exception` from an HTTP answer, as the real client builds them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import MagicMock

import docker
import docker.errors
import pytest
import requests
import tenacity.nap
from docker.models.containers import Container, ContainerCollection
from docker.models.images import Image, ImageCollection
from docker.models.volumes import VolumeCollection

from runner.errors import EngineError, ExitCode
from runner.locking import FileLock, lock_namespace
from runner.renovate import engine
from runner.renovate.container import LABEL_RUN_ID, LABEL_RUN_LOCK, LABEL_RUN_LOCK_NAMESPACE

IMAGE = "ghcr.io/renovatebot/renovate:44.121.2"
IMAGE_ID = "sha256:" + "ab" * 32


def engine_answer(status: int, message: str) -> docker.errors.APIError:
    """The error the SDK raises for an HTTP answer of the engine with this status and message."""
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps({"message": message}).encode()
    try:
        docker.errors.create_api_error_from_http_exception(requests.HTTPError(response=response))
    except docker.errors.APIError as error:
        return error
    raise AssertionError("the SDK raises for every HTTP error")


def image_with_id(image_id: str = IMAGE_ID) -> Image:
    image = MagicMock(spec=Image)
    image.id = image_id
    return image


def pull_stream(*events: dict[str, str]) -> Iterator[dict[str, str]]:
    """What `APIClient.pull(..., stream=True, decode=True)` yields: the engine's progress messages."""
    return iter([{"status": "Pulling from renovatebot/renovate"}, *events])


ABSENT = docker.errors.ImageNotFound(f"No such image: {IMAGE}")


@pytest.fixture
def client() -> MagicMock:
    fake = MagicMock(spec=docker.DockerClient)
    fake.api = MagicMock(spec=docker.APIClient)
    fake.images = MagicMock(spec=ImageCollection)
    fake.containers = MagicMock(spec=ContainerCollection)
    return fake


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """tenacity's waits between attempts, recorded instead of slept (its default sleep calls `time.sleep`)."""
    recorded: list[float] = []
    monkeypatch.setattr(tenacity.nap, "time", SimpleNamespace(sleep=recorded.append))
    return recorded


# --- connect ---


def test_connect_without_an_engine_says_how_to_start_one() -> None:
    # The unit tests' DOCKER_HOST names a socket that does not exist: the real SDK fails to connect.
    with pytest.raises(EngineError) as error_info:
        engine.connect()

    assert error_info.value.exit_code == ExitCode.ENGINE
    message = str(error_info.value)
    assert message.startswith("cannot reach the Docker engine (")
    assert message.endswith("start it (scripts/setup.sh does) or point DOCKER_HOST at a running one")


def test_connect_turns_a_failing_client_into_an_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from_env = MagicMock(side_effect=docker.errors.DockerException("Error while fetching server API version"))
    monkeypatch.setattr(docker, "from_env", from_env)

    with pytest.raises(EngineError, match=r"Error while fetching server API version\); start it"):
        engine.connect()


def test_connect_turns_a_failing_ping_into_an_engine_error(monkeypatch: pytest.MonkeyPatch, client: MagicMock) -> None:
    client.ping.side_effect = requests.exceptions.ConnectionError("Connection refused")
    monkeypatch.setattr(docker, "from_env", MagicMock(return_value=client))

    with pytest.raises(EngineError, match="cannot reach the Docker engine \\(Connection refused\\)"):
        engine.connect()


def test_connect_returns_the_pinged_client(monkeypatch: pytest.MonkeyPatch, client: MagicMock) -> None:
    from_env = MagicMock(return_value=client)
    monkeypatch.setattr(docker, "from_env", from_env)

    assert engine.connect() is client
    client.ping.assert_called_once_with()


# --- ensure_image ---


def test_a_present_image_is_used_as_it_is(client: MagicMock) -> None:
    client.images.get.return_value = image_with_id()

    assert engine.ensure_image(client, IMAGE) == IMAGE_ID
    client.images.get.assert_called_once_with(IMAGE)
    client.api.pull.assert_not_called()


def test_an_absent_image_is_pulled(client: MagicMock, sleeps: list[float]) -> None:
    client.images.get.side_effect = [ABSENT, image_with_id()]
    client.api.pull.return_value = pull_stream({"status": "Digest: sha256:..."})

    assert engine.ensure_image(client, IMAGE) == IMAGE_ID
    client.api.pull.assert_called_once_with("ghcr.io/renovatebot/renovate", tag="44.121.2", stream=True, decode=True)
    assert sleeps == []


def test_an_error_inside_the_pull_stream_is_retried_not_ignored(client: MagicMock, sleeps: list[float]) -> None:
    # The engine answers 200, then reports the failure as a progress message; the SDK's images.pull drops it.
    client.images.get.side_effect = [ABSENT, image_with_id()]
    client.api.pull.side_effect = [
        pull_stream({"error": "received unexpected HTTP status: 503 Service Unavailable"}),
        pull_stream({"status": "Downloaded newer image"}),
    ]

    assert engine.ensure_image(client, IMAGE) == IMAGE_ID
    assert client.api.pull.call_count == 2
    assert len(sleeps) == 1


def test_a_permanent_error_inside_the_pull_stream_names_the_cause(client: MagicMock, sleeps: list[float]) -> None:
    client.images.get.side_effect = ABSENT
    client.api.pull.return_value = pull_stream({"error": "manifest for renovate:99 not found: manifest unknown"})

    with pytest.raises(EngineError, match="manifest unknown"):
        engine.ensure_image(client, IMAGE)
    assert client.api.pull.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "transient",
    [
        pytest.param(engine_answer(500, "received unexpected HTTP status: 503 Service Unavailable"), id="5xx"),
        pytest.param(engine_answer(502, "Bad Gateway"), id="502"),
        pytest.param(requests.exceptions.ConnectionError("Connection aborted."), id="connection"),
        pytest.param(requests.exceptions.ReadTimeout("Read timed out."), id="timeout"),
    ],
)
def test_a_transient_pull_failure_is_retried_with_growing_waits(
    client: MagicMock, sleeps: list[float], transient: Exception
) -> None:
    client.images.get.side_effect = [ABSENT, image_with_id()]
    client.api.pull.side_effect = [transient, transient, pull_stream()]

    assert engine.ensure_image(client, IMAGE) == IMAGE_ID
    assert client.api.pull.call_count == 3
    assert len(sleeps) == 2
    assert 0 < sleeps[0] < sleeps[1]


def test_a_pull_that_keeps_failing_gives_up_after_its_attempts(client: MagicMock, sleeps: list[float]) -> None:
    client.images.get.side_effect = ABSENT
    client.api.pull.side_effect = engine_answer(500, "received unexpected HTTP status: 503 Service Unavailable")

    with pytest.raises(EngineError, match="503 Service Unavailable"):
        engine.ensure_image(client, IMAGE, attempts=3)

    assert client.api.pull.call_count == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("failure", "explanation"),
    [
        pytest.param(
            engine_answer(500, 'Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host'),
            "no such host",
            id="no-such-host",
        ),
        pytest.param(
            engine_answer(404, "pull access denied for renovate/nope, repository does not exist"),
            "repository does not exist",
            id="repository-not-found",
        ),
        pytest.param(
            engine_answer(404, "manifest for renovate/renovate:99.0.0 not found: manifest unknown"),
            "manifest unknown",
            id="tag-not-found",
        ),
        pytest.param(
            engine_answer(500, 'Head "https://ghcr.io/v2/renovate/manifests/1": unauthorized'),
            "unauthorized",
            id="unauthorized",
        ),
        pytest.param(
            engine_answer(500, "pull access denied for private/renovate: denied: requested access is denied"),
            "denied",
            id="denied",
        ),
    ],
)
def test_a_permanent_pull_failure_is_not_retried_and_says_how_to_build_the_image(
    client: MagicMock, sleeps: list[float], failure: Exception, explanation: str
) -> None:
    client.images.get.side_effect = ABSENT
    client.api.pull.side_effect = failure

    with pytest.raises(EngineError) as error_info:
        engine.ensure_image(client, IMAGE)

    assert client.api.pull.call_count == 1
    assert sleeps == []
    message = str(error_info.value)
    assert message.startswith(f"image {IMAGE} is not present and could not be pulled (")
    assert explanation in message
    assert "scripts/renovate-image.sh builds Renovate locally" in message
    assert "or set renovate.image" in message
    assert error_info.value.exit_code == ExitCode.ENGINE


def test_an_engine_failing_to_inspect_the_image_is_an_engine_error(client: MagicMock) -> None:
    client.images.get.side_effect = requests.exceptions.ConnectionError("Connection aborted.")

    with pytest.raises(EngineError, match=f"could not inspect image {IMAGE}"):
        engine.ensure_image(client, IMAGE)

    client.api.pull.assert_not_called()


# --- remove_leftovers ---


def container(run_id: str, lock: Path | None) -> MagicMock:
    fake = MagicMock(spec=Container)
    fake.labels = {LABEL_RUN_ID: run_id, **({LABEL_RUN_LOCK: str(lock)} if lock is not None else {})}
    return fake


@pytest.fixture
def alive_lock(tmp_path: Path) -> Iterator[Path]:
    """The lock file of a sweep that is still running (held for real, with flock)."""
    lock = FileLock(tmp_path / "runs" / "alive.lock", "run id alive")
    lock.acquire()
    yield lock.path
    lock.release()


def test_leftovers_of_dead_runs_go_and_containers_of_live_runs_stay(
    client: MagicMock, tmp_path: Path, alive_lock: Path
) -> None:
    dead_lock = tmp_path / "runs" / "dead.lock"
    dead_lock.write_text("4242\n")  # left behind by a killed run: the file is there, nobody holds it
    alive = [container("alive", alive_lock), container("alive", alive_lock)]
    dead = [container("dead", dead_lock), container("dead", dead_lock)]
    gone = container("gone", tmp_path / "runs" / "gone.lock")  # its lock file was removed with its run
    unlabelled = container("old", None)  # a run from before run locks existed
    own = container("mine", tmp_path / "runs" / "mine.lock")
    client.containers.list.return_value = [alive[0], dead[0], own, gone, alive[1], dead[1], unlabelled]

    cleaned = engine.remove_leftovers(client, own_run_id="mine")

    assert cleaned == ["dead", "gone", "old"]
    # ignore_removed: a container another sweep removes between the SDK's list and its inspection is skipped
    client.containers.list.assert_called_once_with(all=True, filters={"label": LABEL_RUN_ID}, ignore_removed=True)
    for removed in (*dead, gone, unlabelled):
        removed.remove.assert_called_once_with(force=True)
    for kept in (*alive, own):
        kept.remove.assert_not_called()


def test_of_a_run_whose_lock_this_runner_cannot_see_only_stopped_containers_go(
    client: MagicMock, tmp_path: Path
) -> None:
    # A runner in a container beside this one, on the same engine: its lock's path names no file here, which
    # says nothing about whether it still runs.
    elsewhere = {LABEL_RUN_LOCK_NAMESPACE: "another-boot:mnt:[4026532999]"}
    running, exited = container("theirs", tmp_path / "invisible.lock"), container("theirs", tmp_path / "invisible.lock")
    for fake, status in ((running, "running"), (exited, "exited")):
        fake.labels |= elsewhere
        fake.status = status
    here = container("gone", tmp_path / "gone.lock")
    here.labels[LABEL_RUN_LOCK_NAMESPACE] = lock_namespace()
    client.containers.list.return_value = [running, exited, here]

    assert engine.remove_leftovers(client, own_run_id="mine") == ["gone", "theirs"]
    running.remove.assert_not_called()
    exited.remove.assert_called_once_with(force=True)
    here.remove.assert_called_once_with(force=True)


def test_a_leftover_removed_meanwhile_is_not_an_error(client: MagicMock, tmp_path: Path) -> None:
    vanished = container("dead", tmp_path / "runs" / "dead.lock")
    vanished.remove.side_effect = docker.errors.NotFound("No such container")
    other = container("dead", tmp_path / "runs" / "dead.lock")
    client.containers.list.return_value = [vanished, other]

    assert engine.remove_leftovers(client, own_run_id="mine") == ["dead"]
    other.remove.assert_called_once_with(force=True)


def test_a_leftover_another_sweep_is_removing_is_not_an_error(client: MagicMock, tmp_path: Path) -> None:
    busy = container("dead", tmp_path / "runs" / "dead.lock")
    busy.remove.side_effect = engine_answer(409, "removal of container abc is already in progress")
    client.containers.list.return_value = [busy]

    assert engine.remove_leftovers(client, own_run_id="mine") == ["dead"]


def test_no_leftovers_means_nothing_to_do(client: MagicMock) -> None:
    client.containers.list.return_value = []

    assert engine.remove_leftovers(client, own_run_id="mine") == []


# --- check_cache_writable ---


def test_a_probe_the_engine_cannot_start_is_an_engine_error_that_says_why(client: MagicMock) -> None:
    # An image without /bin/sh: the engine creates the probe and cannot start it.
    client.containers.run.side_effect = engine_answer(
        400, 'failed to create shim task: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown'
    )

    with pytest.raises(EngineError) as caught:
        engine.check_cache_writable(client, IMAGE, "renovate-cache", "the cache volume renovate-cache")

    message = str(caught.value)
    assert message.startswith(f"could not start a short container of {IMAGE} to check that Renovate's user can write")
    assert "stat /bin/sh: no such file or directory" in message
    assert "nothing was started" in message
    # The engine created the probe before it failed to start it: it is removed, not left behind.
    name = client.containers.run.call_args.kwargs["name"]
    client.containers.get.assert_called_once_with(name)
    client.containers.get.return_value.remove.assert_called_once_with(force=True)


# --- ensure_cache_volume ---


def test_an_existing_cache_volume_is_left_as_it_is(client: MagicMock) -> None:
    client.volumes = MagicMock(spec=VolumeCollection)

    engine.ensure_cache_volume(client, "renovate-cache", IMAGE)

    client.volumes.get.assert_called_once_with("renovate-cache")
    client.volumes.create.assert_not_called()
    client.containers.run.assert_not_called()


def test_a_new_cache_volume_is_handed_to_renovates_user(client: MagicMock) -> None:
    client.volumes = MagicMock(spec=VolumeCollection)
    client.volumes.get.side_effect = docker.errors.NotFound("no such volume")

    engine.ensure_cache_volume(client, "renovate-cache", IMAGE)

    client.volumes.create.assert_called_once()
    assert client.volumes.create.call_args.args == ("renovate-cache",)
    client.containers.run.assert_called_once()
    run = client.containers.run.call_args
    assert run.args == (IMAGE,)
    assert run.kwargs["command"] == [f"chown {engine.RENOVATE_UID} /cache && chmod 0775 /cache"]
    assert run.kwargs["volumes"] == {"renovate-cache": {"bind": "/cache", "mode": "rw"}}
    assert run.kwargs["network_mode"] == "none"
    assert run.kwargs["remove"] is True

"""The container engine before any repository runs: reachable, image present, cache volume ready, leftovers gone."""

from __future__ import annotations

import contextlib
import secrets
from collections import defaultdict
from http import HTTPStatus
from pathlib import Path

import docker
import docker.errors
import structlog
from docker.models.containers import Container
from docker.utils import parse_repository_tag
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from runner.errors import EngineError
from runner.locking import is_held, lock_namespace
from runner.renovate.container import (
    ENGINE_CONNECTION_ERRORS,
    ENGINE_FAILURES,
    LABEL_PREFIX,
    LABEL_RUN_ID,
    LABEL_RUN_LOCK,
    LABEL_RUN_LOCK_NAMESPACE,
    explain,
)

log = structlog.get_logger()

RENOVATE_UID = 12021  # the official image's user; everything Renovate writes must be writable by it
CACHE_DIR_IN_CONTAINER = "/tmp/renovate/cache"  # noqa: S108 - the path inside the container, not on the host


def connect() -> docker.DockerClient:
    """A client for the engine named by DOCKER_HOST (or the default socket), checked with a ping."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except (docker.errors.DockerException, *ENGINE_CONNECTION_ERRORS) as error:
        raise EngineError(
            f"cannot reach the Docker engine ({error}); start it (scripts/setup.sh does) "
            "or point DOCKER_HOST at a running one"
        ) from None
    return client


# A registry that cannot be resolved or refuses us will not change its mind in a few seconds.
_PERMANENT_PULL_FAILURES = ("no such host", "not found", "unauthorized", "denied", "manifest unknown")


class PullFailedError(Exception):
    """An error the engine reported in the middle of a pull's progress stream (after answering 200)."""


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, ENGINE_CONNECTION_ERRORS):
        return True
    if isinstance(error, PullFailedError):
        return not any(text in str(error) for text in _PERMANENT_PULL_FAILURES)
    if isinstance(error, docker.errors.APIError):
        message = str(error.explanation or "")
        return error.is_server_error() and not any(text in message for text in _PERMANENT_PULL_FAILURES)
    return False


def _pull(client: docker.DockerClient, image: str) -> str:
    """Pull `image`, failing on errors inside the progress stream (the SDK's `images.pull` drops those)."""
    repository, tag = parse_repository_tag(image)
    for event in client.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
        if "error" in event:
            raise PullFailedError(str(event["error"]))
    return str(client.images.get(image).id)


def ensure_image(client: docker.DockerClient, image: str, *, attempts: int = 4) -> str:
    """The id of `image`, pulled first when it is not present (transient failures are retried)."""
    try:
        return str(client.images.get(image).id)
    except docker.errors.ImageNotFound:
        pass
    except ENGINE_FAILURES as error:
        raise EngineError(f"could not inspect image {image}: {error}") from None

    @retry(
        retry=retry_if_exception(_is_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=2, max=30),
        reraise=True,
    )
    def pull() -> str:
        log.info("image_pull", image=image)
        return _pull(client, image)

    try:
        image_id = pull()
    except (*ENGINE_FAILURES, PullFailedError) as error:
        explanation = error.explanation if isinstance(error, docker.errors.APIError) else str(error)
        raise EngineError(
            f"image {image} is not present and could not be pulled ({explanation}); "
            "pull or build it (scripts/renovate-image.sh builds Renovate locally) or set renovate.image"
        ) from None
    return image_id


def ensure_cache_volume(client: docker.DockerClient, volume: str, image: str) -> None:
    """Create the cache volume if missing, owned by Renovate's uid so its containers can write to it."""
    if _volume_exists(client, volume):
        return
    log.info("cache_volume_create", volume=volume)
    client.volumes.create(volume, labels={f"{LABEL_PREFIX}.cache": "true"})
    # A fresh volume's root belongs to root; one short-lived container hands it to Renovate's user.
    run_as_root_on_cache(client, image, volume, f"chown {RENOVATE_UID} /cache && chmod 0775 /cache")


def run_as_root_on_cache(client: docker.DockerClient, image: str, cache: str, script: str) -> None:
    """Runs `script` as root in a short-lived container with `cache` (a volume or host directory) at /cache."""
    _run_on_cache(client, image, cache, script, user=0)


def _run_on_cache(client: docker.DockerClient, image: str, cache: str, script: str, *, user: int) -> None:
    name = f"renovate-runner-cache-{secrets.token_hex(6)}"
    try:
        client.containers.run(
            image,
            name=name,
            entrypoint=["/bin/sh", "-c"],
            command=[script],
            user=str(user),
            network_mode="none",
            volumes={cache: {"bind": "/cache", "mode": "rw"}},
            labels={f"{LABEL_PREFIX}.cache-init": cache},
            remove=True,
        )
    except docker.errors.APIError:
        # `remove=True` removes a container that ran; one the engine created and could not start would stay.
        with contextlib.suppress(*ENGINE_FAILURES):
            client.containers.get(name).remove(force=True)
        raise


def check_cache_writable(client: docker.DockerClient, image: str, cache: str, what: str) -> None:
    """Fails before any repository runs when Renovate's user cannot write to `cache` (`what` names it): each
    repository would fail on its own, later and less clearly, otherwise."""
    probe = "/cache/.renovate-runner-probe"
    try:
        _run_on_cache(client, image, cache, f"touch {probe} && rm {probe}", user=RENOVATE_UID)
    except docker.errors.ContainerError as error:
        stderr = error.stderr or b""
        said = (stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr).strip().splitlines()
        raise EngineError(
            f"Renovate's user (uid {RENOVATE_UID}) cannot write to {what} ({said[-1] if said else error}); nothing "
            f"was started. Make it writable for uid {RENOVATE_UID}, or use another cache (cache.volume, "
            "cache.directory or --cache-dir); a cache volume the runner creates itself is prepared for that user"
        ) from None
    except ENGINE_FAILURES as error:  # the engine could not even start the probe
        raise EngineError(
            f"could not start a short container of {image} to check that Renovate's user can write to {what} "
            f"({explain(error)}); nothing was started. The runner runs /bin/sh of the Renovate image for that check, "
            "which every Renovate image has"
        ) from None


def _volume_exists(client: docker.DockerClient, volume: str) -> bool:
    try:
        client.volumes.get(volume)
    except docker.errors.NotFound:
        return False
    return True


# States of a container whose process has ended: removing one cannot cut a live sweep short.
_STOPPED = frozenset({"exited", "dead"})


def remove_leftovers(client: docker.DockerClient, *, own_run_id: str) -> list[str]:
    """Remove containers of earlier runs whose lock is no longer held; return the run ids cleaned up.

    A run whose lock lives where this runner cannot see it (`lock_namespace`: a runner in a container beside one on
    the host, both on one engine) may still be alive: of its containers, only those that have stopped go.
    """
    by_run: dict[str, list[Container]] = defaultdict(list)
    # ignore_removed: the SDK inspects each container it lists, and another sweep on the same engine may remove one
    # in between; without it that 404 ended this sweep before it began (exit 70), as two e2e runs at once showed.
    for container in client.containers.list(all=True, filters={"label": LABEL_RUN_ID}, ignore_removed=True):
        run_id = container.labels.get(LABEL_RUN_ID, "")
        if run_id != own_run_id:
            by_run[run_id].append(container)
    here = lock_namespace()
    cleaned: list[str] = []
    for run_id, of_run in sorted(by_run.items()):
        labels = of_run[0].labels
        lock = labels.get(LABEL_RUN_LOCK)
        containers = of_run
        if labels.get(LABEL_RUN_LOCK_NAMESPACE, here) != here:  # runs from before the label: as if from here
            containers = [container for container in of_run if container.status in _STOPPED]
            if not containers:
                continue
        elif lock and is_held(Path(lock)):
            continue  # that sweep is still running
        for container in containers:
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                continue
            except docker.errors.APIError as error:
                if error.status_code == HTTPStatus.CONFLICT:  # another sweep is removing it right now
                    continue
                raise
        log.info("leftovers_removed", run_id=run_id, containers=len(containers))
        cleaned.append(run_id)
    return cleaned

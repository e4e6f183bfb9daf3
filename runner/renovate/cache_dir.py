"""`cache.directory`: a host directory that Renovate's containers use as their cache, prepared for Renovate's user.

Cache@2 restores its files as the agent's user, and Renovate runs as uid 12021 (group 0), so before a sweep the
directory and everything in it are handed to that user. Changing an owner needs root: a runner running as root does it
itself; one that is not (a Microsoft-hosted agent's steps run as an ordinary user with sudo) has a short-lived root
container do it, as for a fresh cache volume (engine.ensure_cache_volume), and says what to do when that fails too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import structlog

from runner.errors import EngineError
from runner.renovate.engine import RENOVATE_UID, run_as_root_on_cache

log = structlog.get_logger()

RENOVATE_GID = 0


def prepare_cache_directory(directory: Path, client: docker.DockerClient, image: str) -> None:
    """Create `directory` if missing and make it and its contents owned by uid 12021, group 0."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EngineError(
            f"cannot create the cache directory {directory} ({error.strerror}); create it, or choose another "
            "cache.directory (or --cache-dir)"
        ) from None
    if os.geteuid() == 0:
        try:
            changed = _chown_tree(directory)
        except OSError as error:
            raise EngineError(
                f"cannot hand the cache directory {directory} to Renovate's user (uid {RENOVATE_UID}): "
                f"{error.strerror}; make it writable, or choose another cache.directory (or --cache-dir)"
            ) from None
    else:
        changed = -1  # unknown: the container does them all
        _chown_in_container(client, image, directory)
    log.info("cache_directory_ready", directory=str(directory), entries_chowned=changed)


def _chown_tree(directory: Path) -> int:
    changed = 0
    for path in _tree(directory):
        if path.lstat().st_uid != RENOVATE_UID:
            os.chown(path, RENOVATE_UID, RENOVATE_GID, follow_symlinks=False)
            changed += 1
    return changed


def _chown_in_container(client: docker.DockerClient, image: str, directory: Path) -> None:
    try:
        run_as_root_on_cache(client, image, str(directory), f"chown -R {RENOVATE_UID}:{RENOVATE_GID} /cache")
    except docker.errors.DockerException as error:
        raise EngineError(
            f"cannot hand the cache directory {directory} to Renovate's user (uid {RENOVATE_UID}): the runner runs as "
            f"uid {os.geteuid()}, not root, and a root container could not change the owners ({error}). What to do: "
            f"run the runner as root, or run `sudo chown -R {RENOVATE_UID}:{RENOVATE_GID} {directory}` once before "
            "the sweep, or use cache.volume"
        ) from None


def _tree(directory: Path) -> Iterator[Path]:
    """`directory` and everything below it, without following symbolic links."""
    yield directory
    for root, dirs, files in os.walk(directory):
        for name in (*dirs, *files):
            yield Path(root) / name

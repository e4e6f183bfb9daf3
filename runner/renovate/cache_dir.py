"""`cache.directory`: a host directory that Renovate's containers use as their cache, prepared for Renovate's user.

Cache@2 restores its files as the agent's user, and Renovate runs as uid 12021 (group 0), so before a sweep the
directory and everything in it are handed to that user. Changing an owner needs root: the runner does it when it runs
as root (in CI), and says what to do when it cannot. Entries already owned by uid 12021 are left alone, so a directory
prepared once needs nothing more, even without root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import structlog

from runner.errors import EngineError
from runner.renovate.engine import RENOVATE_UID

log = structlog.get_logger()

RENOVATE_GID = 0


def prepare_cache_directory(directory: Path) -> None:
    """Create `directory` if missing and make it and its contents owned by uid 12021, group 0."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EngineError(
            f"cannot create the cache directory {directory} ({error.strerror}); create it, or choose another "
            "cache.directory (or --cache-dir)"
        ) from None
    changed = 0
    try:
        for path in _tree(directory):
            if path.lstat().st_uid != RENOVATE_UID:
                os.chown(path, RENOVATE_UID, RENOVATE_GID, follow_symlinks=False)
                changed += 1
    except PermissionError:
        raise EngineError(
            f"cannot hand the cache directory {directory} to Renovate's user (uid {RENOVATE_UID}): changing an owner "
            f"needs root, and the runner runs as uid {os.geteuid()}. What to do: run the runner as root, or run "
            f"`sudo chown -R {RENOVATE_UID}:{RENOVATE_GID} {directory}` once before the sweep, or use cache.volume"
        ) from None
    log.info("cache_directory_ready", directory=str(directory), entries_chowned=changed)


def _tree(directory: Path) -> Iterator[Path]:
    """`directory` and everything below it, without following symbolic links."""
    yield directory
    for root, dirs, files in os.walk(directory):
        for name in (*dirs, *files):
            yield Path(root) / name

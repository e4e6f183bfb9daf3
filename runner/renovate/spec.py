"""What one Renovate container is made of: image, command, environment, mounts, limits and labels.

Built by `runner.renovate.env` (pure), consumed by `runner.renovate.container` (the only module that talks to the
engine about containers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LABEL_PREFIX = "io.renovate-runner"
LABEL_RUN_ID = f"{LABEL_PREFIX}.run-id"
LABEL_REPOSITORY = f"{LABEL_PREFIX}.repository"
LABEL_RUN_LOCK = f"{LABEL_PREFIX}.run-lock"  # path of the lock file the run holds while it is alive


@dataclass(frozen=True, kw_only=True)
class BindMount:
    source: str  # host path, or a named volume when `volume` is true
    target: str
    read_only: bool = False
    volume: bool = False


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    image: str
    name: str
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None  # None: the image's own (`renovate`)
    environment: Mapping[str, str] = field(repr=False)  # holds the token: never printed
    mounts: tuple[BindMount, ...] = ()
    working_dir: str | None = None
    network: str = "bridge"
    labels: Mapping[str, str] = field(default_factory=dict)
    memory_bytes: int
    pids_limit: int
    nano_cpus: int | None = None
    log_max_bytes: int = 10 * 1024 * 1024  # bound Docker's own copy of the output; we stream it ourselves

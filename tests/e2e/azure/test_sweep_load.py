"""Load: a hundred Azure DevOps repositories at concurrency 8, on the doubles, with the replaying Renovate image.

Every repository is reported exactly once, no container is left, and the runner's memory stays flat: its resident
set is sampled while the sweep runs, against how many repositories have started, and the figures are printed (see
docs/reliability.md, "Load"). Doubled: Entra ID, the pipeline's OIDC endpoint, Azure DevOps; Renovate is replayed
(replay/); the runner, the Docker engine and the containers are real.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest

from runner.renovate.container import LABEL_REPOSITORY

from .organization import Organization, package_json
from .replay import build_replay_image

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

REPOSITORIES = [f"Load/repo-{number:03d}" for number in range(100)]
CONCURRENCY = 8
MIB = 1024 * 1024
# A flat runner grows by what a hundred outcomes weigh, a few hundred kilobytes; a leak of one log or report per
# repository would show as tens of megabytes.
FLAT_GROWTH_MIB = 32


@dataclass
class Samples:
    """(repositories started, resident set in KiB) while the sweep runs; the peak as the kernel kept it."""

    points: list[tuple[int, int]] = field(default_factory=list)
    peak_kib: int = 0


def runner_pid(report_dir: Path) -> int | None:
    marker = str(report_dir).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"runner" in cmdline and marker in cmdline:
                return int(entry.name)
    return None


def sample(report_dir: Path, done: threading.Event, samples: Samples) -> None:
    while not done.is_set():
        pid = runner_pid(report_dir)
        if pid is not None:
            try:
                status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
            except OSError:  # it has just ended
                continue
            started = len(list((report_dir / "logs").glob("*.ndjson"))) if (report_dir / "logs").is_dir() else 0
            samples.points.append((started, int(status["VmRSS"].split()[0])))
            samples.peak_kib = max(samples.peak_kib, int(status["VmHWM"].split()[0]))
        time.sleep(0.1)


def rss_mib_at(samples: Samples, started: int) -> float:
    """The resident set when `started` repositories had started (the first sample at or past it)."""
    return next(kib for count, kib in samples.points if count >= started) / 1024


def test_a_hundred_repositories_at_concurrency_8_are_each_reported_once_in_flat_memory(
    organization: Organization, docker_client: docker.DockerClient, base_renovate_image: str, tmp_path: Path
) -> None:
    image = build_replay_image(docker_client, base_renovate_image)
    for repository in REPOSITORIES:
        organization.seed(repository, {"package.json": package_json(repository, {"lodash": "4.17.15"})})
    organization.configure(
        REPOSITORIES,
        # The replaying image is no Renovate: it has no renovate-config-validator to check the options with.
        renovate={"image": image, "log_level": "info", "validate": False, "global": organization.global_options()},
        concurrency=CONCURRENCY,
        limits={"memory": "64m", "pids": 32},
        cache={"directory": str(tmp_path / "cache")},  # a volume would need a shell in the image to prepare it
    )
    report_dir = organization.workspace / "report-1"  # the organization's first sweep
    samples, done = Samples(), threading.Event()
    sampler = threading.Thread(target=sample, args=(report_dir, done, samples))
    sampler.start()
    started = time.monotonic()
    try:
        sweep = organization.sweep(organization.environ("pipelines"))
    finally:
        done.set()
        sampler.join()
    wall_s = time.monotonic() - started

    assert sweep.exit_code == 0, sweep.run.describe()
    reported = [outcome["repository"] for outcome in sweep.report["repositories"]]
    assert sorted(reported) == REPOSITORIES  # each exactly once
    assert {outcome["status"] for outcome in sweep.report["repositories"]} == {"succeeded"}
    assert all(outcome["updates"] for outcome in sweep.report["repositories"])  # the recorded report was read
    assert len(sweep.junit_cases) == len(REPOSITORIES)
    left = docker_client.containers.list(all=True, filters={"label": LABEL_REPOSITORY})
    assert not [container for container in left if container.labels[LABEL_REPOSITORY] in REPOSITORIES]
    assert samples.points, "the runner was never sampled"
    early, late = rss_mib_at(samples, 2 * CONCURRENCY), samples.points[-1][1] / 1024
    assert late - early < FLAT_GROWTH_MIB
    print(
        f"\nload: {len(REPOSITORIES)} repositories at concurrency {CONCURRENCY} in {wall_s:.1f} s; runner RSS "
        f"{early:.1f} MiB after {2 * CONCURRENCY} started, {rss_mib_at(samples, 50):.1f} MiB at 50, {late:.1f} MiB "
        f"at the end, peak {samples.peak_kib / 1024:.1f} MiB ({len(samples.points)} samples)"
    )

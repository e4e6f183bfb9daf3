"""The runner's own overhead: a sweep of N trivial repositories through `renovate-runner run` against a bare loop
that does the same with the Docker SDK and nothing else, at 10, 100 and 500 repositories.

    uv run python -m bench.overhead [--quick] [--concurrency 8]

Both start the same containers: the scripted Renovate image (tests/integration/scripted), whose process prints
`Repository started` and `Repository finished` and exits, over a local repository mounted read-only, with the
runner's memory and pids limits. The bare loop creates, attaches, starts, reads, waits and removes each container
from a thread pool of the same size, in a Python process of its own as the runner is. The runner does everything
it does in a real sweep: configuration, locks, leftover cleanup, image and cache checks, per repository its
container spec, streamed log file, Renovate's report directory and outcome, then report.json, summary.md and
junit.xml. The runner keeps its state directory from one sweep to the next, as on a self-hosted agent, after a first
sweep that is not measured (on a fresh agent each sweep also pays Renovate's check of the options, about 2.6 s, and
the cache volume's creation). Figures: the ratio runner/bare at each
size (goal at most 1.1), and the runner's cost per repository as the slope of wall time over N, with how far the
three sizes are from that line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker

from bench.figures import Figure, at_most, median, median_figure, ratio_figure
from runner.locking import STATE_DIR_ENV
from tests.integration.scripted import FINISHES, build_scripted_image
from tests.integration.scripted.workspace import Workspace

SIZES: Final = (10, 100, 500)
QUICK_SIZES: Final = (10, 50, 100)  # --quick: the largest size alone would take four minutes
_MEMORY: Final = 256 * 1024**2
_PIDS: Final = 256


def workspace_with(root: Path, image: str, count: int, concurrency: int) -> Workspace:
    workspace = Workspace(
        root,
        image=image,
        cache_volume=f"renovate-runner-bench-{uuid.uuid4().hex[:8]}",
        concurrency=concurrency,
        limits={"memory": "256m", "pids": _PIDS},
    )
    for index in range(count):
        workspace.local_repo(f"repo-{index:04d}", FINISHES)
    return workspace


def runner_sweep(workspace: Workspace, state_dir: Path) -> float:
    """Seconds for `renovate-runner run` over the workspace, as its own process, with the runner's state directory
    `state_dir` (kept from one sweep to the next, as on a self-hosted agent)."""
    arguments = workspace.arguments(f"bench-{uuid.uuid4().hex[:8]}")
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "runner", *arguments],
        env={**os.environ, STATE_DIR_ENV: str(state_dir)},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        raise RuntimeError(f"the runner's sweep failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    return elapsed


def bare_sweep(image: str, workspace: Workspace, concurrency: int) -> float:
    """Seconds for the same containers through the SDK alone, as a process of its own like the runner's."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "bench.overhead", "bare", str(workspace.root), image, str(concurrency)],
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return time.monotonic() - started


def bare_loop(root: Path, image: str, concurrency: int) -> None:
    """The bare loop itself: create, attach, start, read, wait and remove each container, `concurrency` at once."""
    client = docker.from_env()
    repositories = sorted((root / "repos").iterdir())

    def one(path: Path) -> None:
        container = client.containers.create(
            image,
            environment={"LOG_FORMAT": "json", "RENOVATE_PLATFORM": "local"},
            volumes={str(path): {"bind": "/usr/src/app", "mode": "ro"}},
            working_dir="/usr/src/app",
            network_mode="none",
            mem_limit=_MEMORY,
            pids_limit=_PIDS,
            init=True,
        )
        try:
            stream = container.attach(stdout=True, stderr=True, stream=True, logs=True)
            container.start()
            output = b"".join(stream)
            container.wait()
        finally:
            container.remove(force=True)
        if b"Repository finished" not in output:
            raise RuntimeError(f"{path.name}: the container did not finish: {output[-500:]!r}")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, repositories))


def rounds_for(size: int, quick: bool) -> int:
    if quick:
        return 1
    return 2 if size == SIZES[-1] else 3  # the largest takes long enough that two runs suffice


def figures(quick: bool, concurrency: int = 8) -> list[Figure]:
    client = docker.from_env()
    base = os.environ.get("RENOVATE_RUNNER_BASE_IMAGE") or os.environ["RENOVATE_RUNNER_IMAGE"]
    image = build_scripted_image(client, base)
    result: list[Figure] = []
    walls: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as scratch:
        state_dir = Path(scratch) / "state"
        sizes = QUICK_SIZES if quick else SIZES
        for size in sizes:
            workspace = workspace_with(Path(scratch) / f"n{size}", image, size, concurrency)
            if size == sizes[0]:
                # The night before, unmeasured: Renovate's check of the options, whose clean verdict later sweeps
                # keep (the bare loop checks nothing), and the cache volume made (each size has one of its own).
                print(f"# a first sweep: {runner_sweep(workspace, state_dir):.1f} s", flush=True)
            runner_runs: list[float] = []
            bare_runs: list[float] = []
            for round_number in range(1, rounds_for(size, quick) + 1):
                runner_runs.append(runner_sweep(workspace, state_dir))
                bare_runs.append(bare_sweep(image, workspace, concurrency))
                print(
                    f"# round {round_number} n={size}: runner {runner_runs[-1]:.1f} s, bare SDK loop"
                    f" {bare_runs[-1]:.1f} s",
                    flush=True,
                )
            walls[size] = median(runner_runs)
            result += [
                median_figure(f"overhead.n{size}.runner.ms_per_repo", [1000 * s / size for s in runner_runs]),
                median_figure(f"overhead.n{size}.bare.ms_per_repo", [1000 * s / size for s in bare_runs]),
                ratio_figure(f"overhead.n{size}.runner_vs_bare.ratio", runner_runs, bare_runs, at_most(1.1)),
            ]
    fit = statistics.linear_regression(list(walls), list(walls.values()))
    worst = max(abs(wall - (fit.intercept + fit.slope * size)) / wall for size, wall in walls.items())
    return [
        *result,
        Figure(name="overhead.runner.slope_ms_per_repo", value=1000 * fit.slope),
        Figure(name="overhead.runner.fixed_cost_s", value=fit.intercept),
        Figure(name="overhead.runner.worst_distance_from_line.ratio", value=worst),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["bare"]:  # the bare loop's own process (bare_sweep)
        _, root, image, concurrency = arguments
        bare_loop(Path(root), image, int(concurrency))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(arguments)
    for figure in figures(args.quick, args.concurrency):
        print(figure.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

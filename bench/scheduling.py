"""Longest-previous-duration-first scheduling against the stable order, on a sweep whose repositories differ in length.

    uv run python bench/scheduling.py [--rounds N]

The scripted Renovate image (tests/integration/scripted: the Renovate image with its process replaced by a few
lines of shell) sleeps a set time per repository, so the only thing that differs between the two variants is the
order containers start in. The fleet: six short repositories and one long one that sorts last in the configuration,
two at a time. In the stable order the long one starts when the short ones are done and runs alone; longest-first
starts it at once, next to them.

- `stable`: a fresh, empty history: nothing is timed, so every repository is new and the stable order holds;
- `longest_first`: a history primed by one sweep of the same fleet.

Everything else is real: the CLI, the Docker engine, one container per repository, the report and the history store.
Prints one `figure:` line per figure (bench/figures.py); exits 0 whether or not the goal is met.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker

from bench.figures import Figure, at_most, median_figure, ratio_figure
from runner.locking import STATE_DIR_ENV
from tests.integration.scripted import build_scripted_image
from tests.integration.scripted.workspace import Workspace

SHORT_S, SHORT_COUNT, LONG_S, CONCURRENCY = 2, 6, 12, 2
RATIO_GOAL = 0.8  # longest-first should cut at least a fifth off this fleet's sweep


def behaviour(seconds: int) -> str:
    return f"repository_started\nsleep {seconds}\nrepository_finished done\n"


def timed_sweep(workspace: Workspace, history: Path) -> float:
    start = time.monotonic()
    output = workspace.sweep(f"bench-{uuid.uuid4().hex[:8]}", "--history", str(history))
    wall = time.monotonic() - start
    if output.exit_code != 0:
        raise RuntimeError(f"the sweep failed (exit code {output.exit_code}); see {output.report_dir}")
    return wall


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each variant (default 3)")
    parser.add_argument("--image", default=os.environ.get("RENOVATE_RUNNER_IMAGE"))
    args = parser.parse_args(argv)
    if not args.image:
        parser.error('name the Renovate image (--image), or run `eval "$(bash scripts/setup.sh)"` first')
    client = docker.from_env()
    image = build_scripted_image(client, args.image)
    volume = f"renovate-runner-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="renovate-runner-bench-") as scratch:
        root = Path(scratch)
        workspace = Workspace(root / "fleet", image=image, cache_volume=volume, concurrency=CONCURRENCY)
        os.environ[STATE_DIR_ENV] = str(workspace.state_dir)
        for number in range(1, SHORT_COUNT + 1):
            workspace.local_repo(f"a-short-{number}", behaviour(SHORT_S))
        workspace.local_repo("z-long", behaviour(LONG_S))
        try:
            primed = root / "primed.sqlite"
            timed_sweep(workspace, primed)  # times every repository once
            stable: list[float] = []
            longest_first: list[float] = []
            for round_number in range(1, args.rounds + 1):
                stable.append(timed_sweep(workspace, root / f"empty-{round_number}.sqlite"))
                longest_first.append(timed_sweep(workspace, primed))
                print(f"# round {round_number}: stable {stable[-1]:.1f} s, longest first {longest_first[-1]:.1f} s")
        finally:
            client.volumes.get(volume).remove(force=True)
    figures: list[Figure] = [
        median_figure("scheduling.stable.wall_s", stable),
        median_figure("scheduling.longest_first.wall_s", longest_first),
        ratio_figure("scheduling.longest_first_vs_stable.wall_ratio", longest_first, stable, at_most(RATIO_GOAL)),
    ]
    for figure in figures:
        print(figure.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

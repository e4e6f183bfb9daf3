"""What Renovate's own check of the options adds to a sweep: wall time of `validate_renovate_options` (one
`renovate-config-validator` container over the whole configuration) for a configuration of N repositories, each with
options of its own, on one image.

    uv run python -m bench.validator_cost IMAGE [--repositories N] [--runs K]

Prints the median and the range of K runs, after one warm-up run. The container is the whole cost: the runner's own
work (writing the files, mapping the output) is a few milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import docker
import yaml

from runner.config import load_config
from runner.renovate.validator import validate_renovate_options


def write_config(directory: Path, repositories: int) -> Path:
    (directory / "repos").mkdir(parents=True)
    global_options = {"onboarding": False, "packageRules": [{"matchDatasources": ["npm"], "rangeStrategy": "pin"}]}
    runner = {"organization": "https://dev.azure.com/contoso/", "renovate": {"global": global_options}}
    (directory / "runner.yaml").write_text(yaml.safe_dump(runner))
    for index in range(repositories):
        repo = {"repository": f"Platform/repo-{index:03d}", "renovate": {"labels": ["deps", f"team-{index % 5}"]}}
        (directory / "repos" / f"repo-{index:03d}.yaml").write_text(yaml.safe_dump(repo))
    return directory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("image")
    parser.add_argument("--repositories", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    client = docker.from_env()
    with tempfile.TemporaryDirectory() as scratch:
        config = load_config(write_config(Path(scratch) / "config", args.repositories))
        validate_renovate_options(config, client, args.image, name=None)  # warm-up: page cache, image layers
        seconds = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = validate_renovate_options(config, client, args.image, name=None)
            seconds.append(time.perf_counter() - started)
            assert not result.errors, result.errors  # noqa: S101 - a benchmark of a valid configuration
    print(
        f"{args.image}: {args.repositories} repositories, {args.runs} runs: median {statistics.median(seconds):.2f}s "
        f"(min {min(seconds):.2f}s, max {max(seconds):.2f}s)"
    )


if __name__ == "__main__":
    main()

"""renovate-runner's performance benchmark: one sweep per repository container against one sequential Renovate, on
the doubles, side by side in one run (see docs/performance.md for what each figure means and the goals).

    uv run python bench/run.py [--quick] [--rounds N] [--only startup,loopback,latency]

Images: the fast-starting image the runner uses (RENOVATE_RUNNER_IMAGE) and the Renovate image it was derived from
(RENOVATE_RUNNER_BASE_IMAGE), as scripts/setup.sh prints them. Each figure is the median of alternating runs;
ratios compare medians measured in the same rounds. Prints one `figure:` line per figure; exits 0 whether or not
goals are met (the lines say), 1 when a run fails.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker

from bench import log_ingestion, overhead, startup, sweeps, tokens
from bench.figures import Figure, at_most, median_figure, ratio_figure
from tests.doubles.latency import Latency
from tests.doubles.tls import LoopbackCA, system_ca_bundle

# What a request to the real services costs from a hosted agent, as the performance issue measured it with a
# delaying proxy: tens to hundreds of milliseconds each. Override with --latency.
REALISTIC_LATENCY = Latency(rest_s=0.080, git_s=0.150, registry_s=0.040)
GROUPS = ("startup", "loopback", "latency", "warm", "overhead", "logs", "tokens")


@dataclass(frozen=True, kw_only=True)
class Settings:
    image: str
    base_image: str
    startup_rounds: int
    loopback_rounds: int
    latency_rounds: int
    loopback_concurrency: tuple[str, ...]
    latency_concurrency: tuple[str, ...]
    latency: Latency
    groups: tuple[str, ...]
    quick: bool


def parse_settings(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a reduced set of every figure (under 10 minutes)")
    parser.add_argument("--rounds", type=int, help="alternating rounds of each sweep (default 3, --quick 1)")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"figure groups, of {', '.join(GROUPS)}")
    parser.add_argument("--latency", type=Latency.parse, default=REALISTIC_LATENCY, help="e.g. rest=80ms,git=150ms")
    parser.add_argument(
        "--concurrency",
        help="the runner's variants on loopback: concurrency levels, each with gN for N repositories per container "
        "(e.g. auto,1,2,4,autog4)",
    )
    parser.add_argument("--image", default=os.environ.get("RENOVATE_RUNNER_IMAGE"))
    parser.add_argument("--base-image", default=os.environ.get("RENOVATE_RUNNER_BASE_IMAGE"))
    args = parser.parse_args(argv)
    if not args.image or not args.base_image:
        parser.error('name both images (--image, --base-image), or run `eval "$(bash scripts/setup.sh)"` first')
    groups = tuple(group for group in args.only.split(",") if group)
    if unknown := set(groups) - set(GROUPS):
        parser.error(f"unknown figure groups: {', '.join(sorted(unknown))}")
    rounds = args.rounds or (1 if args.quick else 3)
    return Settings(
        image=args.image,
        base_image=args.base_image,
        startup_rounds=3 if args.quick else 7,
        loopback_rounds=rounds,
        latency_rounds=1 if args.quick else max(1, rounds - 1),
        loopback_concurrency=tuple(args.concurrency.split(","))
        if args.concurrency
        else (("auto", "autog4") if args.quick else ("auto", "1", "2", "4", "autog4")),
        latency_concurrency=("4h",) if args.quick else ("4", "4h", "auto", "autog4"),
        latency=args.latency,
        groups=groups,
        quick=args.quick,
    )


def startup_figures(settings: Settings, client: docker.DockerClient) -> list[Figure]:
    runs = startup.alternate(client, {"base": settings.base_image, "fast": settings.image}, settings.startup_rounds)
    cpu = {label: [run.cpu_s for run in samples] for label, samples in runs.items()}
    wall = {label: [run.wall_s for run in samples] for label, samples in runs.items()}
    return [
        median_figure("startup.base.cpu_s", cpu["base"]),
        median_figure("startup.fast.cpu_s", cpu["fast"], at_most(2.5)),
        ratio_figure("startup.fast_vs_base.cpu_ratio", cpu["fast"], cpu["base"], None),
        median_figure("startup.base.wall_s", wall["base"]),
        median_figure("startup.fast.wall_s", wall["fast"]),
    ]


SweepFn = Callable[[], sweeps.SweepRun]


def alternate_sweeps(variants: dict[str, SweepFn], rounds: int) -> dict[str, list[sweeps.SweepRun]]:
    runs: dict[str, list[sweeps.SweepRun]] = {label: [] for label in variants}
    for round_number in range(1, rounds + 1):
        for label, sweep in variants.items():
            run = sweep()
            runs[label].append(run)
            print(
                f"# round {round_number} {label}: {run.wall_s:.1f} s wall, {run.container_cpu_s:.1f} CPU-s in"
                f" containers, {run.runner_cpu_s:.1f} CPU-s runner, {run.pull_requests} pull requests",
                flush=True,
            )
    return runs


def sweep_figures(
    regime: str, runs: dict[str, list[sweeps.SweepRun]], goals: dict[str, tuple[float | None, float | None]]
) -> list[Figure]:
    """Per variant: wall and container CPU, and both as ratios to the anchor; `goals` bounds the ratios."""
    anchor = runs["anchor"]
    figures: list[Figure] = []
    pull_requests = {run.pull_requests for samples in runs.values() for run in samples}
    if len(pull_requests) != 1:
        raise RuntimeError(f"{regime}: the sweeps opened different numbers of pull requests: {pull_requests}")
    figures.append(Figure(name=f"{regime}.pull_requests", value=pull_requests.pop()))
    for label, samples in runs.items():
        wall, cpu = [run.wall_s for run in samples], [run.container_cpu_s for run in samples]
        figures += [median_figure(f"{regime}.{label}.wall_s", wall), median_figure(f"{regime}.{label}.cpu_s", cpu)]
        if label == "anchor":
            continue
        figures.append(median_figure(f"{regime}.{label}.runner_cpu_s", [run.runner_cpu_s for run in samples]))
        wall_goal, cpu_goal = goals.get(label, (None, None))
        figures += [
            ratio_figure(
                f"{regime}.{label}.wall_ratio",
                wall,
                [run.wall_s for run in anchor],
                None if wall_goal is None else at_most(wall_goal),
            ),
            ratio_figure(
                f"{regime}.{label}.cpu_ratio",
                cpu,
                [run.container_cpu_s for run in anchor],
                None if cpu_goal is None else at_most(cpu_goal),
            ),
        ]
    return figures


def regime_runs(
    settings: Settings, environment: sweeps.Environment, latency: Latency, concurrency: Sequence[str], rounds: int
) -> dict[str, list[sweeps.SweepRun]]:
    variants: dict[str, SweepFn] = {
        "anchor": lambda: sweeps.anchor(environment, image=settings.base_image, latency=latency),
    }
    first_sweeps: dict[str, list[sweeps.SweepRun]] = {}
    for spec in concurrency:
        level, per_container, scheduled = parse_variant(spec)
        history = environment.scratch / f"history-{spec}.sqlite" if scheduled else None
        sweep = functools.partial(
            sweeps.runner,
            environment,
            image=settings.image,
            latency=latency,
            concurrency=level,
            per_container=per_container,
            history=history,
        )
        if history is not None and not history.exists():
            # The night before: a sweep of the same fleet whose durations schedule the measured ones. It has no
            # history to go by, so it is also a sweep in the stable order at the same concurrency: the figure of
            # that variant when the variant is not measured on its own (--quick).
            print(f"# c{spec}: a first sweep to record the history", flush=True)
            first_sweeps[f"c{spec.removesuffix('h')}"] = [sweep()]
        variants[f"c{spec}"] = sweep
    runs = alternate_sweeps(variants, rounds)
    return first_sweeps | runs


def parse_variant(spec: str) -> tuple[int | str, int, bool]:
    """`auto`, `4`, `autog4` (auto, 4 repositories per container), `4h` (4, scheduled by the history of an earlier
    sweep, as every nightly sweep after the first is) -> (concurrency, repositories_per_container, scheduled)."""
    match = re.fullmatch(r"(auto|\d+)(?:g(\d+))?(h?)", spec)
    if match is None:
        raise ValueError(f"variant {spec!r}: expected a concurrency (auto or a number), optionally g<N>, then h")
    level = match[1] if match[1] == "auto" else int(match[1])
    return level, int(match[2] or 1), bool(match[3])


def warm_figures(settings: Settings, environment: sweeps.Environment) -> list[Figure]:
    """A second sweep of the same repositories against the first (goal: at most 0.7x), with Renovate's shared cache
    only and with its repositoryCache too."""
    figures: list[Figure] = []
    pairs = (("repository_cache", True),) if settings.quick else (("cache", False), ("repository_cache", True))
    for label, repository_cache in pairs:
        first: list[float] = []
        second: list[float] = []
        first_cpu: list[float] = []
        second_cpu: list[float] = []
        for round_number in range(1, settings.loopback_rounds + 1):
            cold, warm = sweeps.warm_pair(
                environment,
                image=settings.image,
                latency=Latency.NONE,
                concurrency="auto",
                repository_cache=repository_cache,
            )
            first.append(cold.wall_s)
            second.append(warm.wall_s)
            first_cpu.append(cold.container_cpu_s)
            second_cpu.append(warm.container_cpu_s)
            print(
                f"# round {round_number} warm {label}: first {cold.wall_s:.1f} s / {cold.container_cpu_s:.1f} CPU-s,"
                f" second {warm.wall_s:.1f} s / {warm.container_cpu_s:.1f} CPU-s",
                flush=True,
            )
        figures += [
            median_figure(f"warm.{label}.first.wall_s", first),
            median_figure(f"warm.{label}.second.wall_s", second),
            # The goal is the runner's default, both caches; the shared cache alone shows what each contributes.
            ratio_figure(
                f"warm.{label}.second_vs_first.wall_ratio", second, first, at_most(0.7) if repository_cache else None
            ),
            ratio_figure(f"warm.{label}.second_vs_first.cpu_ratio", second_cpu, first_cpu, None),
        ]
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_settings(argv)
    client = docker.from_env()
    started = time.monotonic()
    figures: list[Figure] = []
    print(f"# images: {settings.image} (runner), {settings.base_image} (anchor, start-up reference)")
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        ca = LoopbackCA()
        system = system_ca_bundle()
        ca_bundle = ca.write_bundle(Path(scratch) / "ca-bundle.pem", base_bundles=[system] if system else [])
        environment = sweeps.Environment(docker=client, ca=ca, ca_bundle=ca_bundle, scratch=Path(scratch))
        groups: dict[str, Callable[[], list[Figure]]] = {
            "startup": lambda: startup_figures(settings, client),
            "logs": lambda: log_ingestion.figures(settings.quick),
            "tokens": lambda: tokens.figures(settings.quick),
            "overhead": lambda: overhead.figures(settings.quick),
            "loopback": lambda: loopback_figures(settings, environment),
            "latency": lambda: latency_figures(settings, environment),
            "warm": lambda: warm_figures(settings, environment),
        }
        for group, measure in groups.items():
            if group in settings.groups:
                group_started = time.monotonic()
                figures += measure()
                print(f"# {group}: {time.monotonic() - group_started:.0f} s", flush=True)
    for figure in figures:
        print(figure.line())
    missed = [figure.name for figure in figures if figure.met is False]
    print(
        f"# goals met: {sum(f.met is True for f in figures)} of {sum(f.goal is not None for f in figures)}"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )
    print(f"# the whole benchmark: {time.monotonic() - started:.0f} s")
    return 0


def loopback_figures(settings: Settings, environment: sweeps.Environment) -> list[Figure]:
    runs = regime_runs(settings, environment, Latency.NONE, settings.loopback_concurrency, settings.loopback_rounds)
    return sweep_figures("loopback", runs, {"cauto": (0.75, 1.4), "cautog4": (0.75, 1.4)})


def latency_figures(settings: Settings, environment: sweeps.Environment) -> list[Figure]:
    print(f"# latency: {settings.latency.describe()}")
    runs = regime_runs(settings, environment, settings.latency, settings.latency_concurrency, settings.latency_rounds)
    return sweep_figures("latency", runs, {"c4": (0.35, None), "c4h": (0.35, None)})


if __name__ == "__main__":
    raise SystemExit(main())

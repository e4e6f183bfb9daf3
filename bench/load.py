"""Load without containers: 1,000 repositories through `plan`, sharding and `report merge`, each command as the
process a pipeline job starts, with its wall time and peak resident set.

    uv run python bench/load.py [--repositories 1000] [--shards 8]

The configuration has one file per repository; `plan --json` runs once for the whole sweep and once per shard
(`--shard I/N`), and the shards must hold every repository exactly once. Each shard then gets a report directory as
its job would leave it (report.json, and one Renovate log per repository, recorded output of Renovate's), and
`report merge` joins them; the merged report must hold every repository exactly once. Prints one `figure:` line per
figure (bench/figures.py); exits 1 when a command fails or a repository is lost or doubled.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import Figure, at_most
from runner.naming import slug
from runner.report.model import DependencyUpdate, Problem, RepoOutcome, RunReport, Status
from runner.report.write import LOGS_DIR, write_report

_REPO_ROOT = Path(__file__).resolve().parents[1]
_RECORDED_LOG = _REPO_ROOT / "tests" / "unit" / "renovate" / "data" / "full-run.ndjson"
RUN_ID = "20261201T180000Z-load"
# What a pipeline job can spend on bookkeeping for a thousand repositories: seconds, and a small share of a hosted
# agent's 7 GB.
SECONDS_GOAL = 15.0
RSS_GOAL_MB = 250.0


@dataclass(frozen=True)
class Measured:
    seconds: float
    max_rss_mb: float
    stdout: str


def measured(*args: str) -> Measured:
    """`python -m runner <args>` as its own process: wall time, and peak RSS from the kernel's accounting of it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "runner", *args], cwd=_REPO_ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, which Popen.wait would not give
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            message = err.read().decode(errors="replace")[-4000:]
            raise RuntimeError(f"renovate-runner {' '.join(args)} exited {process.returncode}:\n{message}")
        return Measured(seconds=seconds, max_rss_mb=usage.ru_maxrss / 1024, stdout=out.read().decode())


def write_config(root: Path, names: Sequence[str]) -> Path:
    config = root / "config"
    (config / "repos").mkdir(parents=True)
    (config / "runner.yaml").write_text("organization: https://dev.azure.com/contoso/\nconcurrency: 8\n")
    for name in names:
        (config / "repos" / f"{name.replace('/', '-')}.yaml").write_text(f"repository: {name}\n")
    return config


def outcome(name: str) -> RepoOutcome:
    update = DependencyUpdate(
        dependency="lodash", manager="npm", package_file="package.json", current_version="4.17.15",
        new_version="4.17.21", update_type="patch", branch="renovate/lodash-4.x",
    )  # fmt: skip
    return RepoOutcome(
        repository=name, status=Status.SUCCEEDED, renovate_version="44.121.2", renovate_result="done", exit_code=0,
        duration_s=31.5, updates=(update,), branches=("renovate/lodash-4.x",),
        problems=(Problem(level="warning", message="Package lookup failures: left-pad"),),
        log=f"{LOGS_DIR}/{slug(name)}.ndjson",
    )  # fmt: skip


def write_shard_report(directory: Path, shard: str, names: Sequence[str]) -> None:
    """A shard job's report directory: its report.json and a Renovate log per repository."""
    (directory / LOGS_DIR).mkdir(parents=True)
    recorded = _RECORDED_LOG.read_bytes()
    for name in names:
        (directory / LOGS_DIR / f"{slug(name)}.ndjson").write_bytes(recorded)
    report = RunReport(
        run_id=RUN_ID, runner_version="0.1.0", started_at="2026-12-01T18:00:00+00:00",
        finished_at="2026-12-01T18:40:00+00:00", dry_run=False, repositories=tuple(outcome(n) for n in names),
        shard=shard, concurrency=8, concurrency_basis="configured",
        organization="https://dev.azure.com/contoso/",
    )  # fmt: skip
    write_report(report, directory)


def figures(count: int, shards: int) -> list[Figure]:
    names = [f"Load/repo-{number:04d}" for number in range(count)]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        root = Path(scratch)
        config = write_config(root, names)
        whole = measured("plan", "--config", str(config), "--json")
        if json.loads(whole.stdout)["selected"] != count:
            raise RuntimeError("plan lost repositories")
        per_shard = [
            measured("plan", "--config", str(config), "--json", "--shard", f"{i}/{shards}")
            for i in range(1, shards + 1)
        ]
        members = [
            [repo["name"] for repo in json.loads(run.stdout)["repositories"] if repo["shard"] == f"{i}/{shards}"]
            for i, run in enumerate(per_shard, start=1)
        ]
        if sorted(name for shard in members for name in shard) != names:
            raise RuntimeError("the shards do not hold every repository exactly once")
        directories = []
        for index, shard_names in enumerate(members, start=1):
            directory = root / f"report-{index}"
            write_shard_report(directory, f"{index}/{shards}", shard_names)
            directories.append(str(directory))
        merged_dir = root / "merged"
        merge = measured("report", "merge", *directories, "--out", str(merged_dir))
        merged = json.loads((merged_dir / "report.json").read_text())
        if sorted(outcome["repository"] for outcome in merged["repositories"]) != names:
            raise RuntimeError("the merged report does not hold every repository exactly once")
        logs = len(list((merged_dir / LOGS_DIR).iterdir()))
        if logs != count:
            raise RuntimeError(f"the merged report has {logs} logs, not {count}")
    prefix = f"load.{count}"
    return [
        Figure(name=f"{prefix}.plan.seconds", value=whole.seconds, goal=at_most(SECONDS_GOAL)),
        Figure(name=f"{prefix}.plan.peak_rss.mb", value=whole.max_rss_mb, goal=at_most(RSS_GOAL_MB)),
        Figure(
            name=f"{prefix}.plan_shard.max.seconds", value=max(r.seconds for r in per_shard), goal=at_most(SECONDS_GOAL)
        ),
        Figure(
            name=f"{prefix}.plan_shard.max.peak_rss.mb",
            value=max(r.max_rss_mb for r in per_shard),
            goal=at_most(RSS_GOAL_MB),
        ),
        Figure(name=f"{prefix}.report_merge.{shards}_shards.seconds", value=merge.seconds, goal=at_most(SECONDS_GOAL)),
        Figure(
            name=f"{prefix}.report_merge.{shards}_shards.peak_rss.mb", value=merge.max_rss_mb, goal=at_most(RSS_GOAL_MB)
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repositories", type=int, default=1000)
    parser.add_argument("--shards", type=int, default=8)
    args = parser.parse_args(argv)
    try:
        results = figures(args.repositories, args.shards)
    except RuntimeError as error:
        print(f"# failed: {error}", file=sys.stderr)
        return 1
    for figure in results:
        print(figure.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Log ingestion: Renovate-shaped NDJSON logs of 10 MB, 100 MB and 1 GB through the runner's streaming path
(`LineSplitter` -> `LogSink`: decode, redact, parse, write to a real file, summarise) against a bare loop that
reads 1 MiB chunks, splits lines and parses each with `orjson.loads`; and the runner path's memory.

    uv run python -m bench.log_ingestion [--quick]

Each run is a process of its own (`--child`), so its peak RSS (`ru_maxrss`, which sees C allocations, unlike
tracemalloc) belongs to that run alone; the memory figure is how much the peak of a 1 GB run exceeds that of a
10 MB run. The log is generated as it streams, from a 16 MiB pool of lines rendered before the clock starts, so
no run holds more than the pool and one chunk. The runner path is fed 32 KiB chunks, what the engine's attach
stream hands over when output comes faster than it is read (its copy buffer); the bare loop reads 1 MiB.
MB here is 10^6 bytes. Runs of the two paths alternate, and each figure is the median of its runs.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from bench.figures import Figure, at_least, at_most, median_figure, ratio_figure

Path_ = Literal["runner", "bare", "long"]  # "long": the runner path given one line of the run's size

MB: Final = 1_000_000
SIZES: Final = {"10mb": 10 * MB, "100mb": 100 * MB, "1gb": 1000 * MB}
RUNNER_CHUNK: Final = 32 * 1024
BARE_CHUNK: Final = 1024 * 1024
_POOL_BYTES: Final = 16 * 1024 * 1024
_REPO_ROOT: Final = Path(__file__).resolve().parents[1]
LONG_LINE: Final = 64 * MB  # one line far over the runner's cap (1 MiB), which it writes in pieces, never whole
# A long line: Renovate's debug dumps of a repository's config or package files run to tens of kilobytes.
_LONG_LINE_EVERY: Final = 2000
_BRANCH_PUSHED_EVERY: Final = 500  # of the branch worker's lines, a third of all
# What a run registers before its first line, as a sweep does: the job's token and the repository's token.
_SECRETS: Final = ("system-access-token-" + "9f" * 26, "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + "Q" * 1400 + ".sig")


@dataclass(frozen=True, kw_only=True)
class Run:
    path: Path_
    size: int
    seconds: float
    max_rss_mb: float

    @property
    def mb_per_s(self) -> float:
        return self.size / MB / self.seconds


# -- the log ------------------------------------------------------------------------------------------------------


def _envelope(rng: random.Random, level: int, msg: str, index: int) -> dict[str, Any]:
    """The fields every Renovate 44 record carries (bunyan's own, Renovate's context)."""
    second = index // 40
    return {
        "name": "renovate",
        "hostname": "3f9c2a1b7d04",
        "pid": 7,
        "level": level,
        "logContext": "Zt0aB7s2cKq4xYw9mPlRn",
        "repository": "Platform/web-app",
        "msg": msg,
        "time": f"2026-11-29T09:{second // 60 % 60:02d}:{second % 60:02d}.{rng.randrange(1000):03d}Z",
        "v": 0,
    }


def _record(rng: random.Random, index: int) -> dict[str, Any]:
    package = f"@scope-{index % 17}/package-{index % 311}"
    branch = {"branch": f"renovate/package-{index % 40}-{index % 5}.x", "baseBranch": "main"}
    if index % _LONG_LINE_EVERY == 0:
        deps = [
            {"depName": f"package-{n}", "currentValue": f"^{n % 9}.{n % 13}.0", "datasource": "npm", "updates": []}
            for n in range(rng.randrange(150, 600))
        ]
        return _envelope(rng, 20, "packageFiles with updates", index) | {"config": {"npm": [{"deps": deps}]}}
    if index % 997 == 0:
        error = {
            "message": "Command failed: git fetch origin\nfatal: unable to access the remote: timed out",
            "stack": "Error: Command failed\n    at ChildProcess.exithandler (node:child_process:422:12)" * 3,
        }
        return _envelope(rng, 50, "Repository has changed during renovation - aborting", index) | {"err": error}
    if index % 211 == 0:
        return _envelope(rng, 40, f"Failed to look up npm package {package}", index) | branch
    if index % 3 == 0:
        url = f"http://127.0.0.1:4873/{package}"
        fields = {"statusCode": 200, "retryCount": 0, "duration": rng.randrange(5, 400)}
        return _envelope(rng, 10, f"GET {url} = (code=ERR_OK, statusCode=200 retryCount=0, duration=0)", index) | {
            "url": url,
            **fields,
        }
    if index % 3 == 1:
        return _envelope(rng, 20, "Dependency lookup success", index) | {
            "packageFile": "package.json",
            "depName": package,
            "currentValue": f"^{index % 9}.2.0",
            "newValue": f"^{index % 9 + 1}.0.0",
        }
    return _branch_record(rng, index) | branch


def _branch_record(rng: random.Random, index: int) -> dict[str, Any]:
    """The branch worker's chatter, and now and then what the summary reads: in a real debug log the lines that say
    a branch was pushed are a handful per branch among thousands of others."""
    sha = {"commitSha": f"{rng.getrandbits(160):040x}"}
    if index % _BRANCH_PUSHED_EVERY == 0:
        return _envelope(rng, 30, "Branch updated", index) | sha
    return _envelope(rng, 20, "Checking if branch is modified", index) | sha


def line_pool(size: int = _POOL_BYTES) -> bytes:
    """About `size` bytes of distinct Renovate-shaped lines, each ending in a newline."""
    rng = random.Random(44)  # noqa: S311 - a fixed seed, so every run streams the same log; nothing secret
    lines: list[bytes] = []
    total = index = 0
    while total < size:
        line = json.dumps(_record(rng, index), separators=(",", ":")).encode() + b"\n"
        lines.append(line)
        total += len(line)
        index += 1
    return b"".join(lines)


def chunks(pool: bytes, total: int, chunk: int) -> Iterator[bytes]:
    """The pool repeated in pieces of `chunk` bytes, up to the end of the line that reaches `total` bytes."""
    view = memoryview(pool)
    offset = sent = 0
    while sent < total:
        piece = bytes(view[offset : offset + min(chunk, len(pool) - offset)])
        offset = (offset + len(piece)) % len(pool)
        sent += len(piece)
        yield piece
    if pool[offset - 1] != ord("\n"):  # the last piece ended inside a line
        yield pool[offset : pool.index(b"\n", offset) + 1]


def one_line(total: int, chunk: int) -> Iterator[bytes]:
    """A single JSON-looking line of `total` bytes, in pieces of `chunk`."""
    yield b"{"
    for _ in range((total - 3) // chunk):
        yield b"x" * chunk
    yield b"x" * ((total - 3) % chunk) + b"}\n"


# -- the two paths, each run in a child process --------------------------------------------------------------------


def stream_runner(source: Iterator[bytes], directory: Path) -> None:
    # Imported here: the bare loop's process does not pay for the runner's imports.
    from runner.logsetup import configure_logging  # noqa: PLC0415
    from runner.renovate.container import LineSplitter  # noqa: PLC0415
    from runner.renovate.logs import MAX_LINE_LENGTH, LogSummary  # noqa: PLC0415
    from runner.renovate.logsink import LogSink  # noqa: PLC0415
    from runner.secrets import register_secret  # noqa: PLC0415

    configure_logging(stream=io.StringIO(), json=True)  # re-logged problems are not what is measured
    for secret in _SECRETS:
        register_secret(secret)
    with LogSink(directory / "repository.ndjson", LogSummary()) as sink:
        splitter = LineSplitter("stdout", sink, MAX_LINE_LENGTH)
        for piece in source:
            splitter.feed(piece)
        splitter.close()


def stream_bare(source: Iterator[bytes]) -> None:
    import orjson  # noqa: PLC0415 - only the bare loop's process needs it

    rest = b""
    for piece in source:
        lines = (rest + piece).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line:
                orjson.loads(line)


def child(path: Path_, size: int) -> dict[str, float]:
    pool = line_pool()
    if path != "bare":
        # Before the clock: a sweep streams logs in a process that imported the runner long before.
        importlib.import_module("runner.renovate.logsink")
        importlib.import_module("runner.logsetup")
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as directory:
        started = time.perf_counter()
        if path == "runner":
            stream_runner(chunks(pool, size, RUNNER_CHUNK), Path(directory))
        elif path == "long":
            stream_runner(one_line(size, RUNNER_CHUNK), Path(directory))
        else:
            stream_bare(chunks(pool, size, BARE_CHUNK))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_in_child(path: Path_, size: int) -> Run:
    command = [sys.executable, "-m", "bench.log_ingestion", "--child", path, "--bytes", str(size)]
    done = subprocess.run(command, cwd=_REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {path} run of {size} bytes failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.splitlines()[-1])
    return Run(path=path, size=size, seconds=result["seconds"], max_rss_mb=result["max_rss_mb"])


# -- figures ------------------------------------------------------------------------------------------------------


def rounds_for(label: str, quick: bool) -> int:
    if label == "1gb":
        return 1 if quick else 3
    return 3 if quick else 5


def figures(quick: bool) -> list[Figure]:
    result: list[Figure] = []
    peaks: dict[str, list[float]] = {}
    for label, size in SIZES.items():
        runs: dict[Path_, list[Run]] = {"runner": [], "bare": []}
        for round_number in range(1, rounds_for(label, quick) + 1):
            for path in ("runner", "bare"):
                run = run_in_child(path, size)
                runs[path].append(run)
                print(
                    f"# round {round_number} {label} {path}: {run.mb_per_s:.1f} MB/s, peak RSS {run.max_rss_mb:.1f} MB",
                    flush=True,
                )
        runner = [run.mb_per_s for run in runs["runner"]]
        bare = [run.mb_per_s for run in runs["bare"]]
        peaks[label] = [run.max_rss_mb for run in runs["runner"]]
        result += [
            median_figure(f"logs.{label}.runner.mb_per_s", runner),
            median_figure(f"logs.{label}.bare.mb_per_s", bare),
            ratio_figure(f"logs.{label}.runner_vs_bare.ratio", runner, bare, at_least(0.7)),
        ]
    baseline = statistics.median(peaks["10mb"])
    long_line = [run_in_child("long", LONG_LINE).max_rss_mb for _ in range(rounds_for("1gb", quick))]
    return [
        *result,
        median_figure("logs.runner.peak_rss.10mb.mb", peaks["10mb"]),
        Figure(
            name="logs.runner.peak_rss_growth.10mb_to_1gb.mb",
            value=statistics.median(peaks["1gb"]) - baseline,
            goal=at_most(30),
        ),
        # What one over-long line costs, beyond the 10 MB run: about the 1 MiB cap, not the line's 64 MB.
        Figure(name="logs.runner.peak_rss_growth.one_64mb_line.mb", value=statistics.median(long_line) - baseline),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs: 3 of 10 MB and 100 MB, one of 1 GB")
    parser.add_argument("--child", choices=("runner", "bare", "long"), help=argparse.SUPPRESS)
    parser.add_argument("--bytes", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.bytes)))
        return 0
    for figure in figures(args.quick):
        print(figure.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

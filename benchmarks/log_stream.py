"""Benchmark: how fast one repository's output goes from the container stream to its NDJSON log, and how much
memory an over-long line costs.

The path measured is the real one: `LineSplitter` (container.py) -> `LogSink` (parse, redact, write, summarise).
Prints figures and ratios; asserts nothing (speed goals live here, not in timed tests).

    uv run python benchmarks/log_stream.py [--megabytes 50]
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

from runner.logsetup import configure_logging
from runner.renovate.container import LineSplitter
from runner.renovate.logs import MAX_LINE_LENGTH, LogSummary
from runner.renovate.logsink import LogSink
from runner.secrets import register_secret

CHUNK = 64 * 1024  # about what the engine's attach stream hands over at a time
CAP = MAX_LINE_LENGTH  # the runner's own cap


def renovate_lines(count: int) -> bytes:
    """Lines shaped like Renovate 44's debug output, with the odd warning."""
    lines = []
    for i in range(count):
        record = {
            "name": "renovate",
            "hostname": "c0ffee",
            "pid": 7,
            "level": 40 if i % 500 == 0 else 20,
            "logContext": "Zt0aB7s2cKq4xYw9mPlRn",
            "repository": "Platform/web-app",
            "packageName": f"package-{i % 300}",
            "msg": "Failed to look up npm package" if i % 500 == 0 else "Looking up package versions",
            "time": "2026-11-29T09:30:56.748Z",
            "v": 0,
        }
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


def stream(data: bytes, sink: LogSink) -> None:
    splitter = LineSplitter("stdout", sink.on_line, CAP)
    for start in range(0, len(data), CHUNK):
        splitter.feed(data[start : start + CHUNK])
    splitter.close()


def throughput(megabytes: int, directory: Path) -> None:
    one = renovate_lines(1000)
    data = one * max(1, (megabytes * 1024 * 1024) // len(one))
    register_secret("a-registered-secret-that-never-occurs-in-the-output")
    started = time.perf_counter()
    with LogSink(directory / "throughput.ndjson", LogSummary()) as sink:
        stream(data, sink)
    elapsed = time.perf_counter() - started
    lines = data.count(b"\n")
    mib = len(data) / 2**20
    print(f"throughput: {mib:.0f} MiB, {lines:,} lines in {elapsed:.2f}s")
    print(f"  {mib / elapsed:.1f} MiB/s, {lines / elapsed:,.0f} lines/s")
    print(f"  problems kept: {len(sink.summary.problems)}, events: {sink.summary.events:,}")


def long_line_memory(megabytes: int, directory: Path) -> None:
    size = megabytes * 2**20
    line = b"{" + b"x" * (size - 2) + b"}\n"
    tracemalloc.start()
    with LogSink(directory / "long.ndjson", LogSummary()) as sink:
        stream(line, sink)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    written = (directory / "long.ndjson").stat().st_size
    print(f"one {megabytes} MiB line: peak Python memory {peak / 2**20:.1f} MiB (cap {CAP / 2**20:.0f} MiB)")
    print(f"  peak / line size: {peak / size:.3f}; peak / cap: {peak / CAP:.2f}; written: {written / 2**20:.1f} MiB")
    print(f"  unparsed long lines noted: {sink.unparsed_long_lines}")


def main() -> None:
    configure_logging(stream=io.StringIO(), json=True)  # re-logged problems are not what is measured
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        throughput(args.megabytes, Path(directory))
        long_line_memory(args.megabytes, Path(directory))


if __name__ == "__main__":
    main()

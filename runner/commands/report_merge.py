"""`renovate-runner report merge DIR... --out DIR`: one report for a sweep that ran as several shard jobs."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import structlog

from runner.commands import arguments
from runner.console import print_summary
from runner.history.location import history_url
from runner.history.recording import RecordedSweep, record_sweep
from runner.report.markdown import published_in
from runner.report.merge import merge_report_dirs
from runner.report.model import RunReport

log = structlog.get_logger()


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directories", nargs="+", type=Path, metavar="DIR", help="a shard's report directory")
    parser.add_argument("--out", type=Path, required=True, help="where to write the merged report")
    arguments.add_config(parser, optional=True)
    arguments.add_history(parser)


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    history = arguments.history_config(args.config)
    url = history_url(history, args.history, environ)

    def record(report: RunReport) -> RecordedSweep:
        return record_sweep(report, url, failing_after=history.failing_after)

    result = merge_report_dirs(args.directories, args.out, published=published_in(environ), record=record)
    if result.missing_shards:
        # A shard job that failed before writing its report: merge what there is, but say so.
        log.warning("shards_missing", missing=list(result.missing_shards), merged=list(result.shards))
    merged = f"shards {', '.join(result.shards)}" if result.shards else f"{len(args.directories)} report(s)"
    missing = f"; missing shards: {', '.join(result.missing_shards)}" if result.missing_shards else ""
    out.write(f"merged {merged} of run {result.report.run_id} into {args.out}{missing}\n")
    # The same ending as a sweep's, so a pipeline's merge job uploads the summary and flags failed repositories.
    recorded = RecordedSweep(report=result.report, trends=result.trends, problem=result.history_problem)
    print_summary(result.report, args.out, out, environ, history=recorded)
    return 0

"""`renovate-runner history`: the recorded runs and each repository's trend; `history import DIR...` rebuilds a
history from old report directories."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from runner.commands import arguments
from runner.errors import ConfigError
from runner.history.location import describe, history_url
from runner.history.recording import with_pr_ages
from runner.history.store import DEFAULT_RUNS, HistoryStore
from runner.history.views import FORMATS, render
from runner.report.merge import read_shard
from runner.report.model import RunReport


def configure(parser: argparse.ArgumentParser) -> None:
    arguments.add_config(parser, optional=True)
    arguments.add_history(parser)
    parser.add_argument("--repo", action="append", default=[], metavar="NAME", help="only this repository (repeatable)")
    parser.add_argument("--since", type=_date, metavar="DATE", help="only runs started on or after DATE (ISO 8601)")
    parser.add_argument("--last", type=int, default=DEFAULT_RUNS, metavar="N", help="at most the last N runs")
    parser.add_argument("--format", choices=FORMATS, default="table", help="table (default), json or csv")


def configure_import(parser: argparse.ArgumentParser) -> None:
    """`history import DIR...`: its parser is made by the CLI, which gives every command the global flags."""
    parser.add_argument("directories", nargs="+", type=Path, metavar="DIR", help="a report directory")
    arguments.add_config(parser, optional=True)
    arguments.add_history(parser)
    parser.set_defaults(history_command="import")


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    settings = arguments.history_config(args.config)
    url = history_url(settings, args.history, environ)
    if url is None:
        raise ConfigError(
            "the history is turned off (history.enabled: false in runner.yaml); turn it on, or pass --history"
        )
    with HistoryStore(url) as store:
        if args.history_command == "import":
            return _import(store, args.directories, out)
        trends = store.trends(
            last=args.last, since=args.since, repositories=args.repo, failing_after=settings.failing_after
        )
    render(trends, args.format, out)
    return 0


def _import(store: HistoryStore, directories: Sequence[Path], out: TextIO) -> int:
    # Oldest first, so that each pull request's first sighting is the earliest report that lists it.
    reports = sorted((_read(directory) for directory in directories), key=lambda report: report.started_at)
    for report in reports:
        first_seen = store.first_seen(outcome.repository for outcome in report.repositories)
        recorded = store.record(with_pr_ages(report, first_seen))
        out.write(f"recorded run {recorded.run_id} ({recorded.repositories} repositories)\n")
    out.write(f"imported {len(reports)} run(s) into {describe(store.url)}\n")
    return 0


def _read(directory: Path) -> RunReport:
    return read_shard(directory, action="import").report


def _date(text: str) -> str:
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date; write it as 2025-11-29 or 2025-11-29T09:30"
        ) from None

"""Arguments that several subcommands share."""

from __future__ import annotations

import argparse
from pathlib import Path

from runner.sharding import Shard, parse_shard


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("config"),
        help="configuration directory with runner.yaml and repos/ (default: ./config)",
    )


def add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this repository (repeatable); names as in the report, e.g. Project/Repo",
    )
    parser.add_argument(
        "--shard",
        type=shard,
        metavar="I/N",
        help="run only shard I of N (1-based); default: the Azure Pipelines parallel job's position, else all",
    )


def shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value

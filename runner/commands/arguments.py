"""Arguments that several subcommands share, and `SelectionArguments`, what they become once parsed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from pydantic import TypeAdapter, ValidationError

from runner.config import load_config
from runner.config.messages import value_message
from runner.config.models import HistoryConfig
from runner.sharding import Shard, parse_shard


@dataclass(frozen=True, kw_only=True)
class SelectionArguments:
    """`--config`, `--repo` and `--shard` as parsed: the configuration and the repositories a command is about."""

    config: Path
    repos: tuple[str, ...]  # --repo, in the order given; empty for every repository
    shard: Shard | None  # --shard; None when not given (the pipeline's position may still split the run)

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> Self:
        return cls(config=args.config, repos=tuple(args.repo), shard=args.shard)


DEFAULT_CONFIG = Path("config")


def add_config(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    """`--config`; `optional`: the command also runs without a configuration (its default is then None)."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None if optional else DEFAULT_CONFIG,
        help="configuration directory with runner.yaml and repos/ (default: ./config"
        + (", when there" if optional else "")
        + ")",
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


def checked_as(annotation: Any) -> Callable[[str], Any]:
    """An argparse `type` for a flag that overrides a configuration key: the flag's value is checked by the key's
    own rule (its annotated type) and refused in the same words, so `--concurrency 1000` and `concurrency: 1000`
    say the same thing."""
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)

    def parse(text: str) -> Any:
        try:
            return adapter.validate_python(text)
        except ValidationError as error:
            raise argparse.ArgumentTypeError(value_message(error.errors()[0])) from None

    return parse


def add_history(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--history",
        metavar="PATH|URL",
        help="the history store: a SQLite file or a database URL (default: history in runner.yaml, else "
        "history.sqlite in the runner's state directory)",
    )


def history_config(config_dir: Path | None) -> HistoryConfig:
    """runner.yaml's `history` for commands whose --config is optional: the one given, else ./config if it is
    there, else the defaults."""
    if config_dir is None:
        if not (DEFAULT_CONFIG / "runner.yaml").is_file():
            return HistoryConfig()
        config_dir = DEFAULT_CONFIG
    return load_config(config_dir).runner.history

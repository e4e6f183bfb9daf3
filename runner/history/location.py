"""Where the history store is: `--history` (a path or a database URL), else runner.yaml's `history`, else a
SQLite file in the runner's state directory, which outlives the report directory that each sweep replaces."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from runner.config.models import HistoryConfig
from runner.config.urls import normalise_history_url
from runner.errors import ConfigError
from runner.history.database import sqlite_url
from runner.locking import default_state_dir

HISTORY_FILE = "history.sqlite"


def history_url(config: HistoryConfig, flag: str | None, environ: Mapping[str, str]) -> str | None:
    """The store's database URL; None when the history is turned off (`history.enabled: false`)."""
    if flag:
        return flag_url(flag)
    if not config.enabled:
        return None
    if config.url is not None:
        return config.url
    return sqlite_url(config.path or default_state_dir(dict(environ)) / HISTORY_FILE)


def flag_url(flag: str) -> str:
    """`--history`: a database URL as runner.yaml's `history.url` takes it, or the path of a SQLite file."""
    if "://" not in flag:
        return sqlite_url(Path(flag).expanduser().resolve())
    try:
        return normalise_history_url(flag)
    except ValueError as error:
        raise ConfigError(f"--history {error}") from None


def describe(url: str) -> str:
    """The store for messages: a SQLite file's path, a server's URL (which never holds a password)."""
    return url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url

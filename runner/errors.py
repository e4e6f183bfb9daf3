"""The errors a user can cause or fix, each owning the exit code the CLI returns for it.

`cli.main` is the only place that turns these into exit codes; everything else raises.
Messages say what happened and what to do next; they never contain a token.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    OK = 0
    REPOSITORIES_FAILED = 1  # the sweep finished, at least one repository failed or timed out
    CONFIG = 2  # configuration invalid; nothing started
    AUTH = 3  # no token could be obtained
    ENGINE = 4  # container engine or image unavailable
    LOCKED = 5  # another sweep holds the report directory or cache volume
    HISTORY = 6  # the history store cannot be opened, read or written (`history` commands)
    REPORT_NOT_WRITTEN = 7  # the report directory cannot be written (read-only, full); its previous report is intact
    AZURE_DEVOPS = 8  # Azure DevOps failed the runner's own calls (down, throttling, 403) before any repository ran
    INTERRUPTED = 130  # SIGINT (128 + 2)
    TERMINATED = 143  # SIGTERM (128 + 15)


class RunnerError(Exception):
    """An expected failure: printed as its message, without a traceback."""

    exit_code: ExitCode = ExitCode.REPOSITORIES_FAILED


class ConfigError(RunnerError):
    """The configuration cannot be used; nothing was started."""

    exit_code = ExitCode.CONFIG


class AuthError(RunnerError):
    """No Azure DevOps token could be obtained in the configured mode."""

    exit_code = ExitCode.AUTH


class TokenLifetimeError(AuthError):
    """The freshest token available expires too soon to run a repository safely."""


class EngineError(RunnerError):
    """The Docker engine is unreachable, or the Renovate image cannot be found or pulled."""

    exit_code = ExitCode.ENGINE


class LockedError(RunnerError):
    """Another sweep is using the same report directory or cache volume."""

    exit_code = ExitCode.LOCKED


class ReportWriteError(RunnerError):
    """The report directory cannot be written; whatever report it held before is left as it was."""

    exit_code = ExitCode.REPORT_NOT_WRITTEN


class ReportError(RunnerError):
    """Run reports cannot be used as given (e.g. shard reports of different runs); nothing was written."""

    exit_code = ExitCode.CONFIG  # bad input, like an invalid configuration


class HistoryError(RunnerError):
    """The history store cannot be used: unreachable, written by a newer runner, or refused a write."""

    exit_code = ExitCode.HISTORY


class Interrupted(RunnerError):
    """The sweep was stopped by a signal; running containers were removed and the report written."""

    def __init__(self, signal_number: int) -> None:
        self.signal_number = signal_number
        super().__init__(f"interrupted by signal {signal_number}")
        self.exit_code = ExitCode(128 + signal_number)

"""The command line: argument parsing, and the only place that turns errors into exit codes."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import Protocol, TextIO

from runner import __version__
from runner.commands import history as history_command
from runner.commands import identity as identity_command
from runner.commands import marketplace_events as marketplace_events_command
from runner.commands import plan as plan_command
from runner.commands import publish_extension as publish_extension_command
from runner.commands import report_merge as report_merge_command
from runner.commands import run as run_command
from runner.commands import schema as schema_command
from runner.commands import token as token_command
from runner.commands import validate as validate_command
from runner.config import DEFAULT_IMAGE
from runner.errors import ExitCode, RunnerError
from runner.logsetup import configure_logging
from runner.secrets import redact

EX_SOFTWARE = 70  # sysexits.h: an internal error (a bug), as opposed to anything the user can fix


class Command(Protocol):
    """A subcommand module: `configure` adds its arguments, `run` does the work and returns the exit code."""

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int: ...


COMMANDS: tuple[tuple[str, str, Command], ...] = (
    ("run", "run Renovate over the configured repositories", run_command),
    ("plan", "show what a run would do (auth, image, shard, repositories); starts nothing", plan_command),
    ("validate", "check the configuration and report every problem", validate_command),
    ("schema", "print the JSON Schema of the config files (for editors)", schema_command),
    (
        "history",
        "the recorded runs and each repository's trend (libyears, outdated, durations, failures); history import",
        history_command,
    ),
    (
        "token",
        "get an Azure DevOps token for later pipeline steps (a secret variable), or --raw for a pipe",
        token_command,
    ),
    (
        "identity",
        "show who the token is for: Azure DevOps identity id, Entra ID app, object and tenant ids",
        identity_command,
    ),
    (
        "publish-extension",
        "publish an Azure DevOps extension (VSIX) to the Marketplace with an Entra ID token",
        publish_extension_command,
    ),
    (
        "marketplace-events",
        "an extension's install, uninstall and other events from the Marketplace",
        marketplace_events_command,
    ),
)


def version_text() -> str:
    """What `--version` prints: the runner's version (first line, for scripts), then the Renovate image it runs
    when `renovate.image` is not set."""
    return f"renovate-runner {__version__}\ndefault Renovate image: {DEFAULT_IMAGE}\n"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        sys.stdout.write(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="renovate-runner",
        description="Run Renovate over Azure DevOps repositories with Entra ID tokens, one container per repository.",
        parents=[_global_options(defaults=True)],
    )
    # argparse's own version action rewraps its text into one line; a raw one keeps the image on a line of its own.
    parser.add_argument("--version", action=_VersionAction, help="show the version and the default Renovate image")
    after_command = _global_options(defaults=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text, command in COMMANDS:
        subparser = commands.add_parser(name, help=help_text, parents=[after_command])
        command.configure(subparser)
        subparser.set_defaults(handler=command.run)
    report = commands.add_parser("report", help="work with run reports: report merge", parents=[after_command])
    _add_report_commands(report, after_command)
    _add_history_import(commands.choices["history"], after_command)
    return parser


def _global_options(*, defaults: bool) -> argparse.ArgumentParser:
    """The flags every command takes, before or after its name (`--log-level debug run`, `run --log-level debug`).

    argparse copies a subcommand's namespace over the top-level one, so the copies after the command have no
    default: otherwise `--log-level debug run` would be reset to `info` by `run`'s own default.
    """

    def default(value: str) -> str:
        return value if defaults else argparse.SUPPRESS

    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--log-format",
        choices=("auto", "console", "json"),
        default=default("auto"),
        help="how the runner's own log is written to stderr (default: console on a terminal and in Azure Pipelines, "
        "else json); NO_COLOR turns colour off",
    )
    options.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=default("info"))
    return options


def _add_report_commands(report: argparse.ArgumentParser, after_command: argparse.ArgumentParser) -> None:
    report_commands = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    merge = report_commands.add_parser(
        "merge", help="merge the report directories of a sweep's shards into one", parents=[after_command]
    )
    report_merge_command.configure(merge)
    merge.set_defaults(handler=report_merge_command.run)


def _add_history_import(history: argparse.ArgumentParser, after_command: argparse.ArgumentParser) -> None:
    history.set_defaults(history_command=None)
    history_commands = history.add_subparsers(dest="history_command", metavar="COMMAND")
    imports = history_commands.add_parser(
        "import", help="record old report directories (each with a report.json) in the history", parents=[after_command]
    )
    history_command.configure_import(imports)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    json_logs = {"auto": None, "console": False, "json": True}[args.log_format]
    configure_logging(json=json_logs, level=args.log_level, environ=os.environ)
    try:
        return int(args.handler(args, environ=os.environ, out=sys.stdout))
    except RunnerError as error:
        print(f"renovate-runner: {redact(str(error))}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("renovate-runner: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except Exception:
        # A bug, not a user error: keep the traceback, but never let it carry a token.
        print(redact(traceback.format_exc()), file=sys.stderr)
        print("renovate-runner: internal error; please report it with the traceback above", file=sys.stderr)
        return EX_SOFTWARE

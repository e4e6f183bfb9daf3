"""The command line: argument parsing, and the only place that turns errors into exit codes."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from runner import __version__
from runner.commands import identity as identity_command
from runner.commands import marketplace_events as marketplace_events_command
from runner.commands import plan as plan_command
from runner.commands import publish_extension as publish_extension_command
from runner.commands import report_merge as report_merge_command
from runner.commands import run as run_command
from runner.commands import schema as schema_command
from runner.commands import token as token_command
from runner.commands import validate as validate_command
from runner.errors import ExitCode, RunnerError
from runner.logsetup import configure_logging
from runner.plan import Shard, parse_shard
from runner.scenarios.tokens import add_auth_arguments
from runner.secrets import redact

EX_SOFTWARE = 70  # sysexits.h: an internal error (a bug), as opposed to anything the user can fix


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="renovate-runner",
        description="Run Renovate over Azure DevOps repositories with Entra ID tokens, one container per repository.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--log-format",
        choices=("auto", "console", "json"),
        default="auto",
        help="how the runner's own log is written to stderr (default: console on a terminal)",
    )
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run Renovate over the configured repositories")
    _config_argument(run)
    _selection_arguments(run)
    run.add_argument("--report-dir", type=Path, help="where to write the report (default: report_dir from config)")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="Renovate's full dry run: look up and plan updates, push nothing",
    )
    run.add_argument("--concurrency", type=_positive_int, help="repositories at once (default: from config)")
    run.add_argument("--image", help="Renovate image to use instead of renovate.image")
    run.add_argument("--run-id", help="identifier of this run (default: Build.BuildId in Azure Pipelines, else new)")
    run.set_defaults(handler=run_command.run)

    validate = commands.add_parser("validate", help="check the configuration and report every problem")
    _config_argument(validate)
    validate.set_defaults(handler=validate_command.run)

    schema = commands.add_parser("schema", help="print the JSON Schema of the config files (for editors)")
    schema.add_argument(
        "--kind",
        choices=("runner", "repo"),
        help="only the schema of runner.yaml or of repos/*.yaml (default: both)",
    )
    schema.set_defaults(handler=schema_command.run)

    plan = commands.add_parser(
        "plan", help="show what a run would do (auth, image, shard, repositories); starts nothing"
    )
    _config_argument(plan)
    _selection_arguments(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as JSON, for scripts")
    plan.set_defaults(handler=plan_command.run)

    report = commands.add_parser("report", help="work with run reports")
    report_commands = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    merge = report_commands.add_parser("merge", help="merge the report directories of a sweep's shards into one")
    merge.add_argument("directories", nargs="+", type=Path, metavar="DIR", help="a shard's report directory")
    merge.add_argument("--out", type=Path, required=True, help="where to write the merged report")
    merge.set_defaults(handler=report_merge_command.run)
    token = commands.add_parser(
        "token", help="get an Azure DevOps token for later pipeline steps (a secret variable), or --raw for a pipe"
    )
    add_auth_arguments(token)
    token.add_argument(
        "--variable",
        type=token_command.variable_name,
        default=token_command.DEFAULT_VARIABLE,
        metavar="NAME",
        help=f"the secret pipeline variable to set (default: {token_command.DEFAULT_VARIABLE})",
    )
    token.add_argument(
        "--raw", action="store_true", help="print the token itself; only to a pipe or a file, never a terminal"
    )
    token.set_defaults(handler=token_command.run)

    identity = commands.add_parser(
        "identity", help="show who the token is for: Azure DevOps identity id, Entra ID app, object and tenant ids"
    )
    add_auth_arguments(identity)
    identity.add_argument("--json", action="store_true", help="print the identity as JSON, for scripts")
    identity.add_argument(
        "--vssps-url",
        metavar="URL",
        help=f"the profile service (default: ${identity_command.VSSPS_URL_ENV}, else the real service)",
    )
    identity.set_defaults(handler=identity_command.run)

    publish = commands.add_parser(
        "publish-extension", help="publish an Azure DevOps extension (VSIX) to the Marketplace with an Entra ID token"
    )
    publish_extension_command.configure(publish)
    publish.set_defaults(handler=publish_extension_command.run)

    events = commands.add_parser(
        "marketplace-events", help="an extension's install, uninstall and other events from the Marketplace"
    )
    marketplace_events_command.configure(events)
    events.set_defaults(handler=marketplace_events_command.run)
    return parser


def _config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("config"),
        help="configuration directory with runner.yaml and repos/ (default: ./config)",
    )


def _selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this repository (repeatable); names as in the report, e.g. Project/Repo",
    )
    parser.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="run only shard I of N (1-based); default: the Azure Pipelines parallel job's position, else all",
    )


def _shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    json_logs = {"auto": None, "console": False, "json": True}[args.log_format]
    configure_logging(json=json_logs, level=args.log_level)
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

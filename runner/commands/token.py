"""`renovate-runner token`: an Entra ID token for Azure DevOps, handed to later pipeline steps as a secret
variable, or with `--raw` printed for a pipe or a file.

It replaces the inline script step that teams copy to fetch a token and call `task.setvariable`. The token goes to
stdout only as the two logging commands Azure Pipelines masks, or with `--raw` when stdout is not a terminal; what
a person may want to know about it (identity, expiry) goes to stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from typing import TextIO

from runner import pipelines
from runner.errors import ConfigError
from runner.scenarios.tokens import add_auth_arguments, auth_from_args, describe_token, get_token

DEFAULT_VARIABLE = "RENOVATE_TOKEN"
# What Azure Pipelines accepts as a user-defined variable name, and the prefixes it keeps for itself (any case):
# a variable named like that never reaches later steps.
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_RESERVED_PREFIXES = ("endpoint", "input", "secret", "path", "securefile")
_RAW_EXAMPLE = "export RENOVATE_TOKEN=$(renovate-runner token --raw)"


class RefusedOutputError(ConfigError):
    """Printing the token where the command was asked to would expose it; no token was requested."""


def variable_name(text: str) -> str:
    """argparse type for `--variable`: a name Azure Pipelines accepts."""
    if not _VARIABLE_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a pipeline variable name; use letters, digits, '_' and '.', e.g. {DEFAULT_VARIABLE}"
        )
    reserved = next((prefix for prefix in _RESERVED_PREFIXES if text.lower().startswith(prefix)), None)
    if reserved is not None:
        raise argparse.ArgumentTypeError(
            f"Azure Pipelines keeps variable names that start with '{reserved}' for itself, so later steps would "
            f"not see {text}; choose another name and map it to the one a tool reads, e.g. --variable "
            f"IntegrationTestingToken and `env: {{SECRET_INTEGRATION_TESTING_TOKEN: $(IntegrationTestingToken)}}`"
        )
    return text


def configure(parser: argparse.ArgumentParser) -> None:
    add_auth_arguments(parser)
    parser.add_argument(
        "--variable",
        type=variable_name,
        default=DEFAULT_VARIABLE,
        metavar="NAME",
        help=f"the secret pipeline variable to set (default: {DEFAULT_VARIABLE})",
    )
    parser.add_argument(
        "--raw", action="store_true", help="print the token itself; only to a pipe or a file, never a terminal"
    )


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO, err: TextIO | None = None) -> int:
    err = err if err is not None else sys.stderr
    in_pipeline = pipelines.in_pipeline(environ)
    # Checked before asking for a token: a refused command should not have signed anyone in.
    check_destination(out, raw=args.raw, in_pipeline=in_pipeline)
    token = get_token(auth_from_args(args), environ)
    if args.raw:
        if in_pipeline:
            # The agent reads logging commands on stderr too; this masks the value wherever it shows up later.
            err.write(pipelines.setsecret(token.value) + "\n")
        out.write(token.value + "\n")
        err.write(f"renovate-runner: printed a token ({describe_token(token)})\n")
        return 0
    out.write(pipelines.setsecret(token.value) + "\n")
    out.write(pipelines.setvariable(args.variable, token.value, secret=True) + "\n")
    err.write(
        f"renovate-runner: set the secret variable {args.variable} ({describe_token(token)}). Later steps of this "
        f"job read it as $({args.variable}); secret variables reach a script only when mapped, e.g. "
        f"`env: {{{args.variable}: $({args.variable})}}`\n"
    )
    return 0


def check_destination(out: TextIO, *, raw: bool, in_pipeline: bool) -> None:
    """Raise RefusedOutputError unless the token would go where it is safe."""
    if raw and out.isatty():
        raise RefusedOutputError(
            "refusing to print a token to a terminal, where scroll-back, screen sharing and recordings keep it. "
            f"What to do: send it to a pipe or a file, e.g. `{_RAW_EXAMPLE}`"
        )
    if not raw and not in_pipeline:
        raise RefusedOutputError(
            "not in Azure Pipelines (TF_BUILD is not True), so there is no secret variable to set. What to do: "
            f"ask for the token itself with --raw and send it to a pipe or a file, e.g. `{_RAW_EXAMPLE}`"
        )

"""`renovate-runner publish-extension`: publish an Azure DevOps extension (a VSIX) to the Marketplace with an
Entra ID token from one of the auth modes, as a dev, staging or prod build (see `runner.scenarios.publish`)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from runner.scenarios.marketplace import marketplace_url_from
from runner.scenarios.publish import ENVIRONMENTS, TFX_ENV, publish_extension
from runner.scenarios.tokens import add_auth_arguments, auth_from_args, get_token


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vsix", type=Path, required=True, metavar="FILE", help="the package to publish")
    parser.add_argument(
        "--publisher",
        metavar="ID",
        help="publish under this publisher id instead of the one in the package",
    )
    parser.add_argument(
        "--share-with",
        nargs="+",
        action="extend",
        default=[],
        metavar="ORG",
        help="Azure DevOps organizations to share the extension with (private extensions: who may install it)",
    )
    parser.add_argument(
        "--environment",
        choices=tuple(ENVIRONMENTS),
        help="dev and staging publish a private copy (id -dev/-staging, name (Dev)/(Staging)); prod as built",
    )
    parser.add_argument(
        "--marketplace-url",
        metavar="URL",
        help="the Marketplace (default: RENOVATE_RUNNER_MARKETPLACE_URL, else https://marketplace.visualstudio.com/)",
    )
    parser.add_argument("--tfx", type=Path, metavar="PATH", help=f"the tfx executable (default: {TFX_ENV}, else PATH)")
    parser.add_argument(
        "--no-wait-validation",
        action="store_true",
        help="return once the Marketplace has the package, without waiting for its validation",
    )
    add_auth_arguments(parser)


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    result = publish_extension(
        args.vsix,
        token=lambda: get_token(auth_from_args(args), environ).value,
        publisher=args.publisher,
        share_with=args.share_with,
        environment=args.environment,
        marketplace_url=marketplace_url_from(args.marketplace_url, environ),
        tfx=args.tfx,
        wait_for_validation=not args.no_wait_validation,
        environ=environ,
    )
    out.write(result.summary() + "\n")
    return 0

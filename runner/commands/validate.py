"""`renovate-runner validate`: load the configuration, report every problem, start nothing.

With `--renovate`, the Renovate options are checked too, by the pinned image's own `renovate-config-validator` in one
container (as `run` does before a sweep); that needs the container engine.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from runner.commands import arguments
from runner.config import SweepConfig, load_config
from runner.renovate import engine
from runner.renovate.validator import validate_renovate_options


def configure(parser: argparse.ArgumentParser) -> None:
    arguments.add_config(parser)
    parser.add_argument(
        "--renovate",
        action="store_true",
        help="also check the Renovate options with the image's renovate-config-validator (needs the engine)",
    )
    parser.add_argument("--image", help="Renovate image whose validator to use instead of renovate.image")


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    config = load_config(args.config)
    if args.renovate:
        _check_renovate_options(config, args.image or config.runner.renovate.image, args.config, out)
    enabled = sum(1 for repo in config.repos if repo.enabled)
    local = sum(1 for repo in config.repos if repo.is_local)
    out.write(f"{args.config}: valid; {len(config.repos)} repositories ({enabled} enabled, {local} local)\n")
    return 0


def _check_renovate_options(config: SweepConfig, image: str, config_dir: Path, out: TextIO) -> None:
    client = engine.connect()
    engine.ensure_image(client, image)
    result = validate_renovate_options(config, client, image, name=None)
    result.raise_errors(config_dir)
    for warning in result.warnings:
        out.write(f"warning: {warning}\n")

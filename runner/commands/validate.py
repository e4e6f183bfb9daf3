"""`renovate-runner validate`: load the configuration, report every problem, start nothing."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TextIO

from runner.commands import arguments
from runner.config import load_config


def configure(parser: argparse.ArgumentParser) -> None:
    arguments.add_config(parser)


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    config = load_config(args.config)
    enabled = sum(1 for repo in config.repos if repo.enabled)
    local = sum(1 for repo in config.repos if repo.is_local)
    out.write(f"{args.config}: valid; {len(config.repos)} repositories ({enabled} enabled, {local} local)\n")
    return 0

"""`renovate-runner schema`: the JSON Schema of the config files, for editors (yaml-language-server etc.)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import TextIO

from runner.config import config_json_schema


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kind",
        choices=("runner", "repo"),
        help="only the schema of runner.yaml or of repos/*.yaml (default: both)",
    )


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    schemas = {kind: config_json_schema(kind) for kind in ("runner", "repo")}
    document = schemas[args.kind] if args.kind else schemas
    out.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return 0

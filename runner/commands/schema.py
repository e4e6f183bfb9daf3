"""`renovate-runner schema --kind KIND`: the JSON Schema of one kind of config file, for editors (yaml-language-server
etc.). The project ships them as docs/schemas/runner.schema.json and docs/schemas/repo.schema.json."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TextIO

from runner.config.schema import SCHEMA_KINDS, schema_text


def configure(parser: argparse.ArgumentParser) -> None:
    # One schema per run: a document holding both would be no schema an editor can use.
    parser.add_argument(
        "--kind",
        choices=SCHEMA_KINDS,
        required=True,
        help="the schema of runner.yaml (runner) or of one repos/*.yaml file (repo)",
    )


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    out.write(schema_text(args.kind))
    return 0

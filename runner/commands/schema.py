"""`renovate-runner schema --kind KIND`: the JSON Schema of one kind of config file, for editors (yaml-language-server
etc.). The project ships them as docs/schemas/runner.schema.json and docs/schemas/repo.schema.json.

With `--renovate`, the Renovate options (`renovate.global`, a repository's `renovate:`) are described by Renovate's
own schema, read from the Renovate image (`--image`, else the configuration's `renovate.image`, else the default):
editors then complete and check Renovate's options too. That needs the container engine, so the shipped files are
without it.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TextIO

from runner.commands import arguments
from runner.config import DEFAULT_IMAGE, load_config
from runner.config.schema import SCHEMA_KINDS, schema_text
from runner.renovate import engine
from runner.renovate.renovate_schema import renovate_schema


def configure(parser: argparse.ArgumentParser) -> None:
    # One schema per run: a document holding both would be no schema an editor can use.
    parser.add_argument(
        "--kind",
        choices=SCHEMA_KINDS,
        required=True,
        help="the schema of runner.yaml (runner) or of one repos/*.yaml file (repo)",
    )
    parser.add_argument(
        "--renovate",
        action="store_true",
        help="describe the Renovate options with Renovate's own schema from the image (needs the engine)",
    )
    parser.add_argument("--image", help="the Renovate image to read it from (default: renovate.image of --config)")
    arguments.add_config(parser)


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    if not args.renovate:
        out.write(schema_text(args.kind))
        return 0
    image = args.image or (load_config(args.config).runner.renovate.image if args.config.is_dir() else DEFAULT_IMAGE)
    out.write(schema_text(args.kind, renovate_schema(engine.connect(), image)))
    return 0

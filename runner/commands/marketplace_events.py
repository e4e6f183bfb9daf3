"""`renovate-runner marketplace-events`: an extension's installs, uninstalls and other events from the
Marketplace, as JSON or CSV, with an Entra ID token (see `runner.scenarios.marketplace`)."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TextIO

import structlog

from runner.errors import ConfigError
from runner.scenarios.marketplace import EVENT_TYPES, ExtensionEvent, event_types, fetch_events, marketplace_url_from
from runner.scenarios.tokens import add_auth_arguments, auth_from_args, get_token

log = structlog.get_logger()

CSV_COLUMNS = ("type", "id", "statisticDate", "version", "properties")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--publisher", required=True, metavar="ID", help="the publisher id")
    parser.add_argument("--extension", required=True, metavar="ID", help="the extension id")
    parser.add_argument(
        "--since",
        type=since_date,
        metavar="DATE",
        help="only events on or after this date: 2024-05-01 or 2024-05-01T12:00:00Z (UTC unless a zone is given)",
    )
    parser.add_argument(
        "--include",
        type=include_list,
        default=EVENT_TYPES,
        metavar="TYPES",
        help=f"comma-separated event types (default: all of {','.join(EVENT_TYPES)})",
    )
    parser.add_argument("--format", choices=("json", "csv"), default="json", help="output format (default: json)")
    parser.add_argument(
        "--marketplace-url",
        metavar="URL",
        help="the Marketplace (default: RENOVATE_RUNNER_MARKETPLACE_URL, else https://marketplace.visualstudio.com/)",
    )
    add_auth_arguments(parser)


def since_date(text: str) -> datetime:
    """argparse type: an ISO 8601 date or date and time; UTC when it names no zone."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write 2024-05-01 or 2024-05-01T12:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def include_list(text: str) -> tuple[str, ...]:
    """argparse type: comma-separated event types, checked."""
    try:
        return event_types(text.split(","))
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    events = fetch_events(
        args.publisher,
        args.extension,
        args.since,
        args.include,
        token=lambda: get_token(auth_from_args(args), environ).value,
        base_url=marketplace_url_from(args.marketplace_url, environ),
    )
    counts = {kind: sum(1 for event in events if event.type == kind) for kind in args.include}
    log.info("marketplace.events_fetched", extension=f"{args.publisher}.{args.extension}", **counts)
    if args.format == "csv":
        write_csv(events, out)
    else:
        out.write(json.dumps([event.as_json() for event in events], indent=2) + "\n")
    return 0


def write_csv(events: Sequence[ExtensionEvent], out: TextIO) -> None:
    """One row per event; `properties` as compact JSON, since its fields differ by event type."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for event in events:
        row = event.as_json()
        properties = row["properties"]
        row["properties"] = "" if properties is None else json.dumps(properties, sort_keys=True, separators=(",", ":"))
        writer.writerow([row[column] for column in CSV_COLUMNS])

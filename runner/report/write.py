"""The report directory: its layout, and writing the run report's files into it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from runner.report.atomic import write_atomic
from runner.report.fleet import Trends
from runner.report.html import render_html
from runner.report.json_report import dump_report
from runner.report.junit import render_junit
from runner.report.markdown import Published, render_summary
from runner.report.model import RunReport

JSON_NAME: Final = "report.json"
MARKDOWN_NAME: Final = "summary.md"
JUNIT_NAME: Final = "junit.xml"
HTML_NAME: Final = "report.html"
LOGS_DIR: Final = "logs"  # one NDJSON log per repository
RENOVATE_REPORTS_DIR: Final = "renovate"  # one directory per repository for Renovate's own report file


@dataclass(frozen=True, kw_only=True)
class ReportPaths:
    json: Path
    markdown: Path
    junit: Path
    html: Path


def write_report(
    report: RunReport, report_dir: Path, *, published: Published | None = None, trends: Trends | None = None
) -> ReportPaths:
    """Write report.json, summary.md, junit.xml and report.html, each atomically; creates `report_dir` if needed.

    Everything is rendered before the first file is written, so a rendering error leaves the previous
    report's files as they were. `published`: the directory becomes a pipeline artifact (see `published_in`).
    `trends`: the history store's runs, for changes since the last run and sparklines.
    """
    paths = ReportPaths(
        json=report_dir / JSON_NAME,
        markdown=report_dir / MARKDOWN_NAME,
        junit=report_dir / JUNIT_NAME,
        html=report_dir / HTML_NAME,
    )
    contents: list[tuple[Path, str | bytes]] = [
        (paths.json, dump_report(report)),
        (paths.markdown, render_summary(report, published=published, trends=trends)),
        (paths.junit, render_junit(report)),
        (paths.html, render_html(report, trends=trends)),
    ]
    report_dir.mkdir(parents=True, exist_ok=True)
    for path, data in contents:
        write_atomic(path, data)
    return paths

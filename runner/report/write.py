"""The report directory: its layout, and writing the run report's files into it."""

from __future__ import annotations

import errno
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from runner.errors import ReportWriteError
from runner.report.atomic import write_all_atomic
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
    """Write report.json, summary.md, junit.xml and report.html, all or none; creates `report_dir` if needed.

    Everything is rendered, then written to temporary files, before the first file is replaced, so a rendering
    error or a full disk leaves the previous report's files as they were (`ReportWriteError` for the disk).
    `published`: the directory becomes a pipeline artifact (see `published_in`).
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
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        write_all_atomic(contents)
    except OSError as error:
        raise ReportWriteError(_not_writable(report_dir, error, "this run's report files were not written")) from None
    return paths


def ensure_writable(report_dir: Path) -> None:
    """Fail before anything runs when the report directory cannot take a file (read-only, full, not ours)."""
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=report_dir, prefix=".renovate-runner-probe."):
            pass
    except OSError as error:
        raise ReportWriteError(_not_writable(report_dir, error, "nothing was started")) from None


def _not_writable(report_dir: Path, error: OSError, consequence: str) -> str:
    cause = error.strerror or str(error)
    remedy = "free some space there" if error.errno == errno.ENOSPC else "make it writable"
    return (
        f"cannot write the report to {report_dir} ({cause}); {consequence}, and the report already there is "
        f"unchanged; {remedy}, or pass another --report-dir"
    )

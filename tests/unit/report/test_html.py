"""report.html in a real headless Chromium: it loads with no console error and no request beyond its own file, each
chart holds one point per recorded run, and the repository table sorts by the clicked column."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.history.database import sqlite_url
from runner.history.recording import record_sweep
from runner.report.fleet import Trends
from runner.report.html import render_html
from runner.report.model import RunReport, Status
from runner.report.write import write_report
from tests.chromium import Page, chromium_page
from tests.unit.history.reports import outcome, sweep

RUNS = 4


def history_report(tmp_path: Path) -> tuple[RunReport, Trends]:
    """Four recorded sweeps: P/alpha's libyears falling, P/beta's rising, P/gamma failing from the second on."""
    url = sqlite_url(tmp_path / "history.sqlite")
    recorded = None
    for run in range(1, RUNS + 1):
        outcomes = [
            outcome("P/alpha", libyears=5.0 - run, duration_s=30.0 + run),
            outcome("P/beta", libyears=0.5 * run, duration_s=10.0),
            outcome("P/gamma", status=Status.FAILED if run > 1 else Status.SUCCEEDED, libyears=2.0, duration_s=3.0),
        ]
        recorded = record_sweep(sweep(run, outcomes), url, failing_after=3)
    assert recorded is not None
    assert recorded.trends is not None
    return recorded.report, recorded.trends


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with chromium_page() as opened:
        yield opened


@pytest.fixture
def loaded(page: Page, tmp_path: Path) -> Page:
    report, trends = history_report(tmp_path)
    paths = write_report(report, tmp_path / "report", trends=trends)
    page.events.clear()
    page.open(paths.html.as_uri())
    return page


def points(page: Page, series: str) -> int:
    return int(page.evaluate(f"document.querySelectorAll('svg[data-series={json.dumps(series)}] circle.point').length"))


def order(page: Page) -> list[str]:
    return list(
        page.evaluate("[...document.querySelectorAll('#repositories tbody tr')].map(r => r.dataset.repository)")
    )


def click(page: Page, header: str) -> None:
    page.evaluate(
        f"[...document.querySelectorAll('#repositories th')].find(h => h.textContent === {json.dumps(header)}).click()"
    )


def test_it_loads_offline_without_console_errors(loaded: Page) -> None:
    assert loaded.errors() == []
    assert all(url.startswith(("file://", "data:")) for url in loaded.requested()), loaded.requested()
    assert loaded.evaluate("document.title") == "Renovate run run-4"


def test_every_chart_holds_one_point_per_recorded_run(loaded: Page) -> None:
    for series in ("fleet-libyears", "fleet-outdated", "fleet-duration"):
        assert points(loaded, series) == RUNS, series
    for repository in ("P/alpha", "P/beta", "P/gamma"):
        for measure in ("libyears", "outdated", "duration"):
            assert points(loaded, f"{repository}-{measure}") == RUNS, (repository, measure)
    titles = loaded.evaluate(
        "[...document.querySelectorAll('svg[data-series=\"P/alpha-libyears\"] title')].map(t => t.textContent)"
    )
    assert titles == [f"2025-11-0{run} 09:00: {5.0 - run:.2f}" for run in range(1, RUNS + 1)]


def test_the_table_sorts_by_the_clicked_column(loaded: Page) -> None:
    assert order(loaded) == ["P/alpha", "P/beta", "P/gamma"]

    click(loaded, "Libyears")
    assert order(loaded) == ["P/alpha", "P/beta", "P/gamma"]  # 1.0, 2.0, 2.0 (ties keep their order)
    click(loaded, "Libyears")
    assert order(loaded) == ["P/beta", "P/gamma", "P/alpha"]
    click(loaded, "Duration")
    assert order(loaded) == ["P/gamma", "P/beta", "P/alpha"]
    click(loaded, "Failed runs in a row")
    click(loaded, "Failed runs in a row")
    assert order(loaded)[0] == "P/gamma"
    click(loaded, "Repository")
    click(loaded, "Repository")
    assert order(loaded) == ["P/gamma", "P/beta", "P/alpha"]


def test_without_a_history_each_chart_shows_this_run(tmp_path: Path) -> None:
    report, _ = history_report(tmp_path)

    html = render_html(report)

    assert html.count('<circle class="point"') == 3 + 3 * 3  # the fleet's three charts and each repository's three
    assert "http://" not in html
    assert "https://" not in html

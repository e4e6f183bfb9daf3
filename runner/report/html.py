"""`report.html`: the fleet at a glance, one self-contained file a browser opens straight from a pipeline artifact.

Everything is inline (style, the few lines of script that sort the table, the charts as SVG from `runner.report.svg`),
and nothing refers to another file or host, so it works offline and from a downloaded artifact. It shows the
fleet's totals, charts of libyears, outdated dependencies and the sweep's duration over the recorded runs, a table
of repositories that sorts by any column, and each repository's own charts.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Final

from runner.durations import format_seconds
from runner.report.fleet import FleetTotals, RepoPoint, Trends, oldest_pr_days
from runner.report.model import RepoOutcome, RunReport
from runner.report.svg import Series, line_chart, sparkline_svg

_STYLE: Final = """
body{margin:0;font:14px/1.45 system-ui,"Segoe UI",Arial,sans-serif;color:#201f1e;background:#f6f6f6}
main{max-width:1180px;margin:0 auto;padding:16px 24px 40px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:26px 0 8px}h3{font-size:15px;margin:0 0 6px}
.facts{color:#605e5c;margin:0 0 14px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border-radius:6px;padding:10px 16px;min-width:150px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.card b{display:block;font-size:22px}.card span{color:#605e5c;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:12px}
.chart{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.chart .line{fill:none;stroke:#0078d4;stroke-width:2}.chart .point{fill:#0078d4}
.chart .axis{stroke:#c8c6c4}.chart .tick{font-size:10px;fill:#605e5c}.chart .title{font-size:12px;font-weight:600}
.spark polyline{fill:none;stroke:#0078d4;stroke-width:1.5}
table{border-collapse:collapse;background:#fff;width:100%;box-shadow:0 1px 3px rgba(0,0,0,.12)}
th,td{padding:6px 10px;border-bottom:1px solid #edebe9;text-align:left;white-space:nowrap}
th{background:#faf9f8;cursor:pointer;user-select:none}th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}td.n,th.n{text-align:right}
.bad{color:#a4262c;font-weight:600}.ok{color:#107c10}
details{background:#fff;border-radius:6px;margin:8px 0;padding:8px 14px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
summary{cursor:pointer;font-weight:600}details .charts{margin-top:10px}
"""

# Sorts the repository table by the clicked column: numbers by data-value (unknown last), text by its content.
_SCRIPT: Final = """
document.querySelectorAll("table.sortable th").forEach((header, column) => {
  header.addEventListener("click", () => {
    const body = header.closest("table").tBodies[0];
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    header.closest("tr").querySelectorAll("th").forEach((other) => other.removeAttribute("aria-sort"));
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const numeric = header.dataset.type === "number";
    const value = (row) => {
      const cell = row.cells[column];
      return numeric ? parseFloat(cell.dataset.value) : cell.textContent.trim().toLowerCase();
    };
    const compare = (a, b) => {
      const x = value(a), y = value(b);
      if (numeric) {
        if (isNaN(x) || isNaN(y)) return isNaN(x) - isNaN(y);
        return ascending ? x - y : y - x;
      }
      return ascending ? x.localeCompare(y) : y.localeCompare(x);
    };
    body.append(...[...body.rows].sort(compare));
  });
});
"""
_OPEN_CHARTS_UP_TO: Final = 5
_COLUMNS: Final = (
    ("Repository", "text"),
    ("Status", "text"),
    ("Libyears", "number"),
    ("Outdated", "number"),
    ("Dependencies", "number"),
    ("Open PRs", "number"),
    ("Oldest PR, days", "number"),
    ("Duration", "number"),
    ("Failed runs in a row", "number"),
    ("Libyears trend", "text"),
)


def render_html(report: RunReport, *, trends: Trends | None = None) -> str:
    history = trends if trends is not None and trends.runs else Trends.of_report(report)
    body = [
        f"<h1>Renovate run {escape(report.run_id)}</h1>",
        f'<p class="facts">{escape(_facts(report, history))}</p>',
        *_cards(report, history),
        "<h2>The fleet over the last runs</h2>",
        *_fleet_charts(history),
        "<h2>Repositories</h2>",
        *_table(report, history),
        "<h2>Each repository over the last runs</h2>",
        *_repository_charts(report, history),
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Renovate run {escape(report.run_id)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{''.join(body)}</main><script>{_SCRIPT}</script></body></html>\n"
    )


def _facts(report: RunReport, trends: Trends) -> str:
    runs = len(trends.runs)
    facts = [f"started {report.started_at}", f"runner {report.runner_version}", f"{runs} recorded run(s)"]
    if report.dry_run:
        facts.append("dry run")
    if report.interrupted:
        facts.append("interrupted")
    return " · ".join(facts)


def _cards(report: RunReport, trends: Trends) -> Iterator[str]:
    totals = FleetTotals.of(report.repositories)
    failing = trends.failing()
    cards = [
        (f"{totals.libyears:.2f}", "libyears"),
        (f"{totals.outdated} / {totals.dependencies}", "outdated / dependencies"),
        (str(totals.open_prs), "open pull requests"),
        (str(len(report.repositories)), "repositories"),
        (str(sum(not outcome.status.ok for outcome in report.repositories)), "did not succeed"),
        (str(len(failing)), f"failing in each of their last {trends.failing_after}+ runs"),
        (str(sum(totals.skipped_by_reason.values())), "dependencies skipped"),
    ]
    yield '<div class="cards">'
    yield from (f'<div class="card"><b>{escape(value)}</b><span>{escape(label)}</span></div>' for value, label in cards)
    yield "</div>"


def _fleet_charts(trends: Trends) -> Iterator[str]:
    yield '<div class="charts">'
    yield from _charts(
        "fleet",
        [_label(run.started_at) for run in trends.runs],
        libyears=[run.libyears for run in trends.runs],
        outdated=[float(run.outdated) for run in trends.runs],
        durations=[run.duration_s for run in trends.runs],
        duration_title="Sweep duration",
    )
    yield "</div>"


def _charts(
    key: str,
    labels: list[str],
    *,
    libyears: list[float | None],
    outdated: list[float | None],
    durations: list[float | None],
    duration_title: str,
) -> Iterator[str]:
    """Libyears, outdated dependencies and duration over the runs; charts are named `<key>-<measure>`."""
    yield line_chart(Series(title="Libyears", key=f"{key}-libyears", labels=labels, values=libyears, digits=2))
    yield line_chart(Series(title="Outdated dependencies", key=f"{key}-outdated", labels=labels, values=outdated))
    yield line_chart(Series(title=duration_title, key=f"{key}-duration", labels=labels, values=durations, unit=" s"))


def _table(report: RunReport, trends: Trends) -> Iterator[str]:
    headers = "".join(
        f'<th data-type="{kind}"{" class=n" if kind == "number" else ""}>{escape(name)}</th>' for name, kind in _COLUMNS
    )
    yield f'<table class="sortable" id="repositories"><thead><tr>{headers}</tr></thead><tbody>'
    for outcome in report.repositories:
        yield _row(outcome, trends, report.started_at)
    yield "</tbody></table>"


def _row(outcome: RepoOutcome, trends: Trends, now: str) -> str:
    health = outcome.health
    streak = trends.failure_streak(outcome.repository)
    status_class = "ok" if outcome.status.ok else "bad"
    cells = [
        f"<td>{escape(outcome.repository)}</td>",
        f'<td class="{status_class}">{escape(outcome.status.value.replace("_", " "))}</td>',
        _number_cell(health.libyears if health else None, digits=2),
        _number_cell(health.outdated if health else None),
        _number_cell(health.dependencies if health else None),
        _number_cell(len(outcome.prs)),
        _number_cell(oldest_pr_days([outcome], now)),
        f'<td class="n" data-value="{outcome.duration_s}">{escape(format_seconds(outcome.duration_s))}</td>',
        f'<td class="n{" bad" if streak >= trends.failing_after else ""}" data-value="{streak}">{streak}</td>',
        f"<td>{sparkline_svg([point.libyears for point in trends.points(outcome.repository)])}</td>",
    ]
    return f'<tr data-repository="{escape(outcome.repository)}">{"".join(cells)}</tr>'


def _number_cell(value: float | None, *, digits: int = 0) -> str:
    if value is None:
        return '<td class="n" data-value="">-</td>'
    return f'<td class="n" data-value="{value}">{value:.{digits}f}</td>'


def _repository_charts(report: RunReport, trends: Trends) -> Iterator[str]:
    # A small fleet's charts fit on the page; a large one's stay folded under each name until opened.
    opened = " open" if len(report.repositories) <= _OPEN_CHARTS_UP_TO else ""
    for outcome in report.repositories:
        points = trends.points(outcome.repository)
        name = escape(outcome.repository)
        yield f'<details class="repo" data-repository="{name}"{opened}><summary>{name}</summary><div class="charts">'
        yield from _point_charts(outcome.repository, points)
        yield "</div></details>"


def _point_charts(repository: str, points: tuple[RepoPoint, ...]) -> Iterator[str]:
    yield from _charts(
        repository,
        [_label(point.started_at) for point in points],
        libyears=[point.libyears for point in points],
        outdated=[float(point.outdated) if point.outdated is not None else None for point in points],
        durations=[point.duration_s for point in points],
        duration_title="Duration",
    )


def _label(started_at: str) -> str:
    return started_at[:16].replace("T", " ")

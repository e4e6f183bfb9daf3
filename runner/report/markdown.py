"""`summary.md`: the run as people read it, in a terminal, a browser, or the Azure Pipelines summary tab.

The fleet first (libyears, outdated dependencies, open pull requests, their change since the last recorded run,
the repositories with most libyears and those failing run after run), then a table with one row per repository,
then the details of every repository that has any: what went
wrong and what to do, its updates, pull requests, problems and notes. Text from Renovate is escaped so that a
`|`, a newline or a stray `*` in a message cannot break the table or the formatting.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from runner.durations import format_seconds
from runner.pipelines import in_pipeline
from runner.report.fleet import FleetTotals, Trends, age_days, oldest_pr_days, signed, sparkline
from runner.report.model import PullRequest, RepoOutcome, RunReport, Status, update_type_rank

# The pipeline artifact the report directory is published as; templates/sweep.yml sets it next to the publish step.
ARTIFACT_ENV: Final = "RENOVATE_RUNNER_ARTIFACT"

_STATUS_LABELS: Final = {
    Status.SUCCEEDED: "✅ succeeded",
    Status.FAILED: "❌ failed",
    Status.TIMED_OUT: "⏱️ timed out",
    Status.CRASHED: "💥 crashed",
    Status.CANCELLED: "⏹️ cancelled",
    Status.SKIPPED: "⏭️ skipped",
}
_MARKDOWN_SPECIALS: Final = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_BREAKS: Final = re.compile(r"\r\n|\r|\n")
# Control characters show as nothing or as garbage in every Markdown viewer; tabs and line breaks are kept.
_CONTROLS: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NONE: Final = "-"
_MOST_LIBYEARS: Final = 5  # repositories listed under "Most libyears"
SPARK_RUNS: Final = 12  # runs a sparkline covers


@dataclass(frozen=True, kw_only=True)
class Published:
    """The report directory is published as a pipeline artifact: on the run's summary page a relative link to a
    log is dead, so the log is named by its path in that artifact instead."""

    artifact: str | None  # the artifact's name, when the pipeline says it


def published_in(environ: Mapping[str, str]) -> Published | None:
    return Published(artifact=environ.get(ARTIFACT_ENV) or None) if in_pipeline(environ) else None


def render_summary(report: RunReport, *, published: Published | None = None, trends: Trends | None = None) -> str:
    """`trends`: the history, for changes since the last run and sparklines; None renders this run alone."""
    history = trends or Trends()
    lines = [
        *_header(report),
        *_fleet(report, history),
        "",
        *_warnings(report.warnings),
        *_table(report.repositories, published, history),
        *_details(report.repositories, report.organization, report.started_at),
    ]
    return "\n".join(lines) + "\n"


def text(value: str) -> str:
    """Prose safe in a table cell or a list item: Markdown specials escaped, line breaks kept as `<br>`."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", _CONTROLS.sub("", value))
    return _LINE_BREAKS.sub("<br>", escaped.strip())


def code(value: str) -> str:
    """A code span safe in a table cell: any backticks inside are fenced by longer runs, pipes escaped."""
    flat = _LINE_BREAKS.sub(" ", _CONTROLS.sub("", value)).replace("|", r"\|")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{padding}{flat}{padding}{fence}"


def link(label: str, target: str) -> str:
    # quote() keeps `/` but encodes `%`, so a log named `Project%2FRepo.ndjson` links to itself.
    return f"[{text(label)}]({quote(target, safe='/')})"


def _header(report: RunReport) -> list[str]:
    facts = [
        f"started {report.started_at}",
        f"finished {report.finished_at}",
        f"runner {report.runner_version}",
    ]
    if report.shard:
        facts.append(f"shard {report.shard}")
    if report.dry_run:
        facts.append("dry run")
    if report.interrupted:
        facts.append("**interrupted**")
    counts = ", ".join(f"{count} {status.replace('_', ' ')}" for status, count in report.counts.items() if count)
    total = len(report.repositories)
    noun = "repository" if total == 1 else "repositories"
    return [
        f"# Renovate run {text(report.run_id)}",
        "",
        " · ".join(facts),
        "",
        f"**{total} {noun}**" + (f": {counts}" if counts else ""),
    ]


def _fleet(report: RunReport, trends: Trends) -> Iterator[str]:
    totals = FleetTotals.of(report.repositories)
    if not totals.repositories and not trends.runs:
        return
    previous = trends.previous_run(report.run_id)

    def change(now: float, before: float | None, digits: int = 0) -> str:
        if before is not None:
            return signed(now - before, digits=digits)
        return "first recorded run" if trends.runs else _NONE  # no history store, or nothing in it

    libyears_change = change(totals.libyears, previous.libyears if previous else None, 2)
    outdated_change = change(totals.outdated, previous.outdated if previous else None)

    yield ""
    yield "## Fleet"
    yield ""
    yield "| | This run | Since the last run |"
    yield "| --- | ---: | ---: |"
    yield f"| Libyears | {totals.libyears:.2f} | {libyears_change} |"
    yield f"| Outdated dependencies | {totals.outdated} of {totals.dependencies} | {outdated_change} |"
    oldest = oldest_pr_days(report.repositories, report.started_at)
    open_prs = f"{totals.open_prs} (oldest open {oldest} days)" if oldest else str(totals.open_prs)
    yield f"| Open pull requests | {open_prs} | |"
    skipped = ", ".join(f"{count} {text(reason)}" for reason, count in totals.skipped_by_reason.items())
    yield f"| Skipped dependencies | {skipped or 0} | |"
    yield from _most_libyears(report, trends)
    yield from _failing(trends)


def _most_libyears(report: RunReport, trends: Trends) -> Iterator[str]:
    known = [(o, o.health) for o in report.repositories if o.health is not None and o.health.libyears is not None]
    ranked = sorted(known, key=lambda pair: -(pair[1].libyears or 0.0))[:_MOST_LIBYEARS]
    if not ranked:
        return
    yield ""
    yield "Most libyears:"
    yield ""
    for outcome, health in ranked:
        yield (
            f"- {text(outcome.repository)}: {health.libyears:.2f} libyears, {health.outdated} of "
            f"{health.dependencies} outdated {_trend(outcome, trends)}".rstrip()
        )


def _failing(trends: Trends) -> Iterator[str]:
    failing = trends.failing()
    if not failing:
        return
    yield ""
    yield f"⚠️ Failing run after run (in each of its last {trends.failing_after} runs or more):"
    yield ""
    for repository, streak in failing.items():
        yield f"- {text(repository)}: failed in the last {streak} runs"


def _trend(outcome: RepoOutcome, trends: Trends) -> str:
    """A sparkline of the repository's libyears over its last recorded runs (this one included once recorded)."""
    values = [point.libyears for point in trends.points(outcome.repository)][-SPARK_RUNS:]
    return sparkline(values) if len(values) > 1 else ""


def _warnings(warnings: Sequence[str]) -> list[str]:
    """The sweep's own warnings, before the table: they concern every repository."""
    if not warnings:
        return []
    return ["**Warnings**", "", *(f"- {text(warning)}" for warning in warnings), ""]


def _table(outcomes: Iterable[RepoOutcome], published: Published | None, trends: Trends) -> list[str]:
    rows = [
        "| Repository | Status | Updates | Libyears | PRs | Duration | Log |",
        "| --- | --- | --- | ---: | --- | ---: | --- |",
    ]
    for outcome in outcomes:
        cells = [
            text(outcome.repository),
            _STATUS_LABELS[outcome.status],
            _updates_cell(outcome),
            _libyears_cell(outcome, trends),
            _prs_cell(outcome),
            format_seconds(outcome.duration_s),
            _log_cell(outcome.log, published) if outcome.log else _NONE,
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _log_cell(log: str, published: Published | None) -> str:
    if published is None:
        return link(log, log)
    where = f"the artifact {code(published.artifact)}" if published.artifact else "the run's report artifact"
    return f"{code(log)} in {where}"


def _libyears_cell(outcome: RepoOutcome, trends: Trends) -> str:
    if outcome.health is None or outcome.health.libyears is None:
        return _NONE
    return f"{outcome.health.libyears:.2f} {_trend(outcome, trends)}".rstrip()


def _updates_cell(outcome: RepoOutcome) -> str:
    by_type = outcome.updates_by_type
    ordered = sorted(by_type, key=update_type_rank)
    return ", ".join(f"{by_type[kind]} {text(kind)}" for kind in ordered) or _NONE


def _prs_cell(outcome: RepoOutcome) -> str:
    counts = Counter(pr.action for pr in outcome.prs)
    parts = [f"{counts[action]} {action}" for action in ("created", "updated", "unchanged") if counts[action]]
    return ", ".join(parts) or _NONE


def _details(outcomes: Iterable[RepoOutcome], organization: str | None, now: str) -> Iterator[str]:
    for outcome in outcomes:
        if outcome.detail or outcome.updates or outcome.prs or outcome.problems or outcome.notes:
            yield ""
            yield from _repository_details(outcome, organization, now)


def _repository_details(outcome: RepoOutcome, organization: str | None, now: str) -> Iterator[str]:
    reason = f" ({outcome.reason.value})" if outcome.reason else ""
    yield f"## {text(outcome.repository)}: {_STATUS_LABELS[outcome.status]}{reason}"
    if outcome.detail:
        yield ""
        yield text(outcome.detail)
    if outcome.updates:
        yield ""
        yield "| Dependency | From | To | Type | File | Branch |"
        yield "| --- | --- | --- | --- | --- | --- |"
        for update in outcome.updates:
            cells = [
                code(update.dependency),
                code(update.current_version) if update.current_version else _NONE,
                code(update.new_version) if update.new_version else _NONE,
                text(update.update_type),
                code(update.package_file) if update.package_file else _NONE,
                code(update.branch) if update.branch else _NONE,
            ]
            yield "| " + " | ".join(cells) + " |"
    yield from _bullets(
        "Pull requests",
        (
            f"{_pr_label(pr, outcome.repository, organization)} {pr.action}{_age(pr, now)}: {text(pr.title)}"
            for pr in outcome.prs
        ),
    )
    yield from _bullets("Problems", (f"**{problem.level}**: {text(problem.message)}" for problem in outcome.problems))
    yield from _bullets("Notes", (text(note) for note in outcome.notes))


def _age(pr: PullRequest, now: str) -> str:
    days = age_days(pr.opened_at, now)
    return f" (open {days} days)" if days else ""


def _pr_label(pr: PullRequest, repository: str, organization: str | None) -> str:
    if pr.number is None:
        return "!?"
    project, _, name = repository.partition("/")
    if organization is None or not name:
        return f"!{pr.number}"
    # The pull request's page: <organization>/<project>/_git/<repository>/pullrequest/<id>.
    url = f"{organization.rstrip('/')}/{quote(project, safe='')}/_git/{quote(name, safe='')}/pullrequest/{pr.number}"
    return f"[!{pr.number}]({url})"


def _bullets(title: str, items: Iterable[str]) -> Iterator[str]:
    lines = [f"- {item}" for item in items]
    if lines:
        yield ""
        yield f"{title}:"
        yield ""
        yield from lines

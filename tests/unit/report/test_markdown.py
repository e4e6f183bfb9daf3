"""summary.md, read back with a real CommonMark + GFM tables parser (markdown-it-py, which rich brings)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from runner.report.fleet import RepoPoint, RunPoint, Trends
from runner.report.markdown import ARTIFACT_ENV, Published, code, link, published_in, render_summary, text
from runner.report.model import PullRequest, RunReport, Status

PARSER = MarkdownIt("commonmark").enable("table")
RENDERER = RendererHTML()


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of cells, each cell's inline content rendered to HTML."""
    found: list[list[list[str]]] = []
    in_cell = False
    for token in PARSER.parse(markdown):
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            found[-1].append([])
        elif token.type in ("th_open", "td_open", "th_close", "td_close"):
            in_cell = token.type.endswith("_open")
        elif token.type == "inline" and in_cell:
            found[-1][-1].append(render_inline(token))
    return found


def overview(markdown: str) -> list[list[str]]:
    """The table with one row per repository."""
    return next(table for table in tables(markdown) if table[0][0] == "Repository")


def paragraphs(markdown: str) -> list[str]:
    tokens = PARSER.parse(markdown)
    return [
        render_inline(inline)
        for opening, inline in itertools.pairwise(tokens)
        if opening.type == "paragraph_open" and inline.type == "inline"
    ]


def render_inline(token: Token) -> str:
    return RENDERER.renderInline(token.children or [], PARSER.options, {})


def test_the_overview_table_has_one_row_per_repository(report: RunReport) -> None:
    rows = overview(render_summary(report))

    assert rows[0] == ["Repository", "Status", "Updates", "Libyears", "PRs", "Duration", "Log"]
    assert len(rows) == 1 + len(report.repositories)
    assert all(len(row) == 7 for row in rows)
    assert [row[0] for row in rows[1:]] == [outcome.repository for outcome in report.repositories]
    assert [row[1] for row in rows[1:]] == [
        "✅ succeeded",
        "❌ failed",
        "⏱️ timed out",
        "💥 crashed",
        "⏹️ cancelled",
        "⏭️ skipped",
    ]


def test_a_row_shows_updates_by_type_prs_duration_and_log(report: RunReport) -> None:
    web_app = overview(render_summary(report))[1]

    assert web_app[2] == "1 major, 1 minor, 1 patch"  # most consequential first
    assert web_app[3] == "3.50"
    assert web_app[4] == "1 created, 1 updated"
    assert web_app[5] == "28s"
    # The log file is named Platform%2Fweb-app.ndjson: the link must not decode %2F into a directory.
    assert web_app[6] == '<a href="logs/Platform%252Fweb-app.ndjson">logs/Platform%2Fweb-app.ndjson</a>'
    skipped = overview(render_summary(report))[6]
    assert skipped[2:5] == ["-", "-", "-"]
    assert skipped[6] == "-"


def test_a_row_counts_pull_requests_kept_unchanged(report: RunReport) -> None:
    web_app = report.repositories[0]
    kept = PullRequest(number=7, title="Update typescript to v5", branch="renovate/typescript", action="unchanged")
    again = dataclasses.replace(report, repositories=(dataclasses.replace(web_app, prs=(*web_app.prs, kept)),))

    summary = render_summary(again)

    assert overview(summary)[1][4] == "1 created, 1 updated, 1 unchanged"
    assert "!7 unchanged: Update typescript to v5" in summary


def test_details_list_updates_prs_and_problems(report: RunReport) -> None:
    summary = render_summary(report)
    updates = next(table for table in tables(summary) if table[0][0] == "Dependency")

    assert updates[0] == ["Dependency", "From", "To", "Type", "File", "Branch"]
    assert updates[1] == [
        "<code>express</code>",
        "<code>4.21.2</code>",
        "<code>5.1.0</code>",
        "major",
        "<code>package.json</code>",
        "<code>renovate/express</code>",
    ]
    rendered = "\n".join(paragraphs(summary))
    assert "!42 created: Update lodash | to v4.17.21" in rendered
    assert "!17 updated: Update express to v5" in rendered
    # `*left-pad*` is a name, not emphasis
    assert "<strong>warning</strong>: Failed to look up *left-pad* | 404" in rendered


def test_a_failure_detail_keeps_its_line_break_and_the_heading_names_the_reason(report: RunReport) -> None:
    summary = render_summary(report)

    assert "## Platform/billing: ❌ failed (renovate)" in summary
    assert "Renovate exited with code 1: git failed<br>fatal: Authentication failed." in paragraphs(summary)


def test_repositories_with_nothing_to_say_get_no_section(report: RunReport) -> None:
    summary = render_summary(report)

    assert "## Archive/old" not in summary
    assert "## Platform/later: ⏹️ cancelled (interrupted)" in summary


def test_the_header_states_the_run(report: RunReport) -> None:
    summary = render_summary(report)

    assert summary.startswith("# Renovate run 20251129T093000Z-4f2a\n")
    assert "started 2025-11-29T09:30:00+00:00 · finished 2025-11-29T09:42:10+00:00 · runner 0.1.0" in summary
    assert "shard 1/2" in summary
    assert "**6 repositories**: 1 succeeded, 1 failed, 1 timed out, 1 crashed, 1 cancelled, 1 skipped" in summary


def test_an_empty_run_renders_an_empty_table(report: RunReport) -> None:
    summary = render_summary(dataclasses.replace(report, repositories=(), dry_run=True, interrupted=True))

    assert tables(summary) == [[["Repository", "Status", "Updates", "Libyears", "PRs", "Duration", "Log"]]]
    assert "**0 repositories**\n" in summary
    assert "dry run · **interrupted**" in summary


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("a|b", r"a\|b"),
        ("line one\nline two\r\nthree", "line one<br>line two<br>three"),
        ("*bold* _it_ `code` [link](x) <b>", r"\*bold\* \_it\_ \`code\` \[link\](x) \<b\>"),
        (r"C:\path|x", r"C:\\path\|x"),
        ("bell\x07 escape\x1b[0m tab\tkept", "bell escape\\[0m tab\tkept"),
    ],
)
def test_text_escapes_what_would_break_a_cell(value: str, escaped: str) -> None:
    assert text(value) == escaped
    rendered = tables(f"| h |\n| --- |\n| {escaped} |\n")[0][1]
    assert len(rendered) == 1  # still one cell


@pytest.mark.parametrize(
    ("value", "span", "html"),
    [
        ("1.2.3", "`1.2.3`", "<code>1.2.3</code>"),
        ("a`b", "``a`b``", "<code>a`b</code>"),
        ("`x`", "`` `x` ``", "<code>`x`</code>"),
        ("a|b", r"`a\|b`", "<code>a|b</code>"),
        ("two\nlines", "`two lines`", "<code>two lines</code>"),
        ("nul\x00", "`nul`", "<code>nul</code>"),
    ],
)
def test_code_spans_survive_backticks_and_pipes(value: str, span: str, html: str) -> None:
    assert code(value) == span
    assert tables(f"| h |\n| --- |\n| {span} |\n")[0][1] == [html]


def test_links_encode_percent_signs_and_escape_labels() -> None:
    assert link("logs/a_b%2Fc.ndjson", "logs/a_b%2Fc.ndjson") == r"[logs/a\_b%2Fc.ndjson](logs/a_b%252Fc.ndjson)"


# --- links that work where summary.md is read: the pipeline's summary page has no report directory beside it ---


def test_a_pull_request_links_to_its_azure_devops_page(report: RunReport) -> None:
    with_organization = dataclasses.replace(report, organization="https://dev.azure.com/contoso/")

    rendered = "\n".join(paragraphs(render_summary(with_organization)))

    assert (
        '<a href="https://dev.azure.com/contoso/Platform/_git/web-app/pullrequest/42">!42</a> created: '
        "Update lodash | to v4.17.21"
    ) in rendered


def test_a_pull_request_link_encodes_project_and_repository_names(report: RunReport) -> None:
    outcome = dataclasses.replace(
        report.repositories[0],
        repository="Web Team/portal app",
        prs=(PullRequest(number=5, title="Update x", branch="renovate/x", action="created"),),
    )
    spaced = dataclasses.replace(report, organization="https://dev.azure.com/contoso", repositories=(outcome,))

    rendered = "\n".join(paragraphs(render_summary(spaced)))

    assert 'href="https://dev.azure.com/contoso/Web%20Team/_git/portal%20app/pullrequest/5"' in rendered


def test_without_an_organization_a_pull_request_is_plain_text(report: RunReport) -> None:
    rendered = "\n".join(paragraphs(render_summary(dataclasses.replace(report, organization=None))))

    assert "!42 created: Update lodash | to v4.17.21" in rendered
    assert "pullrequest" not in rendered


def test_in_a_pipeline_the_log_is_named_in_the_published_artifact(report: RunReport) -> None:
    summary = render_summary(report, published=Published(artifact="shard-1-attempt-1"))

    log_cell = overview(summary)[1][6]
    assert log_cell == "<code>logs/Platform%2Fweb-app.ndjson</code> in the artifact <code>shard-1-attempt-1</code>"
    assert "<a " not in log_cell


def test_in_a_pipeline_that_names_no_artifact_the_log_is_still_text(report: RunReport) -> None:
    log_cell = overview(render_summary(report, published=Published(artifact=None)))[1][6]

    assert log_cell == "<code>logs/Platform%2Fweb-app.ndjson</code> in the run's report artifact"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"TF_BUILD": "True"}, Published(artifact=None)),
        ({"TF_BUILD": "True", ARTIFACT_ENV: "report-attempt-2"}, Published(artifact="report-attempt-2")),
        ({ARTIFACT_ENV: "report-attempt-2"}, None),
    ],
)
def test_where_the_report_is_published_comes_from_the_pipeline(
    environ: dict[str, str], expected: Published | None
) -> None:
    assert published_in(environ) == expected


def _history(report: RunReport, libyears: list[float], statuses: list[Status]) -> Trends:
    """Recorded runs before this one (and this one last), with Platform/web-app's libyears and billing's statuses."""
    names = [f"run-{n}" for n in range(len(libyears) - 1)] + [report.run_id]
    web_app = tuple(
        RepoPoint(
            run_id=name,
            started_at=name,
            status=Status.SUCCEEDED,
            libyears=value,
            outdated=3,
            dependencies=10,
            duration_s=1.0,
        )
        for name, value in zip(names, libyears, strict=True)
    )
    billing = tuple(
        RepoPoint(
            run_id=name, started_at=name, status=status, libyears=None, outdated=None, dependencies=None, duration_s=1.0
        )
        for name, status in zip(names, statuses, strict=True)
    )
    runs = tuple(
        RunPoint.of(run_id=name, started_at=name, duration_s=5.0, points=[web, bill])
        for name, web, bill in zip(names, web_app, billing, strict=True)
    )
    return Trends(runs=runs, repositories={"Platform/web-app": web_app, "Platform/billing": billing})


def test_the_fleet_section_comes_first_with_totals(report: RunReport) -> None:
    summary = render_summary(report)
    fleet = tables(summary)[0]

    assert summary.index("## Fleet") < summary.index("| Repository |")
    assert fleet[1] == ["Libyears", "3.50", "-"]  # no history to compare with
    assert fleet[2] == ["Outdated dependencies", "3 of 10", "-"]
    assert fleet[3] == ["Open pull requests", "2", ""]
    assert fleet[4] == ["Skipped dependencies", "2 github-token-required", ""]
    assert "- Platform/web-app: 3.50 libyears, 3 of 10 outdated" in summary


def test_the_fleet_section_shows_the_change_since_the_last_run_and_trends(report: RunReport) -> None:
    failed = [Status.FAILED] * 3
    summary = render_summary(report, trends=_history(report, [1.0, 5.0, 3.5], failed))
    fleet = tables(summary)[0]

    assert fleet[1] == ["Libyears", "3.50", "-1.50"]
    assert fleet[2] == ["Outdated dependencies", "3 of 10", "±0"]
    assert overview(summary)[1][3] == "3.50 ▁█▅"
    assert "- Platform/web-app: 3.50 libyears, 3 of 10 outdated ▁█▅" in summary
    assert "- Platform/billing: failed in the last 3 runs" in summary


def test_the_first_recorded_run_says_so(report: RunReport) -> None:
    fleet = tables(render_summary(report, trends=_history(report, [3.5], [Status.FAILED])))[0]

    assert fleet[1] == ["Libyears", "3.50", "first recorded run"]


def test_a_repository_is_flagged_only_once_it_failed_in_each_of_the_last_n_runs(report: RunReport) -> None:
    summary = render_summary(report, trends=_history(report, [1.0, 5.0, 3.5], [Status.SUCCEEDED, *[Status.FAILED] * 2]))

    assert "Platform/billing: failed" not in summary
    assert "Failing run after run" not in summary


def test_a_run_without_health_or_history_has_no_fleet_section(report: RunReport) -> None:
    bare = dataclasses.replace(
        report, repositories=tuple(dataclasses.replace(o, health=None) for o in report.repositories)
    )

    assert "## Fleet" not in render_summary(bare)


def test_a_pull_request_seen_in_earlier_runs_shows_its_age(report: RunReport) -> None:
    web_app = report.repositories[0]
    kept = PullRequest(
        number=7, title="Update x", branch="renovate/x", action="unchanged", opened_at="2025-11-17T09:30:00+00:00"
    )
    aged = dataclasses.replace(report, repositories=(dataclasses.replace(web_app, prs=(*web_app.prs, kept)),))

    summary = render_summary(aged)

    assert "!7 unchanged (open 12 days): Update x" in "\n".join(paragraphs(summary))
    assert tables(summary)[0][3] == ["Open pull requests", "3 (oldest open 12 days)", ""]


def test_the_sweeps_own_warnings_come_before_the_table_as_a_list(report: RunReport) -> None:
    warned = dataclasses.replace(report, warnings=("no github.com token: set *github_token_env*", "second"))
    markdown = render_summary(warned)
    items = [render_inline(token) for token in PARSER.parse(markdown) if token.type == "inline"]
    assert items[items.index("<strong>Warnings</strong>") + 1 :][:2] == [
        "no github.com token: set *github_token_env*",
        "second",
    ]
    assert markdown.index("**Warnings**") < markdown.index("| Repository |")
    assert "Warnings" not in render_summary(report)

"""Renovate's JSON log lines -> events and a per-repository summary.

The fixtures in data/ have the shape Renovate 44 prints with LOG_FORMAT=json (bunyan records); the messages
and fields come from Renovate's source (see runner/renovate/logs.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.renovate.logs import (
    ERROR,
    MAX_LINE_LENGTH,
    MAX_PROBLEM_CHARS,
    MAX_PROBLEMS,
    WARN,
    LogSummary,
    RenovateEvent,
    event_from_record,
    parse_line,
    problem_from_event,
    record_from_line,
)

DATA = Path(__file__).parent / "data"


def summarise(name: str) -> LogSummary:
    summary = LogSummary()
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        event = parse_line(line)
        if event is not None:
            summary.feed(event)
    return summary


def record(msg: str, level: int = 30, **fields: object) -> str:
    line = {
        "name": "renovate",
        "hostname": "5f2c1d7e9a3b",
        "pid": 7,
        "level": level,
        "logContext": "Zt0aB7s2cKq4xYw9mPlRn",
        "repository": "Platform/web-app",
        **fields,
        "msg": msg,
        "time": "2025-11-29T09:30:01.112Z",
        "v": 0,
    }
    return json.dumps(line)


def event(msg: str, level: int = 30, **fields: object) -> RenovateEvent:
    parsed = parse_line(record(msg, level, **fields))
    assert parsed is not None
    return parsed


def test_a_bunyan_line_becomes_an_event_with_its_fields() -> None:
    parsed = event("PR created", pr=42, prTitle="Update lodash", branch="renovate/lodash-4.x")

    assert parsed.level == 30
    assert parsed.level_name == "info"
    assert parsed.msg == "PR created"
    assert parsed.repository == "Platform/web-app"
    assert parsed.time == "2025-11-29T09:30:01.112Z"
    assert parsed.fields["pr"] == 42
    assert parsed.fields["branch"] == "renovate/lodash-4.x"
    assert "msg" not in parsed.fields
    assert not parsed.is_problem


@pytest.mark.parametrize(
    "line",
    [
        "",
        "Renovate container starting",
        "npm warn deprecated inflight@1.0.6",
        "[1, 2, 3]",
        '"just a string"',
        "{not json",
        '{"msg": "no level"}',
        '{"level": "30", "msg": "level is a string"}',
        '{"level": true, "msg": "level is a boolean"}',
        "[" * 100_000 + "]" * 100_000,
        "{" + '"a":' * 50_000 + "1" + "}" * 50_000,
    ],
    ids=lambda line: line[:30] or "empty",
)
def test_lines_that_are_not_renovate_records_are_ignored(line: str) -> None:
    assert parse_line(line) is None


def test_a_line_over_the_cap_is_not_parsed() -> None:
    padding = "x" * MAX_LINE_LENGTH
    assert parse_line(record("Repository started", renovateVersion="44.121.2", padding=padding)) is None


def test_odd_but_valid_records_are_read_leniently() -> None:
    parsed = parse_line('  {"level": 40, "msg": 12, "time": 1764408601112}\r\n')

    assert parsed is not None
    assert parsed.level == WARN
    assert parsed.msg == ""  # a non-string message is not trusted
    assert parsed.time is None  # pino-style epoch times are not ISO strings
    assert parsed.repository is None


def test_full_run_summary() -> None:
    summary = summarise("full-run.ndjson")

    assert summary.renovate_version == "44.121.2"
    assert summary.finished is not None
    assert summary.finished.result == "done"
    assert summary.finished.status == "activated"
    assert summary.finished.duration_ms == 27659
    assert summary.finished.enabled is True
    assert summary.finished.onboarded is True
    assert summary.branches == ("renovate/lodash-4.x", "renovate/express-5.x")
    assert [(pr.number, pr.action, pr.branch) for pr in summary.prs] == [
        (42, "created", "renovate/lodash-4.x"),
        (17, "updated", "renovate/express-5.x"),
    ]
    assert summary.prs[0].title == "Update dependency lodash to v4.17.21"
    assert summary.events == 9
    assert [problem.level for problem in summary.problems] == ["warning"]
    assert summary.first_error is None


def test_lookup_run_finishes_without_result_or_status() -> None:
    summary = summarise("lookup-run.ndjson")

    assert summary.renovate_version == "44.121.2"
    assert summary.finished is not None
    assert summary.finished.result is None
    assert summary.finished.status is None
    assert summary.finished.duration_ms == 4120
    assert summary.prs == ()
    assert summary.branches == ()


def test_failed_run_names_the_cause_of_the_first_error() -> None:
    summary = summarise("failed-run.ndjson")

    assert summary.first_error is not None
    message = summary.first_error.message
    assert message.startswith("Repository has unknown error: Command failed: git clone")
    assert "fatal: Authentication failed" in message  # git's own reason, from the error's later lines
    assert "at ChildProcess" not in message  # the stack is noise
    assert summary.finished is not None
    assert summary.finished.result == "unknown-error"


def test_a_problem_carries_the_error_message_and_the_short_fields() -> None:
    problem = problem_from_event(
        event(
            "Failed to look up npm package left-pad-internal",
            WARN,
            err={
                "message": "Response code 404 (Not Found)",
                "stack": "HTTPError: ...\n at x",
                "statusCode": 404,
            },
            packageName="left-pad-internal",
            branch="renovate/x",
        )
    )

    assert problem.level == "warning"
    assert problem.message == (
        "Failed to look up npm package left-pad-internal: Response code 404 (Not Found); statusCode=404; "
        "packageName=left-pad-internal"
    )


def test_problem_messages_are_bounded_and_single_line() -> None:
    problem = problem_from_event(
        event("Artifact error\nsecond line", ERROR, artifactErrors=[{"stderr": "y" * 5000}], extra="z" * 5000)
    )

    assert problem.level == "error"
    assert len(problem.message) <= MAX_PROBLEM_CHARS
    assert "\n" not in problem.message
    assert problem.message.startswith("Artifact error second line: artifactErrors=")


def test_colour_codes_from_tool_output_are_dropped() -> None:
    problem = problem_from_event(
        event("Artifact update failed", WARN, err={"message": "\x1b[31mERR!\x1b[0m peer conflict"})
    )

    assert problem.message == "Artifact update failed: ERR! peer conflict"


def test_fatal_lines_are_errors() -> None:
    summary = LogSummary()
    summary.feed(event("Fatal error: no repositories found", 60))

    assert summary.first_error is not None
    assert summary.first_error.level == "error"


def test_repeated_problems_are_kept_once_and_each_level_is_bounded() -> None:
    summary = LogSummary()
    for _ in range(3):
        summary.feed(event("Found renovate config warnings", WARN))
    for number in range(MAX_PROBLEMS + 5):
        summary.feed(event(f"Warning number {number}", WARN))
    summary.feed(event("The first error comes late", ERROR))

    warnings = [problem for problem in summary.problems if problem.level == "warning"]
    assert len(warnings) == MAX_PROBLEMS
    assert warnings[0].message == "Found renovate config warnings"
    assert summary.problems_omitted == 6  # 1 + 55 distinct warnings, 50 kept
    assert summary.problems[-1].message == "The first error comes late"  # warnings cannot push errors out
    assert summary.first_error == summary.problems[-1]


def test_a_pr_line_without_number_or_branch_still_counts() -> None:
    summary = LogSummary()
    summary.feed(event("PR created", prTitle="Configure Renovate"))

    assert summary.prs[0].number is None
    assert summary.prs[0].branch is None
    assert summary.prs[0].title == "Configure Renovate"


# Lines each way of reading a block must agree on: records msgspec takes, records only Python's parser takes, and
# output that is no record at all.
TRICKY_LINES = (
    record("Repository started", renovateVersion="44.121.2").encode(),
    record("Branch updated", branch="renovate/a-1.x").encode(),
    record("PR created", pr=7, prTitle="Update a", branch="renovate/a-1.x").encode(),
    record("Lookup failed", WARN).encode(),
    record("Repository finished", result="done", status="onboarded", durationMs=1200).encode(),
    b'{"level": 30, "msg": "Branch created", "branch": "renovate/b", "n": NaN}',  # NaN: only Python's parser
    b'{"level": 40, "msg": "lone \\ud800 surrogate"}',  # an escaped lone surrogate: only Python's parser
    b'{"level": 40, "msg": ["not", "a", "string"]}',
    b'{"level": 30, "level": 50, "msg": "the last duplicate wins"}',
    b'{"level": true, "msg": "level is a boolean"}',
    b'{"level": 30.0, "msg": "level is a float"}',
    b'{"msg": "no level"}',
    b"[1, 2, 3]",
    b"npm ERR! code E401",
    b'{"level": 30, "msg": "truncated',
    b"",
    b"   ",
    b'{"level": 50, "msg": "not UTF-8: \xff\xfe"}',
    b'{"level": 30, "msg": "Branch created", "branch": "renovate/c", "skipped": "not UTF-8: \xff"}',
    b'  {"level": 40, "msg": "leading blanks"}  ',
    b'{"level": 30, "a": ' + b"[" * 3000 + b"]" * 3000 + b"}",  # deeper than msgspec goes
)


def feed_one_by_one(lines: list[bytes]) -> tuple[LogSummary, list[int]]:
    """The reference: each line read alone by `record_from_line` and fed as an event."""
    summary, not_records = LogSummary(), []
    for index, line in enumerate(lines):
        record_ = record_from_line(line)
        if record_ is None:
            not_records.append(index)
            continue
        event = event_from_record(record_)
        assert event is not None
        summary.feed(event)
    return summary, not_records


def summary_state(summary: LogSummary) -> tuple[object, ...]:
    return (
        summary.events,
        summary.renovate_version,
        summary.finished,
        summary.branches,
        summary.prs,
        summary.problems,
        summary.first_error,
    )


@pytest.mark.parametrize("start", range(len(TRICKY_LINES)))
def test_a_block_is_read_as_its_lines_are_read_one_by_one(start: int) -> None:
    # Every line in turn leads a block of all of them, so each odd line meets the fast way and the careful way.
    lines = [*TRICKY_LINES[start:], *TRICKY_LINES[:start]]
    expected, not_records = feed_one_by_one(lines)

    summary = LogSummary()
    fed = summary.feed_block(b"\n".join(lines))

    assert fed.lines == lines
    assert fed.not_records == not_records
    assert summary_state(summary) == summary_state(expected)
    assert [problem for _event, problem in fed.new_problems] == list(expected.problems)


def test_a_block_of_plain_records_finds_every_outcome_line() -> None:
    chatter = [record("Dependency lookup success", 20, depName=f"dep-{n}").encode() for n in range(200)]
    wanted = [TRICKY_LINES[0], TRICKY_LINES[1], TRICKY_LINES[2], TRICKY_LINES[3], TRICKY_LINES[4]]
    lines = [line for pair in zip(chatter, [*wanted, *[b""] * 195], strict=True) for line in pair if line]

    summary = LogSummary()
    fed = summary.feed_block(b"\n".join(lines))

    assert fed.not_records == []
    assert summary.events == 205
    assert summary.renovate_version == "44.121.2"
    assert summary.branches == ("renovate/a-1.x",)
    assert [pr.number for pr in summary.prs] == [7]
    assert summary.finished is not None
    assert summary.finished.duration_ms == 1200
    assert [problem.message for _event, problem in fed.new_problems] == ["Lookup failed"]


@pytest.mark.parametrize("valid_utf8", [True, False], ids=["utf-8", "not-utf-8"])
def test_nodes_heap_limit_is_noticed_among_the_lines_of_a_block_that_are_no_records(valid_utf8: bool) -> None:
    # What V8 prints on stderr as Node aborts, between records; a byte that is no UTF-8 takes the careful way.
    stray = b"\xff" if not valid_utf8 else b""
    lines = [
        record("Repository started", renovateVersion="44.121.2").encode(),
        b"<--- Last few GCs --->" + stray,
        b"FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        record("Dependency lookup success", 20).encode(),
    ]

    summary = LogSummary()
    fed = summary.feed_block(b"\n".join(lines))

    assert fed.not_records == [1, 2]
    assert summary.heap_exhausted


def test_a_block_without_nodes_heap_message_leaves_the_heap_unremarked() -> None:
    summary = LogSummary()
    summary.feed_block(b"\n".join([record("JavaScript heap out of memory").encode(), b"FATAL ERROR: something else"]))

    # A Renovate record that quotes the words is not Node aborting.
    assert not summary.heap_exhausted

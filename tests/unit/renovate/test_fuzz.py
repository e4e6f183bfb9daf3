"""Property tests (hypothesis) for what Renovate hands the runner: its output lines and its report file.

Whatever a container prints and whatever it leaves in the report file, the runner must not raise out of the parser,
the log sink, the report-file reader or the outcome, must still produce one outcome for the repository, and must
write a report.json, summary.md and junit.xml that parse. A `Repository finished` record among any other output
is never lost. The example counts are modest so the unit suite stays fast; CI runs them derandomized (conftest.py).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runner.renovate.container import LineSplitter
from runner.renovate.logs import LogSummary, parse_line
from runner.renovate.logsink import LogSink
from runner.renovate.report_file import read_report_file
from runner.report.json_report import dump_report, load_report
from runner.report.junit import render_junit
from runner.report.markdown import render_summary
from runner.report.model import RepoOutcome, RunReport, Status
from runner.report.write import write_report
from tests.unit.renovate.test_outcome import outcome as outcome_of

REPOSITORY = "Platform/api"
FINISHED = {"level": 30, "msg": "Repository finished", "result": "done", "status": "onboarded", "durationMs": 5}
# Every tmp_path fixture is shared by the examples of one test; each example writes its own files over it.
SHARED_TMP = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

# Control characters and lone surrogates: JSON escapes (\\u0000, \\ud800) carry them into parsed strings, which
# XML cannot hold and UTF-8 cannot encode.
odd_text = st.text(st.characters(categories=["Cs", "Cc"]), min_size=1) | st.text()
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
# Records shaped like Renovate's, with the fields the parser reads given any JSON value at all.
known_keys = st.sampled_from(
    [
        "level",
        "msg",
        "time",
        "repository",
        "err",
        "branch",
        "pr",
        "prTitle",
        "result",
        "status",
        "durationMs",
        "enabled",
        "onboarded",
        "renovateVersion",
        "statusCode",
        "code",
        "message",
    ]
)
messages = st.sampled_from(
    ["Repository started", "Repository finished", "Branch created", "Branch updated", "PR created", "PR updated"]
)
records = st.fixed_dictionaries(
    {"level": st.sampled_from([10, 20, 30, 40, 50, 60]) | json_values, "msg": messages | json_values},
    optional={
        "err": json_values | st.fixed_dictionaries({}, optional={"message": st.text(), "statusCode": json_values})
    },
).flatmap(lambda base: st.dictionaries(known_keys, json_values, max_size=6).map(lambda extra: {**extra, **base}))
output_lines = (
    records.map(json.dumps)
    | json_values.map(json.dumps)
    | st.text()
    | st.binary().map(lambda raw: raw.decode("utf-8", errors="replace"))  # as LogSink decodes container output
)


@given(st.text() | output_lines)
def test_no_line_makes_the_parser_raise(line: str) -> None:
    summary = LogSummary()
    event = parse_line(line)
    if event is not None:
        summary.feed(event)


@SHARED_TMP
@given(
    before=st.lists(st.binary(max_size=200) | output_lines.map(str.encode), max_size=8),
    after=st.lists(st.binary(max_size=200), max_size=4),
    max_line=st.integers(16, 512),
)
def test_no_output_makes_the_sink_raise_or_lose_the_finished_record(
    tmp_path: Path, before: list[bytes], after: list[bytes], max_line: int
) -> None:
    finished = json.dumps(FINISHED).encode()
    cap = max(max_line, len(finished) + 1)
    path = tmp_path / "log.ndjson"
    with LogSink(path, LogSummary()) as sink:
        splitter = LineSplitter("stdout", sink, cap)
        for chunk in before:
            splitter.feed(chunk)
        splitter.feed(b"\n" + finished + b"\n")  # whatever came before, the record starts a line of its own
        for chunk in after:
            splitter.feed(chunk)
        splitter.close()

    assert sink.summary.finished is not None
    assert sink.summary.finished.result == "done"
    for line in path.read_bytes().split(b"\n")[:-1]:  # NDJSON ends lines with \n only; a raw line may hold \r
        # Renovate's records, or ours wrapping the rest; a line over the cap is kept as it streamed, unparsed.
        if len(line) <= cap:
            json.loads(line)


report_sections = st.fixed_dictionaries(
    {},
    optional={
        "problems": st.lists(records | json_values, max_size=3),
        "branches": st.lists(
            st.dictionaries(st.sampled_from(["branchName", "prNo", "prTitle", "upgrades"]), json_values, max_size=4),
            max_size=3,
        )
        | json_values,
        "packageFiles": st.dictionaries(st.text(max_size=8), json_values, max_size=2) | json_values,
    },
)
report_documents = st.fixed_dictionaries(
    {},
    optional={
        "problems": st.lists(records, max_size=3) | json_values,
        "repositories": st.dictionaries(
            st.sampled_from([REPOSITORY, "local", "Other/repo"]) | st.text(max_size=8),
            report_sections | json_values,
            max_size=3,
        )
        | json_values,
    },
)
report_files = report_documents.map(lambda document: json.dumps(document).encode()) | st.binary(max_size=300)


def outcome_report(outcome: RepoOutcome) -> RunReport:
    return RunReport(
        run_id="fuzz",
        runner_version="0",
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00",
        dry_run=False,
        repositories=(outcome,),
    )


@SHARED_TMP
@given(
    content=report_files,
    lines=st.lists(output_lines, max_size=6),
    exit_code=st.none() | st.integers(-1, 300),
    oom=st.booleans(),
    timed_out=st.booleans(),
)
def test_no_report_file_or_log_loses_the_outcome_or_breaks_the_report(
    tmp_path: Path, content: bytes, lines: list[str], exit_code: int | None, oom: bool, timed_out: bool
) -> None:
    report_file = tmp_path / "report.json"
    report_file.write_bytes(content)
    summary = LogSummary()
    for line in lines:
        if (event := parse_line(line)) is not None:
            summary.feed(event)

    read_report_file(report_file, REPOSITORY)  # never raises, on its own either
    outcome = outcome_of(
        summary,
        exit_code=exit_code,
        oom_killed=oom,
        timed_out=timed_out,
        report_file=report_file,
        repository=REPOSITORY,
    )

    assert outcome.repository == REPOSITORY
    assert outcome.status in set(Status)
    report = outcome_report(outcome)
    assert load_report(dump_report(report).encode("utf-8")).repositories[0].repository == REPOSITORY
    ET.fromstring(render_junit(report))
    render_summary(report).encode("utf-8")


@SHARED_TMP
@example(junk="\ud83d", extra={})  # found by this test: one lone surrogate anywhere lost the whole file
@given(junk=json_values, extra=st.dictionaries(st.text(max_size=8), json_values, max_size=3))
def test_a_valid_update_survives_any_junk_beside_it(tmp_path: Path, junk: object, extra: dict[str, object]) -> None:
    update = {"updateType": "minor", "newVersion": "1.1.0", "branchName": "renovate/lodash"}
    dep = {"depName": "lodash", "currentVersion": "1.0.0", "updates": [update]}
    # junk where Renovate puts branches, problems and a second dependency too: known fields of unknown shape
    deps = [dep, {"depName": junk, "updates": junk}]
    section = {**extra, "packageFiles": {"npm": [{"packageFile": "package.json", "deps": deps}]}, "zzUnknown": junk}
    section |= {"branches": junk, "problems": junk}
    report_file = tmp_path / "report.json"
    report_file.write_text(json.dumps({"repositories": {REPOSITORY: section}, "yyUnknown": junk}))

    contents = read_report_file(report_file, REPOSITORY)

    assert ("lodash", "1.1.0") in [(found.dependency, found.new_version) for found in contents.updates]


def test_a_lone_surrogate_in_a_logged_problem_still_lets_the_report_be_written(tmp_path: Path) -> None:
    # Found by test_no_report_file_or_log_loses_the_outcome_or_breaks_the_report: Node writes a string cut inside an
    # emoji as a lone surrogate escape; decoded as it was, it reached report.json, which UTF-8 could not encode.
    event = parse_line('{"level": 40, "msg": "Branch name cut \\ud83d"}')
    assert event is not None
    summary = LogSummary()
    summary.feed(event)
    outcome = outcome_of(summary, repository=REPOSITORY)

    write_report(outcome_report(outcome), tmp_path)

    problems = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["repositories"][0]["problems"]
    assert problems == [{"level": "warning", "message": "Branch name cut \ufffd"}]

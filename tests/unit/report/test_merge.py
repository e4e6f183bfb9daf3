"""`report merge`: the shard reports of one sweep become one report directory, or a clear refusal."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from runner.cli import main
from runner.errors import ReportError
from runner.history.database import sqlite_url
from runner.history.store import HistoryStore
from runner.report.json_report import read_report
from runner.report.markdown import ARTIFACT_ENV
from runner.report.merge import merge_report_dirs
from runner.report.model import REPORT_VERSION, RepoOutcome, RunReport, Status
from runner.report.write import write_report

from .conftest import make_report

WHOLE = make_report()
RUN_ID = WHOLE.run_id


def shard_report(label: str, outcomes: tuple[RepoOutcome, ...], **changes: Any) -> RunReport:
    return dataclasses.replace(WHOLE, shard=label, repositories=outcomes, **changes)


def write_shard(directory: Path, report: RunReport) -> Path:
    """A shard job's report directory: the three files, and a log for each repository that names one."""
    write_report(report, directory)
    for outcome in report.repositories:
        if outcome.log:
            (directory / outcome.log).parent.mkdir(parents=True, exist_ok=True)
            (directory / outcome.log).write_text(f'{{"msg": "log of {outcome.repository}"}}\n', encoding="utf-8")
    return directory


@pytest.fixture
def two_shards(tmp_path: Path) -> tuple[Path, Path]:
    first = shard_report(
        "1/2",
        WHOLE.repositories[0::2],
        started_at="2025-11-29T09:30:05+00:00",
        finished_at="2025-11-29T09:50:00+00:00",
        warnings=("no github.com token", "only in shard 1"),
    )
    second = shard_report(
        "2/2",
        WHOLE.repositories[1::2],
        started_at="2025-11-29T09:29:58.250000+00:00",
        finished_at="2025-11-29T09:41:00+00:00",
        interrupted=True,
        warnings=("no github.com token",),
    )
    return write_shard(tmp_path / "shard-1", first), write_shard(tmp_path / "shard-2", second)


def _without_pr_ages(outcome: RepoOutcome) -> RepoOutcome:
    return dataclasses.replace(outcome, prs=tuple(dataclasses.replace(pr, opened_at=None) for pr in outcome.prs))


def test_merging_two_shards_gives_one_report_of_the_whole_run(
    capsys: pytest.CaptureFixture[str], two_shards: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "merged"

    code = main(["report", "merge", *map(str, two_shards), "--out", str(out)])

    assert code == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith(f"merged shards 1/2, 2/2 of run {RUN_ID} into {out}\n")
    merged = read_report(out / "report.json")
    names = sorted(outcome.repository for outcome in WHOLE.repositories)
    assert [outcome.repository for outcome in merged.repositories] == sorted(names, key=lambda n: (n.casefold(), n))
    # Pull requests created in the run are as old as the run (the history store dates them); the rest is as given.
    assert sorted(map(_without_pr_ages, merged.repositories), key=lambda o: o.repository) == sorted(
        map(_without_pr_ages, WHOLE.repositories), key=lambda o: o.repository
    )
    assert merged.counts == WHOLE.counts
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["counts"] == WHOLE.counts
    assert (merged.run_id, merged.shard, merged.version) == (RUN_ID, None, REPORT_VERSION)
    assert merged.started_at == "2025-11-29T09:29:58.250000+00:00"  # the earliest start
    assert merged.finished_at == "2025-11-29T09:50:00+00:00"  # the latest finish
    assert merged.interrupted  # one shard was
    assert merged.warnings == ("no github.com token", "only in shard 1")  # each shard checked the same token


def test_the_merged_directory_has_every_log_and_a_junit_case_per_repository(
    capsys: pytest.CaptureFixture[str], two_shards: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "merged"

    result = merge_report_dirs(list(two_shards), out)

    logged = [outcome for outcome in result.report.repositories if outcome.log]
    assert len(logged) == 2
    assert result.logs_copied == 2
    for outcome in logged:
        assert outcome.log is not None
        assert (out / outcome.log).read_text(encoding="utf-8") == f'{{"msg": "log of {outcome.repository}"}}\n'
    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")
    in_junit = sorted(f"{case.get('classname')}/{case.get('name')}" for case in cases)
    assert in_junit == sorted(outcome.repository for outcome in WHOLE.repositories)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert all(outcome.repository in summary for outcome in WHOLE.repositories)


def test_missing_shards_are_named_but_the_rest_is_merged(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first = write_shard(tmp_path / "a", shard_report("1/3", WHOLE.repositories[:2]))
    third = write_shard(tmp_path / "c", shard_report("3/3", WHOLE.repositories[2:3]))
    out = tmp_path / "merged"

    code = main(["report", "merge", str(third), str(first), "--out", str(out)])

    assert code == 0
    assert f"merged shards 1/3, 3/3 of run {RUN_ID} into {out}; missing shards: 2/3\n" in capsys.readouterr().out
    assert len(read_report(out / "report.json").repositories) == 3


def test_a_pipeline_merge_job_uploads_the_summary_and_flags_failed_repositories(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3]))
    b = write_shard(tmp_path / "b", shard_report("2/2", WHOLE.repositories[3:]))
    out = tmp_path / "merged"

    assert main(["report", "merge", str(a), str(b), "--out", str(out)]) == 0

    stdout = capsys.readouterr().out
    assert f"##vso[task.uploadsummary]{(out / 'summary.md').resolve()}\n" in stdout
    assert "##vso[task.complete result=SucceededWithIssues;]repositories: 1 succeeded, 1 failed" in stdout


def test_the_merged_summary_links_pull_requests_and_names_the_published_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv(ARTIFACT_ENV, "report-attempt-2")
    organization = {"organization": "https://dev.azure.com/contoso"}
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3], **organization))
    b = write_shard(tmp_path / "b", shard_report("2/2", WHOLE.repositories[3:], **organization))
    out = tmp_path / "merged"

    assert main(["report", "merge", str(a), str(b), "--out", str(out)]) == 0

    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert read_report(out / "report.json").organization == "https://dev.azure.com/contoso"
    assert "[!42](https://dev.azure.com/contoso/Platform/_git/web-app/pullrequest/42) created" in summary
    assert "`logs/Platform%2Fweb-app.ndjson` in the artifact `report-attempt-2`" in summary
    assert "](logs/" not in summary


def test_shards_of_different_organizations_merge_without_pull_request_links(tmp_path: Path) -> None:
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3], organization="https://dev.azure.com/a"))
    b = write_shard(tmp_path / "b", shard_report("2/2", WHOLE.repositories[3:], organization="https://dev.azure.com/b"))

    result = merge_report_dirs([a, b], tmp_path / "merged")

    assert result.report.organization is None
    assert "pullrequest" not in (tmp_path / "merged" / "summary.md").read_text(encoding="utf-8")


# --- refusals: nothing is written, and the message names the directories ---


def refusal(directories: list[Path], out: Path) -> str:
    with pytest.raises(ReportError) as error:
        merge_report_dirs(directories, out)
    assert error.value.exit_code == 2
    assert not (out / "report.json").exists()
    return str(error.value)


ONE_RUN = (
    "What to do: merge only the reports that the shard jobs of one pipeline run wrote (they share the run id "
    "build-<Build.BuildId>, or the --run-id given to each)"
)


def test_reports_of_different_runs_are_refused(tmp_path: Path) -> None:
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3]))
    b = write_shard(tmp_path / "b", shard_report("2/2", WHOLE.repositories[3:], run_id="build-77"))

    assert refusal([a, b], tmp_path / "out") == (
        f"cannot merge reports of different runs: {RUN_ID} in {a}, build-77 in {b}. {ONE_RUN}"
    )


def test_reports_of_different_versions_are_refused(tmp_path: Path) -> None:
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3]))
    b = write_shard(tmp_path / "b", shard_report("2/2", WHOLE.repositories[3:], version=REPORT_VERSION - 1))

    assert refusal([a, b], tmp_path / "out") == (
        f"cannot merge reports of different report versions: {REPORT_VERSION} in {a}, {REPORT_VERSION - 1} in {b}. "
        "What to do: run every shard with the same renovate-runner version, then merge again"
    )


def test_a_repository_claimed_by_two_shards_is_refused(tmp_path: Path) -> None:
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3]))
    b = write_shard(tmp_path / "b", shard_report("2/2", WHOLE.repositories[2:]))
    claimed_twice = WHOLE.repositories[2].repository

    assert refusal([a, b], tmp_path / "out") == (
        f"cannot merge: repository {claimed_twice} is in {a} (shard 1/2) and in {b} (shard 2/2); a repository "
        f"belongs to one shard of a run. {ONE_RUN}"
    )


def test_two_reports_of_the_same_shard_are_refused(tmp_path: Path) -> None:
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3]))
    b = write_shard(tmp_path / "b", shard_report("1/2", WHOLE.repositories[3:]))

    assert refusal([a, b], tmp_path / "out") == (
        f"cannot merge: {a} and {b} both hold shard 1/2; pass each shard's report directory once. {ONE_RUN}"
    )


def test_shards_of_different_splits_are_refused(tmp_path: Path) -> None:
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3]))
    b = write_shard(tmp_path / "b", shard_report("2/3", WHOLE.repositories[3:]))

    assert refusal([a, b], tmp_path / "out") == (
        f"cannot merge reports of different shard counts: 2 in {a}, 3 in {b}. {ONE_RUN}"
    )


def test_a_directory_without_a_report_is_refused(tmp_path: Path) -> None:
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3]))
    empty = tmp_path / "b"
    empty.mkdir()

    assert refusal([a, empty], tmp_path / "out") == (
        f"cannot merge: {empty / 'report.json'} does not exist; pass the directories the shard jobs wrote "
        "their reports into"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ('{"version": 1, "run_id": "x"}', "validation errors for RunReport"),
        (json.dumps({"version": REPORT_VERSION + 1}), f"report.json has version {REPORT_VERSION + 1}, newer than"),
    ],
)
def test_an_unreadable_report_is_refused_and_named(tmp_path: Path, content: str, problem: str) -> None:
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3]))
    bad = tmp_path / "b"
    bad.mkdir()
    (bad / "report.json").write_text(content, encoding="utf-8")

    message = refusal([a, bad], tmp_path / "out")

    assert message.startswith(f"cannot merge: {bad / 'report.json'} is not a report this runner can read: ")
    assert problem in message


def test_a_shard_label_that_is_not_i_of_n_is_refused(tmp_path: Path) -> None:
    bad = write_shard(tmp_path / "a", shard_report("first", WHOLE.repositories[:3]))

    assert refusal([bad], tmp_path / "out") == (
        f"cannot merge: {bad / 'report.json'} has a shard field that is not I/N: 'first' is not a shard: write I/N "
        "for shard I of N, e.g. 2/4"
    )


def test_merging_into_a_shard_directory_is_refused(tmp_path: Path) -> None:
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3]))
    b = write_shard(tmp_path / "b", shard_report("2/2", WHOLE.repositories[3:]))
    before = (b / "report.json").read_bytes()

    with pytest.raises(ReportError) as error:
        merge_report_dirs([a, b], b / ".")

    assert str(error.value) == (
        f"cannot merge into {b}: it is one of the shard report directories, whose report would be overwritten; "
        "choose another --out directory"
    )
    assert (b / "report.json").read_bytes() == before


def test_a_refusal_through_the_cli_exits_2_without_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a = write_shard(tmp_path / "a", shard_report("1/2", WHOLE.repositories[:3]))
    b = write_shard(tmp_path / "b", shard_report("1/2", WHOLE.repositories[3:]))

    code = main(["report", "merge", str(a), str(b), "--out", str(tmp_path / "out")])

    err = capsys.readouterr().err
    assert code == 2
    assert f"renovate-runner: cannot merge: {a} and {b} both hold shard 1/2;" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_unsharded_reports_of_one_run_merge_when_they_do_not_overlap(tmp_path: Path) -> None:
    # e.g. two `run --repo ... --run-id X` invocations; dry_run is kept when any part was a dry run
    a = write_shard(tmp_path / "a", dataclasses.replace(WHOLE, shard=None, repositories=WHOLE.repositories[:1]))
    b = write_shard(
        tmp_path / "b", dataclasses.replace(WHOLE, shard=None, repositories=WHOLE.repositories[1:], dry_run=True)
    )

    result = merge_report_dirs([a, b], tmp_path / "out")

    assert result.shards == ()
    assert result.missing_shards == ()
    assert result.report.dry_run
    assert [o.status for o in result.report.repositories].count(Status.SKIPPED) == 1


def test_a_merged_run_is_recorded_once_in_the_history(
    capsys: pytest.CaptureFixture[str], two_shards: tuple[Path, Path], tmp_path: Path
) -> None:
    store = tmp_path / "history.sqlite"
    for attempt in (1, 2):  # merging again (a re-run report job) records the same run, not another
        assert (
            main(
                [
                    "report",
                    "merge",
                    *map(str, two_shards),
                    "--out",
                    str(tmp_path / f"m{attempt}"),
                    "--history",
                    str(store),
                ]
            )
            == 0
        )

    with HistoryStore(sqlite_url(store)) as history:
        runs = history.trends().runs
    assert [(run.run_id, run.repositories) for run in runs] == [(RUN_ID, len(WHOLE.repositories))]
    assert "## Fleet" in (tmp_path / "m2" / "summary.md").read_text(encoding="utf-8")

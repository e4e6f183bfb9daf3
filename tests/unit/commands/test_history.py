"""`renovate-runner history` in each format, and `history import` rebuilding a history from report directories."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from runner.cli import main
from runner.history.database import sqlite_url
from runner.history.store import HistoryStore
from runner.report.model import Status
from runner.report.write import write_report
from tests.unit.history.reports import outcome, sweep


@pytest.fixture
def report_dirs(tmp_path: Path) -> list[Path]:
    """Three old report directories: P/a's libyears falling, P/b failing from the second run on."""
    dirs = []
    for run, (libyears, status) in enumerate([(4.0, Status.SUCCEEDED), (3.0, Status.FAILED), (2.0, Status.FAILED)], 1):
        directory = tmp_path / f"report-{run}"
        write_report(sweep(run, [outcome("P/a", libyears=libyears), outcome("P/b", status=status)]), directory)
        dirs.append(directory)
    return dirs


def history(store: str, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["history", "--history", store, *args]) == 0
    return capsys.readouterr().out


@pytest.fixture
def imported(store_url: str, report_dirs: list[Path]) -> str:
    """The report directories imported into a store on each back end; its URL, as --history takes it."""
    assert main(["history", "import", *map(str, report_dirs), "--history", store_url]) == 0
    return store_url


def test_import_records_each_report_directory_oldest_first(
    store_url: str, report_dirs: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "import", *map(str, reversed(report_dirs)), "--history", store_url]) == 0

    out = capsys.readouterr().out
    assert out.splitlines()[:3] == [f"recorded run run-{n} (2 repositories)" for n in (1, 2, 3)]
    with HistoryStore(store_url) as store:
        assert [run.run_id for run in store.trends().runs] == ["run-1", "run-2", "run-3"]


def test_a_path_given_as_history_is_a_sqlite_file(
    tmp_path: Path, report_dirs: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "import", str(report_dirs[0]), "--history", str(tmp_path / "h.sqlite")]) == 0

    with HistoryStore(sqlite_url(tmp_path / "h.sqlite")) as store:
        assert [run.run_id for run in store.trends().runs] == ["run-1"]


def test_the_table_shows_runs_trends_and_failure_streaks(imported: str, capsys: pytest.CaptureFixture[str]) -> None:
    table = history(imported, capsys)

    assert table.startswith("Runs")
    assert "Repositories" in table
    row_a = next(line for line in table.splitlines() if "P/a" in line)
    assert "4.00 -> 2.00 (-2.00)" in row_a
    assert "█▅▁" in row_a
    row_b = next(line for line in table.splitlines() if "P/b" in line)
    assert "failed in the last 2 runs" in row_b


def test_json_holds_every_point_and_the_streaks(imported: str, capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads(history(imported, capsys, "--format", "json"))

    assert [run["libyears"] for run in document["runs"]] == [5.0, 4.0, 3.0]
    by_name = {entry["repository"]: entry for entry in document["repositories"]}
    assert [point["libyears"] for point in by_name["P/a"]["points"]] == [4.0, 3.0, 2.0]
    assert by_name["P/b"]["failure_streak"] == 2
    assert by_name["P/b"]["failing"] is False  # the default threshold is 3


def test_csv_has_one_row_per_repository_per_run_and_filters_apply(
    imported: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(history(imported, capsys, "--format", "csv", "--repo", "P/a", "--since", "2025-11-02"))
        )
    )

    assert [(row["run_id"], row["repository"], row["libyears"]) for row in rows] == [
        ("run-2", "P/a", "3.0"),
        ("run-3", "P/a", "2.0"),
    ]


def test_importing_a_directory_without_a_report_says_what_to_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "import", str(tmp_path), "--history", str(tmp_path / "h.sqlite")]) == 2

    assert "cannot import: " in capsys.readouterr().err

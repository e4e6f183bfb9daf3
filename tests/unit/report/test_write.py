"""write_report: all three files in the report directory, each readable by its consumer."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import runner.report.write as write_module
from runner.report.json_report import read_report
from runner.report.model import RunReport
from runner.report.write import write_report


def test_every_file_is_written_into_a_new_directory(report: RunReport, tmp_path: Path) -> None:
    report_dir = tmp_path / "report" / "run-1"

    paths = write_report(report, report_dir)

    assert (paths.json, paths.markdown, paths.junit) == (
        report_dir / "report.json",
        report_dir / "summary.md",
        report_dir / "junit.xml",
    )
    assert read_report(paths.json) == report
    assert paths.markdown.read_text(encoding="utf-8").startswith("# Renovate run 20251129T093000Z-4f2a\n")
    suite = ET.parse(paths.junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(len(report.repositories))
    assert sorted(path.name for path in report_dir.iterdir()) == [
        "junit.xml",
        "report.html",
        "report.json",
        "summary.md",
    ]


def test_writing_again_replaces_the_files(report: RunReport, tmp_path: Path) -> None:
    write_report(report, tmp_path)
    later = dataclasses.replace(report, run_id="second", repositories=report.repositories[:1])

    paths = write_report(later, tmp_path)

    assert json.loads(paths.json.read_text(encoding="utf-8"))["run_id"] == "second"
    assert len(read_report(paths.json).repositories) == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["junit.xml", "report.html", "report.json", "summary.md"]


def test_a_rendering_error_leaves_the_previous_report_untouched(
    report: RunReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_report(report, tmp_path)
    before = {path: path.read_bytes() for path in (paths.json, paths.markdown, paths.junit)}

    def broken(_: RunReport) -> bytes:
        raise ValueError("cannot render")

    monkeypatch.setattr(write_module, "render_junit", broken)
    with pytest.raises(ValueError, match="cannot render"):
        write_report(dataclasses.replace(report, run_id="broken"), tmp_path)

    assert {path: path.read_bytes() for path in before} == before

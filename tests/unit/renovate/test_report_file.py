"""Renovate's report file read for one repository: updates merged from package files and branches, its entry found
under any spelling, top-level problems kept."""

from __future__ import annotations

import json
from pathlib import Path

from runner.renovate.report_file import read_report_file
from runner.report.model import Problem

DATA = Path(__file__).parent / "data"


def test_branches_name_the_branch_when_package_files_do_not(tmp_path: Path) -> None:
    report = json.loads((DATA / "report-full.json").read_text(encoding="utf-8"))
    for files in report["repositories"]["Platform/web-app"]["packageFiles"].values():
        for package_file in files:
            for dep in package_file["deps"]:
                for update in dep.get("updates", []):
                    update.pop("branchName", None)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")

    updates = read_report_file(path, "Platform/web-app").updates

    branches = {update.dependency: update.branch for update in updates}
    assert branches["lodash"] == "renovate/lodash-4.x"
    assert branches["express"] == "renovate/express-5.x"
    assert branches["node"] is None  # no branch in this report lists it
    assert len(updates) == 4  # merged, not doubled


def test_the_repository_key_is_matched_without_case(tmp_path: Path) -> None:
    report = json.loads((DATA / "report-full.json").read_text(encoding="utf-8"))
    report["repositories"] = {"platform/WEB-APP": report["repositories"]["Platform/web-app"], "x/y": {}}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")

    assert len(read_report_file(path, "Platform/web-app").updates) == 4


def test_top_level_report_problems_belong_to_the_repository(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    problem = {"level": 50, "msg": "Fatal error: Authentication failure", "logContext": "x"}
    path.write_text(json.dumps({"problems": [problem], "repositories": {}}), encoding="utf-8")

    found = read_report_file(path, "Platform/web-app")

    assert found.problems == (Problem(level="error", message="Fatal error: Authentication failure"),)
    assert len(found.notes) == 1  # and no entry for the repository


def test_health_comes_from_libyears_and_the_package_files() -> None:
    health = read_report_file(DATA / "report-full.json", "Platform/web-app").health

    assert health is not None
    assert health.libyears == 0.32
    assert health.libyears_by_manager == {"dockerfile": 0, "npm": 0.32}
    assert (health.outdated, health.dependencies) == (3, 6)
    # express major, lodash patch, node digest: each dependency once, by its most consequential update
    assert health.outdated_by_type == {"major": 1, "patch": 1, "digest": 1}
    assert health.skipped_by_reason == {"unspecified-version": 1}


def test_dependencies_skipped_for_a_missing_github_token_are_counted(tmp_path: Path) -> None:
    report = json.loads((DATA / "report-full.json").read_text(encoding="utf-8"))
    section = report["repositories"]["Platform/web-app"]
    deps = [
        {"depName": f"actions/tool-{n}", "datasource": "github-releases", "skipReason": "github-token-required"}
        for n in range(3)
    ]
    section["packageFiles"]["regex"] = [{"packageFile": "tools.txt", "deps": deps}]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")

    health = read_report_file(path, "Platform/web-app").health

    assert health is not None
    assert health.skipped_by_reason == {"github-token-required": 3, "unspecified-version": 1}


def test_an_extract_only_report_has_health_without_libyears(tmp_path: Path) -> None:
    report = json.loads((DATA / "report-full.json").read_text(encoding="utf-8"))
    del report["repositories"]["Platform/web-app"]["libYearsWithStatus"]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")

    health = read_report_file(path, "Platform/web-app").health

    assert health is not None
    assert (health.libyears, health.outdated, health.dependencies) == (None, None, None)
    assert health.libyears_by_manager == {}
    assert health.outdated_by_type == {"major": 1, "patch": 1, "digest": 1}


def test_a_missing_report_file_gives_no_health(tmp_path: Path) -> None:
    assert read_report_file(tmp_path / "missing.json", "Platform/web-app").health is None


def test_an_entry_of_a_shape_not_understood_costs_that_entry_not_the_file(tmp_path: Path) -> None:
    report = json.loads((DATA / "report-full.json").read_text(encoding="utf-8"))
    section = report["repositories"]["Platform/web-app"]
    section["branches"][0]["upgrades"] = 5  # as if a Renovate release changed its type
    section["packageFiles"]["npm"][0]["deps"].append({"depName": {"not": "a name"}, "updates": []})
    section["problems"] = "not a list"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    complete = read_report_file(DATA / "report-full.json", "Platform/web-app")

    contents = read_report_file(path, "Platform/web-app")

    assert contents.notes == (
        "3 entries of Renovate's report file report.json not understood and left out; the rest was read.",
    )
    assert {update.dependency for update in contents.updates} == {update.dependency for update in complete.updates}
    assert len(contents.prs) == len(complete.prs)


def test_a_repositories_list_instead_of_a_mapping_leaves_no_entry(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"repositories": []}', encoding="utf-8")

    assert read_report_file(path, "Platform/web-app").notes == (
        "Renovate's report file has no entry for Platform/web-app (entries: none); updates are unknown.",
        "1 entry of Renovate's report file report.json not understood and left out; the rest was read.",
    )

"""junit.xml, parsed back with ElementTree as Azure Pipelines' test publisher would read it."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from runner.report.junit import render_junit
from runner.report.model import RepoOutcome, RunReport, Status


def parse(report: RunReport) -> ET.Element:
    return ET.fromstring(render_junit(report))


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {f"{case.get('classname')}/{case.get('name')}": case for case in root.iter("testcase")}


def test_one_suite_with_one_case_per_repository(report: RunReport) -> None:
    root = parse(report)

    suites = root.findall("testsuite")
    assert root.tag == "testsuites"
    assert len(suites) == 1
    suite = suites[0]
    assert suite.get("name") == "renovate-runner"
    assert suite.get("tests") == "6"
    assert suite.get("failures") == "3"
    assert suite.get("skipped") == "2"
    assert suite.get("errors") == "0"
    assert suite.get("timestamp") == "2025-11-29T09:30:00+00:00"
    assert float(suite.get("time", "")) == sum(outcome.duration_s for outcome in report.repositories)
    assert list(cases(root)) == [outcome.repository for outcome in report.repositories]


def test_run_properties_identify_the_run(report: RunReport) -> None:
    properties = {prop.get("name"): prop.get("value") for prop in parse(report).iter("property")}

    assert properties == {
        "run_id": "20251129T093000Z-4f2a",
        "runner_version": "0.1.0",
        "dry_run": "false",
        "shard": "1/2",
    }


def test_failed_timed_out_and_crashed_repositories_are_failures(report: RunReport) -> None:
    by_name = cases(parse(report))

    failed = by_name["Platform/billing"].find("failure")
    assert failed is not None
    assert failed.get("type") == "failed"
    assert failed.get("message") == ("renovate: Renovate exited with code 1: git failed\nfatal: Authentication failed.")
    assert failed.text is not None
    assert "error: Repository has unknown error" in failed.text
    assert "log: logs/Platform%2Fbilling.ndjson" in failed.text
    timed_out = by_name["Platform/slow"].find("failure")
    assert timed_out is not None
    assert timed_out.get("type") == "timed_out"
    assert timed_out.get("message", "").startswith("timeout: ")
    crashed = by_name["Platform/big"].find("failure")
    assert crashed is not None
    assert crashed.get("message", "").startswith("out_of_memory: ")


def test_cancelled_and_skipped_repositories_are_skipped(report: RunReport) -> None:
    by_name = cases(parse(report))

    cancelled = by_name["Platform/later"].find("skipped")
    assert cancelled is not None
    assert cancelled.get("message") == "interrupted: The sweep was interrupted."
    skipped = by_name["Archive/old"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "disabled"
    assert by_name["Archive/old"].find("failure") is None


def test_a_succeeded_repository_passes_and_lists_updates_and_prs(report: RunReport) -> None:
    case = cases(parse(report))["Platform/web-app"]

    assert case.find("failure") is None
    assert case.find("skipped") is None
    assert case.get("time") == "27.660"
    output = case.findtext("system-out")
    assert output is not None
    assert "  express 4.21.2 -> 5.1.0 (major, npm, package.json)" in output.splitlines()
    assert "  !42 created: Update lodash | to v4.17.21 (renovate/lodash)" in output.splitlines()
    assert "  !17 updated: Update express to v5" in output.splitlines()
    assert output.endswith("Log: logs/Platform%2Fweb-app.ndjson")


def test_characters_xml_cannot_carry_are_replaced(report: RunReport) -> None:
    # ANSI colour codes from tool output arrive in problems; a raw ESC would make the file unreadable.
    failure = cases(parse(report))["Platform/billing"].find("failure")

    assert failure is not None
    assert failure.text is not None
    assert "\x1b" not in failure.text
    assert "unknown error \ufffd[31mred\ufffd[0m" in failure.text


def test_a_repository_without_a_project_gets_the_suite_as_class(report: RunReport) -> None:
    lone = RepoOutcome(repository="standalone\x00", status=Status.SUCCEEDED)
    root = parse(dataclasses.replace(report, repositories=(lone,), shard=None))

    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.get("classname") == "renovate-runner"
    assert case.get("name") == "standalone\ufffd"
    assert case.find("system-out") is None
    assert "shard" not in {prop.get("name") for prop in root.iter("property")}

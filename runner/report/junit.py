"""`junit.xml`: one test case per repository, for the Tests tab of Azure Pipelines (PublishTestResults@2).

A repository that failed, timed out or crashed is a failure carrying its reason and what to do; a cancelled or
skipped one is skipped; the updates and pull requests go to the case's system-out.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Final

from runner.report.model import RepoOutcome, RunReport, Status

SUITE_NAME: Final = "renovate-runner"
_FAILED: Final = frozenset({Status.FAILED, Status.TIMED_OUT, Status.CRASHED})
_SKIPPED: Final = frozenset({Status.CANCELLED, Status.SKIPPED})
# Characters XML 1.0 cannot carry at all (ANSI escapes from tool output, NUL, ...); ElementTree would write
# them and leave a file no parser reads.
_NOT_XML: Final = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(report: RunReport) -> bytes:
    outcomes = report.repositories
    suite = ET.Element(
        "testsuite",
        {
            "name": SUITE_NAME,
            "tests": str(len(outcomes)),
            "failures": str(sum(outcome.status in _FAILED for outcome in outcomes)),
            "errors": "0",
            "skipped": str(sum(outcome.status in _SKIPPED for outcome in outcomes)),
            "time": _seconds(sum(outcome.duration_s for outcome in outcomes)),
            "timestamp": report.started_at,
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _run_properties(report).items():
        ET.SubElement(properties, "property", {"name": name, "value": _xml_safe(value)})
    for outcome in outcomes:
        suite.append(_testcase(outcome))
    root = ET.Element("testsuites", {"name": SUITE_NAME})
    root.append(suite)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _run_properties(report: RunReport) -> dict[str, str]:
    properties = {
        "run_id": report.run_id,
        "runner_version": report.runner_version,
        "dry_run": str(report.dry_run).lower(),
    }
    if report.shard:
        properties["shard"] = report.shard
    return properties


def _testcase(outcome: RepoOutcome) -> ET.Element:
    project, _, name = outcome.repository.rpartition("/")
    case = ET.Element(
        "testcase",
        {
            "classname": _xml_safe(project or SUITE_NAME),
            "name": _xml_safe(name),
            "time": _seconds(outcome.duration_s),
        },
    )
    summary = _xml_safe(_headline(outcome))
    if outcome.status in _FAILED:
        failure = ET.SubElement(case, "failure", {"message": summary, "type": outcome.status.value})
        failure.text = _xml_safe(_failure_text(outcome))
    elif outcome.status in _SKIPPED:
        ET.SubElement(case, "skipped", {"message": summary})
    output = _system_out(outcome)
    if output:
        ET.SubElement(case, "system-out").text = _xml_safe(output)
    return case


def _headline(outcome: RepoOutcome) -> str:
    reason = (outcome.reason.value if outcome.reason else None) or outcome.status.value
    return f"{reason}: {outcome.detail}" if outcome.detail else reason


def _failure_text(outcome: RepoOutcome) -> str:
    lines = [_headline(outcome)]
    lines += [f"{problem.level}: {problem.message}" for problem in outcome.problems]
    lines += [f"note: {note}" for note in outcome.notes]
    if outcome.log:
        lines.append(f"log: {outcome.log}")
    return "\n".join(lines)


def _system_out(outcome: RepoOutcome) -> str:
    lines = []
    if outcome.updates:
        lines.append("Updates:")
        lines += [
            f"  {update.dependency} {update.current_version or '?'} -> {update.new_version or '?'} "
            f"({update.update_type}, {update.manager}, {update.package_file or '?'})"
            for update in outcome.updates
        ]
    if outcome.prs:
        lines.append("Pull requests:")
        lines += [
            f"  !{pr.number if pr.number is not None else '?'} {pr.action}: {pr.title}"
            + (f" ({pr.branch})" if pr.branch else "")
            for pr in outcome.prs
        ]
    if outcome.log:
        lines.append(f"Log: {outcome.log}")
    return "\n".join(lines)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _xml_safe(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)

"""report.json: dump, load back, and the JSON Schema the docs ship."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from runner.report.json_report import dump_report, load_report, read_report, report_schema, schema_text
from runner.report.model import REPORT_VERSION, RepoOutcome, RunReport, Status

SCHEMA_FILE = Path(__file__).parents[3] / "docs" / "report.schema.json"


def test_the_document_has_the_fields_readers_rely_on(report: RunReport) -> None:
    document = json.loads(dump_report(report))

    assert document["version"] == REPORT_VERSION
    assert document["run_id"] == "20251129T093000Z-4f2a"
    assert document["counts"] == {
        "succeeded": 1,
        "failed": 1,
        "timed_out": 1,
        "crashed": 1,
        "cancelled": 1,
        "skipped": 1,
    }
    first = document["repositories"][0]
    assert first["repository"] == "Platform/web-app"
    assert first["status"] == "succeeded"
    assert first["reason"] is None
    assert first["duration_s"] == 27.66
    assert first["log"] == "logs/Platform%2Fweb-app.ndjson"
    assert first["updates_by_type"] == {"major": 1, "minor": 1, "patch": 1}
    assert first["updates"][0]["dependency"] == "express"
    assert first["prs"][0] == {
        "number": 42,
        "title": "Update lodash | to v4.17.21",
        "branch": "renovate/lodash",
        "action": "created",
        "opened_at": "2025-11-29T09:30:00+00:00",
    }
    assert first["health"] == {
        "libyears": 3.5,
        "libyears_by_manager": {"dockerfile": 0.5, "npm": 3.0},
        "outdated": 3,
        "dependencies": 10,
        "outdated_by_type": {"major": 1, "minor": 1, "patch": 1},
        "skipped_by_reason": {"github-token-required": 2},
    }
    assert document["repositories"][1]["reason"] == "renovate"
    assert document["repositories"][1]["health"] is None


def test_the_document_validates_against_the_generated_schema(report: RunReport) -> None:
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)

    jsonschema.validate(json.loads(dump_report(report)), schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["repositories"][0].update(status="exploded"), "status"),
        (lambda d: d["repositories"][0].pop("updates_by_type"), "updates_by_type"),
        (lambda d: d["counts"].pop("skipped"), "counts"),
        (lambda d: d.pop("run_id"), "run_id"),
    ],
)
def test_the_schema_rejects_documents_that_break_the_contract(
    report: RunReport, change: Callable[[dict[str, Any]], object], path: str
) -> None:
    document = json.loads(dump_report(report))
    change(document)

    with pytest.raises(jsonschema.ValidationError, match=path):
        jsonschema.validate(document, report_schema(), cls=jsonschema.Draft202012Validator)


def test_a_dumped_report_loads_back_equal(report: RunReport, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(dump_report(report), encoding="utf-8")

    loaded = read_report(path)

    assert loaded == report
    assert isinstance(loaded.repositories, tuple)
    assert loaded.repositories[1].status is Status.FAILED


def test_a_report_from_a_newer_runner_is_refused(report: RunReport) -> None:
    document = json.loads(dump_report(report))
    document["version"] = REPORT_VERSION + 1

    with pytest.raises(ValueError, match=f"version {REPORT_VERSION + 1}, newer than"):
        load_report(json.dumps(document))


@pytest.mark.parametrize("text", ["{not json", "[]", '{"run_id": "x"}'])
def test_a_broken_report_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - JSONDecodeError and ValidationError have no common text
        load_report(text)


def test_text_survives_the_round_trip(report: RunReport) -> None:
    odd = RepoOutcome(repository="Проект/репо ✓", status=Status.SUCCEEDED, notes=("a\nb|c\x1b[0m",))
    changed = dataclasses.replace(report, repositories=(odd,))

    assert load_report(dump_report(changed)).repositories == (odd,)


def test_the_shipped_schema_file_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "docs/report.schema.json is stale: regenerate it with `uv run python -m runner.report.json_report "
        "> docs/report.schema.json`"
    )

"""`report.json`: the whole run for programs, its JSON Schema, and reading it back (to merge shard reports).

pydantic's `TypeAdapter` does the dumping, loading and schema from the dataclasses in `model.py`, so the three
cannot drift apart. The model's derived values (`counts`, `updates_by_type`) are plain properties there; they
are added to the document here, for readers who do not want to count, and ignored when loading.

Regenerate the schema file documented in docs/report.md with `python -m runner.report.json_report`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from runner.report.model import REPORT_VERSION, RunReport, Status


@cache
def _adapter() -> TypeAdapter[RunReport]:
    return TypeAdapter(RunReport)


def dump_report(report: RunReport) -> str:
    """The report as indented JSON text, ending in a newline."""
    document = _adapter().dump_python(report, mode="json")
    document["counts"] = report.counts
    for entry, outcome in zip(document["repositories"], report.repositories, strict=True):
        entry["updates_by_type"] = outcome.updates_by_type
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_report(text: str | bytes) -> RunReport:
    """A report written by `dump_report`, e.g. another shard's.

    Raises ValueError (pydantic's ValidationError is one) when the text is not a report this version reads.
    """
    document = json.loads(text)
    version = document.get("version") if isinstance(document, dict) else None
    if isinstance(version, int) and version > REPORT_VERSION:
        raise ValueError(
            f"report.json has version {version}, newer than the {REPORT_VERSION} this runner reads; "
            "use a runner at least as new as the one that wrote it"
        )
    return _adapter().validate_python(document)


def read_report(path: Path) -> RunReport:
    return load_report(path.read_bytes())


class _EveryFieldPresent(GenerateJsonSchema):
    """`dump_report` writes every field, defaults included, so a reader may rely on all of them."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        return self.mode == "serialization" or super().field_is_required(field, total)


def report_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of what `dump_report` writes."""
    schema = _adapter().json_schema(mode="serialization", schema_generator=_EveryFieldPresent)
    counts = {
        "type": "object",
        "description": "How many repositories ended in each status; every status is present.",
        "properties": {status.value: {"type": "integer", "minimum": 0} for status in Status},
        "required": [status.value for status in Status],
        "additionalProperties": False,
    }
    updates_by_type = {
        "type": "object",
        "description": "How many updates of each Renovate updateType (major, minor, patch, digest, ...).",
        "additionalProperties": {"type": "integer", "minimum": 1},
    }
    schema["properties"]["counts"] = counts
    schema["required"].append("counts")
    outcome = schema["$defs"]["RepoOutcome"]
    outcome["properties"]["updates_by_type"] = updates_by_type
    outcome["required"].append("updates_by_type")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": f"renovate-runner report.json, version {REPORT_VERSION}. See docs/report.md.",
        **schema,
    }


def schema_text() -> str:
    return json.dumps(report_schema(), indent=2) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")

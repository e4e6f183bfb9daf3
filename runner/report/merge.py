"""Merging the reports of one sweep's shards (Azure Pipelines parallel jobs) into one report directory.

Each shard job writes a whole report directory; the merged one holds every repository once, in the stable
order a single sweep would have used, and the shards' logs, so the `log` paths in it stay valid. Reports that
cannot be parts of one sweep (another run id or report version, a repository or a shard claimed twice) are
refused before anything is written.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from runner import __version__
from runner.errors import ReportError
from runner.history.recording import RecordedSweep
from runner.report.fleet import Trends
from runner.report.json_report import read_report
from runner.report.markdown import Published
from runner.report.model import RepoOutcome, RunReport
from runner.report.write import JSON_NAME, LOGS_DIR, ReportPaths, write_report
from runner.sharding import Shard, parse_shard

log = structlog.get_logger()


@dataclass(frozen=True, kw_only=True)
class ShardReport:
    directory: Path
    report: RunReport
    shard: Shard | None  # the report's `shard`, parsed

    @property
    def described(self) -> str:
        return f"{self.directory} (shard {self.shard})" if self.shard else str(self.directory)


@dataclass(frozen=True, kw_only=True)
class MergeResult:
    report: RunReport
    paths: ReportPaths
    shards: tuple[str, ...]  # the labels merged, e.g. ("1/3", "2/3"); empty for unsharded reports
    missing_shards: tuple[str, ...]  # shards of the run that were not given, e.g. ("3/3",)
    logs_copied: int
    history_problem: str | None = None  # why the merged run could not be recorded in the history store
    trends: Trends | None = None


def merge_report_dirs(
    directories: Sequence[Path],
    out: Path,
    *,
    published: Published | None = None,
    record: Callable[[RunReport], RecordedSweep] | None = None,
) -> MergeResult:
    """Merge the report.json of each directory; write report.json, summary.md, junit.xml and logs/ to `out`.

    `record`: records the merged run in the history store (once for the whole run) and gives its trends.
    """
    _refuse_output_among_inputs(directories, out)
    shards = [read_shard(directory) for directory in directories]
    merged = merge_reports(shards)
    recorded = record(merged) if record is not None else RecordedSweep(report=merged, trends=None)
    report = recorded.report
    logs_copied = copy_logs(shards, out / LOGS_DIR)
    # Last, so a merged report.json never names logs that are not there yet.
    paths = write_report(report, out, published=published, trends=recorded.trends)
    labels = [shard.shard for shard in shards if shard.shard is not None]
    return MergeResult(
        report=report,
        paths=paths,
        shards=tuple(shard.label for shard in sorted(labels, key=lambda shard: shard.index)),
        missing_shards=_missing_shards(labels),
        logs_copied=logs_copied,
        history_problem=recorded.problem,
        trends=recorded.trends,
    )


def read_shard(directory: Path, *, action: str = "merge") -> ShardReport:
    """One report directory's report.json; `action` (merge, import) is what the messages say could not be done."""
    path = directory / JSON_NAME
    if not path.is_file():
        raise ReportError(
            f"cannot {action}: {path} does not exist; pass the directories "
            + ("the shard jobs wrote their reports into" if action == "merge" else "sweeps wrote their reports into")
        )
    try:
        report = read_report(path)
    except (OSError, ValueError) as error:
        raise ReportError(f"cannot {action}: {path} is not a report this runner can read: {error}") from None
    try:
        shard = parse_shard(report.shard) if report.shard is not None else None
    except ValueError as error:
        raise ReportError(f"cannot {action}: {path} has a shard field that is not I/N: {error}") from None
    try:
        for time in (report.started_at, report.finished_at):
            _utc_time(time)
    except ValueError as error:
        raise ReportError(
            f"cannot {action}: {path} has a start or finish time that cannot be ordered: {error}"
        ) from None
    return ShardReport(directory=directory, report=report, shard=shard)


def merge_reports(shards: Sequence[ShardReport]) -> RunReport:
    """One report for the whole run; ReportError when the reports are not distinct parts of one run."""
    if not shards:
        raise ReportError("cannot merge: no report directories given")
    _refuse_mixed("report version", shards, lambda shard: str(shard.report.version), _SAME_RUNNER)
    _refuse_mixed("run", shards, lambda shard: shard.report.run_id, _ONE_RUN)
    _refuse_mixed("shard count", shards, _shard_count, _ONE_RUN)
    _refuse_shard_claimed_twice(shards)
    repositories = _repositories_claimed_once(shards)
    reports = [shard.report for shard in shards]
    return RunReport(
        run_id=reports[0].run_id,
        runner_version=_runner_version(reports),
        started_at=min((report.started_at for report in reports), key=_utc_time),
        finished_at=max((report.finished_at for report in reports), key=_utc_time),
        dry_run=any(report.dry_run for report in reports),
        repositories=tuple(sorted(repositories, key=_config_order)),
        version=reports[0].version,
        shard=None,
        interrupted=any(report.interrupted for report in reports),
        **_common_concurrency(reports),
        organization=_common_organization(reports),
        # Each shard checked the same configuration and token: the same warning from several shards is one.
        warnings=tuple(dict.fromkeys(warning for report in reports for warning in report.warnings)),
    )


def _common_organization(reports: Sequence[RunReport]) -> str | None:
    """The shards' organization: one sweep covers one organization, so a difference leaves the links out."""
    organizations = {report.organization for report in reports}
    return organizations.pop() if len(organizations) == 1 else None


def _common_concurrency(reports: Sequence[RunReport]) -> dict[str, Any]:
    """The shards' concurrency when they all ran at the same, else none (each shard's report keeps its own)."""
    settings = {(report.concurrency, report.concurrency_basis) for report in reports}
    concurrency, basis = settings.pop() if len(settings) == 1 else (None, None)
    return {"concurrency": concurrency, "concurrency_basis": basis}


def copy_logs(shards: Iterable[ShardReport], logs_dir: Path) -> int:
    """Copy every shard's logs/*.ndjson into `logs_dir`; returns how many files were copied."""
    copied = 0
    logs_dir.mkdir(parents=True, exist_ok=True)
    for shard in shards:
        for source in sorted((shard.directory / LOGS_DIR).glob("*.ndjson")):
            shutil.copy2(source, logs_dir / source.name)
            copied += 1
    return copied


def _refuse_output_among_inputs(directories: Sequence[Path], out: Path) -> None:
    if any(directory.resolve() == out.resolve() for directory in directories):
        raise ReportError(
            f"cannot merge into {out}: it is one of the shard report directories, whose report would be "
            "overwritten; choose another --out directory"
        )


def _refuse_mixed(
    what: str, shards: Sequence[ShardReport], value_of: Callable[[ShardReport], str], remedy: str
) -> None:
    first = shards[0]
    for shard in shards[1:]:
        if value_of(shard) != value_of(first):
            raise ReportError(
                f"cannot merge reports of different {what}s: {value_of(first)} in {first.directory}, "
                f"{value_of(shard)} in {shard.directory}. {remedy}"
            )


def _refuse_shard_claimed_twice(shards: Sequence[ShardReport]) -> None:
    by_label: dict[str, ShardReport] = {}
    for shard in shards:
        if shard.shard is None:
            continue
        if (first := by_label.setdefault(shard.shard.label, shard)) is not shard:
            raise ReportError(
                f"cannot merge: {first.directory} and {shard.directory} both hold shard {shard.shard}; pass each "
                f"shard's report directory once. {_ONE_RUN}"
            )


def _repositories_claimed_once(shards: Sequence[ShardReport]) -> list[RepoOutcome]:
    claimed: dict[str, ShardReport] = {}
    outcomes: list[RepoOutcome] = []
    for shard in shards:
        for outcome in shard.report.repositories:
            if (first := claimed.setdefault(outcome.repository, shard)) is not shard:
                raise ReportError(
                    f"cannot merge: repository {outcome.repository} is in {first.described} and in "
                    f"{shard.described}; a repository belongs to one shard of a run. {_ONE_RUN}"
                )
            outcomes.append(outcome)
    return outcomes


_ONE_RUN = (
    "What to do: merge only the reports that the shard jobs of one pipeline run wrote (they share the run id "
    "build-<Build.BuildId>, or the --run-id given to each)"
)
_SAME_RUNNER = "What to do: run every shard with the same renovate-runner version, then merge again"


def _shard_count(shard: ShardReport) -> str:
    return str(shard.shard.count) if shard.shard else "1 (not sharded)"


def _utc_time(text: str) -> datetime:
    time = datetime.fromisoformat(text)
    if time.tzinfo is None:  # Python cannot order it among times with an offset
        raise ValueError(f"{text!r} has no UTC offset")
    return time


def _config_order(outcome: RepoOutcome) -> tuple[str, str]:
    # The order `load_config` gives repositories, so a merged report reads like a single sweep's.
    return (outcome.repository.casefold(), outcome.repository)


def _runner_version(reports: Sequence[RunReport]) -> str:
    versions = {report.runner_version for report in reports}
    if len(versions) == 1:
        return versions.pop()
    log.warning("shard_runner_versions_differ", versions=sorted(versions), merged_by=__version__)
    return __version__


def _missing_shards(merged: Sequence[Shard]) -> tuple[str, ...]:
    if not merged:
        return ()
    count = merged[0].count  # the same for all: _refuse_mixed checked it
    present = {shard.index for shard in merged}
    return tuple(Shard(index, count).label for index in range(1, count + 1) if index not in present)

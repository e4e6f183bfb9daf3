"""Renovate's report file: the updates, branches, pull requests and problems it lists for one repository.

The report file (`RENOVATE_REPORT_TYPE=file`) is written by lib/instrumentation/reporting.ts as
`{problems, repositories: {<repo>: {problems, branches, packageFiles, libYearsWithStatus}}}`:

- `packageFiles`: `{<manager>: [{packageFile, deps: [{depName, currentValue, currentVersion, updates:
  [{updateType, newVersion, newValue, newDigest, branchName}]}]}]}`, written after extraction and lookup, so
  it is there in dry runs too;
- `libYearsWithStatus`: `{libYears: {managers: {<manager>: years}, total}, dependencyStatus: {outdated, total}}`
  (since Renovate 40.10.0), in lookup-only and full runs, absent in extract-only ones; a dependency Renovate did
  not look up carries `skipReason` in `packageFiles` (`github-token-required`, `unspecified-version`, ...);
- `branches`: `[{branchName, prNo, prTitle, result, upgrades: [{depName, currentVersion, newVersion,
  packageFile, updateType, ...}]}]` from the repository cache, only in full runs. `prNo` names the branch's pull
  request whether or not this run changed it; Renovate logs a pull request it kept as it was only at debug level
  (`Pull Request #N does not need updating`), so this is where a later sweep learns of it.

The key is the repository as Renovate was given it, or `local` on the local platform. Each container runs one
repository, so top-level problems belong to it too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, ValidatorFunctionWrapHandler, WrapValidator
from pydantic.alias_generators import to_camel

from runner.renovate.logs import event_from_record, problem_from_event, without_lone_surrogates
from runner.report.model import DependencyUpdate, Health, Problem, PullRequest, update_type_rank

_SHORT_DIGEST = 12
_DROPPED = "dropped"  # validation context: a one-item list counting the entries left out


def _entries(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """A list or mapping of Renovate's with each entry that does not fit left out and counted, so one entry of a shape
    this reader does not know (a field whose type a Renovate release changed, say) costs that entry, not the file."""
    counted = _dropped_so_far(info)
    try:
        return handler(value)  # the usual case: everything fits, validated once
    except ValidationError:
        _reset_dropped(info, counted)  # what that attempt counted inside is counted again below
    if isinstance(value, list | dict):
        kept: Any = {} if isinstance(value, dict) else []
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            try:
                validated = handler({key: item} if isinstance(value, dict) else [item])
            except ValidationError:
                _reset_dropped(info, _dropped_so_far(info) + 1)
                continue
            kept.update(validated) if isinstance(kept, dict) else kept.extend(validated)
        with contextlib.suppress(ValidationError):  # a list where a mapping belongs, or the other way round
            return handler(kept)
    _reset_dropped(info, _dropped_so_far(info) + 1)
    empties: tuple[Any, ...] = ([], {})
    for empty in empties:  # the container it should have been, empty
        with contextlib.suppress(ValidationError):
            return handler(empty)
    raise ValueError("neither a list nor a mapping")  # unreachable: every field using this is one or the other


def _dropped_so_far(info: ValidationInfo) -> int:
    context = info.context
    return int(context[_DROPPED][0]) if isinstance(context, dict) and _DROPPED in context else 0


def _reset_dropped(info: ValidationInfo, count: int) -> None:
    if isinstance(info.context, dict) and _DROPPED in info.context:
        info.context[_DROPPED][0] = count


_ENTRIES = WrapValidator(_entries)


class _RenovateShape(BaseModel):
    """Reads Renovate's camelCase JSON leniently: unknown fields are ignored, missing ones default."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        coerce_numbers_to_str=True,
    )


class _LookupUpdate(_RenovateShape):
    update_type: str | None = None
    new_version: str | None = None
    new_value: str | None = None
    new_digest: str | None = None
    branch_name: str | None = None


class _Dependency(_RenovateShape):
    dep_name: str | None = None
    package_name: str | None = None
    current_value: str | None = None
    current_version: str | None = None
    current_digest: str | None = None
    skip_reason: str | None = None
    updates: Annotated[list[_LookupUpdate], _ENTRIES] = []


class _PackageFile(_RenovateShape):
    package_file: str | None = None
    deps: Annotated[list[_Dependency], _ENTRIES] = []


class _BranchUpgrade(_RenovateShape):
    dep_name: str | None = None
    package_name: str | None = None
    package_file: str | None = None
    current_value: str | None = None
    current_version: str | None = None
    current_digest: str | None = None
    update_type: str | None = None
    new_version: str | None = None
    new_value: str | None = None
    new_digest: str | None = None


class _Branch(_RenovateShape):
    branch_name: str | None = None
    pr_no: int | None = None
    pr_title: str | None = None
    upgrades: Annotated[list[_BranchUpgrade], _ENTRIES] = []


class _LibYears(_RenovateShape):
    managers: dict[str, float] = {}
    total: float | None = None


class _DependencyStatus(_RenovateShape):
    outdated: int | None = None
    total: int | None = None


class _LibYearsWithStatus(_RenovateShape):
    lib_years: _LibYears = _LibYears()
    dependency_status: _DependencyStatus = _DependencyStatus()


class _RepoSection(_RenovateShape):
    problems: Annotated[list[dict[str, Any]], _ENTRIES] = []
    branches: Annotated[list[_Branch], _ENTRIES] = []
    package_files: Annotated[dict[str, Annotated[list[_PackageFile], _ENTRIES]], _ENTRIES] = {}
    # a mapping too: a key of it in a shape not understood is left out, as an entry of a list is
    lib_years_with_status: Annotated[_LibYearsWithStatus | None, _ENTRIES] = None


class _RenovateReport(_RenovateShape):
    problems: Annotated[list[dict[str, Any]], _ENTRIES] = []
    repositories: Annotated[dict[str, _RepoSection], _ENTRIES] = {}


@dataclass(frozen=True)
class ReportFileContents:
    """What a report file contributed to an outcome; `notes` say why something is missing."""

    updates: tuple[DependencyUpdate, ...] = ()
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    prs: tuple[PullRequest, ...] = ()  # every branch's pull request, as `unchanged`
    health: Health | None = None


def read_report_file(path: Path | None, repository: str) -> ReportFileContents:
    """Updates and problems for `repository` from Renovate's report file; never raises for a bad file."""
    if path is None:
        return ReportFileContents()
    try:
        # Python's json, not pydantic's: pydantic refuses a whole file for one lone surrogate escape anywhere in
        # it, which Node writes for a string cut inside an emoji; here it becomes U+FFFD and the rest is kept.
        data = json.loads(path.read_bytes().decode("utf-8"))  # Renovate writes UTF-8; no guessing of encodings
        dropped = [0]
        report = _RenovateReport.model_validate(without_lone_surrogates(data), context={_DROPPED: dropped})
    except FileNotFoundError:
        return ReportFileContents(notes=(f"Renovate wrote no report file ({path.name}); updates are unknown.",))
    except (OSError, ValueError, RecursionError) as error:  # ValueError: not JSON (or not UTF-8), ValidationError
        reason = _first_error_line(error)
        return ReportFileContents(notes=(f"Renovate's report file {path.name} could not be read: {reason}",))
    problems = tuple(_problems(report.problems))
    left_out = (
        (f"{dropped[0]} {'entry' if dropped[0] == 1 else 'entries'} of Renovate's report file {path.name} "
         "not understood and left out; the rest was read.",)
        if dropped[0]
        else ()
    )  # fmt: skip
    section = _repo_section(report.repositories, repository)
    if section is None:
        known = ", ".join(sorted(report.repositories)) or "none"
        note = f"Renovate's report file has no entry for {repository} (entries: {known}); updates are unknown."
        return ReportFileContents(problems=problems, notes=(note, *left_out))
    return ReportFileContents(
        updates=_updates(section),
        problems=(*problems, *_problems(section.problems)),
        notes=left_out,
        prs=_pull_requests(section),
        health=_health(section),
    )


def _first_error_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        return f"{first['msg']} at {where}"
    if isinstance(error, json.JSONDecodeError):
        return f"Invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    if isinstance(error, UnicodeDecodeError):
        return f"Invalid JSON: not UTF-8 (byte 0x{error.object[error.start]:02x} at offset {error.start})"
    if isinstance(error, RecursionError):
        return "Invalid JSON: nested deeper than the reader allows"
    return str(error)


def _repo_section(sections: Mapping[str, _RepoSection], repository: str) -> _RepoSection | None:
    if repository in sections:
        return sections[repository]
    # Azure DevOps names are case-insensitive, and Renovate keeps the spelling it was given.
    by_folded = {name.casefold(): section for name, section in sections.items()}
    if repository.casefold() in by_folded:
        return by_folded[repository.casefold()]
    if "local" in sections:
        return sections["local"]
    # Each container runs one repository: a lone entry is ours, whatever name Renovate filed it under.
    return next(iter(sections.values())) if len(sections) == 1 else None


def _problems(records: Iterable[Mapping[str, Any]]) -> Iterable[Problem]:
    for record in records:
        event = event_from_record(record)
        if event is not None and event.is_problem:
            yield problem_from_event(event)


def _updates(section: _RepoSection) -> tuple[DependencyUpdate, ...]:
    found: dict[tuple[str, ...], DependencyUpdate] = {}
    for manager, package_files in section.package_files.items():
        for package_file in package_files:
            for dep in package_file.deps:
                for update in dep.updates:
                    lookup = _from_lookup(manager, package_file, dep, update)
                    found.setdefault(_identity(lookup), lookup)
    # Branches (full runs only) name the branch of updates found above, and add the few that extraction
    # does not list, such as lock file maintenance.
    for branch in section.branches:
        for upgrade in branch.upgrades:
            planned = _from_branch(branch, upgrade)
            known = found.get(_identity(planned))
            if known is None:
                found[_identity(planned)] = planned
            elif known.branch is None:
                found[_identity(planned)] = dataclasses.replace(known, branch=planned.branch)
    return tuple(found.values())


def _health(section: _RepoSection) -> Health:
    outdated_by_type: Counter[str] = Counter()
    skipped_by_reason: Counter[str] = Counter()
    for package_files in section.package_files.values():
        for dep in (dep for package_file in package_files for dep in package_file.deps):
            if dep.skip_reason:
                skipped_by_reason[dep.skip_reason] += 1
            kinds = [update.update_type or "unknown" for update in dep.updates]
            if kinds:
                outdated_by_type[min(kinds, key=update_type_rank)] += 1
    status = section.lib_years_with_status
    return Health(
        libyears=status.lib_years.total if status else None,
        libyears_by_manager=dict(sorted(status.lib_years.managers.items())) if status else {},
        outdated=status.dependency_status.outdated if status else None,
        dependencies=status.dependency_status.total if status else None,
        outdated_by_type=dict(sorted(outdated_by_type.items(), key=lambda item: update_type_rank(item[0]))),
        skipped_by_reason=dict(sorted(skipped_by_reason.items())),
    )


def _pull_requests(section: _RepoSection) -> tuple[PullRequest, ...]:
    # A dry run "creates" pull request 0; Azure DevOps, GitHub and GitLab number theirs from 1.
    return tuple(
        PullRequest(number=branch.pr_no, title=branch.pr_title or "", branch=branch.branch_name, action="unchanged")
        for branch in section.branches
        if branch.pr_no
    )


def _identity(update: DependencyUpdate) -> tuple[str, ...]:
    """What makes an update the same one whether it came from packageFiles or from branches."""
    return (
        update.dependency,
        update.package_file,
        update.current_version or "",
        update.new_version or "",
        update.update_type,
    )


def _from_lookup(manager: str, package_file: _PackageFile, dep: _Dependency, update: _LookupUpdate) -> DependencyUpdate:
    update_type = update.update_type or "unknown"
    return DependencyUpdate(
        dependency=dep.dep_name or dep.package_name or update_type,
        manager=manager,
        package_file=package_file.package_file or "",
        current_version=_version(dep.current_version or dep.current_value, dep.current_digest, update_type),
        new_version=_version(update.new_version or update.new_value, update.new_digest, update_type),
        update_type=update_type,
        current_value=dep.current_value,
        new_value=update.new_value,
        branch=update.branch_name,
    )


def _from_branch(branch: _Branch, upgrade: _BranchUpgrade) -> DependencyUpdate:
    update_type = upgrade.update_type or "unknown"
    return DependencyUpdate(
        # lock file maintenance names no dependency; its update type says what it is
        dependency=upgrade.dep_name or upgrade.package_name or update_type,
        manager="unknown",  # Renovate's branch summary does not say which manager found the dependency
        package_file=upgrade.package_file or "",
        current_version=_version(upgrade.current_version or upgrade.current_value, upgrade.current_digest, update_type),
        new_version=_version(upgrade.new_version or upgrade.new_value, upgrade.new_digest, update_type),
        update_type=update_type,
        current_value=upgrade.current_value,
        new_value=upgrade.new_value,
        branch=branch.branch_name,
    )


def _version(version: str | None, digest: str | None, update_type: str) -> str | None:
    """A version as people read it; for digest updates the digest is the part that changes."""
    if update_type not in ("digest", "pinDigest") or not digest:
        return version
    short = digest.removeprefix("sha256:")[:_SHORT_DIGEST]
    return f"{version}@{short}" if version else short

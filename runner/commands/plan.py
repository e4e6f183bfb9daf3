"""`renovate-runner plan`: what a run would do - auth mode, image, concurrency, shard, repositories - without
starting anything. It touches neither the container engine nor the network, except to list repositories through
the Azure DevOps API when `discover:` is configured."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self, TextIO

from runner.auth.modes import modes_for
from runner.auth.selection import choose_modes
from runner.azure_access import TokenAnnouncer, candidate_repositories, connect_azure
from runner.capacity import ConcurrencyDecision, sweep_concurrency
from runner.commands import arguments
from runner.config import RepoConfig, RunnerConfig, load_config
from runner.durations import format_duration
from runner.sharding import POSITION_VARIABLE, TOTAL_VARIABLE, Selection, choose_shard, select_run, shard_sizes


@dataclass(frozen=True, kw_only=True)
class AuthPreview:
    mode: str  # as configured
    applies: str | None  # the mode a run would use here, when that is known without asking for a token
    note: str


@dataclass(frozen=True, kw_only=True)
class PlanArguments(arguments.SelectionArguments):
    """The command line of `plan`, parsed."""

    json: bool

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> Self:
        selection = arguments.SelectionArguments.from_namespace(args)
        return cls(config=selection.config, repos=selection.repos, shard=selection.shard, json=args.json)


def configure(parser: argparse.ArgumentParser) -> None:
    arguments.add_config(parser)
    arguments.add_selection(parser)
    parser.add_argument("--json", action="store_true", help="print the plan as JSON, for scripts")


def run(namespace: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    args = PlanArguments.from_namespace(namespace)
    config = load_config(args.config)
    # Discovery is the one step that needs Azure DevOps: without `discover:`, plan asks for no token at all.
    access = None
    if config.runner.discover is not None:
        access = connect_azure(config.runner, environ, TokenAnnouncer(sys.stderr, environ))
    candidates = candidate_repositories(config.runner, config.repos, access, config_dir=config.config_dir)
    selection = select_run(candidates, names=args.repos, shard=choose_shard(args.shard, environ))
    document = plan_document(selection, config.runner, environ, shard_source=_shard_source(args, selection))
    document = {"config": str(config.config_dir), **document}
    if args.json:
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(render_plan(document))
    return 0


def plan_document(
    selection: Selection, runner: RunnerConfig, environ: Mapping[str, str], *, shard_source: str | None
) -> dict[str, Any]:
    """The plan as plain data: the `--json` output, and what the text rendering shows."""
    auth = preview_auth(runner, selection.repos, environ)
    concurrency = sweep_concurrency(runner)
    shard = selection.shard
    sizes = shard_sizes([repo.name for repo in selection.selected], shard.count) if shard else {}
    return {
        "auth": {"mode": auth.mode, "applies": auth.applies, "note": auth.note},
        "image": runner.renovate.image,
        "concurrency": concurrency.value,
        "concurrency_basis": concurrency.basis,
        "shard": selection.shard_label,
        "shard_source": shard_source,
        "selected": len(selection.selected),
        "repositories": [_repository(repo, runner, selection.shard_label) for repo in selection.repos],
        "shards": {f"{index}/{shard.count}": size for index, size in sizes.items()} if shard else {},
    }


def preview_auth(runner: RunnerConfig, repos: Sequence[RepoConfig], environ: Mapping[str, str]) -> AuthPreview:
    """Which auth mode applies, judged from the environment alone: no credential is built, no token requested."""
    mode = runner.auth.mode.value
    if all(repo.is_local or not repo.enabled for repo in repos):
        return AuthPreview(mode=mode, applies=None, note="no token needed: every repository of this run is local")
    choice = choose_modes(mode, environ, modes_for(runner.auth))
    return AuthPreview(mode=mode, applies=choice.decided, note=choice.explain())


def _concurrency_text(document: Mapping[str, Any]) -> str:
    return ConcurrencyDecision(value=document["concurrency"], basis=document["concurrency_basis"]).describe()


def render_plan(document: Mapping[str, Any]) -> str:
    auth = document["auth"]
    shard = document["shard"]
    repositories = document["repositories"]
    rows = [
        (repo["name"], repo["kind"], "yes" if repo["enabled"] else "no", repo["timeout"], repo["shard"] or "-")
        for repo in repositories
    ]
    lines = [
        f"Plan for {document['config']} (nothing is started)",
        f"  auth:         {auth['mode']} -> {auth['note']}",
        f"  image:        {document['image']}",
        f"  concurrency:  {_concurrency_text(document)}",
        f"  shard:        {_shard_text(document)}",
        f"  repositories: {len(repositories)}" + (f" of {document['selected']} selected" if shard else ""),
        "",
        *_table(("repository", "kind", "enabled", "timeout", "shard"), rows),
    ]
    if shard:
        lines += ["", f"Repositories per shard ({document['selected']} selected):"]
        for label, size in document["shards"].items():
            lines.append(f"  {label}  {size}" + ("  <- this run" if label == shard else ""))
    return "\n".join(lines) + "\n"


def _shard_text(document: Mapping[str, Any]) -> str:
    if document["shard"] is None:
        return "none: this job runs every selected repository"
    return f"{document['shard']} (from {document['shard_source']})"


def _repository(repo: RepoConfig, runner: RunnerConfig, shard: str | None) -> dict[str, Any]:
    timeout = repo.effective_timeout(runner)
    return {
        "name": repo.name,
        "kind": "local" if repo.is_local else "azure",
        "enabled": repo.enabled,
        "timeout": format_duration(timeout, "yaml"),
        "timeout_s": int(timeout.total_seconds()),
        "shard": shard,
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    if not rows:
        return ["(no repositories in this run)"]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def _shard_source(args: arguments.SelectionArguments, selection: Selection) -> str | None:
    if selection.shard is None:
        return None
    if args.shard is not None:
        return "--shard"
    return f"{POSITION_VARIABLE}/{TOTAL_VARIABLE}"

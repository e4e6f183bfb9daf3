"""The history store's tables (SQLAlchemy Core) and the migrations that bring any older store up to them.

One schema for SQLite and PostgreSQL. Times are ISO 8601 strings in UTC (`2025-11-29T09:30:00+00:00`): they sort
as text the same on both back ends, and read back exactly as report.json wrote them.

A store records its schema version in `schema_version`; `MIGRATIONS[n]` takes a store from version n to n + 1.
Add a migration for every change and never edit one that has shipped: stores out there already ran it.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

METADATA = sa.MetaData()

runs = sa.Table(
    "runs",
    METADATA,
    sa.Column("run_id", sa.String(200), primary_key=True),
    sa.Column("started_at", sa.String(40), nullable=False, index=True),
    sa.Column("finished_at", sa.String(40), nullable=False),
    sa.Column("runner_version", sa.String(50), nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("interrupted", sa.Boolean, nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
)

repo_runs = sa.Table(
    "repo_runs",
    METADATA,
    sa.Column("run_id", sa.String(200), sa.ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("repository", sa.String(400), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(40)),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("updates", sa.Integer, nullable=False),
    sa.Column("libyears", sa.Float),
    sa.Column("outdated", sa.Integer),
    sa.Column("dependencies", sa.Integer),
    # The rest of the repository's health as report.json has it (per manager, by update type, by skip reason).
    sa.Column("health", sa.JSON),
    sa.Index("ix_repo_runs_repository", "repository"),
)

pull_requests = sa.Table(
    "pull_requests",
    METADATA,
    sa.Column("run_id", sa.String(200), primary_key=True),
    sa.Column("repository", sa.String(400), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("opened_at", sa.String(40)),
    sa.ForeignKeyConstraint(["run_id", "repository"], ["repo_runs.run_id", "repo_runs.repository"], ondelete="CASCADE"),
    sa.Index("ix_pull_requests_repository", "repository", "number"),
)

schema_version = sa.Table("schema_version", METADATA, sa.Column("version", sa.Integer, nullable=False))


def _create_version_1(connection: sa.Connection) -> None:
    # Version 1 is the tables above as first shipped. Once a later migration changes one of them, give this
    # function its own copy of the version-1 definition, so a new store still goes 0 -> 1 -> 2.
    METADATA.create_all(connection, tables=[runs, repo_runs, pull_requests])


MIGRATIONS: tuple[Callable[[sa.Connection], None], ...] = (_create_version_1,)
SCHEMA_VERSION = len(MIGRATIONS)

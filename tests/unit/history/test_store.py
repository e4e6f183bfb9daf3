"""The history store on SQLite and on a real PostgreSQL server: recording, trends, durations, pull request ages,
one transaction per sweep, runs recorded once however they arrive, and migrations."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from runner.errors import HistoryError
from runner.history import store as store_module
from runner.history.database import open_engine
from runner.history.recording import record_sweep
from runner.history.schema import SCHEMA_VERSION, schema_version
from runner.history.store import HistoryStore
from runner.report.model import PullRequest, Status
from tests.postgres import PostgresServer

from .reports import outcome, sweep

REPO_ROOT = Path(__file__).parents[3]


def test_recorded_sweeps_come_back_as_trends(store_url: str) -> None:
    with HistoryStore(store_url) as store:
        for run, libyears in enumerate([4.0, 3.0, 2.5], start=1):
            store.record(sweep(run, [outcome("P/a", libyears=libyears), outcome("P/b", libyears=1.0)]))

        trends = store.trends()

    assert [run.run_id for run in trends.runs] == ["run-1", "run-2", "run-3"]
    assert [run.libyears for run in trends.runs] == [5.0, 4.0, 3.5]
    assert [run.duration_s for run in trends.runs] == [600.0] * 3
    assert [point.libyears for point in trends.points("P/a")] == [4.0, 3.0, 2.5]
    assert [point.outdated for point in trends.points("P/a")] == [8, 6, 5]


def test_trends_can_be_limited_by_run_count_date_and_repository(store_url: str) -> None:
    with HistoryStore(store_url) as store:
        for run in range(1, 6):
            store.record(sweep(run, [outcome("P/a"), outcome("P/b")]))

        assert [run.run_id for run in store.trends(last=2).runs] == ["run-4", "run-5"]
        assert [run.run_id for run in store.trends(since="2025-11-04").runs] == ["run-4", "run-5"]
        assert list(store.trends(repositories=["P/b"]).repositories) == ["P/b"]


def test_the_same_run_recorded_twice_is_recorded_once(store_url: str) -> None:
    pr = PullRequest(number=3, title="Update x", branch="renovate/x", action="created", opened_at="2025-11-01")
    report = sweep(1, [outcome("P/a", libyears=2.0, prs=[pr])])
    with HistoryStore(store_url) as store:
        store.record(report)
        store.record(report)
        trends = store.trends()

    assert len(trends.runs) == 1
    assert len(trends.points("P/a")) == 1
    with HistoryStore(store_url) as store:
        assert store.first_seen(["P/a"]) == {("P/a", 3): "2025-11-01T00:00:00+00:00"}


def test_shards_and_their_merged_report_converge_on_one_run(store_url: str) -> None:
    first = sweep(1, [outcome("P/a", libyears=2.0)], shard="1/2")
    second = sweep(1, [outcome("P/b", libyears=3.0)], shard="2/2")
    merged = sweep(1, [outcome("P/a", libyears=2.0), outcome("P/b", libyears=3.0)])
    with HistoryStore(store_url) as store:
        store.record(first)
        store.record(second)
        store.record(merged)
        trends = store.trends()

    assert [(run.run_id, run.repositories, run.libyears) for run in trends.runs] == [("run-1", 2, 5.0)]


def test_a_recording_that_fails_half_way_leaves_the_history_as_it_was(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HistoryStore(store_url) as store:
        store.record(sweep(1, [outcome("P/a", libyears=2.0)]))

        def broken(*_: object) -> list[dict[str, object]]:
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

        # The run and repository rows are written by then; the pull requests' rows fail.
        monkeypatch.setattr(store_module, "_pr_rows", broken)
        pr = PullRequest(number=1, title="t", branch="b", action="created")
        with pytest.raises(HistoryError, match="could not write to the history store: disk I/O error"):
            store.record(sweep(2, [outcome("P/a", libyears=9.0, prs=[pr]), outcome("P/b")]))

        trends = store.trends()

    assert [run.run_id for run in trends.runs] == ["run-1"]
    assert [point.libyears for point in trends.points("P/a")] == [2.0]
    assert trends.points("P/b") == ()


def test_a_process_killed_while_recording_leaves_each_run_whole_or_absent(store_url: str) -> None:
    repositories = 400
    script = textwrap.dedent(
        f"""
        import sys
        from runner.history.store import HistoryStore
        from tests.unit.history.reports import outcome, sweep

        outcomes = [outcome(f"P/repo-{{n}}", libyears=n / 10) for n in range({repositories})]
        with HistoryStore(sys.argv[1]) as store:
            print("open", flush=True)
            for run in range(1, 29):
                store.record(sweep(run, outcomes))
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, store_url], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "open\n"
    time.sleep(1.0)  # some runs recorded, one most likely half-way
    process.kill()
    process.wait()

    with HistoryStore(store_url) as store:
        trends = store.trends(last=100)

    assert trends.runs, "the process was killed before it recorded anything; record more runs"
    assert {run.repositories for run in trends.runs} == {repositories}


def test_durations_come_from_the_latest_run_that_ran_the_repository(store_url: str) -> None:
    with HistoryStore(store_url) as store:
        store.record(sweep(1, [outcome("P/a", duration_s=50.0), outcome("P/b", duration_s=5.0)]))
        store.record(sweep(2, [outcome("P/a", duration_s=60.0), outcome("P/b", status=Status.CANCELLED, duration_s=0)]))

        assert store.last_durations(["P/a", "P/b", "P/new"]) == {"P/a": 60.0, "P/b": 5.0}


def test_a_pull_request_is_as_old_as_the_first_run_that_saw_it(store_url: str) -> None:
    created = PullRequest(number=7, title="Update x", branch="renovate/x", action="created")
    kept = PullRequest(number=7, title="Update x", branch="renovate/x", action="unchanged")

    first = record_sweep(sweep(1, [outcome("P/a", prs=[created])]), store_url, failing_after=3)
    second = record_sweep(sweep(3, [outcome("P/a", prs=[kept])]), store_url, failing_after=3)

    assert first.report.repositories[0].prs[0].opened_at == "2025-11-01T09:00:00+00:00"
    assert second.report.repositories[0].prs[0].opened_at == "2025-11-01T09:00:00+00:00"
    assert second.trends is not None
    assert len(second.trends.runs) == 2


def test_failure_streaks_are_read_back(store_url: str) -> None:
    statuses = [Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.CANCELLED, Status.CRASHED]
    with HistoryStore(store_url) as store:
        for run, status in enumerate(statuses, start=1):
            store.record(sweep(run, [outcome("P/a", status=status), outcome("P/b")]))
        trends = store.trends(failing_after=3)

    assert trends.failure_streak("P/a") == 3
    assert trends.failing() == {"P/a": 3}


def test_a_new_store_is_migrated_to_the_current_schema(store_url: str) -> None:
    HistoryStore(store_url).__exit__()
    engine = open_engine(store_url)
    with engine.connect() as connection:
        assert connection.execute(sa.select(schema_version.c.version)).scalars().all() == [SCHEMA_VERSION]
        assert {"runs", "repo_runs", "pull_requests"} <= set(sa.inspect(connection).get_table_names())
    engine.dispose()


def test_a_store_from_a_newer_runner_is_refused(store_url: str) -> None:
    HistoryStore(store_url).__exit__()
    engine = open_engine(store_url)
    with engine.begin() as connection:
        connection.execute(sa.update(schema_version).values(version=SCHEMA_VERSION + 1))
    engine.dispose()

    with pytest.raises(HistoryError, match=r"newer than the 1 this runner knows; .* upgrade this runner"):
        HistoryStore(store_url)


def test_an_unreachable_store_does_not_fail_the_sweep(postgres: object) -> None:
    url = "postgresql://postgres@127.0.0.1:1/none"

    recorded = record_sweep(sweep(1, [outcome("P/a")]), url, failing_after=3)

    assert recorded.trends is None
    assert recorded.problem is not None
    assert recorded.problem.startswith("could not open the history store")


def test_the_password_from_pgpassword_never_appears_in_an_error(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", "correct-horse-battery-staple")
    with pytest.raises(HistoryError, match='database "no_such_database" does not exist'):
        HistoryStore(postgres.url("no_such_database"))  # opening a store registers the password as a secret

    quoted = sa.exc.OperationalError("SELECT 1", {}, Exception("server said: correct-horse-battery-staple"))
    message = str(store_module.store_error("read", quoted))

    assert "correct-horse-battery-staple" not in message
    assert "server said: **redacted**" in message

"""Sweep locks: one sweep per report directory and per cache volume, real `flock` locks that die with their holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from runner.errors import LockedError
from runner.locking import STATE_DIR_ENV, FileLock, SweepLocks, default_state_dir, is_held, run_lock_path

# Holds an exclusive flock on argv[1], says so, and keeps it until its stdin closes or it is killed.
HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("held", flush=True)
sys.stdin.read()
"""


def locks(tmp_path: Path, *, report_dir: str = "report", volume: str = "cache", run_id: str = "run-1") -> SweepLocks:
    return SweepLocks(
        state_dir=tmp_path / "state", run_id=run_id, report_dir=tmp_path / report_dir, cache_volume=volume
    )


@contextmanager
def held_by_another_process(path: Path) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        yield holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=10)
        for stream in (holder.stdin, holder.stdout):
            if stream is not None:
                stream.close()


def test_a_second_sweep_on_the_same_report_dir_is_refused(tmp_path: Path) -> None:
    with (
        locks(tmp_path, volume="cache-a", run_id="first"),
        pytest.raises(LockedError) as error_info,
        locks(tmp_path, volume="cache-b", run_id="second"),
    ):
        pass

    assert error_info.value.exit_code == 5
    message = str(error_info.value)
    assert f"another sweep is using the report directory {tmp_path / 'report'}" in message
    assert str(tmp_path / "report" / ".renovate-runner.lock") in message
    assert "wait for it to finish, or use another report directory and cache" in message


def test_a_second_sweep_on_the_same_cache_volume_is_refused(tmp_path: Path) -> None:
    with (
        locks(tmp_path, report_dir="report-a", run_id="first"),
        pytest.raises(LockedError, match="another sweep is using the cache volume cache"),
        locks(tmp_path, report_dir="report-b", run_id="second"),
    ):
        pass


def test_sweeps_on_different_report_dirs_and_volumes_run_side_by_side(tmp_path: Path) -> None:
    with (
        locks(tmp_path, report_dir="a", volume="cache-a", run_id="first") as first,
        locks(tmp_path, report_dir="b", volume="cache-b", run_id="second") as second,
    ):
        assert is_held(first.run_lock.path)
        assert is_held(second.run_lock.path)


def test_after_release_the_locks_can_be_taken_again(tmp_path: Path) -> None:
    with locks(tmp_path):
        pass

    with locks(tmp_path) as again:
        assert is_held(tmp_path / "report" / ".renovate-runner.lock")
        assert is_held(again.run_lock.path)


def test_a_refused_sweep_gives_back_the_locks_it_had_already_taken(tmp_path: Path) -> None:
    # The report dir lock is taken first, then the cache volume's: that one is busy.
    volume_lock = FileLock(tmp_path / "state" / "volumes" / "cache.lock", "the cache volume cache")
    volume_lock.acquire()
    try:
        with pytest.raises(LockedError), locks(tmp_path):
            pass
    finally:
        volume_lock.release()

    assert not is_held(tmp_path / "report" / ".renovate-runner.lock")


def test_the_run_lock_is_held_during_the_sweep_and_its_file_removed_after(tmp_path: Path) -> None:
    with locks(tmp_path, run_id="build-7") as sweep:
        run_lock = sweep.run_lock.path
        assert run_lock == run_lock_path(tmp_path / "state", "build-7")
        assert is_held(run_lock)

    assert not run_lock.exists()
    assert not is_held(run_lock)


def test_the_run_lock_file_is_removed_when_the_sweep_fails(tmp_path: Path) -> None:
    sweep = locks(tmp_path)

    def failing_sweep() -> None:
        with sweep:
            raise RuntimeError("the sweep broke")

    with pytest.raises(RuntimeError, match="the sweep broke"):
        failing_sweep()

    assert not sweep.run_lock.path.exists()
    assert not is_held(tmp_path / "report" / ".renovate-runner.lock")


def test_a_lock_file_records_its_holder(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "a.lock", "a thing")
    lock.acquire()
    try:
        assert (tmp_path / "a.lock").read_text() == f"{os.getpid()}\n"
    finally:
        lock.release()


def test_is_held_is_false_for_a_missing_file(tmp_path: Path) -> None:
    assert not is_held(tmp_path / "never-created.lock")


def test_is_held_follows_acquire_and_release(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "runs" / "x.lock", "run id x")
    lock.acquire()
    assert is_held(lock.path)

    lock.release()

    assert lock.path.exists()
    assert not is_held(lock.path)


def test_a_lock_held_by_another_process_is_seen_and_refused(tmp_path: Path) -> None:
    path = tmp_path / "report" / ".renovate-runner.lock"
    path.parent.mkdir()

    with held_by_another_process(path) as holder:
        assert is_held(path)
        with pytest.raises(LockedError), locks(tmp_path):
            pass
        assert holder.stdin is not None
        holder.stdin.close()  # the holder ends normally
        holder.wait(timeout=10)

        assert not is_held(path)
        with locks(tmp_path):
            pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "crashed.lock"
    path.parent.mkdir()

    with held_by_another_process(path) as holder:
        assert is_held(path)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)

        assert path.exists()
        assert not is_held(path)


def test_state_dir_comes_from_the_environment(tmp_path: Path) -> None:
    assert default_state_dir({STATE_DIR_ENV: str(tmp_path / "explicit")}) == tmp_path / "explicit"
    assert default_state_dir({"XDG_STATE_HOME": str(tmp_path / "xdg")}) == tmp_path / "xdg" / "renovate-runner"
    assert default_state_dir({}) == Path.home() / ".local" / "state" / "renovate-runner"


def test_run_ids_and_volume_names_become_safe_file_names(tmp_path: Path) -> None:
    assert run_lock_path(tmp_path, "../../etc/passwd").parent == tmp_path / "runs"
    with locks(tmp_path, volume="team/cache:1"):
        assert is_held(tmp_path / "state" / "volumes" / "team_cache_1.lock")


def test_a_second_sweep_on_the_same_cache_directory_is_refused(tmp_path: Path) -> None:
    def directory_locks(report_dir: str, run_id: str, cache: Path) -> SweepLocks:
        return SweepLocks(
            state_dir=tmp_path / "state", run_id=run_id, report_dir=tmp_path / report_dir, cache_directory=cache
        )

    cache = tmp_path / "cache"
    with (
        directory_locks("report-a", "first", cache),
        pytest.raises(LockedError, match=f"another sweep is using the cache directory {cache}"),
        directory_locks("report-b", "second", tmp_path / "elsewhere" / ".." / "cache"),  # the same, spelt otherwise
    ):
        pass
    with directory_locks("report-a", "first", cache), directory_locks("report-b", "second", tmp_path / "other"):
        pass  # another directory is another cache

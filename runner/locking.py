"""Locks that keep sweeps apart: one sweep at a time per report directory and per cache (volume or directory).

Each run also holds a lock of its own for as long as it lives; its containers carry that lock's path in a label, so
a later run can tell leftovers of a dead run (lock free) from containers of a sweep that is still running (lock held).
`flock` locks vanish with the process that held them, so a crashed or killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

from runner.errors import LockedError

STATE_DIR_ENV = "RENOVATE_RUNNER_STATE_DIR"


def default_state_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if explicit := env.get(STATE_DIR_ENV):
        return Path(explicit)
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "renovate-runner"


def cache_lock(state_dir: Path, *, volume: str | None, directory: Path | None) -> FileLock:
    """The lock of one cache: a volume by its name, a directory by its resolved path (exactly one is given)."""
    if (volume is None) == (directory is None):
        raise ValueError("a cache is a volume or a directory")
    if directory is not None:
        # The path may be long or hold any character; its digest names the lock, and the message names the path.
        resolved = directory.resolve()
        digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:32]
        return FileLock(state_dir / "directories" / f"{digest}.lock", f"the cache directory {resolved}")
    return FileLock(state_dir / "volumes" / f"{_safe(str(volume))}.lock", f"the cache volume {volume}")


def run_lock_path(state_dir: Path, run_id: str) -> Path:
    return state_dir / "runs" / f"{_safe(run_id)}.lock"


def lock_namespace() -> str:
    """Where a lock file's path names the file this process would open: this boot of the machine and this process's
    mount namespace. Runners that share an engine can see different files under one path (a runner in a container,
    with the engine's socket mounted, beside one on the host), so a run's containers carry this next to their lock's
    path, and only a runner in the same namespace judges that lock (engine.remove_leftovers)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}:{Path('/proc/self/ns/mnt').readlink()}"
    except OSError:  # not Linux: the host's name is as far as this can tell
        return os.uname().nodename


class FileLock:
    """An exclusive, non-blocking `flock` on one file."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self._what = what
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(
                f"another sweep is using {self._what} (lock {self.path}); wait for it to finish, "
                "or use another report directory and cache"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def is_held(path: Path) -> bool:
    """Whether some live process holds the lock at `path` (a missing file means nobody does)."""
    try:
        fd = os.open(path, os.O_RDONLY)  # flock needs no write access, so another user's lock file works too
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


class SweepLocks:
    """The three locks of one sweep, taken together and released together."""

    def __init__(
        self,
        *,
        state_dir: Path,
        run_id: str,
        report_dir: Path,
        cache_volume: str | None = None,
        cache_directory: Path | None = None,
    ) -> None:
        self.run_lock = FileLock(run_lock_path(state_dir, run_id), f"run id {run_id}")
        self._locks = [
            FileLock(report_dir / ".renovate-runner.lock", f"the report directory {report_dir}"),
            cache_lock(state_dir, volume=cache_volume, directory=cache_directory),
            self.run_lock,
        ]
        self._stack = ExitStack()

    def __enter__(self) -> SweepLocks:
        with ExitStack() as stack:
            for lock in self._locks:
                lock.acquire()
                stack.callback(lock.release)
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()
        self.run_lock.path.unlink(missing_ok=True)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)

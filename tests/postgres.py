"""A real PostgreSQL server for the history store's tests: Debian's `postgresql` package, started per session.

`initdb` and `pg_ctl` refuse to run as root, and the tests run as root in CI: the server then runs as `nobody`,
in a data directory handed to that user. It listens on 127.0.0.1 only, on a free port, with a socket directory of
its own, and trusts local connections (a throwaway server). Each test gets a database of its own.

The fixtures `postgres` and `store_url` (the history store on both back ends) are registered in tests/unit/conftest.py.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from runner.history.database import sqlite_url

_BIN_DIRS = ("/usr/lib/postgresql/15/bin", *sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin")), reverse=True))
_UNPRIVILEGED = "nobody"
_START_TIMEOUT_S = "60"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    _databases: itertools.count[int]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database; returns its URL."""
        name = f"history_{next(self._databases)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _bin_dir() -> Path:
    for candidate in _BIN_DIRS:
        if (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    pytest.fail("PostgreSQL is not installed (initdb not found); run scripts/setup.sh, which installs postgresql")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user() -> dict[str, object]:
    """subprocess arguments that run the server as an unprivileged user when the tests run as root."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam(_UNPRIVILEGED)
    return {"user": user.pw_uid, "group": user.pw_gid, "cwd": "/"}


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="renovate-runner-pg-"))
    run_as = _as_server_user()
    if run_as:
        os.chown(root, int(str(run_as["user"])), int(str(run_as["group"])))
    data, log = root / "data", root / "server.log"
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"}
    try:
        subprocess.run(
            [bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            env=env,
            **run_as,  # type: ignore[call-overload]
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
        started = subprocess.run(
            [bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "-t", _START_TIMEOUT_S, "start"],
            check=False,
            capture_output=True,
            env=env,
            **run_as,  # type: ignore[call-overload]
        )
        if started.returncode != 0:
            pytest.fail(f"PostgreSQL did not start: {started.stderr.decode()}\n{log.read_text(errors='replace')}")
        yield PostgresServer(port, itertools.count())
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
                check=False,
                capture_output=True,
                env=env,
                **run_as,  # type: ignore[call-overload]
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(name="postgres", scope="session")
def postgres_fixture() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session."""
    with running_postgres() as server:
        yield server


@pytest.fixture(name="store_url", params=["sqlite", "postgresql"])
def store_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty history store on each back end: a SQLite file, and a new database on the server."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "state" / "history.sqlite")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()

"""A Docker engine of the test's own, for tests that stop it under a running sweep and start it again.

`PrivateEngine` runs `dockerd` as a child of the test with its own socket, data root, exec root (and so its own
containerd), pid file, configuration file and cgroup parent, in a network namespace of its own (`unshare --net`), so
its default bridge is its own too: stopping it touches nothing of the shared engine the other tests use. It is
stopped by its process id.

No registry is reachable, and the Renovate images are hundreds of megabytes, so the engine gets a tiny image instead:
the scripted Renovate's `renovate.sh` (tests/integration/scripted) on a root file system of the host's own `sh`,
the few commands the script and the runner's cache preparation call, and their libraries, imported as one layer.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import docker
import docker.errors

from tests.integration.scripted import RECIPE_DIR

TINY_IMAGE = "renovate-runner/tiny-scripted-renovate:test"
# What renovate.sh and the runner's cache preparation run (`chown`, `chmod`, `touch`, `rm`), besides shell builtins.
COMMANDS = ("sh", "cat", "date", "sleep", "touch", "rm", "chown", "chmod", "mkdir")
_START_TIMEOUT_S = 60
_STOP_TIMEOUT_S = 60
_LIBRARY = re.compile(r"(/\S+) \(0x[0-9a-f]+\)$")


class PrivateEngine:
    """A context manager; `start` and `stop` may be called again in between, on the same data root."""

    def __init__(self) -> None:
        # Short: containerd's sockets live below the exec root, and a socket path may hold only 107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="rr-dockerd-", dir="/tmp"))
        self.socket = self.root / "docker.sock"
        self.log = self.root / "dockerd.log"
        (self.root / "daemon.json").write_text("{}\n")  # none of the host's /etc/docker/daemon.json
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        command = [
            "unshare", "--net",  # execs dockerd (no fork), so the child's pid is dockerd's
            "dockerd",
            "--host", self.url,
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "docker.pid"),
            "--config-file", str(self.root / "daemon.json"),
            "--cgroup-parent", f"renovate-runner-private-{self.root.name}",
            "--iptables=false",
            "--shutdown-timeout", "2",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the private dockerd exited ({self._process.returncode}):\n{self._log_tail()}")
            if self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the private dockerd did not answer within {_START_TIMEOUT_S}s:\n{self._log_tail()}")

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it (it stops its containers first); SIGKILL if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, timeout=60)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        client = self.client()
        try:
            client.ping()
        except docker.errors.DockerException:
            return False
        finally:
            client.close()
        return True

    def _log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


def import_tiny_image(client: docker.DockerClient) -> str:
    """The tiny scripted Renovate, imported into the engine `client` talks to; returns its reference."""
    repository, tag = TINY_IMAGE.rsplit(":", 1)
    client.api.import_image_from_data(
        _rootfs(),
        repository=repository,
        tag=tag,
        changes=[
            "USER 12021",  # Renovate's user, as in its image
            "WORKDIR /usr/src/app",
            "ENV PATH=/bin",
            'ENTRYPOINT ["/bin/sh", "/usr/local/lib/scripted-renovate/renovate.sh"]',
        ],
    )
    return TINY_IMAGE


def _rootfs() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in ("bin", "tmp", "usr/src/app", "usr/local/lib/scripted-renovate", "etc"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        files: dict[str, Path] = {"usr/local/lib/scripted-renovate/renovate.sh": RECIPE_DIR / "renovate.sh"}
        for command in COMMANDS:
            binary = Path(shutil.which(command) or f"/bin/{command}").resolve()
            files[f"bin/{command}"] = binary
            for library in _libraries(binary):
                files[library.lstrip("/")] = Path(library).resolve()
        for name, source in sorted(files.items()):
            _add_parents(tar, name)
            tar.add(source, arcname=name, recursive=False)
    return buffer.getvalue()


def _libraries(binary: Path) -> list[str]:
    """The shared libraries `binary` loads, by the paths the loader finds them at (its own included)."""
    output = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    return [match[1] for line in output.splitlines() if (match := _LIBRARY.search(line.strip()))]


def _add_parents(tar: tarfile.TarFile, name: str) -> None:
    parts = name.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        directory = "/".join(parts[:depth])
        if directory not in tar.getnames():
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)

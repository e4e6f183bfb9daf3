"""The evidence for "no token leaks": every secret the identity doubles handed out during the Azure DevOps
end-to-end tests, and everything the product wrote while those tests ran, scanned at the end of the session.

The tests of this package add to one process-wide `WITNESS` as they go (the organization of each test does it
when it closes); the last test of the package (`test_7_no_token_leaks.py`) scans. A secret may appear only on
the lines Azure Pipelines masks: `##vso[task.setsecret]<secret>` and `##vso[task.setvariable ...;issecret=true]`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

# The two logging commands after which the agent masks the value in every later line of the log.
_MASKING_COMMANDS: Final = (
    re.compile(r"^##vso\[task\.setsecret\](?P<value>[^\r\n]*)$"),
    re.compile(r"^##vso\[task\.setvariable [^\]]*\bissecret=true\b[^\]]*\](?P<value>[^\r\n]*)$", re.IGNORECASE),
)


@dataclass(frozen=True, kw_only=True)
class Leak:
    """Where a secret was found: the output's label (a command or a file) and the line, with the secret cut out."""

    where: str
    line_number: int
    secret_kind: str
    line: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line_number}: {self.secret_kind} in: {self.line[:200]}"


def allowed(line: str, secret: str) -> bool:
    """Whether `line` is one of the commands that mask `secret` in Azure Pipelines, carrying exactly it."""
    stripped = line.strip()
    return any((match := command.match(stripped)) and match["value"] == secret for command in _MASKING_COMMANDS)


def find_leaks(where: str, text: str, secrets: dict[str, str]) -> list[Leak]:
    """Every line of `text` that holds one of `secrets` (value -> kind) outside a masking command."""
    present = {secret: kind for secret, kind in secrets.items() if secret in text}
    leaks = []
    for number, line in enumerate(text.splitlines(), start=1):
        for secret, kind in present.items():
            if secret in line and not allowed(line, secret):
                leaks.append(Leak(where=where, line_number=number, secret_kind=kind, line=line.replace(secret, "<>")))
    return leaks


class LeakWitness:
    """Secrets and outputs, gathered from many tests; thread-safe so fixtures may add from any thread."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}  # value -> what it is, for the failure message
        self._texts: list[tuple[str, str]] = []  # (where, text)
        self._directories: list[Path] = []
        self._lock = threading.Lock()

    def add_secrets(self, kind: str, values: Iterable[str]) -> None:
        with self._lock:
            self._secrets.update({value: kind for value in values if value})

    def add_text(self, where: str, text: str) -> None:
        with self._lock:
            self._texts.append((where, text))

    def add_directory(self, directory: Path) -> None:
        """A directory whose files are all read at scan time (reports, logs, configuration)."""
        with self._lock:
            self._directories.append(directory)

    @property
    def secrets(self) -> dict[str, str]:
        with self._lock:
            return dict(self._secrets)

    def outputs(self) -> list[tuple[str, str]]:
        """Every text to scan: the texts added, then each file under the directories, as it is now."""
        with self._lock:
            texts, directories = list(self._texts), list(self._directories)
        for directory in directories:
            for path in sorted(directory.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    texts.append((str(path), path.read_bytes().decode("utf-8", errors="replace")))
        return texts

    def scan(self) -> list[Leak]:
        secrets = self.secrets
        return [leak for where, text in self.outputs() for leak in find_leaks(where, text, secrets)]


WITNESS: Final = LeakWitness()

"""What is wrong with a configuration: one `ConfigProblem` per mistake, raised together in `ConfigInvalid`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from runner.errors import ConfigError


@dataclass(frozen=True)
class ConfigProblem:
    """One mistake: the file, its 1-based line if known, the dotted key path (may be empty), what to do."""

    file: Path
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        location = str(self.file) if self.line is None else f"{self.file}:{self.line}"
        return f"{location}: {self.key}: {self.message}" if self.key else f"{location}: {self.message}"


class ConfigInvalid(ConfigError):
    """The configuration has at least one problem; every problem found is listed, and nothing was started."""

    def __init__(self, problems: Iterable[ConfigProblem], config_dir: Path | None = None) -> None:
        self.problems = tuple(problems)
        self.config_dir = config_dir
        count = len(self.problems)
        where = f" in {config_dir}" if config_dir is not None else ""
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(
            f"the configuration{where} has {count} problem{'s' if count != 1 else ''}:\n{lines}\n"
            "Fix them and run again; nothing was started."
        )

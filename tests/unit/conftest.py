"""Unit tests build configurations the way users do: YAML files on disk, loaded by `load_config`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from runner.config import SweepConfig, load_config

ConfigFactory = Callable[..., SweepConfig]


@pytest.fixture
def make_config(tmp_path: Path) -> ConfigFactory:
    """`make_config(runner_yaml, {"name.yaml": text, ...})` -> the loaded `SweepConfig` (local dirs are created)."""

    def make(runner_yaml: str, repos: Mapping[str, str], *, local_dirs: tuple[str, ...] = ()) -> SweepConfig:
        config = tmp_path / "config"
        (config / "repos").mkdir(parents=True, exist_ok=True)
        (config / "runner.yaml").write_text(runner_yaml)
        for name, text in repos.items():
            (config / "repos" / name).write_text(text)
        for directory in local_dirs:
            (tmp_path / directory).mkdir(parents=True, exist_ok=True)
        return load_config(config)

    return make

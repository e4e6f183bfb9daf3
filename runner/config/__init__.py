"""The configuration: `runner.yaml` and `repos/*.yaml`, validated into frozen objects, all problems at once.

`load_config(dir)` returns a `SweepConfig` or raises `ConfigInvalid`, whose `problems` each name a file, a
line and a key path. `config_json_schema(kind)` gives editors the same rules as JSON Schema.
"""

from runner.auth.settings import AuthMode  # `auth.mode` takes its names from the auth modes
from runner.config.loader import load_config
from runner.config.merge import merge_options
from runner.config.models import (
    DEFAULT_IMAGE,
    AuthConfig,
    CacheConfig,
    Discover,
    Endpoints,
    Limits,
    LogLevel,
    RenovateSettings,
    RepoConfig,
    RepoSettings,
    RunnerConfig,
    SweepConfig,
)
from runner.config.problems import ConfigInvalid, ConfigProblem
from runner.config.schema import config_json_schema

__all__ = [
    "DEFAULT_IMAGE",
    "AuthConfig",
    "AuthMode",
    "CacheConfig",
    "ConfigInvalid",
    "ConfigProblem",
    "Discover",
    "Endpoints",
    "Limits",
    "LogLevel",
    "RenovateSettings",
    "RepoConfig",
    "RepoSettings",
    "RunnerConfig",
    "SweepConfig",
    "config_json_schema",
    "load_config",
    "merge_options",
]

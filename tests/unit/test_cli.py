"""The command line as a user meets it: `main(argv)`, its exit codes, and the messages on stdout and stderr.

No container engine is involved: the unit tests' DOCKER_HOST names a socket that does not exist, so a run that
gets past configuration, authentication and locks ends at the engine step with exit code 4.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from runner import __version__, cli
from runner.cli import EX_SOFTWARE, build_parser, main
from runner.commands import validate as validate_command
from runner.config import DEFAULT_IMAGE, SweepConfig
from runner.locking import STATE_DIR_ENV, FileLock, is_held
from runner.secrets import register_secret
from tests.unit.auth.fakes import jwt_expiring
from tests.unit.conftest import NO_ENGINE_DOCKER_HOST, ConfigFactory

PROJECT_ROOT = Path(__file__).parents[2]
RUNNER_YAML = """\
organization: https://dev.azure.com/contoso/
auth:
  mode: token-env
cache:
  volume: unit-test-cache
"""
AZURE_REPO = {"api.yaml": "repository: Platform/api\n"}
LOCAL_REPO = {"sample.yaml": "local: ../../sample\n"}
MESSAGE_PREFIX = "renovate-runner: "


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    @property
    def messages(self) -> list[str]:
        """What the CLI itself told the user on stderr (log events are there too, as JSON lines)."""
        return [line.removeprefix(MESSAGE_PREFIX) for line in self.err.splitlines() if line.startswith(MESSAGE_PREFIX)]

    @property
    def message(self) -> str:
        [message] = self.messages
        return message


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> CliResult:
    code = main(list(argv))
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Lock files go under the test's directory; the process environment carries no token and no pipeline."""
    path = tmp_path / "state"
    monkeypatch.setenv(STATE_DIR_ENV, str(path))
    for name in ("RENOVATE_TOKEN", "TF_BUILD", "BUILD_BUILDID"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def both_repos(make_config: ConfigFactory) -> SweepConfig:
    return make_config(RUNNER_YAML, {**AZURE_REPO, **LOCAL_REPO}, local_dirs=("sample",))


@pytest.fixture
def local_only(make_config: ConfigFactory) -> SweepConfig:
    return make_config(RUNNER_YAML, LOCAL_REPO, local_dirs=("sample",))


def a_jwt() -> str:
    """An Entra-shaped access token minted for this test run; it expires in an hour."""
    return jwt_expiring(datetime.now(UTC) + timedelta(hours=1), appid="app-id", oid="object-id", tid="tenant-id")


def a_pat() -> str:
    # Shaped like an Azure DevOps Personal Access Token: 52 base32 characters, no dots.
    return base64.b32encode(secrets.token_bytes(35)).decode().lower()[:52]


def assert_no_traceback(result: CliResult) -> None:
    assert "Traceback" not in result.err


# --- version, schema, validate ---


def test_version_prints_the_program_its_version_and_the_default_renovate_image(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])

    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"renovate-runner {__version__}\ndefault Renovate image: {DEFAULT_IMAGE}\n"


def test_the_version_is_the_one_in_pyproject() -> None:
    # One version number in one place: pyproject.toml; the package reads it from its installed metadata.
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert __version__ == pyproject["project"]["version"]


@pytest.mark.parametrize(("kind", "example"), [("runner", "runner.yaml"), ("repo", "repos/platform-api.yaml")])
def test_schema_prints_one_usable_json_schema_per_kind(
    capsys: pytest.CaptureFixture[str], kind: str, example: str
) -> None:
    result = invoke(capsys, "schema", "--kind", kind)

    assert result.code == 0
    schema = json.loads(result.out)
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert f"{kind}.schema.json" in {path.name for path in (PROJECT_ROOT / "docs" / "schemas").iterdir()}
    assert result.out == (PROJECT_ROOT / "docs" / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")
    # Usable by an editor: the shipped configuration passes, a misspelled key does not.
    jsonschema.validate(load_yaml(PROJECT_ROOT / "config" / example), schema)
    with pytest.raises(jsonschema.ValidationError, match="concurency"):
        jsonschema.validate({"concurency": 4}, schema)


def test_schema_of_the_runner_kind_is_that_schema_alone(capsys: pytest.CaptureFixture[str]) -> None:
    schema = json.loads(invoke(capsys, "schema", "--kind", "runner").out)

    assert "runner.yaml" in schema["title"]
    assert "concurrency" in schema["properties"]
    assert "repository" not in schema["properties"]


def test_schema_without_a_kind_is_a_usage_error_naming_the_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["schema"])

    assert exit_info.value.code == 2
    assert "the following arguments are required: --kind" in capsys.readouterr().err


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_validate_prints_a_summary_of_a_good_configuration(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig
) -> None:
    result = invoke(capsys, "validate", "--config", str(both_repos.config_dir))

    assert result.code == 0
    assert result.out == f"{both_repos.config_dir}: valid; 2 repositories (2 enabled, 1 local)\n"
    assert result.messages == []


def test_validate_names_file_line_and_key_of_a_mistake(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig
) -> None:
    runner_yaml = both_repos.config_dir / "runner.yaml"
    runner_yaml.write_text(RUNNER_YAML + "concurency: 3\n")

    result = invoke(capsys, "validate", "--config", str(both_repos.config_dir))

    assert result.code == 2
    assert result.out == ""
    assert f"{runner_yaml}:6: concurency: unknown key 'concurency'; did you mean 'concurrency'?" in result.err
    assert "nothing was started" in result.err
    assert_no_traceback(result)


def test_validate_refuses_an_alias_bomb_by_its_limit_without_a_traceback(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig
) -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    repo_file = both_repos.config_dir / "repos" / "api.yaml"
    repo_file.write_text("repository: Platform/api\nrenovate:\n" + "".join(f"  {line}\n" for line in levels))

    result = invoke(capsys, "validate", "--config", str(both_repos.config_dir))

    assert result.code == 2
    assert f"{repo_file}:7: renovate.a4[0]: aliases expand the file to more than 10000 values (the limit)" in result.err
    assert_no_traceback(result)


def test_a_bad_option_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--concurrency", "0"])

    assert exit_info.value.code == 2
    assert "--concurrency: must be at least 1" in capsys.readouterr().err


# Each flag that overrides a key of runner.yaml, the key (as the problem names it), and the YAML that sets it.
FLAG_OVERRIDES = {
    "--concurrency": ("concurrency", "concurrency: {value}\n"),
    "--image": ("renovate.image", "renovate:\n  image: {value}\n"),
    "--report-dir": ("report_dir", "report_dir: {value}\n"),
    "--cache-dir": ("cache.directory", "cache:\n  directory: {value}\n"),
}


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--concurrency", "1000"),
        ("--concurrency", "0"),
        ("--concurrency", "four"),
        ("--image", "renovate/renovate latest"),
        ("--report-dir", "{a_file}"),
        ("--report-dir", "' '"),
        ("--cache-dir", "{a_file}"),
    ],
)
def test_a_flag_is_refused_in_the_words_the_configuration_key_it_overrides_gets(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig, flag: str, value: str
) -> None:
    a_file = both_repos.config_dir / "a-file"
    a_file.write_text("not a directory\n")
    value = value.format(a_file=a_file)
    key, yaml_text = FLAG_OVERRIDES[flag]
    runner_yaml = both_repos.config_dir / "runner.yaml"
    base = RUNNER_YAML.replace("cache:\n  volume: unit-test-cache\n", "") if key.startswith("cache.") else RUNNER_YAML
    runner_yaml.write_text(base + yaml_text.format(value=value))
    from_file = invoke(capsys, "validate", "--config", str(both_repos.config_dir))
    file_message = from_file.err.split(f"{key}: ", 1)[1].splitlines()[0]

    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--config", str(both_repos.config_dir), flag, value.strip("'")])

    assert (from_file.code, exit_info.value.code) == (2, 2)
    assert f"argument {flag}: {file_message}\n" in capsys.readouterr().err


def test_the_concurrency_flag_takes_auto(both_repos: SweepConfig) -> None:
    namespace = build_parser().parse_args(["run", "--config", str(both_repos.config_dir), "--concurrency", "auto"])
    assert namespace.concurrency == "auto"


# --- global flags: before or after the subcommand ---


def subcommand_paths(parser: argparse.ArgumentParser) -> list[list[str]]:
    """Every runnable command path of the parser (`run`, `report merge`, ...), read from argparse itself."""
    paths: list[list[str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                paths.extend([name, *rest] for rest in subcommand_paths(subparser) or [[]])
    return paths


# What a command cannot parse without; the flags are checked with these in place.
REQUIRED_ARGUMENTS = {
    "schema": ["--kind", "runner"],
    "publish-extension": ["--vsix", "x.vsix"],
    "marketplace-events": ["--publisher", "contoso", "--extension", "tasks"],
    "report merge": ["shard-1", "--out", "merged"],
    "history import": ["old-report"],
}


def test_every_command_is_covered_by_the_global_flag_tests() -> None:
    paths = subcommand_paths(build_parser())
    assert ["run"] in paths
    assert ["report", "merge"] in paths
    assert set(REQUIRED_ARGUMENTS) <= {" ".join(path) for path in paths}


@pytest.mark.parametrize("path", subcommand_paths(build_parser()), ids=" ".join)
@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), ("info", "auto")),
        (("--log-level", "debug", "--log-format", "json"), ("debug", "json")),
    ],
    ids=["defaults", "given"],
)
def test_global_flags_are_accepted_before_and_after_every_command(
    path: list[str], flags: tuple[str, ...], expected: tuple[str, str]
) -> None:
    parser = build_parser()
    command = [*path, *REQUIRED_ARGUMENTS.get(" ".join(path), [])]
    for argv in ([*flags, *command], [*command, *flags]):
        namespace = parser.parse_args(argv)
        assert (namespace.log_level, namespace.log_format) == expected, argv


def test_a_global_flag_before_the_command_is_not_reset_by_the_command() -> None:
    namespace = build_parser().parse_args(["--log-level", "debug", "validate"])
    assert namespace.log_level == "debug"


def test_a_global_flag_after_the_command_wins_over_one_before() -> None:
    namespace = build_parser().parse_args(["--log-format", "json", "validate", "--log-format", "console"])
    assert namespace.log_format == "console"


def test_a_bad_global_flag_after_the_command_names_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--log-level", "verbose"])

    assert exit_info.value.code == 2
    assert "argument --log-level: invalid choice: 'verbose' (choose from" in capsys.readouterr().err


def test_the_flags_after_the_command_configure_the_log(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured: list[dict[str, object]] = []
    monkeypatch.setattr(cli, "configure_logging", lambda **kwargs: configured.append(kwargs))

    result = invoke(
        capsys, "validate", "--config", str(both_repos.config_dir), "--log-level", "debug", "--log-format", "json"
    )

    assert result.code == 0
    assert [(call["level"], call["json"]) for call in configured] == [("debug", True)]


# --- run: what stops a sweep before it starts, in order ---


@pytest.mark.usefixtures("state_dir")
def test_run_with_an_invalid_configuration_exits_2_and_starts_nothing(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig
) -> None:
    (both_repos.config_dir / "repos" / "api.yaml").write_text("repository: Platform/api\ntimeout: soon\n")

    result = invoke(capsys, "run", "--config", str(both_repos.config_dir))

    assert result.code == 2
    assert f"{both_repos.config_dir / 'repos' / 'api.yaml'}:2: timeout:" in result.err
    assert not both_repos.runner.report_dir.exists()
    assert_no_traceback(result)


@pytest.mark.usefixtures("state_dir")
def test_run_with_an_unknown_repo_exits_2_and_lists_the_configured_names(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig
) -> None:
    result = invoke(capsys, "run", "--config", str(both_repos.config_dir), "--repo", "Platform/nope")

    assert result.code == 2
    assert result.message == "--repo Platform/nope: not in the configuration; configured: Platform/api, local/sample"
    assert not both_repos.runner.report_dir.exists()


@pytest.mark.usefixtures("state_dir")
def test_run_without_the_token_variable_exits_3_and_says_what_to_do(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig
) -> None:
    result = invoke(capsys, "run", "--config", str(both_repos.config_dir))

    assert result.code == 3
    assert result.message.startswith("auth mode 'token-env' cannot run here")
    assert "RENOVATE_TOKEN is unset" in result.message
    assert "What to do: put a current Entra ID access token for Azure DevOps in RENOVATE_TOKEN" in result.message
    assert not both_repos.runner.report_dir.exists()
    assert_no_traceback(result)


@pytest.mark.usefixtures("state_dir")
def test_run_refuses_a_personal_access_token_with_exit_3(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    pat = a_pat()
    monkeypatch.setenv("RENOVATE_TOKEN", pat)

    result = invoke(capsys, "run", "--config", str(both_repos.config_dir))

    assert result.code == 3
    assert "auth mode 'token-env' could not get an Azure DevOps token" in result.message
    assert "Personal Access Tokens (PATs) are not supported" in result.message
    assert pat not in result.out + result.err
    assert not both_repos.runner.report_dir.exists()
    assert_no_traceback(result)


def test_run_with_a_token_but_no_engine_exits_4_and_says_how_to_start_it(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig, monkeypatch: pytest.MonkeyPatch, state_dir: Path
) -> None:
    token = a_jwt()
    monkeypatch.setenv("RENOVATE_TOKEN", token)

    result = invoke(capsys, "run", "--config", str(both_repos.config_dir))

    assert result.code == 4
    assert result.message.startswith("cannot reach the Docker engine")
    assert "start it (scripts/setup.sh does) or point DOCKER_HOST at a running one" in result.message
    assert token not in result.out + result.err
    assert_no_traceback(result)
    # Nothing ran, and the locks were given back.
    report_dir = both_repos.runner.report_dir
    assert not (report_dir / "report.json").exists()
    assert not is_held(report_dir / ".renovate-runner.lock")
    assert list((state_dir / "runs").iterdir()) == []


@pytest.mark.usefixtures("state_dir")
def test_run_with_only_local_repositories_needs_no_token(
    capsys: pytest.CaptureFixture[str], local_only: SweepConfig
) -> None:
    result = invoke(capsys, "run", "--config", str(local_only.config_dir))

    assert result.code == 4  # past authentication (no token variable is set) and the locks, up to the engine
    assert result.message.startswith("cannot reach the Docker engine")


@pytest.mark.usefixtures("state_dir")
def test_selecting_only_local_repositories_needs_no_token(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig
) -> None:
    result = invoke(capsys, "run", "--config", str(both_repos.config_dir), "--repo", "local/sample")

    assert result.code == 4


@pytest.mark.usefixtures("state_dir")
def test_run_exits_5_and_names_the_lock_when_another_sweep_holds_the_report_dir(
    capsys: pytest.CaptureFixture[str], local_only: SweepConfig
) -> None:
    report_dir = local_only.runner.report_dir
    lock = FileLock(report_dir / ".renovate-runner.lock", "the report directory")
    lock.acquire()
    try:
        result = invoke(capsys, "run", "--config", str(local_only.config_dir))
    finally:
        lock.release()

    assert result.code == 5
    assert result.message.startswith(f"another sweep is using the report directory {report_dir}")
    assert f"(lock {report_dir / '.renovate-runner.lock'})" in result.message
    assert "Docker" not in result.err  # the locks come before the engine
    assert_no_traceback(result)


def test_run_with_a_token_and_held_lock_exits_5_without_showing_the_token(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig, monkeypatch: pytest.MonkeyPatch, state_dir: Path
) -> None:
    token = a_jwt()
    monkeypatch.setenv("RENOVATE_TOKEN", token)
    lock = FileLock(state_dir / "volumes" / "unit-test-cache.lock", "the cache volume")
    lock.acquire()
    try:
        result = invoke(capsys, "run", "--config", str(both_repos.config_dir))
    finally:
        lock.release()

    assert result.code == 5
    assert "another sweep is using the cache volume unit-test-cache" in result.message
    assert token not in result.out + result.err


# --- run in Azure Pipelines ---


def test_in_a_pipeline_the_token_is_masked_first_and_appears_nowhere_else(
    capsys: pytest.CaptureFixture[str], both_repos: SweepConfig, monkeypatch: pytest.MonkeyPatch, state_dir: Path
) -> None:
    token = a_jwt()
    monkeypatch.setenv("RENOVATE_TOKEN", token)
    monkeypatch.setenv("TF_BUILD", "True")

    result = invoke(capsys, "run", "--config", str(both_repos.config_dir))

    assert result.code == 4
    assert result.out.splitlines()[0] == f"##vso[task.setsecret]{token}"
    assert result.out.count(token) == 1
    assert token not in result.err


# --- errors that are bugs ---


def test_an_internal_error_keeps_the_traceback_but_not_a_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = a_jwt()
    register_secret(token)

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError(f"unexpected answer carrying {token}")

    monkeypatch.setattr(validate_command, "run", broken)

    result = invoke(capsys, "validate")

    assert result.code == EX_SOFTWARE
    assert "Traceback" in result.err
    assert "RuntimeError: unexpected answer carrying **redacted**" in result.err
    assert result.messages[-1] == "internal error; please report it with the traceback above"
    assert token not in result.err


def test_the_unit_tests_engine_socket_does_not_exist() -> None:
    # The exit-4 cases above prove the engine step only while this holds.
    assert not Path(NO_ENGINE_DOCKER_HOST.removeprefix("unix://")).exists()

"""`renovate-runner token` as a pipeline step and a shell meet it: where the token may go, and every way it fails."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from runner.cli import main
from tests.unit.sign_in import APP_ID, OBJECT_ID, a_jwt, fake_az

PREFIX = "renovate-runner: "


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    code = main(["--log-format", "json", "token", *argv])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def message(result: Result) -> str:
    """What the CLI told the user on stderr, without the log events (JSON lines)."""
    text = "\n".join(line for line in result.err.splitlines() if not line.startswith("{"))
    assert text.startswith(PREFIX)
    return text


@pytest.fixture
def token(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    value = a_jwt()
    monkeypatch.setenv("RENOVATE_TOKEN", value)
    return value


@pytest.fixture
def in_pipeline(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_BUILD", "True")


def stdout_is_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Called in the test body: pytest swaps in capsys's stream only once the test itself starts.
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)


# --- in Azure Pipelines ---


@pytest.mark.usefixtures("in_pipeline")
def test_in_a_pipeline_it_masks_the_token_then_sets_the_secret_variable(
    capsys: pytest.CaptureFixture[str], token: str
) -> None:
    result = invoke(capsys, "--mode", "token-env")

    assert result.code == 0
    assert result.out.splitlines() == [
        f"##vso[task.setsecret]{token}",
        f"##vso[task.setvariable variable=RENOVATE_TOKEN;issecret=true;]{token}",
    ]
    assert token not in result.err
    # What the step's log shows instead: which identity, until when, and how later steps use it.
    note = message(result)
    assert f"appid={APP_ID}" in note
    assert f"oid={OBJECT_ID}" in note
    assert "valid until" in note
    assert "env: {RENOVATE_TOKEN: $(RENOVATE_TOKEN)}" in note


@pytest.mark.usefixtures("in_pipeline")
def test_the_variable_name_is_configurable(capsys: pytest.CaptureFixture[str], token: str) -> None:
    result = invoke(capsys, "--mode", "token-env", "--variable", "IntegrationTestingToken")

    assert result.code == 0
    assert (
        result.out.splitlines()[1] == f"##vso[task.setvariable variable=IntegrationTestingToken;issecret=true;]{token}"
    )
    assert "env: {IntegrationTestingToken: $(IntegrationTestingToken)}" in message(result)


@pytest.mark.usefixtures("in_pipeline", "token")
@pytest.mark.parametrize("name", ["SECRET_INTEGRATION_TESTING_TOKEN", "secretToken", "Endpoint.Token", "PATH_TOKEN"])
def test_a_name_azure_pipelines_reserves_is_refused_with_an_alternative(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        invoke(capsys, "--mode", "token-env", "--variable", name)

    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "Azure Pipelines keeps variable names that start with" in captured.err
    assert "env: {SECRET_INTEGRATION_TESTING_TOKEN: $(IntegrationTestingToken)}" in captured.err
    assert captured.out == ""


@pytest.mark.usefixtures("in_pipeline", "token")
@pytest.mark.parametrize("name", ["A;B", "A]B", "1ABC", "WITH SPACE", ""])
def test_a_variable_name_that_could_break_the_command_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        invoke(capsys, "--mode", "token-env", "--variable", name)

    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "is not a pipeline variable name" in captured.err
    assert captured.out == ""


@pytest.mark.usefixtures("in_pipeline")
def test_raw_in_a_pipeline_prints_the_token_and_masks_it_through_stderr(
    capsys: pytest.CaptureFixture[str], token: str
) -> None:
    result = invoke(capsys, "--mode", "token-env", "--raw")

    assert result.code == 0
    assert result.out == f"{token}\n"
    # The agent reads logging commands on stderr too; that line is the only other place the token appears.
    [setsecret] = [line for line in result.err.splitlines() if token in line]
    assert setsecret == f"##vso[task.setsecret]{token}"


def test_the_token_of_the_developer_az_sign_in_is_used_in_mode_auto(
    capsys: pytest.CaptureFixture[str], bin_dir: Path
) -> None:
    from_az = a_jwt(appid="az-signed-in-app")
    fake_az(bin_dir, from_az)

    result = invoke(capsys, "--raw")

    assert result.code == 0
    assert result.out == f"{from_az}\n"
    assert "auth mode 'azure-cli'" in message(result)
    assert from_az not in result.err


# --- outside a pipeline: only --raw, only to a pipe or a file ---


def test_raw_to_a_pipe_prints_the_token_alone_and_the_rest_to_stderr(
    capsys: pytest.CaptureFixture[str], token: str
) -> None:
    result = invoke(capsys, "--mode", "token-env", "--raw")

    assert result.code == 0
    assert result.out == f"{token}\n"
    assert token not in result.err
    assert f"appid={APP_ID}" in message(result)


def test_raw_to_a_terminal_is_refused(
    capsys: pytest.CaptureFixture[str], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdout_is_a_terminal(monkeypatch)

    result = invoke(capsys, "--mode", "token-env", "--raw")

    assert result.code == 2
    assert result.out == ""
    assert "refusing to print a token to a terminal" in message(result)
    assert "export RENOVATE_TOKEN=$(renovate-runner token --raw)" in message(result)
    assert token not in result.err


@pytest.mark.usefixtures("in_pipeline")
def test_raw_to_a_terminal_is_refused_in_a_pipeline_too(
    capsys: pytest.CaptureFixture[str], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdout_is_a_terminal(monkeypatch)

    result = invoke(capsys, "--mode", "token-env", "--raw")

    assert result.code == 2
    assert token not in result.out + result.err


def test_without_raw_outside_a_pipeline_it_refuses_and_says_how_to_use_it(
    capsys: pytest.CaptureFixture[str], token: str
) -> None:
    result = invoke(capsys, "--mode", "token-env")

    assert result.code == 2
    assert result.out == ""
    assert "not in Azure Pipelines (TF_BUILD is not True)" in message(result)
    assert "--raw" in message(result)
    assert token not in result.err


def test_a_refused_output_asks_for_no_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An expired token would fail with exit code 3 if it were read; the refusal comes first.
    monkeypatch.setenv("RENOVATE_TOKEN", a_jwt(valid_for=-timedelta(minutes=1)))

    result = invoke(capsys, "--mode", "token-env")

    assert result.code == 2


# --- no token ---


def test_an_unknown_mode_is_a_usage_error(capsys: pytest.CaptureFixture[str], token: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        invoke(capsys, "--mode", "pat", "--raw")

    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "argument --mode: invalid choice: 'pat'" in captured.err
    assert token not in captured.out + captured.err


@pytest.mark.usefixtures("in_pipeline", "bin_dir")
def test_a_missing_token_is_an_auth_error_naming_the_variable(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys, "--mode", "token-env")

    assert result.code == 3
    assert result.out == ""
    assert "auth mode 'token-env' cannot run here" in message(result)
    assert "RENOVATE_TOKEN is unset" in message(result)


@pytest.mark.usefixtures("in_pipeline", "bin_dir")
def test_token_env_reads_the_variable_named_by_token_env(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    value = a_jwt()
    monkeypatch.setenv("TOKEN_FROM_EARLIER_STEP", value)

    result = invoke(capsys, "--mode", "token-env", "--token-env", "TOKEN_FROM_EARLIER_STEP")

    assert result.code == 0
    assert result.out.splitlines()[0] == f"##vso[task.setsecret]{value}"


@pytest.mark.usefixtures("in_pipeline", "bin_dir")
def test_an_expired_token_is_an_auth_error_and_is_not_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expired = a_jwt(valid_for=-timedelta(minutes=2))
    monkeypatch.setenv("RENOVATE_TOKEN", expired)

    result = invoke(capsys, "--mode", "token-env")

    assert result.code == 3
    assert result.out == ""
    assert "the token in RENOVATE_TOKEN expired at" in message(result)
    assert expired not in result.err


@pytest.mark.usefixtures("in_pipeline", "bin_dir")
def test_a_pat_is_refused(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    pat = "a" * 52  # shaped like a Personal Access Token: 52 characters, no dots
    monkeypatch.setenv("RENOVATE_TOKEN", pat)

    result = invoke(capsys, "--mode", "token-env")

    assert result.code == 3
    assert "Personal Access Tokens (PATs) are not supported" in message(result)
    assert pat not in result.out + result.err


@pytest.mark.usefixtures("in_pipeline", "bin_dir")
def test_auto_with_nothing_available_lists_what_it_looked_for(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys)

    assert result.code == 3
    assert result.out == ""
    text = message(result)
    assert "auth mode 'auto' found no way to get an Azure DevOps token" in text
    for mode in ("pipelines", "azure-cli", "workload-identity", "managed-identity", "azd", "token-env"):
        assert f"  {mode}: not applicable" in text

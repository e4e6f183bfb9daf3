"""`renovate-runner validate --renovate` with the real validator of the Renovate image: the exit code and what it
prints for an error and for a warning (tests/e2e/renovate_options has the corpus of mistakes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.cli import main

pytestmark = [pytest.mark.docker]

CORPUS = Path(__file__).resolve().parents[1] / "e2e" / "renovate_options" / "corpus"


def shown(path: Path) -> Path:
    """How the runner prints a file of Renovate's problems: relative to the working directory when below it."""
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


def test_an_error_is_exit_2_naming_file_line_and_key(renovate_image: str, capsys: pytest.CaptureFixture[str]) -> None:
    case = CORPUS / "misspelled-option"

    code = main(["validate", "--renovate", "--config", str(case), "--image", renovate_image])

    assert code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[err.index(f"renovate-runner: the configuration in {case} has 1 problem:") + 1 :] == [
        f"  {shown(case)}/repos/api.yaml:4: renovate.packageRule: Invalid configuration option: packageRule",
        "Fix them and run again; nothing was started.",
    ]


def test_a_warning_is_printed_and_the_configuration_is_valid(
    renovate_image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CORPUS / "needs-migration"

    code = main(["validate", "--renovate", "--config", str(case), "--image", renovate_image])

    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        f"warning: {shown(case)}/runner.yaml:5: renovate.global.baseBranches: needs migration: Renovate now reads "
        'it as baseBranchPatterns: ["main"]; write that instead',
        f"{case}: valid; 1 repositories (1 enabled, 0 local)",
    ]


def test_without_renovate_the_engine_is_not_needed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/no-engine.sock")
    assert main(["validate", "--config", str(CORPUS / "misspelled-option")]) == 0

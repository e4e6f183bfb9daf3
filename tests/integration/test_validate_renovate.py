"""`renovate-runner validate --renovate` with the real validator of the Renovate image: the exit code and what it
prints for an error and for a warning (tests/e2e/renovate_options has the corpus of mistakes)."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest
import structlog.testing

from runner.cli import main
from runner.config import load_config
from runner.renovate.validator import validate_renovate_options

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


def configuration(root: Path, global_options: str) -> Path:
    (root / "repos").mkdir(parents=True)
    (root / "runner.yaml").write_text(
        f"organization: https://dev.azure.com/contoso/\nrenovate:\n  global:\n{global_options}"
    )
    (root / "repos" / "web.yaml").write_text("repository: Platform/web\n")
    return root


def validations(config_dir: Path, image: str, verdicts: Path) -> list[str]:
    """What one check of the configuration did: the validator ran, or a clean verdict was found."""
    with structlog.testing.capture_logs() as logged:
        result = validate_renovate_options(
            load_config(config_dir), docker.from_env(), image, name=None, verdicts=verdicts
        )
    assert result.errors == ()
    return [entry["event"] for entry in logged if entry["event"].startswith("renovate_options_validated")]


def test_options_the_image_found_clean_before_are_not_checked_again(renovate_image: str, tmp_path: Path) -> None:
    verdicts = tmp_path / "verdicts"
    clean = configuration(tmp_path / "clean", "    onboarding: false\n")

    assert validations(clean, renovate_image, verdicts) == ["renovate_options_validated"]
    assert validations(clean, renovate_image, verdicts) == ["renovate_options_validated_before"]

    # Other options are checked again; so are options that drew a warning, every time, so it is never lost.
    changed = configuration(tmp_path / "changed", "    onboarding: false\n    labels: [dependencies]\n")
    assert validations(changed, renovate_image, verdicts) == ["renovate_options_validated"]
    warned = configuration(tmp_path / "warned", "    onboarding: false\n    baseBranches: [main]\n")
    assert validations(warned, renovate_image, verdicts) == ["renovate_options_validated"]
    assert validations(warned, renovate_image, verdicts) == ["renovate_options_validated"]

"""Every case under corpus/ is a configuration directory with mistakes, and `expected.txt` lists the exact
problems `load_config` must report for it, one `file:line: key: message` per line, in order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from runner.config import ConfigInvalid, load_config
from runner.errors import ConfigError, ExitCode
from tests.unit.test_secrets import a_token

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(path for path in CORPUS.iterdir() if path.is_dir())


def reported_problems(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        load_config(config_dir)
    return [
        str(dataclasses.replace(problem, file=problem.file.relative_to(config_dir)))
        for problem in caught.value.problems
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_config_reports_exact_problems(case: Path) -> None:
    expected = (case / "expected.txt").read_text(encoding="utf-8").splitlines()

    assert reported_problems(case) == expected


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60


def test_invalid_config_is_a_config_error_with_exit_code_2() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(CORPUS / "duplicate-key")

    assert caught.value.exit_code == ExitCode.CONFIG
    assert "nothing was started" in str(caught.value)


def test_token_shaped_values_in_renovate_options_are_refused(tmp_path: Path) -> None:
    # Not in the corpus: the JWT is minted here, so the repository holds no token-shaped text of its own.
    jwt = a_token()
    pat = "abcdefghijklmnopqrstuvwxyz234567" + "abcdefghijklmnopqrst"  # 52 characters of lowercase base32
    (tmp_path / "runner.yaml").write_text("organization: https://dev.azure.com/contoso/\n")
    (tmp_path / "repos").mkdir()
    (tmp_path / "repos" / "api.yaml").write_text(
        f'repository: Platform/api\nrenovate:\n  prHeader: "deployed with {jwt}"\n  commitBody: {pat}\n'
    )

    assert reported_problems(tmp_path) == [
        f"repos/api.yaml:{line}: renovate.{key}: holds what looks like a token (a JWT or an Azure DevOps PAT) in a "
        f"config file; put the value in an environment variable, map it under secrets_env ({name}: <ENV_VAR holding "
        f"the value>) and write '{{{{ secrets.{name} }}}}' here instead"
        for line, key, name in ((3, "prHeader", "PR_HEADER"), (4, "commitBody", "COMMIT_BODY"))
    ]

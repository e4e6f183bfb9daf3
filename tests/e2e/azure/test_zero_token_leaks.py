"""Nothing leaks: no token the identity doubles issued to the tests of this package appears in any output of the
product - stdout, stderr (log and exception text), report files, Renovate's logs, the configuration - nor in a
pull request, except on the lines Azure Pipelines masks.

This module's name sorts last in the package, so pytest runs it after the tests whose outputs it scans (they add
them to `leaks.WITNESS` as they run).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .leaks import WITNESS, LeakWitness

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

SECRET = "eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJ0ZXN0In0.c2lnbmF0dXJl"  # the shape of a token; signs nothing


def test_the_scan_allows_a_token_only_where_azure_pipelines_masks_it(tmp_path: Path) -> None:
    witness = LeakWitness()
    witness.add_secrets("Entra ID access token", [SECRET])
    witness.add_text(
        "stdout",
        f"##vso[task.setsecret]{SECRET}\n##vso[task.setvariable variable=ADO_TOKEN;issecret=true]{SECRET}\n",
    )
    assert witness.scan() == []

    witness.add_text(
        "stderr",
        "\n".join(
            [
                "started",
                f"##vso[task.setvariable variable=ADO_TOKEN]{SECRET}",  # not a secret variable: printed as it is
                f"##vso[task.setsecret]other {SECRET}",  # masks another value
                f'{{"event": "token_ready", "token": "{SECRET}"}}',
            ]
        ),
    )
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "Platform%2Fweb.ndjson").write_text(
        f'{{"msg": "header", "authorization": "Bearer {SECRET}"}}\n'
    )
    witness.add_directory(tmp_path)

    leaks = witness.scan()

    assert [(leak.where, leak.line_number) for leak in leaks] == [
        ("stderr", 2),
        ("stderr", 3),
        ("stderr", 4),
        (str(tmp_path / "logs" / "Platform%2Fweb.ndjson"), 1),
    ]
    assert all(SECRET not in str(leak) for leak in leaks)  # the failure message must not leak it either


def test_no_token_issued_during_these_tests_appears_in_any_output() -> None:
    secrets = WITNESS.secrets
    outputs = WITNESS.outputs()
    # A scan of nothing proves nothing: this test runs with the other tests of tests/e2e/azure.
    assert "Entra ID access token" in secrets.values(), "no tokens to look for: run the tests of tests/e2e/azure too"
    assert any(where.startswith("stdout of renovate-runner run") for where, _ in outputs)
    assert any(where.endswith(".ndjson") for where, _ in outputs)  # Renovate's own logs

    leaks = WITNESS.scan()

    assert leaks == [], "tokens leaked:\n" + "\n".join(str(leak) for leak in leaks)
    size = sum(len(text) for _, text in outputs)
    print(f"\nno leaks: {len(secrets)} secrets looked for in {len(outputs)} outputs ({size / 1e6:.1f} MB)")

"""The pytest plugin as a test project meets it: pytest loads it through the `pytest11` entry point, and its
fixtures give a token and organizations from the environment or the ini file - and never show the token."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.scenarios import pytest_plugin, testing
from tests.unit.sign_in import a_jwt, fake_az

pytest_plugins = ["pytester"]

SHARED = "SECRET_INTEGRATION_TESTING_TOKEN"

USES_TOKEN_AND_ORG = """
from runner.secrets import REDACTED, redact


def test_against_azure_devops(ado_token, ado_org):
    assert ado_org == "https://dev.azure.com/contoso/"
    assert ado_token.count(".") == 2
    assert redact(ado_token) == REDACTED  # registered as a secret, so the runner's own output masks it
"""


@pytest.fixture
def ci_token(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Azure Pipelines, with the token mapped into the step's environment."""
    token = a_jwt()
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv(SHARED, token)
    return token


def output(result: pytest.RunResult) -> str:
    return result.stdout.str() + result.stderr.str()


def test_a_test_project_gets_its_token_and_organization_in_ci(
    pytester: pytest.Pytester, ci_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADO_ORGANIZATION", "contoso")
    pytester.makepyfile(test_project=USES_TOKEN_AND_ORG)

    # A process of its own, as CI runs it: nothing but the installed package's entry point loads the plugin.
    result = pytester.runpytest_subprocess("-v", "-rA")

    result.assert_outcomes(passed=1)
    assert ci_token not in output(result)


def test_without_the_entry_point_the_fixtures_do_not_exist(
    pytester: pytest.Pytester, ci_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("ADO_ORGANIZATION", "contoso")
    pytester.makepyfile(test_project=USES_TOKEN_AND_ORG)

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'ado_token' not found*"])


def test_the_ini_file_names_the_organization_and_the_variable(
    pytester: pytest.Pytester, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = a_jwt()
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("E2E_INGETRATION_TOKEN", token)
    pytester.makeini(
        "[pytest]\nado_organization = https://dev.azure.com/contoso\nado_token_variable = E2E_INTEGRATION_TOKEN\n"
    )
    pytester.makepyfile(test_project=USES_TOKEN_AND_ORG)

    result = pytester.runpytest("-v")

    result.assert_outcomes(passed=1)
    assert token not in output(result)


@pytest.mark.usefixtures("ci_token")
def test_the_environment_overrides_the_ini_file(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADO_ORGANIZATION", "https://dev.azure.com/contoso/")
    pytester.makeini("[pytest]\nado_organization = fabrikam\n")
    pytester.makepyfile(test_project=USES_TOKEN_AND_ORG)

    pytester.runpytest().assert_outcomes(passed=1)


def test_on_a_workstation_the_token_comes_from_the_developer_sign_in(
    pytester: pytest.Pytester, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = a_jwt()
    fake_az(bin_dir, token)
    monkeypatch.setenv("ADO_ORGANIZATION", "contoso")
    pytester.makepyfile(test_project=USES_TOKEN_AND_ORG)

    result = pytester.runpytest("-v")

    result.assert_outcomes(passed=1)
    assert token not in output(result)


@pytest.mark.usefixtures("bin_dir")
def test_with_no_token_anywhere_the_tests_error_with_what_was_tried(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADO_ORGANIZATION", "contoso")
    pytester.makepyfile(test_project=USES_TOKEN_AND_ORG)

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*no Azure DevOps token for the tests. Tried, in order:*",
            f"*{SHARED} / SECRET_INGETRATION_TESTING_TOKEN: not read, because this is not a CI run*",
            "*azd: `azd` not found on PATH*",
            "*azure-cli: `az` not found on PATH*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "another exception occurred" not in result.stdout.str()


@pytest.mark.usefixtures("ci_token")
def test_without_an_organization_the_tests_error_with_what_to_set(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_project=USES_TOKEN_AND_ORG)

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no Azure DevOps organization for ado_org: set ADO_ORGANIZATION, or*"])


def test_a_failing_test_never_shows_the_token(pytester: pytest.Pytester, ci_token: str) -> None:
    pytester.makeini("[pytest]\nado_organization = contoso\n")
    pytester.makepyfile(
        test_careless="""
        import logging


        def test_careless(ado_token):
            print("token:", ado_token)
            logging.getLogger("e2e").warning("calling with %s", ado_token)
            header = f"Bearer {ado_token}"
            assert header == "Bearer something-else"
        """
    )
    report = pytester.path / "junit.xml"

    # Every way pytest shows a failure: the assertion diff, local variables, captured output and logs, the
    # summary of every outcome, and the JUnit report a pipeline publishes.
    result = pytester.runpytest("-vv", "-l", "-rA", "--tb=long", f"--junitxml={report}")

    result.assert_outcomes(failed=1)
    text = output(result)
    assert ci_token not in text
    assert "Bearer **redacted**" in text
    assert "token: **redacted**" in text
    assert "calling with **redacted**" in text
    junit = report.read_text()
    assert ci_token not in junit
    assert "**redacted**" in junit


def test_each_organization_gets_its_own_token_in_ci(
    pytester: pytest.Pytester, ci_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    contoso = a_jwt()
    monkeypatch.setenv(f"{SHARED}_CONTOSO", contoso)
    monkeypatch.setenv("ADO_ORGANIZATIONS", "contoso, https://dev.azure.com/fabrikam")
    pytester.makepyfile(
        test_orgs=f"""
        import os


        def test_across_organizations(ado_orgs):
            assert list(ado_orgs) == ["https://dev.azure.com/contoso/", "https://dev.azure.com/fabrikam/"]
            assert ado_orgs["https://dev.azure.com/contoso/"] == os.environ["{SHARED}_CONTOSO"]
            assert ado_orgs["https://dev.azure.com/fabrikam/"] == os.environ["{SHARED}"]
        """
    )

    result = pytester.runpytest("-v")

    result.assert_outcomes(passed=1)
    assert contoso not in output(result)
    assert ci_token not in output(result)


@pytest.mark.usefixtures("ci_token")
def test_the_organizations_can_come_from_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nado_organizations =\n    contoso\n    fabrikam\n")
    pytester.makepyfile(
        test_orgs="""
        def test_across_organizations(ado_orgs):
            assert sorted(ado_orgs) == ["https://dev.azure.com/contoso/", "https://dev.azure.com/fabrikam/"]
        """
    )

    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.usefixtures("ci_token")
def test_without_organizations_ado_orgs_says_what_to_set(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_orgs="""
        def test_across_organizations(ado_orgs):
            pass
        """
    )

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no Azure DevOps organizations for ado_orgs: set ADO_ORGANIZATIONS, or*"])


def test_loading_the_plugin_imports_no_credential_code() -> None:
    # pytest loads the plugin in every session of a project that installs the package; azure-identity takes
    # about a second to import, so only a fixture that is used may load it.
    probe = "import sys, runner.scenarios.pytest_plugin; print('azure.identity' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert done.stdout.strip() == "False"
    assert pytest_plugin.DEFAULT_VARIABLE == testing.DEFAULT_VARIABLE

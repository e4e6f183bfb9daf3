"""`renovate-runner identity`: what it prints, where the profile service URL comes from, and every way it fails.

Most cases use a small loopback Profile service that accepts the tokens a test lists; the last two run against
the Entra ID and Azure DevOps doubles, from the pipeline's OIDC token to a verified bearer token."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from runner.auth.claims import decode_claims
from runner.cli import main
from runner.commands.identity import VSSPS_URL_ENV
from tests.doubles.azure_devops import AzureDevOpsDouble
from tests.doubles.entra import EntraDouble
from tests.doubles.identity_fixtures import (
    PIPELINE_APP,
    ca_bundle_fixture,
    entra_double_fixture,
    entra_trust_environ_fixture,
    loopback_ca_fixture,
    pipeline_oidc_double_fixture,
    pipelines_environ_fixture,
)
from tests.doubles.identity_fixtures import TENANT_ID as DOUBLES_TENANT_ID
from tests.doubles.jwt_verifier import JwtVerifier
from tests.doubles.loopback import IncomingRequest, LoopbackServer, RecordedRequest, Reply
from tests.unit.sign_in import APP_ID, OBJECT_ID, TENANT_ID, a_jwt

# The identity doubles' fixtures that `pipelines_environ` needs, by the names their decorators give them.
__all__ = [
    "ca_bundle_fixture",
    "entra_double_fixture",
    "entra_trust_environ_fixture",
    "loopback_ca_fixture",
    "pipeline_oidc_double_fixture",
    "pipelines_environ_fixture",
]

PROFILE_PATH = "/vssps/_apis/profile/profiles/me"
PREFIX = "renovate-runner: "


class TokenRejectedError(Exception):
    """The test's own verifier refused a token."""


@dataclass(frozen=True)
class Principal:
    identity_id: str  # what Azure DevOps calls it; unrelated to its Entra ID object id
    display_name: str


class ProfileService:
    """`GET {vssps}/_apis/profile/profiles/me`: the profile of the principal a token's `oid` names, for tokens that
    `verify` accepts; 401 (as Azure DevOps answers a bad bearer token) otherwise."""

    def __init__(self, verify: Callable[[str], Mapping[str, Any]], principals: Mapping[str, Principal]) -> None:
        self._verify = verify
        self._principals = principals
        self._server = LoopbackServer(self._handle, name="profile-service")
        self._server.start()

    @property
    def url(self) -> str:
        return f"{self._server.base_url}/vssps/"

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        return self._server.requests

    def close(self) -> None:
        self._server.close()

    def _handle(self, request: IncomingRequest) -> Reply:
        if request.path != PROFILE_PATH:
            return Reply(status=HTTPStatus.NOT_FOUND, body={"message": "unknown route"})
        token = request.bearer_token()
        try:
            claims = self._verify(token or "")
            principal = self._principals[str(claims.get("oid"))]
        except (TokenRejectedError, KeyError) as error:
            return Reply(
                status=HTTPStatus.UNAUTHORIZED,
                body={"message": "TF400813: The user is not authorized to access this resource."},
                headers={"WWW-Authenticate": "Bearer"},
                refusal=type(error).__name__,
            )
        return Reply(
            status=HTTPStatus.OK,
            body={
                "displayName": principal.display_name,
                "publicAlias": principal.identity_id,
                "id": principal.identity_id,
                "coreRevision": 1,
                "timeStamp": "2025-01-01T00:00:00+00:00",
                "revision": 1,
            },
        )


BOT = Principal(identity_id=str(uuid.uuid4()), display_name="renovate-runner (service principal)")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def message(self) -> str:
        """What the CLI told the user on stderr, without the log events (JSON lines)."""
        return "\n".join(line for line in self.err.splitlines() if line.startswith(PREFIX))


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    code = main(["--log-format", "json", "identity", *argv])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


@pytest.fixture
def accepted() -> set[str]:
    """The tokens the service accepts: those the test says Azure DevOps would."""
    return set()


@pytest.fixture
def service(accepted: set[str], monkeypatch: pytest.MonkeyPatch, bin_dir: Path) -> Iterator[ProfileService]:
    def verify(token: str) -> Mapping[str, Any]:
        if token not in accepted:
            raise TokenRejectedError
        return decode_claims(token)

    profile_service = ProfileService(verify, {OBJECT_ID: BOT})
    monkeypatch.setenv(VSSPS_URL_ENV, profile_service.url)
    yield profile_service
    profile_service.close()


@pytest.fixture
def token(accepted: set[str], monkeypatch: pytest.MonkeyPatch, service: ProfileService) -> str:
    value = a_jwt()
    accepted.add(value)
    monkeypatch.setenv("RENOVATE_TOKEN", value)
    return value


def test_prints_the_azure_devops_identity_and_the_entra_ids(
    capsys: pytest.CaptureFixture[str], token: str, service: ProfileService
) -> None:
    result = invoke(capsys, "--mode", "token-env")

    assert result.code == 0
    lines = result.out.splitlines()
    assert f"Azure DevOps identity id  {BOT.identity_id}" in lines
    assert f"display name              {BOT.display_name}" in lines
    assert f"Entra ID app id           {APP_ID}" in lines
    assert f"Entra ID object id        {OBJECT_ID}" in lines
    assert f"Entra ID tenant id        {TENANT_ID}" in lines
    assert f"add the identity id {BOT.identity_id} as a member of your publisher" in result.out
    assert token not in result.out + result.err
    [request] = service.requests
    assert request.headers["authorization"] == f"Bearer {token}"
    assert request.query == {"api-version": "7.1-preview.3"}


@pytest.mark.usefixtures("token")
def test_json_is_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys, "--mode", "token-env", "--json")

    assert result.code == 0
    identity = json.loads(result.out)
    assert identity["id"] == BOT.identity_id
    assert identity["display_name"] == BOT.display_name
    assert (identity["app_id"], identity["object_id"], identity["tenant_id"]) == (APP_ID, OBJECT_ID, TENANT_ID)
    assert identity["auth_mode"] == "token-env"
    assert identity["upn"] is None
    assert identity["token_expires_on"].endswith("+00:00")


@pytest.mark.usefixtures("token")
def test_the_flag_overrides_the_environment_variable(
    capsys: pytest.CaptureFixture[str], service: ProfileService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens there: the command would fail if it used the variable.
    monkeypatch.setenv(VSSPS_URL_ENV, "http://127.0.0.1:9/vssps/")

    result = invoke(capsys, "--mode", "token-env", "--vssps-url", service.url, "--json")

    assert result.code == 0
    assert json.loads(result.out)["id"] == BOT.identity_id


@pytest.mark.usefixtures("token")
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://vssps.example.com/", "must use https://"),
        ("app.vssps.visualstudio.com", "must be an https:// URL"),
        ("https://user:secret@vssps.example.com/", "without credentials"),
    ],
)
def test_an_unusable_service_url_is_a_usage_error(capsys: pytest.CaptureFixture[str], url: str, problem: str) -> None:
    result = invoke(capsys, "--mode", "token-env", "--vssps-url", url)

    assert result.code == 2
    assert result.message.startswith(f"{PREFIX}--vssps-url: ")
    assert problem in result.message
    assert "secret" not in result.message  # a mistyped URL may carry credentials; never repeat it


@pytest.mark.usefixtures("service")
def test_a_token_azure_devops_rejects_is_an_auth_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = a_jwt()  # well-formed and current, but not one the service accepts
    monkeypatch.setenv("RENOVATE_TOKEN", unknown)

    result = invoke(capsys, "--mode", "token-env")

    assert result.code == 3
    assert result.out == ""
    assert "Azure DevOps did not accept the token" in result.message
    assert "HTTP 401" in result.message
    assert f"add it in Organization settings > Users (search for its app id {APP_ID})" in result.message
    assert unknown not in result.err


def test_an_expired_token_is_an_auth_error_before_any_request(
    capsys: pytest.CaptureFixture[str], service: ProfileService, accepted: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expired = a_jwt(valid_for=-timedelta(seconds=30))
    accepted.add(expired)
    monkeypatch.setenv("RENOVATE_TOKEN", expired)

    result = invoke(capsys, "--mode", "token-env")

    assert result.code == 3
    assert "the token in RENOVATE_TOKEN expired at" in result.message
    assert service.requests == ()
    assert expired not in result.err


@pytest.mark.usefixtures("service")
def test_a_missing_token_is_an_auth_error(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys, "--mode", "token-env")

    assert result.code == 3
    assert "RENOVATE_TOKEN is unset" in result.message


@pytest.mark.usefixtures("service")
def test_an_unknown_mode_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        invoke(capsys, "--mode", "personal-access-token")

    assert exit_info.value.code == 2
    assert "argument --mode: invalid choice" in capsys.readouterr().err


@pytest.fixture
def azure_devops(entra_double: EntraDouble) -> Iterator[AzureDevOpsDouble]:
    """The Azure DevOps double, trusting the tokens the Entra ID double signs for the test tenant."""
    with AzureDevOpsDouble(JwtVerifier(entra_double.public_key_pem), tenant_id=DOUBLES_TENANT_ID) as double:
        yield double


@pytest.mark.usefixtures("bin_dir")
def test_in_an_azurecli_step_the_pipeline_identity_is_shown(
    capsys: pytest.CaptureFixture[str],
    entra_double: EntraDouble,
    azure_devops: AzureDevOpsDouble,
    pipelines_environ: dict[str, str],
) -> None:
    # The whole path as in a pipeline: the service connection's OIDC token, exchanged at Entra ID for an access
    # token, which Azure DevOps accepts only if Entra ID signed it for Azure DevOps and it is current.
    result = invoke(capsys, "--mode", "pipelines", "--vssps-url", azure_devops.vssps_url, "--json")

    assert result.code == 0, result.err
    identity = json.loads(result.out)
    assert identity["id"] == azure_devops.identity_id(PIPELINE_APP.object_id)
    assert identity["id"] != PIPELINE_APP.object_id  # Azure DevOps has its own id for the principal
    assert identity["app_id"] == PIPELINE_APP.client_id
    assert identity["object_id"] == PIPELINE_APP.object_id
    assert identity["tenant_id"] == DOUBLES_TENANT_ID
    assert identity["auth_mode"] == "pipelines"
    [request] = azure_devops.requests
    assert (request.path, request.status, request.verified) == ("/vssps/_apis/profile/profiles/me", 200, True)
    [issued] = entra_double.issued_tokens
    assert issued not in result.out + result.err
    assert pipelines_environ["SYSTEM_ACCESSTOKEN"] not in result.out + result.err


def test_a_token_with_a_broken_signature_is_rejected_by_azure_devops(
    capsys: pytest.CaptureFixture[str],
    bin_dir: Path,
    entra_double: EntraDouble,
    azure_devops: AzureDevOpsDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tampered = entra_double.mint_access_token(principal=PIPELINE_APP, tampered=True)
    monkeypatch.setenv("RENOVATE_TOKEN", tampered)

    result = invoke(capsys, "--mode", "token-env", "--vssps-url", azure_devops.vssps_url)

    assert result.code == 3
    assert "Azure DevOps did not accept the token" in result.message
    assert PIPELINE_APP.client_id in result.message  # the app id to look for in Organization settings > Users
    [request] = azure_devops.requests
    assert (request.status, request.verified, request.reason) == (401, False, "signature")
    assert tampered not in result.out + result.err

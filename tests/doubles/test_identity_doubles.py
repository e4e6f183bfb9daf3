"""The identity doubles answer the real azure-identity credentials, and the runner's auth modes on top of them, as
Entra ID, Azure Pipelines and App Service do, and refuse what those services refuse."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    AzurePipelinesCredential,
    ClientAssertionCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from cryptography.hazmat.primitives.asymmetric import rsa

from runner.auth import ADO_SCOPE, make_token_source
from runner.cli import main
from runner.config import AuthConfig, AuthMode
from runner.errors import AuthError, ExitCode
from tests.doubles.entra import (
    ADO_RESOURCE,
    CLIENT_ASSERTION_TYPE,
    TOKEN_EXCHANGE_AUDIENCE,
    AccessTokenRejected,
    EntraDouble,
    ServicePrincipal,
    SigningKey,
)
from tests.doubles.identity_fixtures import (  # noqa: F401 - pytest finds fixtures among module attributes
    MANAGED_IDENTITY,
    PIPELINE_APP,
    SERVICE_CONNECTION,
    TENANT_ID,
    WORKLOAD_APP,
    ca_bundle_fixture,
    entra_double_fixture,
    entra_trust_environ_fixture,
    federated_token_file_fixture,
    loopback_ca_fixture,
    managed_identity_double_fixture,
    managed_identity_environ_fixture,
    pipeline_oidc_double_fixture,
    pipelines_environ_fixture,
    workload_identity_environ_fixture,
    workload_issuer_fixture,
)
from tests.doubles.managed_identity import ManagedIdentityDouble
from tests.doubles.pipeline_oidc import OidcIssuer, PipelineOidcDouble
from tests.doubles.tls import LoopbackCA

# auth mode -> the fixture that sets up its environment, and the principal its tokens must name
MODES = {
    "pipelines": ("pipelines_environ", PIPELINE_APP),
    "workload-identity": ("workload_identity_environ", WORKLOAD_APP),
    "managed-identity": ("managed_identity_environ", MANAGED_IDENTITY),
}


def _auth(mode: str) -> AuthConfig:
    return AuthConfig(mode=AuthMode(mode))


def _assert_names(claims: dict[str, Any], principal: ServicePrincipal) -> None:
    assert (claims["appid"], claims["oid"], claims["tid"]) == (principal.client_id, principal.object_id, TENANT_ID)
    assert claims["aud"] == ADO_RESOURCE


# -- the real credentials, directly


def test_pipelines_credential_exchanges_the_job_oidc_token(
    entra_double: EntraDouble, pipeline_oidc_double: PipelineOidcDouble, pipelines_environ: dict[str, str]
) -> None:
    # The authority comes from AZURE_AUTHORITY_HOST and the CA from REQUESTS_CA_BUNDLE, as in a pipeline step.
    with AzurePipelinesCredential(
        tenant_id=pipelines_environ["AZURESUBSCRIPTION_TENANT_ID"],
        client_id=pipelines_environ["AZURESUBSCRIPTION_CLIENT_ID"],
        service_connection_id=pipelines_environ["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"],
        system_access_token=pipelines_environ["SYSTEM_ACCESSTOKEN"],
    ) as credential:
        token = credential.get_token(ADO_SCOPE)

    _assert_names(entra_double.verify_access_token(token.token), PIPELINE_APP)
    assert entra_double.issued_tokens == (token.token,)

    [oidc_request] = pipeline_oidc_double.requests
    assert (oidc_request.method, oidc_request.status) == ("POST", 200)
    assert oidc_request.query == {"api-version": "7.1", "serviceConnectionId": SERVICE_CONNECTION.id}
    assert oidc_request.headers["authorization"] == f"Bearer {pipeline_oidc_double.system_access_token}"

    # azure-identity asks for no discovery document: the token request is the only one.
    [token_request] = entra_double.requests
    assert (token_request.method, token_request.path, token_request.status) == (
        "POST",
        f"/{TENANT_ID}/oauth2/v2.0/token",
        200,
    )
    assert token_request.form == {
        "client_assertion": pipeline_oidc_double.issued_tokens[0],
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_id": PIPELINE_APP.client_id,
        "grant_type": "client_credentials",
        "scope": ADO_SCOPE,
    }
    oidc_claims = jwt.decode(pipeline_oidc_double.issued_tokens[0], options={"verify_signature": False})
    assert oidc_claims["sub"] == "sc://contoso/Platform/renovate-runner-wif"
    assert oidc_claims["aud"] == TOKEN_EXCHANGE_AUDIENCE


def test_workload_identity_credential_presents_the_token_file(
    entra_double: EntraDouble, workload_identity_environ: dict[str, str]
) -> None:
    with WorkloadIdentityCredential(
        tenant_id=workload_identity_environ["AZURE_TENANT_ID"],
        client_id=workload_identity_environ["AZURE_CLIENT_ID"],
        token_file_path=workload_identity_environ["AZURE_FEDERATED_TOKEN_FILE"],
    ) as credential:
        token = credential.get_token(ADO_SCOPE)

    _assert_names(entra_double.verify_access_token(token.token), WORKLOAD_APP)
    [token_request] = entra_double.requests
    file_token = Path(workload_identity_environ["AZURE_FEDERATED_TOKEN_FILE"]).read_text()
    assert token_request.form["client_assertion"] == file_token


def test_managed_identity_credential_calls_the_app_service_endpoint(
    entra_double: EntraDouble,
    managed_identity_double: ManagedIdentityDouble,
    managed_identity_environ: dict[str, str],
) -> None:
    with ManagedIdentityCredential() as credential:
        token = credential.get_token(ADO_SCOPE)

    claims = entra_double.verify_access_token(token.token)
    _assert_names(claims, MANAGED_IDENTITY)
    assert claims["xms_mirid"] == MANAGED_IDENTITY.managed_identity_resource_id
    [request] = managed_identity_double.requests
    assert (request.method, request.path, request.status) == ("GET", "/msi/token", 200)
    assert request.query == {"api-version": "2019-08-01", "resource": ADO_RESOURCE}
    assert request.headers["x-identity-header"] == managed_identity_environ["IDENTITY_HEADER"]
    assert entra_double.requests == ()  # App Service asks Entra ID itself, out of the process's sight


# -- the runner's auth modes on top of them


@pytest.mark.parametrize("mode", sorted(MODES))
def test_each_mode_gets_a_verified_token_through_make_token_source(
    mode: str, entra_double: EntraDouble, request: pytest.FixtureRequest
) -> None:
    environ_fixture, principal = MODES[mode]
    environ: dict[str, str] = request.getfixturevalue(environ_fixture)

    source = make_token_source(_auth(mode), environ)
    token = source.token()

    assert source.mode == mode
    _assert_names(entra_double.verify_access_token(token.value), principal)
    assert f"appid={principal.client_id}" in token.identity
    assert token.value in entra_double.issued_tokens


def test_auto_mode_picks_pipelines_in_an_azure_cli_step(
    entra_double: EntraDouble, pipelines_environ: dict[str, str]
) -> None:
    source = make_token_source(_auth("auto"), pipelines_environ)

    assert source.mode == "pipelines"
    _assert_names(entra_double.verify_access_token(source.token().value), PIPELINE_APP)


def test_pipelines_mode_caches_per_credential_and_renews_with_a_new_oidc_token(
    entra_double: EntraDouble, pipeline_oidc_double: PipelineOidcDouble, pipelines_environ: dict[str, str]
) -> None:
    source = make_token_source(_auth("pipelines"), pipelines_environ)

    first, cached = source.token(), source.token()
    renewed = source.fresh_token()

    assert cached.value == first.value
    assert renewed.value != first.value
    assert entra_double.exchanges == 2
    assert len(set(pipeline_oidc_double.issued_tokens)) == 2  # each exchange presented a new OIDC token
    assert [request.form["client_assertion"] for request in entra_double.requests] == list(
        pipeline_oidc_double.issued_tokens
    )


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_token_lifetime_setting_is_honoured(
    mode: str, entra_double: EntraDouble, request: pytest.FixtureRequest
) -> None:
    environ_fixture, _ = MODES[mode]
    environ: dict[str, str] = request.getfixturevalue(environ_fixture)
    entra_double.token_lifetime = 120

    token = make_token_source(_auth(mode), environ).token()

    claims = entra_double.verify_access_token(token.value)
    assert claims["exp"] - claims["iat"] == 120
    assert 110 <= token.remaining(datetime.now(UTC)).total_seconds() <= 120


# -- refusals


def test_a_wrong_system_access_token_is_an_auth_error_naming_the_mode(
    entra_double: EntraDouble,
    pipeline_oidc_double: PipelineOidcDouble,
    pipelines_environ: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "not-the-system-access-token-" + uuid.uuid4().hex
    monkeypatch.setenv("SYSTEM_ACCESSTOKEN", wrong)
    source = make_token_source(_auth("pipelines"), {**pipelines_environ, "SYSTEM_ACCESSTOKEN": wrong})

    with pytest.raises(AuthError, match="auth mode 'pipelines'") as raised:
        source.token()

    assert wrong not in str(raised.value)
    assert [(r.status, r.refusal) for r in pipeline_oidc_double.requests] == [(401, "system access token")]
    assert entra_double.requests == ()


def test_cli_run_exits_3_when_the_pipeline_refuses_the_system_token(
    pipeline_oidc_double: PipelineOidcDouble,
    pipelines_environ: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "config"
    (config / "repos").mkdir(parents=True)
    (config / "runner.yaml").write_text("organization: https://dev.azure.com/contoso/\nauth: {mode: pipelines}\n")
    (config / "repos" / "api.yaml").write_text("repository: Platform/api\n")
    wrong = "not-the-system-access-token-" + uuid.uuid4().hex
    monkeypatch.setenv("SYSTEM_ACCESSTOKEN", wrong)

    exit_code = main(["--log-format", "json", "run", "--config", str(config)])

    stderr = capsys.readouterr().err
    assert exit_code == ExitCode.AUTH
    assert "auth mode 'pipelines' could not get an Azure DevOps token" in stderr
    assert wrong not in stderr
    assert [r.status for r in pipeline_oidc_double.requests] == [401]


def test_an_unknown_service_connection_is_refused(
    entra_double: EntraDouble, pipeline_oidc_double: PipelineOidcDouble, pipelines_environ: dict[str, str]
) -> None:
    environ = {**pipelines_environ, "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": str(uuid.uuid4())}
    source = make_token_source(_auth("pipelines"), environ)

    with pytest.raises(AuthError, match="auth mode 'pipelines'"):
        source.token()

    assert [(r.status, r.refusal) for r in pipeline_oidc_double.requests] == [(404, "unknown service connection")]
    assert entra_double.issued_tokens == ()


def test_a_wrong_identity_header_is_an_auth_error_naming_the_mode(
    managed_identity_double: ManagedIdentityDouble,
    managed_identity_environ: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IDENTITY_HEADER", "not-the-identity-header")
    environ = {**managed_identity_environ, "IDENTITY_HEADER": "not-the-identity-header"}

    with pytest.raises(AuthError, match="auth mode 'managed-identity'"):
        make_token_source(_auth("managed-identity"), environ).token()

    assert [(r.status, r.refusal) for r in managed_identity_double.requests] == [(401, "identity header")]


PIPELINE_SUBJECT = "sc://contoso/Platform/renovate-runner-wif"


def _key_like(key: SigningKey) -> SigningKey:
    """Another private key under the same key id: what a forger who read the issuer's JWKS would sign with."""
    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), key.kid)


Assertion = Callable[[OidcIssuer], str]  # the pipeline's issuer -> the assertion a test presents

ASSERTION_REFUSALS: dict[str, tuple[Assertion, str, int, str, int]] = {
    # case: (assertion, client id, expected status, OAuth error, AADSTS code)
    "issuer without a federated credential": (
        lambda _: OidcIssuer.create("https://token.actions.githubusercontent.com").mint(PIPELINE_SUBJECT),
        PIPELINE_APP.client_id,
        401,
        "invalid_client",
        700211,
    ),
    "forged signature of the trusted issuer": (
        lambda trusted: OidcIssuer(trusted.url, _key_like(trusted.key)).mint(PIPELINE_SUBJECT),
        PIPELINE_APP.client_id,
        401,
        "invalid_client",
        700027,
    ),
    "subject of another service connection": (
        lambda trusted: trusted.mint("sc://contoso/Platform/someone-else"),
        PIPELINE_APP.client_id,
        401,
        "invalid_client",
        700213,
    ),
    "subject differing in case": (
        lambda trusted: trusted.mint(PIPELINE_SUBJECT.upper()),
        PIPELINE_APP.client_id,
        401,
        "invalid_client",
        700213,
    ),
    "audience other than the token exchange": (
        lambda trusted: trusted.mint(PIPELINE_SUBJECT, audience="api://other"),
        PIPELINE_APP.client_id,
        401,
        "invalid_client",
        700212,
    ),
    "expired assertion": (
        lambda trusted: trusted.mint(PIPELINE_SUBJECT, lifetime=-60),
        PIPELINE_APP.client_id,
        401,
        "invalid_client",
        700024,
    ),
    "application not registered in the tenant": (
        lambda trusted: trusted.mint(PIPELINE_SUBJECT),
        str(uuid.uuid4()),
        400,
        "unauthorized_client",
        700016,
    ),
}


@pytest.mark.parametrize("case", list(ASSERTION_REFUSALS))
def test_entra_refuses_assertions_it_cannot_trust(
    case: str,
    entra_double: EntraDouble,
    pipeline_oidc_double: PipelineOidcDouble,
    entra_trust_environ: dict[str, str],
) -> None:
    assertion, client_id, status, error, code = ASSERTION_REFUSALS[case]
    presented = assertion(pipeline_oidc_double.issuer)

    with (
        ClientAssertionCredential(TENANT_ID, client_id, lambda: presented) as credential,
        pytest.raises(ClientAuthenticationError) as raised,
    ):
        credential.get_token(ADO_SCOPE)

    assert f"({error}) AADSTS{code}:" in str(raised.value.message)
    [token_request] = entra_double.requests
    assert (token_request.status, token_request.refusal) == (status, f"AADSTS{code}")
    assert entra_double.issued_tokens == ()


def test_entra_refuses_a_resource_other_than_azure_devops(
    entra_double: EntraDouble, pipelines_environ: dict[str, str]
) -> None:
    with (
        AzurePipelinesCredential(
            tenant_id=TENANT_ID,
            client_id=PIPELINE_APP.client_id,
            service_connection_id=SERVICE_CONNECTION.id,
            system_access_token=pipelines_environ["SYSTEM_ACCESSTOKEN"],
        ) as credential,
        pytest.raises(ClientAuthenticationError, match=r"\(invalid_resource\) AADSTS500011:"),
    ):
        credential.get_token("https://graph.microsoft.com/.default")

    assert [(r.status, r.refusal) for r in entra_double.requests] == [(400, "AADSTS500011")]


# -- verification material for resource servers


def _signed_by_another_key(entra: EntraDouble) -> str:
    # Genuine claims and the double's own key id, but a key the double never had: a forgery.
    claims = jwt.decode(entra.mint_access_token(), options={"verify_signature": False})
    return _key_like(entra.signing_key).sign(claims)


BAD_TOKENS: dict[str, tuple[Callable[[EntraDouble], str], str]] = {
    # case: (token factory, the reason verify_access_token must give)
    "expired": (lambda entra: entra.mint_access_token(lifetime=-1), "expired"),
    "wrong audience": (lambda entra: entra.mint_access_token(audience="https://management.azure.com/"), "audience"),
    "tampered payload": (lambda entra: entra.mint_access_token(tampered=True), "signature"),
    "signed by another key": (_signed_by_another_key, "signature"),
    "not a JWT": (lambda _: "not-a-jwt", "malformed"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_verify_access_token_refuses_bad_tokens(case: str, entra_double: EntraDouble) -> None:
    make_token, reason = BAD_TOKENS[case]
    token = make_token(entra_double)

    with pytest.raises(AccessTokenRejected) as raised:
        entra_double.verify_access_token(token)

    assert raised.value.reason == reason


def test_minted_tokens_verify_and_are_recorded_for_leak_scans(entra_double: EntraDouble) -> None:
    token = entra_double.mint_access_token(lifetime=300)

    claims = entra_double.verify_access_token(token)

    assert claims["exp"] - claims["iat"] == 300
    assert claims["exp"] > time.time()
    assert entra_double.issued_tokens == (token,)
    assert entra_double.exchanges == 0


def test_discovery_documents_lead_to_the_key_that_verifies_issued_tokens(
    entra_double: EntraDouble, loopback_ca: LoopbackCA
) -> None:
    token = entra_double.mint_access_token()
    context = loopback_ca.client_context()

    def get(url: str) -> Any:
        with urllib.request.urlopen(url, context=context, timeout=10) as response:  # noqa: S310 - loopback https
            return json.load(response)

    configuration = get(f"{entra_double.authority}/{TENANT_ID}/.well-known/openid-configuration")
    keys = jwt.PyJWKSet.from_dict(get(configuration["jwks_uri"]))
    key = keys[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=ADO_RESOURCE, issuer=configuration["issuer"])

    assert claims["oid"] == entra_double.verify_access_token(token)["oid"]
    assert key.key.public_numbers() == entra_double.public_key.public_numbers()
    assert entra_double.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")


def test_routes_entra_does_not_implement_answer_404_and_are_recorded(
    entra_double: EntraDouble, loopback_ca: LoopbackCA
) -> None:
    url = f"{entra_double.authority}/common/discovery/instance?api-version=1.1"
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(url, context=loopback_ca.client_context(), timeout=10)  # noqa: S310 - loopback https

    raised.value.close()
    assert raised.value.code == 404
    assert [(r.path, r.status, r.refusal) for r in entra_double.requests] == [
        ("/common/discovery/instance", 404, "unknown route")
    ]

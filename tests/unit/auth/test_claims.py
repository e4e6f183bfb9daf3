"""Decoding token payloads, describing identities, and AdoToken itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.credentials import AccessToken

from runner.auth import AdoToken
from runner.auth.claims import NotAJwtError, decode_claims, describe_identity
from runner.auth.token import ado_token_from

from .fakes import NOW, b64url, jwt_expiring, mint_jwt


@pytest.mark.parametrize("name", ["a", "ab", "abc"])
def test_decodes_unpadded_base64url_payloads_of_every_length(name: str) -> None:
    # Names of different lengths give payloads with 0, 1 and 2 stripped padding characters; "/?>~" makes the
    # encoding use base64url's own characters '-' and '_' (where standard base64 has '+' and '/').
    token = mint_jwt(name=name, path="/?>~")
    payload = token.split(".")[1]
    assert "=" not in payload
    assert set(payload) & {"-", "_"}

    assert decode_claims(token) == {"name": name, "path": "/?>~"}


def test_payload_characters_outside_base64url_are_refused() -> None:
    payload = b64url(json.dumps({"exp": 1}).encode())
    with pytest.raises(NotAJwtError, match="base64url"):
        decode_claims(f"e30.{payload}+/.sig")


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("a52characterpersonalaccesstokenwithoutanydotsinsideit", "three dot-separated parts"),
        ("one.two", "three dot-separated parts"),
        ("a.b.c.d.e", "three dot-separated parts"),  # an encrypted JWT (JWE) is not readable here
        ("e30.bm90IGpzb24.sig", "base64url-encoded JSON"),  # "not json"
        (f"e30.{b64url(b'[1, 2]')}.sig", "not a JSON object"),
    ],
)
def test_refuses_what_is_not_a_readable_jwt(token: str, problem: str) -> None:
    with pytest.raises(NotAJwtError, match=problem):
        decode_claims(token)


def test_identity_names_the_principal_and_nothing_else() -> None:
    claims = {"appid": "app-1", "oid": "obj-2", "tid": "ten-3", "ipaddr": "192.0.2.1", "exp": 1}

    assert describe_identity(claims) == "appid=app-1 oid=obj-2 tid=ten-3"


def test_identity_of_a_person_includes_the_sign_in_name() -> None:
    claims = {"azp": "04b07795", "oid": "o", "tid": "t", "upn": "dev@contoso.example"}

    assert describe_identity(claims) == "azp=04b07795 oid=o tid=t upn=dev@contoso.example"


def test_identity_without_claims_says_it_is_unknown() -> None:
    assert describe_identity({}).startswith("unknown")


def test_token_from_credential_reads_claims_and_expiry() -> None:
    value = jwt_expiring(NOW + timedelta(hours=1), appid="a", oid="o", tid="t")

    token = ado_token_from(AccessToken(value, int((NOW + timedelta(hours=1)).timestamp())), "pipelines")

    assert token.value == value
    assert token.expires_on == NOW + timedelta(hours=1)
    assert token.expires_on.tzinfo is UTC
    assert token.mode == "pipelines"
    assert token.claims["appid"] == "a"
    assert token.identity == "appid=a oid=o tid=t"


def test_expiry_is_the_earlier_of_the_credentials_word_and_the_exp_claim() -> None:
    value = jwt_expiring(NOW + timedelta(minutes=50))

    token = ado_token_from(AccessToken(value, int((NOW + timedelta(minutes=60)).timestamp())), "azure-cli")

    assert token.expires_on == NOW + timedelta(minutes=50)


def test_an_opaque_token_keeps_the_credentials_expiry_and_no_claims() -> None:
    token = ado_token_from(AccessToken("opaque-value", int(NOW.timestamp()) + 600), "managed-identity")

    assert token.claims == {}
    assert token.expires_on == NOW + timedelta(minutes=10)
    assert token.identity.startswith("unknown")


def test_repr_and_str_never_show_the_token_value() -> None:
    value = jwt_expiring(NOW, appid="a")
    token = AdoToken(value=value, expires_on=NOW, mode="token-env", claims={"appid": "a"})

    assert value not in repr(token)
    assert value not in str(token)
    assert value not in f"{token!s} {token!r}"
    assert "token-env" in repr(token)


def test_remaining_is_negative_once_expired() -> None:
    token = AdoToken(value="v", expires_on=NOW, mode="azd", claims={})

    assert token.remaining(NOW - timedelta(minutes=3)) == timedelta(minutes=3)
    assert token.remaining(NOW + timedelta(seconds=1)) == timedelta(seconds=-1)


def test_claims_of_a_token_cannot_be_changed_afterwards() -> None:
    token = ado_token_from(AccessToken(mint_jwt(exp=1, oid="o"), 1), "azd")

    with pytest.raises(TypeError):
        token.claims["oid"] = "someone else"  # type: ignore[index]
    assert token.expires_on == datetime.fromtimestamp(1, tz=UTC)

"""Pytest fixtures for the Azure DevOps double, and a signing key that mints test access tokens.

Tests that run with the Entra ID double build ``AzureDevOpsDouble(JwtVerifier(<its public key>))`` themselves;
these fixtures serve tests of the Azure DevOps double alone. Tokens are minted at run time with PyJWT from a key
generated per test session: no token is ever written into a file.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest

from tests.doubles import entra
from tests.doubles.jwt_verifier import AZURE_DEVOPS_RESOURCE_ID, JwtVerifier

from .double import AzureDevOpsDouble

TEST_TENANT: Final = "72f988bf-0000-4000-8000-00000000aaaa"
TEST_OID: Final = "0b6a8f2e-1d8c-4c55-9a57-3f0e8c1d2b7a"
TEST_APP_ID: Final = "5c2f6a1e-8b3d-4e7f-9a01-6d4c3b2a1f00"


@dataclass(frozen=True)
class SigningKey:
    """Signs access tokens the way Entra ID does (RS256, Azure DevOps audience), for tests of this double alone."""

    key: entra.SigningKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(entra.SigningKey.generate())

    @property
    def public_pem(self) -> str:
        return self.key.public_key_pem

    def mint(
        self,
        *,
        oid: str = TEST_OID,
        audience: str = AZURE_DEVOPS_RESOURCE_ID,
        tenant_id: str = TEST_TENANT,
        lifetime_s: int = 3600,
        issued_ago_s: int = 60,
        not_before_in_s: int | None = None,
        **extra: Any,
    ) -> str:
        """A signed access token; a negative ``lifetime_s`` gives one that has expired."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "iat": now - issued_ago_s,
            "nbf": now - issued_ago_s if not_before_in_s is None else now + not_before_in_s,
            "exp": now + lifetime_s,
            "tid": tenant_id,
            "oid": oid,
            "appid": TEST_APP_ID,
            "sub": oid,
            "uti": uuid.uuid4().hex,
            **extra,
        }
        return self.key.sign(claims)

    def verifier(self) -> JwtVerifier:
        return JwtVerifier(self.public_pem)


@pytest.fixture(scope="session", name="ado_signing_key")
def ado_signing_key_fixture() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(name="azure_devops_double")
def azure_devops_double_fixture(ado_signing_key: SigningKey) -> Iterator[AzureDevOpsDouble]:
    """An empty organization (``contoso``) on 127.0.0.1 that trusts ``ado_signing_key`` for tenant TEST_TENANT."""
    with AzureDevOpsDouble(ado_signing_key.verifier(), tenant_id=TEST_TENANT) as double:
        yield double

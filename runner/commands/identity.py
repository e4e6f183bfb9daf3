"""`renovate-runner identity`: who a token belongs to, as Azure DevOps and Entra ID name it.

A team moving off PATs has to add the pipeline's service principal (or managed identity) in two places: as a
member of its Marketplace publisher, which asks for the Azure DevOps identity id from the Profile API, and as a
user of each organization, which names it by its Entra ID application or object id. This command prints both,
from one token, and shows that Azure DevOps accepts that token.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TextIO

from runner.auth import AdoToken
from runner.azure_devops import AzureDevOpsClient
from runner.config.models import DEFAULT_VSSPS_URL
from runner.config.urls import normalise_service_url
from runner.errors import AuthError, ConfigError
from runner.scenarios.tokens import add_auth_arguments, auth_from_args, describe_validity, get_token

VSSPS_URL_ENV = "RENOVATE_RUNNER_VSSPS_URL"


@dataclass(frozen=True, kw_only=True)
class Identity:
    id: str  # the Azure DevOps identity id (Profile API): what a Marketplace publisher's members list takes
    display_name: str
    email: str | None
    app_id: str | None  # Entra ID application (client) id: `appid` (v1 tokens) or `azp` (v2)
    object_id: str | None  # Entra ID object id of the principal: `oid`
    tenant_id: str | None
    upn: str | None  # a person's sign-in name; service principals have none
    auth_mode: str
    token_expires_on: datetime

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "token_expires_on": self.token_expires_on.isoformat()}


def lookup_identity(token: AdoToken, vssps_url: str) -> Identity:
    """Asks the Profile API who `token` is; AuthError (exit 3) when Azure DevOps rejects the token."""
    # profile() only uses the vssps URL; the client's organization URL is for calls this command does not make.
    client = AzureDevOpsClient(None, lambda: token.value, vssps_url=vssps_url)  # the profile needs no organization
    claims = token.claims
    app_id = _claim(claims, "appid") or _claim(claims, "azp")
    try:
        profile = client.profile()
    except AuthError as error:
        # The usual cause for a new service principal: it has no Azure DevOps identity until an organization
        # adds it as a user, so the first step is that one.
        raise AuthError(
            f"{error}. A service principal or managed identity is known to Azure DevOps only once it is a user "
            f"of an organization: add it in Organization settings > Users (search for its app id "
            f"{app_id or 'unknown'}), then run this again"
        ) from None
    return Identity(
        id=profile.id,
        display_name=profile.display_name,
        email=profile.email,
        app_id=app_id,
        object_id=_claim(claims, "oid"),
        tenant_id=_claim(claims, "tid"),
        upn=_claim(claims, "upn"),
        auth_mode=token.mode,
        token_expires_on=token.expires_on,
    )


def vssps_url_from(flag: str | None, environ: Mapping[str, str]) -> str:
    """The Profile service's base URL: the flag, else RENOVATE_RUNNER_VSSPS_URL, else the real service."""
    url = flag or environ.get(VSSPS_URL_ENV) or DEFAULT_VSSPS_URL
    source = "--vssps-url" if flag else (VSSPS_URL_ENV if environ.get(VSSPS_URL_ENV) else "the default")
    try:
        return normalise_service_url(url)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}, e.g. {DEFAULT_VSSPS_URL}") from None


def configure(parser: argparse.ArgumentParser) -> None:
    add_auth_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the identity as JSON, for scripts")
    parser.add_argument(
        "--vssps-url",
        metavar="URL",
        help=f"the profile service (default: ${VSSPS_URL_ENV}, else the real service)",
    )


def run(args: argparse.Namespace, *, environ: Mapping[str, str], out: TextIO) -> int:
    vssps_url = vssps_url_from(args.vssps_url, environ)
    token = get_token(auth_from_args(args), environ)
    identity = lookup_identity(token, vssps_url)
    if args.json:
        out.write(json.dumps(identity.as_json(), indent=2) + "\n")
    else:
        out.write(render(identity, token))
    return 0


def render(identity: Identity, token: AdoToken) -> str:
    rows = [
        ("Azure DevOps identity id", identity.id),
        ("display name", identity.display_name),
        ("email", identity.email),
        ("Entra ID app id", identity.app_id),
        ("Entra ID object id", identity.object_id),
        ("Entra ID tenant id", identity.tenant_id),
        ("user principal name", identity.upn),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value or '-'}" for label, value in rows]
    lines += [
        "",
        f"Token: auth mode '{token.mode}', {describe_validity(token)}.",
        f"Marketplace: add the identity id {identity.id} as a member of your publisher (Manage publishers > Members).",
        "Other Azure DevOps organizations: add the principal as a user (Organization settings > Users, search for "
        "its app id).",
    ]
    return "\n".join(lines) + "\n"


def _claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return str(value) if value else None

"""A small Azure DevOps REST client: who the token is, which repositories exist, what the identity may do there.

Only what the runner itself needs (preflight, discovery, `identity`); Renovate talks to Azure DevOps on its own.
Every call carries `Authorization: Bearer <Entra token>`; 429/5xx answers are retried, honouring Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import quote

import requests

from runner.errors import AuthError, ExitCode, RunnerError
from runner.http_retry import bearer_request

API_VERSION: Final = "7.1"
PROFILE_API_VERSION: Final = "7.1-preview.3"
GIT_REPOSITORIES_NAMESPACE: Final = "2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87"
# https://learn.microsoft.com/azure/devops/organizations/security/namespace-reference ("Tagging"): project tokens are
# `/<projectId>`; its actions are Enumerate, Create, Update, Delete, and Create is *Create tag definition*.
TAGGING_NAMESPACE: Final = "bb50f182-8e5e-40b8-bc21-e8752a1e7ae2"
# Tags - List is still a preview API.
TAGS_API_VERSION: Final = "7.1-preview.1"


class GitPermission:
    """Bits of the "Git Repositories" security namespace (checked against `_apis/securitynamespaces`)."""

    GENERIC_READ: Final = 2
    GENERIC_CONTRIBUTE: Final = 4
    CREATE_BRANCH: Final = 16
    PULL_REQUEST_CONTRIBUTE: Final = 16384


class TaggingPermission:
    """Bits of the "Tagging" security namespace."""

    CREATE: Final = 2  # "Create tag definition"


def tagging_token(project_id: str) -> str:
    return f"/{project_id}"


class AzureDevOpsError(RunnerError):
    """Azure DevOps answered something the runner cannot use (not an authentication problem)."""

    exit_code = ExitCode.AZURE_DEVOPS


@dataclass(frozen=True, kw_only=True)
class Profile:
    id: str
    display_name: str
    email: str | None


@dataclass(frozen=True, kw_only=True)
class Repository:
    id: str
    name: str
    project: str
    project_id: str
    default_branch: str | None  # None for an empty repository
    is_disabled: bool
    size: int

    @property
    def full_name(self) -> str:
        return f"{self.project}/{self.name}"

    @property
    def is_empty(self) -> bool:
        return self.default_branch is None

    @property
    def security_token(self) -> str:
        return f"repoV2/{self.project_id}/{self.id}"


@dataclass(frozen=True, kw_only=True)
class PermissionCheck:
    namespace_id: str
    token: str
    permissions: int


class AzureDevOpsClient:
    def __init__(
        self,
        organization: str | None,
        token: Callable[[], str],
        *,
        vssps_url: str = "https://app.vssps.visualstudio.com/",
        session: requests.Session | None = None,
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._organization_url = organization.rstrip("/") + "/" if organization else None
        self._vssps = vssps_url.rstrip("/") + "/"
        self._token = token
        self._session = session or requests.Session()
        self._timeout_s = timeout_s
        self._sleep = sleep

    def _organization(self) -> str:
        if self._organization_url is None:
            raise ValueError("this client was made for the profile service only; pass an organization URL")
        return self._organization_url

    def connection_data(self) -> Mapping[str, Any]:
        """Proves the organization accepts the token; names the authenticated identity."""
        data: Mapping[str, Any] = self._json("GET", self._organization() + "_apis/connectionData", api_version=None)
        return data

    def profile(self) -> Profile:
        data = self._json("GET", self._vssps + "_apis/profile/profiles/me", api_version=PROFILE_API_VERSION)
        return Profile(
            id=str(data["id"]), display_name=str(data.get("displayName", "")), email=data.get("emailAddress")
        )

    def repository(self, project: str, name: str) -> Repository | None:
        url = f"{self._organization()}{quote(project)}/_apis/git/repositories/{quote(name)}"
        data = self._json("GET", url, missing_ok=True)
        return None if data is None else _repository(data)

    def repositories(self, project: str | None = None) -> list[Repository]:
        scope = f"{quote(project)}/" if project else ""
        data = self._json("GET", f"{self._organization()}{scope}_apis/git/repositories")
        return [_repository(item) for item in data.get("value", [])]

    def tag_names(self, project: str) -> set[str]:
        """The tag definitions of `project` (pull request labels are tags), case-folded for comparing."""
        data = self._json("GET", f"{self._organization()}{quote(project)}/_apis/wit/tags", api_version=TAGS_API_VERSION)
        return {str(item["name"]).casefold() for item in data.get("value", [])}

    def has_permissions(self, checks: Sequence[PermissionCheck]) -> list[bool]:
        """Whether the token's identity holds each permission (administrators are not assumed to)."""
        if not checks:
            return []
        body = {
            "alwaysAllowAdministrators": False,
            "evaluations": [
                {"securityNamespaceId": c.namespace_id, "token": c.token, "permissions": c.permissions} for c in checks
            ],
        }
        data = self._json("POST", self._organization() + "_apis/security/permissionevaluationbatch", body=body)
        return [bool(evaluation.get("value")) for evaluation in data.get("evaluations", [])]

    def _json(
        self,
        method: str,
        url: str,
        *,
        api_version: str | None = API_VERSION,
        body: Mapping[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        response = bearer_request(
            self._session,
            method,
            url,
            token=self._token,
            failure=AzureDevOpsError,
            hint="check the URL and the network",
            params={"api-version": api_version} if api_version else None,
            json=body,
            timeout_s=self._timeout_s,
            sleep=self._sleep,
        )
        return _decode(response, url, missing_ok=missing_ok)


def _decode(response: requests.Response, url: str, *, missing_ok: bool) -> Any:
    where = url.split("?", maxsplit=1)[0]
    # 203 with a sign-in page, 401, or a redirect: Azure DevOps did not accept the token.
    if (
        response.status_code in (HTTPStatus.NON_AUTHORITATIVE_INFORMATION, HTTPStatus.UNAUTHORIZED)
        or response.is_redirect
    ):
        raise AuthError(
            f"Azure DevOps did not accept the token for {where} (HTTP {response.status_code}); check that the "
            "identity is a user of the organization and that the token is for Azure DevOps"
        )
    if response.status_code == HTTPStatus.NOT_FOUND and missing_ok:
        return None
    if response.status_code == HTTPStatus.FORBIDDEN:
        raise AzureDevOpsError(f"{where}: the identity may not read this (HTTP 403); grant it access")
    if not response.ok:
        raise AzureDevOpsError(f"{where}: HTTP {response.status_code} {response.reason}")
    try:
        return response.json()
    except ValueError:
        raise AzureDevOpsError(f"{where}: the answer is not JSON (HTTP {response.status_code})") from None


def _repository(data: Mapping[str, Any]) -> Repository:
    project = data.get("project") or {}
    return Repository(
        id=str(data["id"]),
        name=str(data["name"]),
        project=str(project.get("name", "")),
        project_id=str(project.get("id", "")),
        default_branch=data.get("defaultBranch"),
        is_disabled=bool(data.get("isDisabled", False)),
        size=int(data.get("size", 0)),
    )

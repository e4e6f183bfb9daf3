"""``AzureDevOpsDouble``: the double's public face for tests: start and stop it, seed repositories, grant
permissions, add policies, and read back what happened (requests, pull requests, branches)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from tests.doubles.jwt_verifier import JwtVerifier
from tests.doubles.latency import Latency

from . import git
from .auth import DEFAULT_AUTHORITY
from .enums import PolicyEvaluationStatus
from .security import (
    RENOVATE_PERMISSIONS,
    TAGGING_NAMESPACE_ID,
    GitPermission,
    TaggingPermission,
    repository_token,
    tagging_token,
)
from .server import DoubleServer, RecordedRequest, ServerSettings
from .site import Site
from .state import PullRequest, Repository, State

DEFAULT_ORGANIZATION: Final = "contoso"


@dataclass(frozen=True, kw_only=True)
class SeededRepository:
    id: str
    name: str
    project: str
    project_id: str
    bare_path: Path
    remote_url: str  # the clone URL Azure DevOps would give, without the user part
    security_token: str  # repoV2/<projectId>/<repoId>

    @property
    def full_name(self) -> str:
        return f"{self.project}/{self.name}"


@dataclass(frozen=True, kw_only=True)
class PullRequestSnapshot:
    id: int
    repository: str  # Project/repo
    title: str
    description: str
    source_ref: str
    target_ref: str
    status: str  # active, abandoned, completed
    labels: tuple[str, ...]
    created_by_oid: str
    is_draft: bool


class AzureDevOpsDouble:
    """Azure DevOps Services on 127.0.0.1 for one organization; use it as a context manager.

    ``verifier`` checks every bearer token (the Entra ID double's public key). ``tenant_id``, when given, is the
    organization's Entra tenant: tokens from another tenant are refused. ``authority`` only goes into the
    ``WWW-Authenticate`` challenge of refusals. ``latency`` delays each REST and git request as the real service's
    network round trips do (none by default).
    """

    def __init__(
        self,
        verifier: JwtVerifier,
        *,
        organization: str = DEFAULT_ORGANIZATION,
        tenant_id: str | None = None,
        authority: str = DEFAULT_AUTHORITY,
        latency: Latency = Latency.NONE,
    ) -> None:
        if organization.lower() in ("vssps", "_apis", "_git"):
            raise ValueError(f"{organization!r} is a path the double uses for itself; pick another organization")
        self._scratch = Path(tempfile.mkdtemp(prefix="ado-double-"))
        self._state = State(organization=organization, git_root=self._scratch / "git")
        self._server = DoubleServer(
            self._state, ServerSettings(verifier=verifier, tenant_id=tenant_id, authority=authority, latency=latency)
        )
        self._thread = threading.Thread(target=self._serve, name="azure-devops-double", daemon=True)

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    # Where it is ------------------------------------------------------------------------------------------------

    @property
    def site(self) -> Site:
        return self._server.site

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.site.base_url

    @property
    def organization(self) -> str:
        return self._state.organization

    @property
    def organization_url(self) -> str:
        """``http://127.0.0.1:<port>/<org>/``: Renovate's endpoint and the runner's organization URL."""
        return self.site.organization_url

    @property
    def vssps_url(self) -> str:
        """``http://127.0.0.1:<port>/vssps/``: the profile service URL."""
        return self.site.vssps_url

    # Seeding ----------------------------------------------------------------------------------------------------

    def add_repository(
        self,
        project: str,
        name: str,
        files: Mapping[str, str | bytes] | Path | None = None,
        *,
        default_branch: str = "main",
        disabled: bool = False,
        empty: bool = False,
    ) -> SeededRepository:
        """A repository whose default branch holds ``files`` (a mapping of path to content, or a directory) in
        one commit (a README when ``files`` is None); ``empty`` makes one without any commit. The project is
        created on first use."""
        if empty and files:
            raise ValueError("an empty repository cannot have files")
        repository = self._state.new_repository(
            self._state.ensure_project(project), name, default_branch=default_branch, disabled=disabled
        )
        seed = None if empty else files or {"README.md": f"# {name}\n"}
        git.create_bare_repository(repository.path, default_branch=default_branch, files=seed)
        return self._seeded(repository)

    def _seeded(self, repository: Repository) -> SeededRepository:
        return SeededRepository(
            id=repository.id,
            name=repository.name,
            project=repository.project.name,
            project_id=repository.project.id,
            bare_path=repository.path,
            remote_url=self.site.web_url(repository.project.name, repository.name),
            security_token=repository.security_token,
        )

    def set_disabled(self, project: str, name: str, disabled: bool = True) -> None:
        self._repository(project, name).disabled = disabled

    def grant(
        self, oid: str, project: str | None = None, repo: str | None = None, bits: int = RENOVATE_PERMISSIONS
    ) -> None:
        """Allows ``bits`` of the Git Repositories namespace to the identity ``oid`` on one repository, on every
        repository of ``project`` (``repo`` None), or on the whole organization (both None)."""
        if repo is not None and project is None:
            raise ValueError("a repository grant needs its project")
        if repo is not None:
            token = self._repository(project or "", repo).security_token
        elif project is not None:
            token = repository_token(self._state.ensure_project(project).id)
        else:
            token = repository_token()
        self._state.add_grant(oid, token, GitPermission(bits))

    def add_policy(
        self,
        project: str,
        type_id: str,
        settings: Mapping[str, object],
        *,
        display_name: str = "Policy",
        is_blocking: bool = True,
        is_enabled: bool = True,
        evaluation_status: PolicyEvaluationStatus = PolicyEvaluationStatus.APPROVED,
    ) -> int:
        """A branch policy configuration of ``project``; returns its id."""
        policy = self._state.add_policy(
            project=self._state.ensure_project(project),
            type_id=type_id,
            type_display_name=display_name,
            settings=dict(settings),
            is_blocking=is_blocking,
            is_enabled=is_enabled,
            evaluation_status=evaluation_status,
        )
        return policy.id

    def set_policy_evaluation(self, policy_id: int, status: PolicyEvaluationStatus) -> None:
        """What the policy's evaluations now say (a build finished, a status was posted, a reviewer voted)."""
        with self._state.lock:
            policy = next(policy for policy in self._state.policies if policy.id == policy_id)
            policy.evaluation_status = status

    def grant_tagging(self, oid: str, project: str, bits: int = TaggingPermission.CREATE) -> None:
        """Allows ``bits`` of the Tagging namespace (Create: *Create tag definition*) to ``oid`` on ``project``."""
        token = tagging_token(self._state.ensure_project(project).id)
        self._state.add_grant(oid, token, bits, namespace=TAGGING_NAMESPACE_ID)

    def add_tags(self, project: str, *names: str) -> None:
        """Tag definitions that already exist in ``project``, so a label of that name needs no Create."""
        self._state.ensure_project(project).tags.update(names)

    def identity_id(self, oid: str) -> str:
        """The Azure DevOps identity id the double gives the Entra object id ``oid``."""
        return self._state.identity(oid).id

    # What happened ----------------------------------------------------------------------------------------------

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        with self._server.record_lock:
            return tuple(self._server.recorded)

    @property
    def unknown_requests(self) -> tuple[RecordedRequest, ...]:
        """Requests the double implements nothing for: what a client called that these tests cannot vouch for."""
        return tuple(request for request in self.requests if request.route is None)

    def clear_requests(self) -> None:
        with self._server.record_lock:
            self._server.recorded.clear()

    def pull_requests(self, project: str | None = None, name: str | None = None) -> list[PullRequestSnapshot]:
        """Every pull request (of one repository when named), oldest first."""
        with self._state.lock:
            chosen = [
                pr
                for pr in self._state.pull_requests.values()
                if name is None or pr.repository is self._repository(project or "", name)
            ]
            return [_snapshot(pr) for pr in sorted(chosen, key=lambda pr: pr.id)]

    def branches(self, project: str, name: str) -> dict[str, str]:
        """``{branch name: commit id}`` as the bare repository holds them now."""
        heads = git.refs(self._repository(project, name).path, "refs/heads/")
        return {ref.removeprefix("refs/heads/"): commit for ref, commit in heads.items()}

    def bare_path(self, project: str, name: str) -> Path:
        return self._repository(project, name).path

    def _repository(self, project: str, name: str) -> Repository:
        repository = self._state.find_repository(project, name)
        if repository is None:
            raise KeyError(f"no repository {project}/{name} in the double")
        return repository


def _snapshot(pull_request: PullRequest) -> PullRequestSnapshot:
    return PullRequestSnapshot(
        id=pull_request.id,
        repository=f"{pull_request.repository.project.name}/{pull_request.repository.name}",
        title=pull_request.title,
        description=pull_request.description,
        source_ref=pull_request.source_ref,
        target_ref=pull_request.target_ref,
        status=pull_request.status.wire,
        labels=tuple(label.name for label in pull_request.labels if label.active),
        created_by_oid=pull_request.created_by.oid,
        is_draft=pull_request.is_draft,
    )

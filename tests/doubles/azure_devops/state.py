"""What the Azure DevOps double knows: projects, repositories, identities, pull requests and what hangs off them
(labels, threads, reviewers), commit statuses, policy configurations, and permission grants.

Git content (branches, commits, files) is not kept here: it lives in the bare repositories and is read from them
when asked, so a push through git and a read through REST always agree. Every method takes the state's lock; REST
handlers call several of them, so they hold ``state.lock`` (re-entrant) around a read-modify-write.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from .enums import CommentThreadStatus, CommentType, GitStatusState, PolicyEvaluationStatus, PullRequestStatus
from .security import GIT_REPOSITORIES_NAMESPACE_ID, GitPermission, repository_token, token_ancestry

# Stable ids: the same organization, project and repository names give the same ids in every test run.
_ID_NAMESPACE: Final = uuid.UUID("6b0c1ec2-52a3-4b38-a1c4-0e2f3a5d7c11")


def stable_id(*names: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join(name.lower() for name in names)))


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class Project:
    id: str
    name: str
    tags: set[str] = field(default_factory=set, compare=False)  # the project's tag definitions (pull request labels)


@dataclass(kw_only=True)
class Repository:
    id: str
    name: str
    project: Project
    default_branch: str | None  # None while the repository is empty, as in Azure DevOps
    disabled: bool
    path: Path  # the bare repository

    @property
    def security_token(self) -> str:
        return repository_token(self.project.id, self.id)


@dataclass(frozen=True, kw_only=True)
class Identity:
    """The Azure DevOps identity behind an Entra object id; its id is not the object id, as in the real service."""

    id: str
    oid: str
    display_name: str
    unique_name: str


@dataclass(kw_only=True)
class Label:
    id: str
    name: str
    active: bool = True


@dataclass(kw_only=True)
class Comment:
    id: int
    content: str
    comment_type: CommentType
    parent_comment_id: int
    author: Identity
    published: datetime
    updated: datetime


@dataclass(kw_only=True)
class Thread:
    id: int
    status: CommentThreadStatus
    comments: list[Comment]
    published: datetime
    updated: datetime
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class Reviewer:
    id: str
    display_name: str
    vote: int = 0
    is_required: bool = False
    is_flagged: bool = False


@dataclass(kw_only=True)
class PullRequest:
    id: int
    repository: Repository
    source_ref: str
    target_ref: str
    title: str
    description: str
    created_by: Identity
    creation_date: datetime
    is_draft: bool = False
    status: PullRequestStatus = PullRequestStatus.ACTIVE
    closed_date: datetime | None = None
    source_commit: str | None = None
    target_commit: str | None = None
    labels: list[Label] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    reviewers: list[Reviewer] = field(default_factory=list)
    work_item_refs: list[dict[str, Any]] = field(default_factory=list)
    completion_options: dict[str, Any] | None = None
    auto_complete_set_by: str | None = None  # an identity id

    @property
    def is_active(self) -> bool:
        return self.status is PullRequestStatus.ACTIVE


@dataclass(kw_only=True)
class CommitStatus:
    id: int
    repository_id: str
    commit_id: str
    state: GitStatusState
    description: str
    context_name: str
    context_genre: str | None
    target_url: str | None
    created_by: Identity
    creation_date: datetime


@dataclass(kw_only=True)
class PolicyConfiguration:
    id: int
    project: Project
    type_id: str
    type_display_name: str
    settings: dict[str, Any]
    is_blocking: bool
    is_enabled: bool
    # What each pull request's evaluation of this policy says; the double evaluates nothing itself.
    evaluation_status: PolicyEvaluationStatus
    created: datetime


@dataclass(kw_only=True)
class WorkItem:
    id: int
    project: Project
    fields: dict[str, Any]  # by reference name: System.Title, System.State, ...
    rev: int = 1


@dataclass(frozen=True, kw_only=True)
class Grant:
    oid: str
    token: str
    permissions: int
    namespace: str = GIT_REPOSITORIES_NAMESPACE_ID


class State:
    def __init__(self, *, organization: str, git_root: Path) -> None:
        self.organization = organization
        self.organization_id = stable_id("organization", organization)
        self.git_root = git_root
        self.lock = threading.RLock()
        self.projects: dict[str, Project] = {}
        self.repositories: dict[str, Repository] = {}
        self.identities: dict[str, Identity] = {}
        self.pull_requests: dict[int, PullRequest] = {}
        self.statuses: list[CommitStatus] = []
        self.policies: list[PolicyConfiguration] = []
        self.grants: list[Grant] = []
        self.work_items: dict[int, WorkItem] = {}
        self._pull_request_ids = itertools.count(1)
        self._status_ids = itertools.count(1)
        self._policy_ids = itertools.count(1)
        self._thread_ids = itertools.count(1)
        self._work_item_ids = itertools.count(1)

    # Projects and repositories ---------------------------------------------------------------------------------

    def ensure_project(self, name: str) -> Project:
        with self.lock:
            project = self.find_project(name)
            if project is None:
                project = Project(id=stable_id(self.organization, name), name=name)
                self.projects[project.id] = project
            return project

    def find_project(self, name_or_id: str) -> Project | None:
        """Azure DevOps routes accept a project's name or id, case-insensitively."""
        with self.lock:
            wanted = name_or_id.lower()
            return next((p for p in self.projects.values() if wanted in (p.id, p.name.lower())), None)

    def new_repository(self, project: Project, name: str, *, default_branch: str, disabled: bool) -> Repository:
        with self.lock:
            if self.find_repository(project.name, name) is not None:
                raise ValueError(f"repository {project.name}/{name} exists already")
            repo_id = stable_id(self.organization, project.name, name)
            repository = Repository(
                id=repo_id,
                name=name,
                project=project,
                default_branch=default_branch,
                disabled=disabled,
                path=self.git_root / f"{repo_id}.git",
            )
            self.repositories[repo_id] = repository
            return repository

    def find_repository(self, project: str | None, name_or_id: str) -> Repository | None:
        """A repository by id (any project) or by name within ``project`` (a name or id), case-insensitively."""
        with self.lock:
            wanted = name_or_id.lower()
            by_id = self.repositories.get(wanted)
            if by_id is not None:
                in_project = project is None or project.lower() in (by_id.project.id, by_id.project.name.lower())
                return by_id if in_project else None
            if project is None:
                return None
            scope = self.find_project(project)
            return next(
                (r for r in self.repositories.values() if r.project == scope and r.name.lower() == wanted),
                None,
            )

    # Identities and permissions --------------------------------------------------------------------------------

    def identity(self, oid: str) -> Identity:
        """The identity of an Entra object id, created on first sight like a service principal added to the org."""
        with self.lock:
            known = self.identities.get(oid)
            if known is None:
                known = Identity(
                    id=stable_id("identity", oid),
                    oid=oid,
                    display_name=f"Service principal {oid[:8]}",
                    unique_name=oid,
                )
                self.identities[oid] = known
            return known

    def add_grant(
        self, oid: str, token: str, permissions: int, *, namespace: str = GIT_REPOSITORIES_NAMESPACE_ID
    ) -> None:
        with self.lock:
            self.grants.append(Grant(oid=oid, token=token, permissions=permissions, namespace=namespace))

    def granted(self, oid: str, token: str, *, namespace: str = GIT_REPOSITORIES_NAMESPACE_ID) -> int:
        """The bits ``oid`` is allowed on ``token`` of ``namespace``: its grants there and on every ancestor."""
        with self.lock:
            # Tokens are made of GUIDs, which Azure DevOps compares without regard to case.
            applicable = {ancestor.lower() for ancestor in token_ancestry(token)}
            allowed = 0
            for grant in self.grants:
                if grant.oid == oid and grant.namespace == namespace.lower() and grant.token.lower() in applicable:
                    allowed |= grant.permissions
            return allowed

    def permissions(self, oid: str, token: str) -> GitPermission:
        """Everything ``oid`` is allowed on ``token`` of the Git Repositories namespace."""
        return GitPermission(self.granted(oid, token))

    def may(self, oid: str, repository: Repository, needed: GitPermission) -> bool:
        return needed in self.permissions(oid, repository.security_token)

    # Pull requests, statuses, policies ----------------------------------------------------------------------------

    def add_pull_request(self, **fields: Any) -> PullRequest:
        with self.lock:
            pull_request = PullRequest(id=next(self._pull_request_ids), **fields)
            self.pull_requests[pull_request.id] = pull_request
            return pull_request

    def next_thread_id(self) -> int:
        with self.lock:
            return next(self._thread_ids)

    def add_status(self, **fields: Any) -> CommitStatus:
        with self.lock:
            status = CommitStatus(id=next(self._status_ids), **fields)
            self.statuses.append(status)
            return status

    def add_policy(self, **fields: Any) -> PolicyConfiguration:
        with self.lock:
            policy = PolicyConfiguration(id=next(self._policy_ids), created=utc_now(), **fields)
            self.policies.append(policy)
            return policy

    def add_work_item(self, project: Project, fields: dict[str, Any]) -> WorkItem:
        with self.lock:
            item_id = next(self._work_item_ids)
            item = WorkItem(id=item_id, project=project, fields={**fields, "System.Id": item_id})
            self.work_items[item.id] = item
            return item

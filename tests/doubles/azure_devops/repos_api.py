"""Projects, repositories, items, refs, commits, branch statistics and commit statuses.

Reads need GenericRead on the repository (a repository the caller may not read does not exist for it, as in
Azure DevOps); ref updates need GenericContribute, plus CreateBranch for a new ref; creating a commit status
needs GenericContribute. Left out: folder items and recursion, item history and zip downloads, ref locking and
favorites, commit search by author, path or date, and diffs.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any, Final

from . import git
from .enums import GitStatusState, GitVersionType
from .routing import ApiError, Request, Response
from .security import GitPermission
from .shapes import commit_json, project_ref, repository_json, status_json
from .state import Project, Repository, utc_now

_ZERO_ID: Final = "0" * 40
_COMMIT_ID: Final = re.compile(r"^[0-9a-fA-F]{40}$")


def project_not_found(name: str) -> ApiError:
    return ApiError(
        HTTPStatus.NOT_FOUND,
        "ProjectDoesNotExistWithNameException",
        f"TF200016: The following project does not exist: {name}. Verify that the name of the project is correct "
        "and that the project exists on the specified Azure DevOps Server.",
    )


def repository_not_found(name: str) -> ApiError:
    return ApiError(
        HTTPStatus.NOT_FOUND,
        "GitRepositoryNotFoundException",
        f"TF401019: The Git repository with name or identifier {name} does not exist or you do not have "
        "permissions for the operation you are attempting.",
    )


def needs_permission(request: Request, permission: GitPermission) -> ApiError:
    return ApiError(
        HTTPStatus.FORBIDDEN,
        "GitNeedsPermissionException",
        f"TF401027: You need the Git '{_permission_name(permission)}' permission to perform this action. "
        f"Details: identity '{request.caller.display_name}', scope 'repository'.",
    )


def _permission_name(permission: GitPermission) -> str:
    return "".join(word.capitalize() for word in (permission.name or "").split("_"))


def scoped_project(request: Request) -> Project | None:
    """The project named by the route, if any; 404 when it names none that exists."""
    name = request.value("project")
    if name is None:
        return None
    project = request.state.find_project(name)
    if project is None:
        raise project_not_found(name)
    return project


def readable_repository(request: Request) -> Repository:
    """The route's repository, when the caller may read it; otherwise 404 as Azure DevOps answers."""
    project = scoped_project(request)
    name = request.required("repositoryId")
    repository = request.state.find_repository(project.name if project else None, name)
    if repository is None or not request.state.may(request.caller.oid, repository, GitPermission.GENERIC_READ):
        raise repository_not_found(name)
    return repository


def require(request: Request, repository: Repository, permission: GitPermission) -> None:
    if not request.state.may(request.caller.oid, repository, permission):
        raise needs_permission(request, permission)


# Projects ---------------------------------------------------------------------------------------------------------


def get_projects(request: Request) -> Response:
    wanted = request.value("projectId")
    if wanted is not None:
        project = request.state.find_project(wanted)
        if project is None:
            raise project_not_found(wanted)
        return Response.ok(project_ref(request.site, project))
    with request.state.lock:
        projects = sorted(request.state.projects.values(), key=lambda p: p.name.lower())
    return Response.collection([project_ref(request.site, project) for project in projects])


# Repositories -----------------------------------------------------------------------------------------------------


def get_repositories(request: Request) -> Response:
    if request.value("repositoryId") is not None:
        return Response.ok(repository_json(request.site, readable_repository(request)))
    project = scoped_project(request)
    state = request.state
    with state.lock:
        visible = [
            repository
            for repository in state.repositories.values()
            if (project is None or repository.project == project)
            and state.may(request.caller.oid, repository, GitPermission.GENERIC_READ)
        ]
    visible.sort(key=lambda r: (r.project.name.lower(), r.name.lower()))
    return Response.collection([repository_json(request.site, repository) for repository in visible])


# Items ----------------------------------------------------------------------------------------------------------


def resolve_version(repository: Repository, version: str | None, version_type: str | None) -> str:
    """The commit a version descriptor names; the default branch when it names none."""
    kind = GitVersionType.parse(version_type) if version_type else GitVersionType.BRANCH
    if not version:
        if repository.default_branch is None:
            raise _unresolvable(repository, "Branch", "")
        version = repository.default_branch
    revision = {
        GitVersionType.BRANCH: f"refs/heads/{version.removeprefix('refs/heads/')}",
        GitVersionType.TAG: f"refs/tags/{version.removeprefix('refs/tags/')}",
        GitVersionType.COMMIT: version,
    }[kind]
    commit = git.resolve(repository.path, revision)
    if commit is None:
        raise _unresolvable(repository, kind.name.capitalize(), version)
    return commit


def _unresolvable(repository: Repository, kind: str, version: str) -> ApiError:
    return ApiError(
        HTTPStatus.NOT_FOUND,
        "GitUnresolvableToCommitException",
        f"TF401175: The version descriptor <{kind}: {version} > could not be resolved to a version in the "
        f"repository {repository.name}",
    )


def get_item(request: Request) -> Response:
    repository = readable_repository(request)
    path = request.query.get("path") or request.value("path")
    if not path:
        raise ApiError(HTTPStatus.BAD_REQUEST, "ArgumentNullException", "Value cannot be null. Parameter name: path")
    commit = resolve_version(
        repository, request.query.get("versiondescriptor.version"), request.query.get("versiondescriptor.versiontype")
    )
    found = git.read_file(repository.path, commit, path)
    if found is None:
        raise ApiError(
            HTTPStatus.NOT_FOUND,
            "GitItemNotFoundException",
            f"TF401174: The item '{path}' could not be found in the repository '{repository.name}' at the version "
            f"specified by '{commit}'.",
        )
    object_id, content = found
    # The file itself, not its metadata, when asked for as text or bytes (azure-devops-node-api's getItemText and
    # getItemContent send these Accept headers), or by `$format`.
    wanted = request.query.get("$format", "").lower()
    if request.accept == "text/plain" or wanted == "text":
        return Response(status=HTTPStatus.OK, body=content, content_type="text/plain; charset=utf-8")
    if request.accept == "application/octet-stream" or wanted == "octetstream":
        return Response(status=HTTPStatus.OK, body=content, content_type="application/octet-stream")
    item: dict[str, Any] = {
        "objectId": object_id,
        "gitObjectType": "blob",
        "commitId": commit,
        "path": "/" + path.lstrip("/"),
        "url": request.site.api(f"_apis/git/repositories/{repository.id}/items?path={path}"),
    }
    if request.query.get("includecontent", "").lower() == "true":
        item["content"] = content.decode(errors="replace")
    return Response.ok(item)


# Refs -----------------------------------------------------------------------------------------------------------


def _ref_json(request: Request, repository: Repository, name: str, object_id: str) -> dict[str, Any]:
    return {
        "name": name,
        "objectId": object_id,
        "url": request.site.api(f"_apis/git/repositories/{repository.id}/refs?filter={name.removeprefix('refs/')}"),
    }


def get_refs(request: Request) -> Response:
    repository = readable_repository(request)
    wanted = request.query.get("filter") or request.value("filter") or ""
    contains = request.query.get("filtercontains")
    prefix = "refs/" + wanted.removeprefix("refs/")
    found = [
        _ref_json(request, repository, name, object_id)
        for name, object_id in sorted(git.refs(repository.path).items())
        if name.startswith(prefix) and (not contains or contains.lower() in name.lower())
    ]
    return Response.collection(found)


def update_refs(request: Request) -> Response:
    repository = readable_repository(request)
    updates = request.json()
    if not isinstance(updates, list):
        raise ApiError(HTTPStatus.BAD_REQUEST, "InvalidArgumentValueException", "Expected a list of ref updates.")
    require(request, repository, GitPermission.GENERIC_CONTRIBUTE)
    results = []
    for update in updates:
        name, old, new = update["name"], update.get("oldObjectId") or _ZERO_ID, update["newObjectId"]
        if old == _ZERO_ID:
            require(request, repository, GitPermission.CREATE_BRANCH)
        try:
            git.update_ref(repository.path, name, new, old)
            outcome = ("succeeded", True)
        except git.GitError:
            outcome = ("staleOldObjectId", False)
        results.append(
            {
                "repositoryId": repository.id,
                "name": name,
                "oldObjectId": old,
                "newObjectId": new,
                "isLocked": False,
                "updateStatus": outcome[0],
                "success": outcome[1],
                "rejectedBy": None,
                "customMessage": None,
            }
        )
    return Response.collection(results)


# Commits and branch statistics ----------------------------------------------------------------------------------


def get_commits(request: Request) -> Response:
    repository = readable_repository(request)
    commit_id = request.value("commitId")
    if commit_id is not None:
        info = git.commit_info(repository.path, commit_id) if _COMMIT_ID.match(commit_id) else None
        if info is None:
            raise ApiError(
                HTTPStatus.NOT_FOUND,
                "GitObjectNotFoundException",
                f"TF401029: The commit {commit_id} could not be found in the repository {repository.name}.",
            )
        return Response.ok(commit_json(request.site, repository, info))
    start = resolve_version(
        repository,
        request.query.get("searchcriteria.itemversion.version"),
        request.query.get("searchcriteria.itemversion.versiontype"),
    )
    top = int(request.query.get("searchcriteria.$top") or request.query.get("$top") or 100)
    skip = int(request.query.get("searchcriteria.$skip") or request.query.get("$skip") or 0)
    commits = git.log(repository.path, start, skip=skip, top=top)
    return Response.collection([commit_json(request.site, repository, info) for info in commits])


def _branch_stats(request: Request, repository: Repository, branch: str, commit: str) -> dict[str, Any]:
    info = git.commit_info(repository.path, commit)
    assert info is not None  # the commit came from a ref of this repository
    base = git.resolve(repository.path, f"refs/heads/{repository.default_branch}")
    ahead, behind = git.ahead_behind(repository.path, commit, base) if base else (0, 0)
    return {
        "commit": commit_json(request.site, repository, info),
        "name": branch,
        "aheadCount": ahead,
        "behindCount": behind,
        "isBaseVersion": branch == repository.default_branch,
    }


def get_branch_stats(request: Request) -> Response:
    repository = readable_repository(request)
    name = request.query.get("name")
    if name is not None:
        branch = name.removeprefix("refs/heads/")
        commit = git.resolve(repository.path, f"refs/heads/{branch}")
        if commit is None:
            raise _unresolvable(repository, "Branch", branch)
        return Response.ok(_branch_stats(request, repository, branch, commit))
    branches = git.refs(repository.path, "refs/heads/")
    return Response.collection(
        [
            _branch_stats(request, repository, ref.removeprefix("refs/heads/"), commit)
            for ref, commit in sorted(branches.items())
        ]
    )


# Commit statuses --------------------------------------------------------------------------------------------------


def get_statuses(request: Request) -> Response:
    repository = readable_repository(request)
    commit_id = request.required("commitId")
    with request.state.lock:
        statuses = [s for s in request.state.statuses if s.repository_id == repository.id and s.commit_id == commit_id]
    statuses.sort(key=lambda s: s.id, reverse=True)  # newest first, as Azure DevOps lists them
    if request.query.get("latestonly", "").lower() == "true":
        seen: set[tuple[str | None, str]] = set()
        latest = []
        for status in statuses:
            if (status.context_genre, status.context_name) not in seen:
                seen.add((status.context_genre, status.context_name))
                latest.append(status)
        statuses = latest
    skip = int(request.query.get("skip") or 0)
    top = int(request.query.get("top") or 1000)
    return Response.collection([status_json(request.site, s) for s in statuses[skip : skip + top]])


def create_status(request: Request) -> Response:
    repository = readable_repository(request)
    require(request, repository, GitPermission.GENERIC_CONTRIBUTE)
    commit_id = request.required("commitId")
    if git.commit_info(repository.path, commit_id) is None:
        raise ApiError(
            HTTPStatus.NOT_FOUND,
            "GitObjectNotFoundException",
            f"TF401029: The commit {commit_id} could not be found in the repository {repository.name}.",
        )
    body = request.json() or {}
    context = body.get("context") or {}
    if not context.get("name"):
        raise ApiError(HTTPStatus.BAD_REQUEST, "InvalidArgumentValueException", "The status context name is required.")
    status = request.state.add_status(
        repository_id=repository.id,
        commit_id=commit_id,
        state=GitStatusState.parse(body.get("state", 0)),
        description=body.get("description") or "",
        context_name=context["name"],
        context_genre=context.get("genre"),
        target_url=body.get("targetUrl"),
        created_by=request.caller,
        creation_date=utc_now(),
    )
    return Response.json(HTTPStatus.CREATED, status_json(request.site, status))

"""Pull requests and what hangs off them: labels, comment threads and comments, reviewers.

Creation checks what Azure DevOps checks: both refs are branches that exist, no other active pull request joins
the same source and target (409, TF401179), a description of at most 4000 characters, and the
PullRequestContribute permission. Completing a pull request merges it for real (a merge commit onto the target
branch, or a squash commit) and deletes the source branch when ``completionOptions.deleteSourceBranch`` says so,
but only once its branch policies and required reviewers allow it (``policy_api.completion_blockers``); before
that the completion is refused and the pull request stays active. Left out: iterations, work item links (accepted
and kept, not checked), auto-complete (kept, never fires), draft publishing rules, and the merge status computation
(always ``succeeded``).
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, Final

from . import git
from .enums import CommentThreadStatus, CommentType, MergeStrategy, PullRequestStatus
from .policy_api import completion_blockers
from .repos_api import readable_repository, require, scoped_project
from .routing import ApiError, Request, Response
from .security import GitPermission
from .shapes import comment_json, label_json, pull_request_json, reviewer_json, thread_json
from .state import Comment, Label, PullRequest, Repository, Reviewer, Thread, stable_id, utc_now

MAX_DESCRIPTION: Final = 4000
_DEFAULT_TOP: Final = 101


def _not_found(pull_request_id: object) -> ApiError:
    return ApiError(
        HTTPStatus.NOT_FOUND,
        "GitPullRequestNotFoundException",
        f"TF401180: The requested pull request was not found. (id {pull_request_id})",
    )


def _pull_request(request: Request, repository: Repository | None = None) -> PullRequest:
    raw_id = request.required("pullRequestId")
    found = request.state.pull_requests.get(int(raw_id)) if raw_id.isdigit() else None
    if found is None or (repository is not None and found.repository is not repository):
        raise _not_found(raw_id)
    if not request.state.may(request.caller.oid, found.repository, GitPermission.GENERIC_READ):
        raise _not_found(raw_id)
    return found


def _writable_pull_request(request: Request) -> PullRequest:
    pull_request = _pull_request(request, readable_repository(request))
    require(request, pull_request.repository, GitPermission.PULL_REQUEST_CONTRIBUTE)
    return pull_request


# Listing ------------------------------------------------------------------------------------------------------------


def _matches(pull_request: PullRequest, query: dict[str, str]) -> bool:
    wanted_status = PullRequestStatus.parse(query.get("searchcriteria.status") or PullRequestStatus.ACTIVE)
    if wanted_status is not PullRequestStatus.ALL and pull_request.status is not wanted_status:
        return False
    checks = {
        "searchcriteria.sourcerefname": pull_request.source_ref,
        "searchcriteria.targetrefname": pull_request.target_ref,
        "searchcriteria.creatorid": pull_request.created_by.id,
        "searchcriteria.sourcerepositoryid": pull_request.repository.id,
        "searchcriteria.repositoryid": pull_request.repository.id,
    }
    for key, actual in checks.items():
        expected = query.get(key)
        if expected is not None and expected.lower() != actual.lower():
            return False
    reviewer = query.get("searchcriteria.reviewerid")
    return reviewer is None or any(r.id == reviewer.lower() for r in pull_request.reviewers)


def _page(request: Request, candidates: Iterable[PullRequest]) -> Response:
    query = dict(request.query)
    matching = sorted((pr for pr in candidates if _matches(pr, query)), key=lambda pr: pr.id, reverse=True)
    skip = int(query.get("$skip") or 0)
    top = int(query.get("$top") or _DEFAULT_TOP)
    return Response.collection([pull_request_json(request.site, pr) for pr in matching[skip : skip + top]])


def pull_requests(request: Request) -> Response:
    """GET one pull request of a repository, or search the repository's pull requests."""
    repository = readable_repository(request)
    if request.value("pullRequestId") is not None:
        return Response.ok(pull_request_json(request.site, _pull_request(request, repository)))
    with request.state.lock:
        candidates = [pr for pr in request.state.pull_requests.values() if pr.repository is repository]
    return _page(request, candidates)


def pull_requests_by_project(request: Request) -> Response:
    project = scoped_project(request)
    state = request.state
    with state.lock:
        candidates = [
            pr
            for pr in state.pull_requests.values()
            if (project is None or pr.repository.project == project)
            and state.may(request.caller.oid, pr.repository, GitPermission.GENERIC_READ)
        ]
    return _page(request, candidates)


def pull_request_by_id(request: Request) -> Response:
    pull_request = _pull_request(request)
    project = scoped_project(request)
    if project is not None and pull_request.repository.project != project:
        raise _not_found(pull_request.id)
    return Response.ok(pull_request_json(request.site, pull_request))


# Create and update ------------------------------------------------------------------------------------------------


def _branch_commit(repository: Repository, ref: str) -> str:
    commit = git.resolve(repository.path, ref) if ref.startswith("refs/heads/") else None
    if commit is None:
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            "GitPullRequestCannotBeActivated",
            "TF401398: The pull request cannot be activated because the source and/or the target branch no longer "
            "exists, or the requested refs are not branches",
        )
    return commit


def _refuse_duplicate(request: Request, repository: Repository, source: str, target: str, own_id: int = 0) -> None:
    with request.state.lock:
        for other in request.state.pull_requests.values():
            same_refs = (other.source_ref, other.target_ref) == (source, target)
            if other.repository is repository and other.id != own_id and same_refs and other.is_active:
                raise ApiError(
                    HTTPStatus.CONFLICT,
                    "GitPullRequestExistsException",
                    f"TF401179: An active pull request for the source and target branch already exists. "
                    f"(pull request {other.id})",
                )


def _check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION:
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            "InvalidArgumentValueException",
            f"The pull request description is {len(description)} characters long; at most {MAX_DESCRIPTION} "
            "are allowed.",
        )


def create_pull_request(request: Request) -> Response:
    repository = readable_repository(request)
    require(request, repository, GitPermission.PULL_REQUEST_CONTRIBUTE)
    body: dict[str, Any] = request.json() or {}
    source, target = body.get("sourceRefName", ""), body.get("targetRefName", "")
    description = body.get("description") or ""
    _check_description(description)
    with request.state.lock:
        source_commit, target_commit = _branch_commit(repository, source), _branch_commit(repository, target)
        _refuse_duplicate(request, repository, source, target)
        pull_request = request.state.add_pull_request(
            repository=repository,
            source_ref=source,
            target_ref=target,
            title=body.get("title") or source.removeprefix("refs/heads/"),
            description=description,
            created_by=request.caller,
            creation_date=utc_now(),
            is_draft=bool(body.get("isDraft", False)),
            source_commit=source_commit,
            target_commit=target_commit,
            work_item_refs=[ref for ref in body.get("workItemRefs") or [] if ref.get("id")],
        )
        for label in body.get("labels") or []:
            _add_label(pull_request, label["name"])
    return Response.json(HTTPStatus.CREATED, pull_request_json(request.site, pull_request))


def update_pull_request(request: Request) -> Response:
    body: dict[str, Any] = request.json() or {}
    with request.state.lock:
        pull_request = _writable_pull_request(request)
        if "description" in body:
            _check_description(body["description"] or "")
            pull_request.description = body["description"] or ""
        if body.get("title"):
            pull_request.title = body["title"]
        if "isDraft" in body:
            pull_request.is_draft = bool(body["isDraft"])
        if body.get("targetRefName"):
            _branch_commit(pull_request.repository, body["targetRefName"])
            pull_request.target_ref = body["targetRefName"]
        if "completionOptions" in body:
            pull_request.completion_options = body["completionOptions"]
        if "autoCompleteSetBy" in body:
            pull_request.auto_complete_set_by = (body["autoCompleteSetBy"] or {}).get("id")
        if "status" in body:
            _change_status(request, pull_request, PullRequestStatus.parse(body["status"]))
        _refresh_commits(pull_request)
    return Response.ok(pull_request_json(request.site, pull_request))


def _refresh_commits(pull_request: PullRequest) -> None:
    if pull_request.is_active:
        repository = pull_request.repository
        pull_request.source_commit = git.resolve(repository.path, pull_request.source_ref) or pull_request.source_commit
        pull_request.target_commit = git.resolve(repository.path, pull_request.target_ref) or pull_request.target_commit


def _change_status(request: Request, pull_request: PullRequest, status: PullRequestStatus) -> None:
    if status is pull_request.status:
        return
    if status is PullRequestStatus.ACTIVE:
        _refuse_duplicate(
            request, pull_request.repository, pull_request.source_ref, pull_request.target_ref, pull_request.id
        )
        pull_request.closed_date = None
    elif status is PullRequestStatus.COMPLETED:
        _refuse_blocked(request, pull_request)
        _complete(pull_request)
        pull_request.closed_date = utc_now()
    elif status is PullRequestStatus.ABANDONED:
        pull_request.closed_date = utc_now()
    else:
        raise ApiError(HTTPStatus.BAD_REQUEST, "InvalidArgumentValueException", f"Invalid status {status.wire}.")
    pull_request.status = status


def _refuse_blocked(request: Request, pull_request: PullRequest) -> None:
    blockers = completion_blockers(request.state.policies, pull_request)
    if blockers:
        # The status and type are the double's own choice: what matters is that the merge does not happen.
        raise ApiError(
            HTTPStatus.CONFLICT,
            "GitPullRequestCannotBeCompletedException",
            f"The pull request {pull_request.id} cannot be completed: {'; '.join(blockers)}.",
        )


def _complete(pull_request: PullRequest) -> None:
    options = pull_request.completion_options or {}
    strategy = MergeStrategy.parse(options.get("mergeStrategy", MergeStrategy.NO_FAST_FORWARD))
    message = options.get("mergeCommitMessage") or f"Merged PR {pull_request.id}: {pull_request.title}"
    try:
        git.merge(
            pull_request.repository.path,
            source_ref=pull_request.source_ref,
            target_ref=pull_request.target_ref,
            message=message,
            squash=strategy is MergeStrategy.SQUASH,
        )
    except git.GitError as error:
        raise ApiError(
            HTTPStatus.CONFLICT,
            "GitPullRequestMergeConflictException",
            f"TF401192: The pull request could not be completed because of merge conflicts. ({error})",
        ) from None
    if options.get("deleteSourceBranch"):
        commit = git.resolve(pull_request.repository.path, pull_request.source_ref)
        if commit is not None:
            git.update_ref(pull_request.repository.path, pull_request.source_ref, "0" * 40, commit)


# Labels -----------------------------------------------------------------------------------------------------------


def _add_label(pull_request: PullRequest, name: str) -> Label:
    for label in pull_request.labels:
        if label.name.lower() == name.lower():
            label.active = True
            return label
    label = Label(id=stable_id("label", name), name=name)
    pull_request.labels.append(label)
    return label


def get_labels(request: Request) -> Response:
    pull_request = _pull_request(request, readable_repository(request))
    return Response.collection([label_json(label) for label in pull_request.labels if label.active])


def create_label(request: Request) -> Response:
    body = request.json() or {}
    if not body.get("name"):
        raise ApiError(HTTPStatus.BAD_REQUEST, "InvalidArgumentValueException", "A label needs a name.")
    with request.state.lock:
        label = _add_label(_writable_pull_request(request), body["name"])
    return Response.ok(label_json(label))


def delete_label(request: Request) -> Response:
    wanted = request.required("labelIdOrName").lower()
    with request.state.lock:
        pull_request = _writable_pull_request(request)
        found = [label for label in pull_request.labels if wanted in (label.id, label.name.lower()) and label.active]
        if not found:
            raise ApiError(
                HTTPStatus.NOT_FOUND, "WebApiTagNotFoundException", f"The label '{wanted}' is not on this pull request."
            )
        found[0].active = False
    return Response(status=HTTPStatus.NO_CONTENT)


# Threads and comments ---------------------------------------------------------------------------------------------


def _thread(pull_request: PullRequest, raw_id: str) -> Thread:
    for thread in pull_request.threads:
        if str(thread.id) == raw_id:
            return thread
    raise ApiError(HTTPStatus.NOT_FOUND, "CommentThreadNotFoundException", f"The thread {raw_id} does not exist.")


def threads(request: Request) -> Response:
    pull_request = _pull_request(request, readable_repository(request))
    thread_id = request.value("threadId")
    if thread_id is not None:
        return Response.ok(thread_json(request.site, _thread(pull_request, thread_id)))
    return Response.collection([thread_json(request.site, thread) for thread in pull_request.threads])


def _comment(request: Request, raw: dict[str, Any], comment_id: int) -> Comment:
    now = utc_now()
    return Comment(
        id=comment_id,
        content=raw.get("content") or "",
        comment_type=CommentType.parse(raw.get("commentType", CommentType.TEXT)),
        parent_comment_id=int(raw.get("parentCommentId") or 0),
        author=request.caller,
        published=now,
        updated=now,
    )


def create_thread(request: Request) -> Response:
    body: dict[str, Any] = request.json() or {}
    with request.state.lock:
        pull_request = _writable_pull_request(request)
        now = utc_now()
        thread = Thread(
            id=request.state.next_thread_id(),
            status=CommentThreadStatus.parse(body.get("status", CommentThreadStatus.ACTIVE)),
            comments=[_comment(request, raw, index) for index, raw in enumerate(body.get("comments") or [], 1)],
            published=now,
            updated=now,
            properties=body.get("properties") or {},
        )
        pull_request.threads.append(thread)
    return Response.ok(thread_json(request.site, thread))


def update_thread(request: Request) -> Response:
    body: dict[str, Any] = request.json() or {}
    with request.state.lock:
        thread = _thread(_writable_pull_request(request), request.required("threadId"))
        if "status" in body:
            thread.status = CommentThreadStatus.parse(body["status"])
        thread.updated = utc_now()
    return Response.ok(thread_json(request.site, thread))


def create_comment(request: Request) -> Response:
    body: dict[str, Any] = request.json() or {}
    with request.state.lock:
        thread = _thread(_writable_pull_request(request), request.required("threadId"))
        comment = _comment(request, body, len(thread.comments) + 1)
        thread.comments.append(comment)
        thread.updated = comment.updated
    return Response.ok(comment_json(request.site, comment))


def update_comment(request: Request) -> Response:
    body: dict[str, Any] = request.json() or {}
    with request.state.lock:
        thread = _thread(_writable_pull_request(request), request.required("threadId"))
        wanted = request.required("commentId")
        comment = next((c for c in thread.comments if str(c.id) == wanted), None)
        if comment is None:
            raise ApiError(HTTPStatus.NOT_FOUND, "CommentNotFoundException", f"The comment {wanted} does not exist.")
        if "content" in body:
            comment.content = body["content"] or ""
        comment.updated = thread.updated = utc_now()
    return Response.ok(comment_json(request.site, comment))


# Reviewers --------------------------------------------------------------------------------------------------------


def get_reviewers(request: Request) -> Response:
    pull_request = _pull_request(request, readable_repository(request))
    reviewer_id = request.value("reviewerId")
    chosen = [r for r in pull_request.reviewers if reviewer_id is None or r.id == reviewer_id.lower()]
    if reviewer_id is not None:
        if not chosen:
            raise ApiError(HTTPStatus.NOT_FOUND, "IdentityNotFoundException", f"No reviewer {reviewer_id}.")
        return Response.ok(reviewer_json(request.site, chosen[0]))
    return Response.collection([reviewer_json(request.site, reviewer) for reviewer in chosen])


def put_reviewer(request: Request) -> Response:
    body: dict[str, Any] = request.json() or {}
    reviewer_id = request.required("reviewerId").lower()
    with request.state.lock:
        pull_request = _writable_pull_request(request)
        known = next((i for i in request.state.identities.values() if i.id == reviewer_id), None)
        reviewer = next((r for r in pull_request.reviewers if r.id == reviewer_id), None)
        if reviewer is None:
            name = known.display_name if known else reviewer_id
            reviewer = Reviewer(id=reviewer_id, display_name=name)
            pull_request.reviewers.append(reviewer)
        reviewer.vote = int(body.get("vote", reviewer.vote))
        reviewer.is_required = bool(body.get("isRequired", reviewer.is_required))
        reviewer.is_flagged = bool(body.get("isFlagged", reviewer.is_flagged))
    return Response.ok(reviewer_json(request.site, reviewer))

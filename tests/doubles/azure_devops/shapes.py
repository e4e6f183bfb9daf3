"""The JSON shapes Azure DevOps answers with, built from the double's state (field names as the service spells
them; azure-devops-node-api turns dates and enum names back into its own types)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import git
from .enums import PullRequestStatus
from .site import Site
from .state import (
    Comment,
    CommitStatus,
    Identity,
    Label,
    PolicyConfiguration,
    Project,
    PullRequest,
    Repository,
    Reviewer,
    Thread,
    stable_id,
)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def project_ref(site: Site, project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "url": site.api(f"_apis/projects/{project.id}"),
        "state": "wellFormed",
        "revision": 1,
        "visibility": "private",
        "lastUpdateTime": "2024-01-01T00:00:00.000Z",
    }


def repository_json(site: Site, repository: Repository) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": repository.id,
        "name": repository.name,
        "url": site.api(f"{repository.project.id}/_apis/git/repositories/{repository.id}"),
        "project": project_ref(site, repository.project),
        "size": git.size_bytes(repository.path),
        "remoteUrl": site.git_remote(repository.project.name, repository.name),
        "webUrl": site.web_url(repository.project.name, repository.name),
        "isDisabled": repository.disabled,
        "isInMaintenance": False,
    }
    # Azure DevOps leaves defaultBranch out while a repository has no commit.
    if repository.default_branch is not None and git.resolve(repository.path, "HEAD") is not None:
        body["defaultBranch"] = f"refs/heads/{repository.default_branch}"
    return body


def identity_ref(site: Site, identity: Identity) -> dict[str, Any]:
    return {
        "displayName": identity.display_name,
        "url": site.api(f"_apis/Identities/{identity.id}"),
        "id": identity.id,
        "uniqueName": identity.unique_name,
        "imageUrl": site.api(f"_api/_common/identityImage?id={identity.id}"),
        "descriptor": f"aadsp.{identity.oid}",
    }


def commit_ref(site: Site, repository: Repository, commit_id: str) -> dict[str, Any]:
    return {"commitId": commit_id, "url": site.api(f"_apis/git/repositories/{repository.id}/commits/{commit_id}")}


def commit_json(site: Site, repository: Repository, commit: git.CommitInfo) -> dict[str, Any]:
    return {
        **commit_ref(site, repository, commit.commit_id),
        "treeId": commit.tree_id,
        "parents": list(commit.parents),
        "author": {"name": commit.author_name, "email": commit.author_email, "date": commit.author_date},
        "committer": {"name": commit.committer_name, "email": commit.committer_email, "date": commit.committer_date},
        "comment": commit.message,
        "commentTruncated": False,
        "remoteUrl": f"{site.web_url(repository.project.name, repository.name)}/commit/{commit.commit_id}",
    }


def label_json(label: Label) -> dict[str, Any]:
    return {"id": label.id, "name": label.name, "active": label.active}


def reviewer_json(site: Site, reviewer: Reviewer) -> dict[str, Any]:
    return {
        "id": reviewer.id,
        "displayName": reviewer.display_name,
        "url": site.api(f"_apis/Identities/{reviewer.id}"),
        "vote": reviewer.vote,
        "isRequired": reviewer.is_required,
        "isFlagged": reviewer.is_flagged,
        "hasDeclined": False,
    }


def pull_request_json(site: Site, pull_request: PullRequest) -> dict[str, Any]:
    repository = pull_request.repository
    body: dict[str, Any] = {
        "repository": {
            "id": repository.id,
            "name": repository.name,
            "url": site.api(f"{repository.project.id}/_apis/git/repositories/{repository.id}"),
            "project": project_ref(site, repository.project),
        },
        "pullRequestId": pull_request.id,
        "codeReviewId": pull_request.id,
        "status": pull_request.status.wire,
        "createdBy": identity_ref(site, pull_request.created_by),
        "creationDate": iso(pull_request.creation_date),
        "title": pull_request.title,
        "description": pull_request.description,
        "sourceRefName": pull_request.source_ref,
        "targetRefName": pull_request.target_ref,
        "mergeStatus": "succeeded",
        "isDraft": pull_request.is_draft,
        # The id of the service's merge job, a GUID (not a commit): a new one for every source commit merged.
        "mergeId": stable_id("merge", repository.id, str(pull_request.id), pull_request.source_commit or ""),
        "reviewers": [reviewer_json(site, reviewer) for reviewer in pull_request.reviewers],
        "labels": [label_json(label) for label in pull_request.labels if label.active],
        "url": site.api(
            f"{repository.project.id}/_apis/git/repositories/{repository.id}/pullRequests/{pull_request.id}"
        ),
        "supportsIterations": True,
        "artifactId": f"vstfs:///Git/PullRequestId/{repository.project.id}%2f{repository.id}%2f{pull_request.id}",
    }
    if pull_request.source_commit:
        body["lastMergeSourceCommit"] = commit_ref(site, repository, pull_request.source_commit)
    if pull_request.target_commit:
        body["lastMergeTargetCommit"] = commit_ref(site, repository, pull_request.target_commit)
    if pull_request.status is not PullRequestStatus.ACTIVE and pull_request.closed_date is not None:
        body["closedDate"] = iso(pull_request.closed_date)
    if pull_request.completion_options is not None:
        body["completionOptions"] = pull_request.completion_options
    if pull_request.auto_complete_set_by is not None:
        body["autoCompleteSetBy"] = {"id": pull_request.auto_complete_set_by}
    return body


def comment_json(site: Site, comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "parentCommentId": comment.parent_comment_id,
        "author": identity_ref(site, comment.author),
        "content": comment.content,
        "publishedDate": iso(comment.published),
        "lastUpdatedDate": iso(comment.updated),
        "lastContentUpdatedDate": iso(comment.updated),
        "commentType": comment.comment_type.wire,
        "usersLiked": [],
    }


def thread_json(site: Site, thread: Thread) -> dict[str, Any]:
    return {
        "id": thread.id,
        "publishedDate": iso(thread.published),
        "lastUpdatedDate": iso(thread.updated),
        "comments": [comment_json(site, comment) for comment in thread.comments],
        "status": thread.status.wire,
        "threadContext": None,
        "properties": thread.properties,
        "identities": None,
        "isDeleted": False,
    }


def status_json(site: Site, status: CommitStatus) -> dict[str, Any]:
    context: dict[str, Any] = {"name": status.context_name}
    if status.context_genre is not None:
        context["genre"] = status.context_genre
    body: dict[str, Any] = {
        "id": status.id,
        "state": status.state.wire,
        "description": status.description,
        "context": context,
        "creationDate": iso(status.creation_date),
        "updatedDate": iso(status.creation_date),
        "createdBy": identity_ref(site, status.created_by),
        "url": site.api(f"_apis/git/repositories/{status.repository_id}/commits/{status.commit_id}/statuses"),
    }
    if status.target_url:
        body["targetUrl"] = status.target_url
    return body


def policy_type_json(site: Site, policy: PolicyConfiguration) -> dict[str, Any]:
    return {
        "id": policy.type_id,
        "url": site.api(f"{policy.project.id}/_apis/policy/types/{policy.type_id}"),
        "displayName": policy.type_display_name,
    }


def policy_configuration_json(site: Site, policy: PolicyConfiguration) -> dict[str, Any]:
    return {
        "id": policy.id,
        "type": policy_type_json(site, policy),
        "revision": 1,
        "isEnabled": policy.is_enabled,
        "isBlocking": policy.is_blocking,
        "isDeleted": False,
        "settings": policy.settings,
        "createdDate": iso(policy.created),
        "url": site.api(f"{policy.project.id}/_apis/policy/configurations/{policy.id}"),
    }

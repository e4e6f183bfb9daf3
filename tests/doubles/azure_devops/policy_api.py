"""Branch policy configurations and their evaluations on pull requests.

Configurations are what a test adds (``AzureDevOpsDouble.add_policy``); an evaluation exists for every enabled
configuration of the pull request's project whose scope covers its repository and target branch, with the
status the test set on the configuration. Completing a pull request honours them (``completion_blockers``): a
blocking policy whose evaluation is not approved keeps it active, as does a required reviewer who has not approved.
Left out: policy types and their settings schemas, evaluation by build, status or reviewer state (a test sets the
outcome), requeueing, bypassing policies, and configuration writes through REST.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from .enums import PolicyEvaluationStatus
from .repos_api import scoped_project
from .routing import ApiError, Request, Response
from .shapes import iso, policy_configuration_json
from .state import PolicyConfiguration, PullRequest, stable_id


def policy_configurations(request: Request) -> Response:
    project = scoped_project(request)
    wanted_type = (request.query.get("policytype") or "").lower()
    with request.state.lock:
        chosen = [
            policy
            for policy in request.state.policies
            if (project is None or policy.project == project) and wanted_type in ("", policy.type_id.lower())
        ]
    configuration_id = request.value("configurationId")
    if configuration_id is not None:
        found = [policy for policy in chosen if str(policy.id) == configuration_id]
        if not found:
            raise ApiError(
                HTTPStatus.NOT_FOUND,
                "PolicyConfigurationNotFoundException",
                f"TF401368: The policy configuration {configuration_id} does not exist.",
            )
        return Response.ok(policy_configuration_json(request.site, found[0]))
    return Response.collection([policy_configuration_json(request.site, policy) for policy in chosen])


def applies(policy: PolicyConfiguration, pull_request: PullRequest) -> bool:
    if not policy.is_enabled or policy.project != pull_request.repository.project:
        return False
    scopes: list[dict[str, Any]] = policy.settings.get("scope") or [{}]
    for scope in scopes:
        repository_id = scope.get("repositoryId")
        if repository_id not in (None, pull_request.repository.id):
            continue
        match_kind = str(scope.get("matchKind", "")).lower()
        ref_name = scope.get("refName")
        default_ref = f"refs/heads/{pull_request.repository.default_branch}"
        if match_kind == "defaultbranch" and pull_request.target_ref != default_ref:
            continue
        if match_kind == "exact" and ref_name and pull_request.target_ref != ref_name:
            continue
        if match_kind == "prefix" and ref_name and not pull_request.target_ref.startswith(ref_name):
            continue
        return True
    return False


def policy_evaluations(request: Request) -> Response:
    project = scoped_project(request)
    artifact_id = request.query.get("artifactid")
    if not artifact_id:
        raise ApiError(
            HTTPStatus.BAD_REQUEST, "ArgumentNullException", "Value cannot be null. Parameter name: artifactId"
        )
    # vstfs:///CodeReview/CodeReviewId/<projectId>/<pullRequestId>
    project_id, _, raw_id = artifact_id.rpartition("/")
    pull_request = request.state.pull_requests.get(int(raw_id)) if raw_id.isdigit() else None
    in_project = pull_request is not None and project_id.endswith(pull_request.repository.project.id)
    if pull_request is None or not in_project or (project is not None and pull_request.repository.project != project):
        return Response.collection([])
    include_not_applicable = request.query.get("includenotapplicable", "").lower() == "true"
    with request.state.lock:
        evaluations = [
            {
                "evaluationId": stable_id("evaluation", str(policy.id), str(pull_request.id)),
                "artifactId": artifact_id,
                "configuration": policy_configuration_json(request.site, policy),
                "status": policy.evaluation_status.wire,
                "startedDate": iso(pull_request.creation_date),
                "completedDate": iso(pull_request.creation_date),
            }
            for policy in request.state.policies
            if applies(policy, pull_request)
            and (include_not_applicable or policy.evaluation_status is not PolicyEvaluationStatus.NOT_APPLICABLE)
        ]
    return Response.collection(evaluations)


_APPROVING_VOTE = 5  # 10 approved, 5 approved with suggestions; 0 no vote, -5 waiting for the author, -10 rejected
_PASSING = (PolicyEvaluationStatus.APPROVED, PolicyEvaluationStatus.NOT_APPLICABLE)


def completion_blockers(policies: list[PolicyConfiguration], pull_request: PullRequest) -> list[str]:
    """Why the pull request cannot be completed yet: each blocking policy not approved, each required reviewer
    who has not approved; empty when it may be."""
    blockers = [
        f"the policy '{policy.type_display_name}' is {policy.evaluation_status.wire}"
        for policy in policies
        if policy.is_blocking and applies(policy, pull_request) and policy.evaluation_status not in _PASSING
    ]
    blockers += [
        f"the required reviewer {reviewer.display_name} has not approved"
        for reviewer in pull_request.reviewers
        if reviewer.is_required and reviewer.vote < _APPROVING_VOTE
    ]
    return blockers

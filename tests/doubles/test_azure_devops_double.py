"""The Azure DevOps double refuses tokens as Azure DevOps does, on REST and git routes; serves what Renovate's
azure platform and the runner's preflight call; records every request; and real Renovate opens pull requests
against it."""

from __future__ import annotations

import base64
import collections
import json
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from .azure_devops import (
    GIT_REPOSITORIES_NAMESPACE_ID,
    RENOVATE_PERMISSIONS,
    AzureDevOpsDouble,
    GitPermission,
    SeededRepository,
)
from .azure_devops.enums import PolicyEvaluationStatus
from .azure_devops.fixtures import (
    TEST_OID,
    TEST_TENANT,
    SigningKey,
    ado_signing_key_fixture,  # noqa: F401 - pytest finds fixtures among module attributes
    azure_devops_double_fixture,  # noqa: F401
)
from .fixtures import registry_double_fixture  # noqa: F401
from .jwt_verifier import InvalidToken, JwtVerifier
from .registry import RegistryDouble, renovate_options

OTHER_OID = "9d3c2b1a-0000-4000-8000-00000000bbbb"
STATUS_POLICY = "cbdc66da-9728-4af8-aada-9a5a32e4a226"  # Azure DevOps' "Status" policy type
PACKAGE_JSON = json.dumps(
    {"name": "web", "version": "1.0.0", "private": True, "dependencies": {"lodash": "4.17.15", "express": "4.17.1"}},
    indent=2,
)


def tampered(token: str) -> str:
    """The token with another ``oid`` in its payload and its original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["oid"] = OTHER_OID
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _tampered_signature(key: SigningKey) -> str:
    return tampered(key.mint())


def _wrong_audience(key: SigningKey) -> str:
    return key.mint(audience="api://some-other-resource")


def _expired(key: SigningKey) -> str:
    return key.mint(lifetime_s=-30, issued_ago_s=3600)


# case -> (how to make the token, the reason the double records)
BAD_TOKENS: dict[str, tuple[Callable[[SigningKey], str], str]] = {
    "tampered signature": (_tampered_signature, "signature"),
    "wrong audience": (_wrong_audience, "audience"),
    "expired": (_expired, "expired"),
}


def call(
    url: str,
    *,
    method: str = "GET",
    token: str | None = None,
    body: Any = None,
    authorization: str | None = None,
    accept: str = "application/json",
) -> tuple[int, dict[str, list[str]], bytes]:
    headers = {"Content-Type": "application/json", "Accept": accept}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if authorization is not None:
        headers["Authorization"] = authorization
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - loopback URLs
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, _headers(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, _headers(error.headers), error.read()


def _headers(message: Any) -> dict[str, list[str]]:
    collected: dict[str, list[str]] = collections.defaultdict(list)
    for name, value in message.items():
        collected[name.lower()].append(value)
    return collected


def git(*args: str, token: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", f"http.extraHeader=AUTHORIZATION: bearer {token}", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "GIT_TERMINAL_PROMPT": "0", "HOME": str(cwd or "/nonexistent")},
        check=False,
        timeout=60,
    )


@pytest.fixture(name="repository")
def repository_fixture(azure_devops_double: AzureDevOpsDouble) -> SeededRepository:
    seeded = azure_devops_double.add_repository("Platform", "web", {"package.json": PACKAGE_JSON})
    azure_devops_double.grant(TEST_OID, "Platform", "web")
    return seeded


# The verifier ---------------------------------------------------------------------------------------------------


def test_verifier_returns_the_claims_of_a_valid_token(ado_signing_key: SigningKey) -> None:
    claims = JwtVerifier(ado_signing_key.public_pem).verify(ado_signing_key.mint())

    assert claims["oid"] == TEST_OID
    assert claims["tid"] == TEST_TENANT


@pytest.mark.parametrize("case", [*BAD_TOKENS, "not yet valid"])
def test_verifier_names_why_it_refuses_a_token(ado_signing_key: SigningKey, case: str) -> None:
    if case == "not yet valid":
        token, reason = ado_signing_key.mint(not_before_in_s=600), "not yet valid"
    else:
        make, reason = BAD_TOKENS[case]
        token = make(ado_signing_key)

    with pytest.raises(InvalidToken) as refused:
        JwtVerifier(ado_signing_key.public_pem).verify(token)

    assert refused.value.reason == reason


def test_verifier_refuses_a_token_signed_by_another_key(ado_signing_key: SigningKey) -> None:
    with pytest.raises(InvalidToken, match="signature"):
        JwtVerifier(ado_signing_key.public_pem).verify(SigningKey.generate().mint())


# Authentication on REST routes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_rest_refuses_a_bad_token_with_401_and_a_bearer_challenge(
    azure_devops_double: AzureDevOpsDouble, repository: SeededRepository, ado_signing_key: SigningKey, case: str
) -> None:
    make, reason = BAD_TOKENS[case]

    status, headers, body = call(
        f"{azure_devops_double.organization_url}_apis/git/repositories", token=make(ado_signing_key)
    )

    assert status == 401
    assert headers["www-authenticate"][0] == f"Bearer authorization_uri=https://login.microsoftonline.com/{TEST_TENANT}"
    assert "TF400813" in json.loads(body)["message"]
    assert repository.name.encode() not in body
    [recorded] = azure_devops_double.requests
    assert (recorded.status, recorded.verified, recorded.reason) == (401, False, reason)
    assert recorded.route == "GET {project}/_apis/git/Repositories/{repositoryId}"


def test_rest_accepts_a_valid_token(
    azure_devops_double: AzureDevOpsDouble, repository: SeededRepository, ado_signing_key: SigningKey
) -> None:
    status, _, body = call(
        f"{azure_devops_double.organization_url}_apis/git/repositories", token=ado_signing_key.mint()
    )

    assert status == 200
    [listed] = json.loads(body)["value"]
    assert (listed["id"], listed["name"], listed["project"]["name"]) == (repository.id, "web", "Platform")
    assert listed["defaultBranch"] == "refs/heads/main"
    [recorded] = azure_devops_double.requests
    assert (recorded.verified, recorded.oid) == (True, TEST_OID)


def test_rest_refuses_a_missing_token_with_401(azure_devops_double: AzureDevOpsDouble) -> None:
    status, headers, _ = call(f"{azure_devops_double.organization_url}_apis/connectionData")

    assert status == 401
    assert headers["www-authenticate"][0].startswith("Bearer ")


def test_rest_answers_credentials_that_are_no_entra_token_with_the_sign_in_page(
    azure_devops_double: AzureDevOpsDouble,
) -> None:
    pat_as_basic = "Basic " + base64.b64encode(b":" + b"p" * 52).decode()

    status, headers, body = call(
        f"{azure_devops_double.organization_url}_apis/connectionData", authorization=pat_as_basic
    )

    assert status == 203
    assert headers["content-type"][0].startswith("text/html")
    assert b"Sign In" in body


def test_rest_refuses_a_token_of_another_tenant(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    token = ado_signing_key.mint(tenant_id="00000000-0000-4000-8000-000000000000")

    status, _, _ = call(f"{azure_devops_double.organization_url}_apis/connectionData", token=token)

    assert status == 401
    assert azure_devops_double.requests[0].reason == "tenant"


# Authentication on git routes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_git_refuses_a_bad_token(
    azure_devops_double: AzureDevOpsDouble, repository: SeededRepository, ado_signing_key: SigningKey, case: str
) -> None:
    make, reason = BAD_TOKENS[case]

    result = git("ls-remote", repository.remote_url, token=make(ado_signing_key))

    assert result.returncode != 0
    assert "refs/heads/main" not in result.stdout
    assert [(r.status, r.verified, r.reason) for r in azure_devops_double.requests] == [(401, False, reason)]
    assert azure_devops_double.requests[0].route == "GET {project}/_git/{repository}/info/refs"


def test_git_clones_and_pushes_with_a_valid_token(
    azure_devops_double: AzureDevOpsDouble, repository: SeededRepository, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    token = ado_signing_key.mint()

    cloned = git("clone", repository.remote_url, str(tmp_path / "web"), token=token)
    assert cloned.returncode == 0, cloned.stderr
    work = tmp_path / "web"
    (work / "notes.txt").write_text("hello\n")
    for step in (["checkout", "-b", "feature"], ["add", "notes.txt"], ["commit", "-m", "Add notes"]):
        assert (
            git("-c", "user.name=T", "-c", "user.email=t@example.invalid", *step, token=token, cwd=work).returncode == 0
        )
    pushed = git("push", "origin", "feature", token=token, cwd=work)

    assert pushed.returncode == 0, pushed.stderr
    head = git("rev-parse", "HEAD", token=token, cwd=work).stdout.strip()
    assert azure_devops_double.branches("Platform", "web")["feature"] == head
    assert all(r.verified for r in azure_devops_double.requests)


def test_git_push_needs_contribute_and_create_branch(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    seeded = azure_devops_double.add_repository("Platform", "read-only")
    azure_devops_double.grant(TEST_OID, "Platform", "read-only", GitPermission.GENERIC_READ)
    token = ado_signing_key.mint()
    assert git("clone", seeded.remote_url, str(tmp_path / "ro"), token=token).returncode == 0

    pushed = git("push", "origin", "HEAD:refs/heads/renovate/x", token=token, cwd=tmp_path / "ro")

    assert pushed.returncode != 0
    assert "TF401027: You need the Git 'GenericContribute' permission" in pushed.stderr
    assert "renovate/x" not in azure_devops_double.branches("Platform", "read-only")


# Routes ---------------------------------------------------------------------------------------------------------


def test_unknown_routes_answer_404_and_are_recorded(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    token = ado_signing_key.mint()
    org = azure_devops_double.organization_url

    answers = [
        call(f"{org}_apis/build/builds?api-version=7.1", token=token)[0],
        call(f"{org}_apis/build", method="OPTIONS", token=token)[0],
        call(f"{azure_devops_double.base_url}/another-org/_apis/connectionData", token=token)[0],
    ]

    assert answers == [404, 404, 404]
    assert [(r.method, r.path) for r in azure_devops_double.unknown_requests] == [
        ("GET", "/contoso/_apis/build/builds"),
        ("OPTIONS", "/contoso/_apis/build"),
        ("GET", "/another-org/_apis/connectionData"),
    ]


def test_location_service_routes_the_git_area_to_the_organization(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    token = ado_signing_key.mint()
    org = azure_devops_double.organization_url

    _, _, areas = call(f"{org}_apis/ResourceAreas", token=token)
    _, _, git_locations = call(f"{org}_apis/git", method="OPTIONS", token=token)

    by_name = {area["name"]: area["locationUrl"] for area in json.loads(areas)["value"]}
    assert by_name["git"] == org
    assert by_name["Profile"] == azure_devops_double.vssps_url
    templates = {location["id"]: location["routeTemplate"] for location in json.loads(git_locations)["value"]}
    assert templates["225f7195-f9c7-4d14-ab28-a83f7ff77e1f"] == "{project}/_apis/{area}/{resource}/{repositoryId}"
    assert templates["9946fd70-0d40-406e-b686-b4744cbbcc37"].endswith("/{resource}/{pullRequestId}")


def test_write_without_api_version_is_refused_like_azure_devops(
    azure_devops_double: AzureDevOpsDouble, repository: SeededRepository, ado_signing_key: SigningKey
) -> None:
    url = f"{azure_devops_double.organization_url}_apis/git/repositories/{repository.id}/pullRequests"

    status, _, body = call(url, method="POST", token=ado_signing_key.mint(), body={"title": "x"})

    assert status == 400
    assert json.loads(body)["typeKey"] == "VssVersionNotSpecifiedException"


def test_a_second_active_pull_request_for_the_same_branches_conflicts(
    azure_devops_double: AzureDevOpsDouble, repository: SeededRepository, ado_signing_key: SigningKey
) -> None:
    url = f"{azure_devops_double.organization_url}_apis/git/repositories/{repository.id}/pullRequests?api-version=7.1"
    token = ado_signing_key.mint()
    same_branch = {"sourceRefName": "refs/heads/main", "targetRefName": "refs/heads/main", "title": "Same"}

    first = call(url, method="POST", token=token, body=same_branch)
    second = call(url, method="POST", token=token, body=same_branch)

    assert first[0] == 201
    assert second[0] == 409
    assert "TF401179" in json.loads(second[2])["message"]
    assert [pr.title for pr in azure_devops_double.pull_requests()] == ["Same"]


def test_permission_evaluation_answers_from_grants(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    granted = azure_devops_double.add_repository("Platform", "granted")
    other = azure_devops_double.add_repository("Platform", "other")
    elsewhere = azure_devops_double.add_repository("Tools", "elsewhere")
    azure_devops_double.grant(TEST_OID, "Platform", "granted", RENOVATE_PERMISSIONS)
    azure_devops_double.grant(TEST_OID, "Tools", None, GitPermission.GENERIC_READ)
    azure_devops_double.grant(OTHER_OID, "Platform", "other", RENOVATE_PERMISSIONS)
    asked = [
        (granted.security_token, RENOVATE_PERMISSIONS),
        (granted.security_token, GitPermission.PULL_REQUEST_CONTRIBUTE),
        (other.security_token, GitPermission.GENERIC_READ),
        (elsewhere.security_token, GitPermission.GENERIC_READ),
        (elsewhere.security_token, GitPermission.GENERIC_READ | GitPermission.GENERIC_CONTRIBUTE),
    ]
    batch = {
        "alwaysAllowAdministrators": False,
        "evaluations": [
            {"securityNamespaceId": GIT_REPOSITORIES_NAMESPACE_ID, "token": token, "permissions": int(bits)}
            for token, bits in asked
        ],
    }

    status, _, body = call(
        f"{azure_devops_double.organization_url}_apis/security/permissionevaluationbatch?api-version=7.1",
        method="POST",
        token=ado_signing_key.mint(),
        body=batch,
    )

    assert status == 200
    assert [evaluation["value"] for evaluation in json.loads(body)["evaluations"]] == [True, True, False, True, False]


def test_profile_names_the_identity_that_connection_data_names(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    token = ado_signing_key.mint()

    _, _, profile = call(
        f"{azure_devops_double.vssps_url}_apis/profile/profiles/me?api-version=7.1-preview.3", token=token
    )
    _, _, connection = call(f"{azure_devops_double.organization_url}_apis/connectionData", token=token)

    identity_id = azure_devops_double.identity_id(TEST_OID)
    assert json.loads(profile)["id"] == identity_id
    assert json.loads(connection)["authenticatedUser"]["id"] == identity_id
    assert identity_id != TEST_OID  # as in Azure DevOps, the identity id is not the Entra object id


def test_work_items_hold_renovate_issues(azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey) -> None:
    azure_devops_double.add_repository("Platform", "web")
    token, org = ado_signing_key.mint(), azure_devops_double.organization_url
    fields = [
        {"op": "add", "path": "/fields/System.Title", "value": "[web] Dependency Dashboard"},
        {"op": "add", "path": "/multilineFieldsFormat/System.Description", "value": "Markdown"},
    ]
    wiql = (
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = 'Platform' "
        "AND [System.Title] = '[web] Dependency Dashboard'"
    )

    created = call(f"{org}Platform/_apis/wit/workItems/$Issue?api-version=7.1", method="POST", token=token, body=fields)
    _, _, found = call(f"{org}_apis/wit/wiql?api-version=7.1", method="POST", token=token, body={"query": wiql})
    closed = call(
        f"{org}Platform/_apis/wit/workItems/1?api-version=7.1",
        method="PATCH",
        token=token,
        body=[{"op": "replace", "path": "/fields/System.State", "value": "Done"}],
    )
    _, _, states = call(f"{org}Platform/_apis/wit/workitemtypes/Issue/states?api-version=7.1-preview.1", token=token)

    assert created[0] == 200
    assert json.loads(created[2])["fields"]["System.State"] == "To Do"
    assert [item["id"] for item in json.loads(found)["workItems"]] == [1]
    assert json.loads(closed[2])["fields"]["System.State"] == "Done"
    assert [(state["name"], state["category"]) for state in json.loads(states)["value"]][-1] == ("Done", "Completed")


def pushed_feature_branch(double: AzureDevOpsDouble, token: str, work: Path) -> SeededRepository:
    """Platform/web with `main`, and a branch `feature` one commit ahead of it that adds b.txt."""
    seeded = double.add_repository("Platform", "web", {"a.txt": "a\n"})
    double.grant(TEST_OID, "Platform", "web")
    assert git("clone", seeded.remote_url, str(work), token=token).returncode == 0
    (work / "b.txt").write_text("b\n")
    for step in (["add", "b.txt"], ["commit", "-m", "Add b"], ["push", "origin", "HEAD:refs/heads/feature"]):
        assert git("-c", "user.name=T", "-c", "user.email=t@x.invalid", *step, token=token, cwd=work).returncode == 0
    return seeded


PULL = {"sourceRefName": "refs/heads/feature", "targetRefName": "refs/heads/main", "title": "Add b"}
COMPLETION = {"status": 3, "completionOptions": {"mergeStrategy": 2, "deleteSourceBranch": True}}


def test_threads_statuses_and_completion_of_a_pull_request(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    token = ado_signing_key.mint()
    seeded = pushed_feature_branch(azure_devops_double, token, tmp_path / "w")
    repo = f"{azure_devops_double.organization_url}Platform/_apis/git/repositories/web"
    feature = azure_devops_double.branches("Platform", "web")["feature"]
    thread = {"comments": [{"content": "### Topic\n\nhello", "commentType": 1, "parentCommentId": 0}], "status": 1}
    status = {"state": 2, "context": {"genre": "renovate", "name": "stability-days"}, "description": "ok"}

    assert call(f"{repo}/pullRequests?api-version=7.1", method="POST", token=token, body=PULL)[0] == 201
    assert call(f"{repo}/pullRequests/1/threads?api-version=7.1", method="POST", token=token, body=thread)[0] == 200
    assert call(f"{repo}/commits/{feature}/statuses?api-version=7.1", method="POST", token=token, body=status)[0] == 201
    _, _, threads = call(f"{repo}/pullRequests/1/threads?api-version=7.1", token=token)
    _, _, statuses = call(f"{repo}/commits/{feature}/statuses?latestOnly=true&api-version=7.1", token=token)
    _, _, stats = call(f"{repo}/stats/branches?name=feature&api-version=7.1", token=token)
    completed = call(f"{repo}/pullRequests/1?api-version=7.1", method="PATCH", token=token, body=COMPLETION)

    assert json.loads(threads)["value"][0]["comments"][0]["content"] == "### Topic\n\nhello"
    assert [(s["state"], s["context"]["genre"]) for s in json.loads(statuses)["value"]] == [("succeeded", "renovate")]
    assert (json.loads(stats)["commit"]["commitId"], json.loads(stats)["aheadCount"]) == (feature, 1)
    assert json.loads(completed[2])["status"] == "completed"
    assert set(azure_devops_double.branches("Platform", "web")) == {"main"}  # the source branch went with the merge
    merged = subprocess.run(
        ["git", f"--git-dir={seeded.bare_path}", "show", "main:b.txt"], capture_output=True, text=True, check=True
    )
    assert merged.stdout == "b\n"


def test_completion_waits_for_blocking_policies_and_required_reviewers(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    token = ado_signing_key.mint()
    pushed_feature_branch(azure_devops_double, token, tmp_path / "w")
    status_check = azure_devops_double.add_policy(
        "Platform",
        STATUS_POLICY,
        {"statusName": "ci", "scope": [{"matchKind": "DefaultBranch"}]},
        display_name="Status",
        evaluation_status=PolicyEvaluationStatus.QUEUED,
    )
    azure_devops_double.add_policy(  # advisory: never blocks
        "Platform", STATUS_POLICY, {"scope": [{}]}, display_name="Advisory", is_blocking=False,
        evaluation_status=PolicyEvaluationStatus.REJECTED,
    )  # fmt: skip
    repo = f"{azure_devops_double.organization_url}Platform/_apis/git/repositories/web"
    reviewer = azure_devops_double.identity_id(OTHER_OID)
    main_before = azure_devops_double.branches("Platform", "web")["main"]

    assert call(f"{repo}/pullRequests?api-version=7.1", method="POST", token=token, body=PULL)[0] == 201
    required = {"vote": 0, "isRequired": True}
    assert call(f"{repo}/pullRequests/1/reviewers/{reviewer}?api-version=7.1", method="PUT", token=token,
                body=required)[0] == 200  # fmt: skip
    blocked = call(f"{repo}/pullRequests/1?api-version=7.1", method="PATCH", token=token, body=COMPLETION)
    azure_devops_double.set_policy_evaluation(status_check, PolicyEvaluationStatus.APPROVED)
    still_blocked = call(f"{repo}/pullRequests/1?api-version=7.1", method="PATCH", token=token, body=COMPLETION)
    _, _, active = call(f"{repo}/pullRequests/1?api-version=7.1", token=token)
    approve = {"vote": 10}
    call(f"{repo}/pullRequests/1/reviewers/{reviewer}?api-version=7.1", method="PUT", token=token, body=approve)
    completed = call(f"{repo}/pullRequests/1?api-version=7.1", method="PATCH", token=token, body=COMPLETION)

    assert blocked[0] == 409
    assert json.loads(blocked[2])["message"] == (
        "The pull request 1 cannot be completed: the policy 'Status' is queued; the required reviewer "
        "Service principal 9d3c2b1a has not approved."
    )
    assert still_blocked[0] == 409
    assert "Status" not in json.loads(still_blocked[2])["message"]
    assert json.loads(active)["status"] == "active"
    assert completed[0] == 200
    assert json.loads(completed[2])["status"] == "completed"
    assert azure_devops_double.branches("Platform", "web")["main"] != main_before  # merged only now


def test_merge_id_is_a_guid_not_a_commit(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey, tmp_path: Path
) -> None:
    token = ado_signing_key.mint()
    pushed_feature_branch(azure_devops_double, token, tmp_path / "w")
    repo = f"{azure_devops_double.organization_url}Platform/_apis/git/repositories/web"

    _, _, created = call(f"{repo}/pullRequests?api-version=7.1", method="POST", token=token, body=PULL)

    merge_id = json.loads(created)["mergeId"]
    assert str(uuid.UUID(merge_id)) == merge_id
    assert merge_id != azure_devops_double.branches("Platform", "web")["feature"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "_apis/policy/configurations", None),
        ("GET", "_apis/policy/evaluations?artifactId=vstfs:///CodeReview/CodeReviewId/x/1", None),
        ("GET", "_apis/git/pullrequests", None),
        ("GET", "_apis/wit/workitemtypes", None),
        ("GET", "_apis/wit/workitemtypes/Issue/states", None),
        ("GET", "_apis/wit/tags", None),
        ("POST", "_apis/wit/workitems/$Issue", []),
    ],
)
def test_project_scoped_resources_without_a_project_are_not_found(
    azure_devops_double: AzureDevOpsDouble,
    ado_signing_key: SigningKey,
    repository: SeededRepository,
    method: str,
    path: str,
    body: Any,
) -> None:
    org, token = azure_devops_double.organization_url, ado_signing_key.mint()
    separator = "&" if "?" in path else "?"
    version = f"{separator}api-version=7.1-preview.1"

    without = call(f"{org}{path}{version}", method=method, token=token, body=body)
    with_project = call(f"{org}Platform/{path}{version}", method=method, token=token, body=body)

    assert without[0] == 404
    assert "needs a project" in json.loads(without[2])["message"]
    assert with_project[0] != 404
    assert [request.path for request in azure_devops_double.unknown_requests] == [
        f"/{azure_devops_double.organization}/{path.split('?', maxsplit=1)[0]}"
    ]


def test_work_items_are_read_by_ids_only(azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey) -> None:
    org, token = azure_devops_double.organization_url, ado_signing_key.mint()
    azure_devops_double.add_repository("Platform", "web", {"a.txt": "a\n"})

    for url in (f"{org}_apis/wit/workitems?api-version=7.1", f"{org}Platform/_apis/wit/workitems?ids=&api-version=7.1"):
        status, _, body = call(url, token=token)
        assert (status, json.loads(body)["message"]) == (400, "Value cannot be null. Parameter name: ids")


@pytest.mark.parametrize("accept", ["text/plain", "application/octet-stream"])
def test_an_item_read_as_text_or_bytes_is_the_file_itself(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey, repository: SeededRepository, accept: str
) -> None:
    url = f"{azure_devops_double.organization_url}Platform/_apis/git/repositories/web/items?path=/package.json"

    status, headers, body = call(
        f"{url}&api-version=7.1", token=ado_signing_key.mint(), accept=f"{accept};api-version=7.1"
    )
    _, _, metadata = call(f"{url}&api-version=7.1", token=ado_signing_key.mint())

    assert (status, body.decode()) == (200, PACKAGE_JSON)
    assert headers["content-type"][0].startswith(accept)
    assert json.loads(metadata)["path"] == "/package.json"  # JSON is still the metadata


# Real Renovate --------------------------------------------------------------------------------------------------


def run_renovate(
    docker_client: docker.DockerClient, image: str, double: AzureDevOpsDouble, registry: RegistryDouble, token: str
) -> tuple[int, list[dict[str, Any]]]:
    options = renovate_options(registry.base_url)
    config = {
        "onboarding": False,
        "requireConfig": "optional",
        "prHourlyLimit": 0,  # Renovate 44 defaults to 2 PRs an hour; this run opens 3
        "labels": ["dependencies"],  # exercises the pull request labels routes
        **options,
    }
    container = docker_client.containers.run(
        image,
        detach=True,
        network_mode="host",  # the container reaches both doubles on 127.0.0.1
        environment={
            "RENOVATE_PLATFORM": "azure",
            "RENOVATE_ENDPOINT": double.organization_url,
            "RENOVATE_TOKEN": token,
            "RENOVATE_REPOSITORIES": "Platform/web",
            "RENOVATE_CONFIG": json.dumps(config),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "debug",
        },
        labels={"renovate-runner.test": "azure-devops-double"},
    )
    try:
        exit_code = int(container.wait(timeout=300)["StatusCode"])
        output = container.logs(stdout=True, stderr=True).decode()
    finally:
        container.remove(force=True)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return exit_code, lines


@pytest.mark.docker
@pytest.mark.e2e
def test_real_renovate_pushes_branches_and_opens_pull_requests_then_updates_them(
    azure_devops_double: AzureDevOpsDouble,
    registry_double: RegistryDouble,
    ado_signing_key: SigningKey,
    docker_client: docker.DockerClient,
    renovate_image: str,
) -> None:
    double = azure_devops_double
    double.add_repository("Platform", "web", {"package.json": PACKAGE_JSON})
    double.grant(TEST_OID, "Platform", "web", RENOVATE_PERMISSIONS)

    exit_code, lines = run_renovate(docker_client, renovate_image, double, registry_double, ado_signing_key.mint())

    problems = [line["msg"] for line in lines if line.get("level", 0) >= 40]
    assert (exit_code, problems) == (0, [])
    assert [line["renovateVersion"] for line in lines if line.get("msg") == "Repository started"] == ["44.121.2"]
    expected = {
        "renovate/lodash-4.x": "Update dependency lodash to v4.17.21",
        "renovate/express-4.x": "Update dependency express to v4.21.2",
        "renovate/express-5.x": "Update dependency express to v5",
    }
    branches = double.branches("Platform", "web")
    assert set(branches) == {"main", *expected}
    pulls = double.pull_requests("Platform", "web")
    assert {pr.source_ref.removeprefix("refs/heads/"): pr.title for pr in pulls} == expected
    assert all(
        (pr.status, pr.target_ref, pr.labels) == ("active", "refs/heads/main", ("dependencies",)) for pr in pulls
    )
    assert all(pr.created_by_oid == TEST_OID for pr in pulls)
    lodash = subprocess.run(
        ["git", f"--git-dir={double.bare_path('Platform', 'web')}", "show", "renovate/lodash-4.x:package.json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(lodash)["dependencies"] == {"lodash": "4.17.21", "express": "4.17.1"}
    assert double.unknown_requests == ()
    assert all(request.verified for request in double.requests)
    routes = {request.route for request in double.requests}
    assert "POST {project}/_git/{repository}/git-receive-pack" in routes
    assert "POST {project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}" in routes

    # Someone edits a pull request; the next run puts Renovate's description back instead of opening another.
    edited = pulls[0]
    url = f"{double.organization_url}Platform/_apis/git/repositories/web/pullRequests/{edited.id}?api-version=7.1"
    assert call(url, method="PATCH", token=ado_signing_key.mint(), body={"description": "edited"})[0] == 200
    double.clear_requests()

    exit_code, lines = run_renovate(docker_client, renovate_image, double, registry_double, ado_signing_key.mint())

    assert exit_code == 0
    again = double.pull_requests("Platform", "web")
    assert [(pr.id, pr.title) for pr in again] == [(pr.id, pr.title) for pr in pulls]
    assert next(pr for pr in again if pr.id == edited.id).description == edited.description
    patched = [r for r in double.requests if r.method == "PATCH"]
    assert [r.route for r in patched] == [
        "PATCH {project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}"
    ]
    assert double.unknown_requests == ()

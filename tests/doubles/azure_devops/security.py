"""The "Git Repositories" and "Tagging" security namespaces: their permission bits, their tokens, and how grants
combine.

Tagging (https://learn.microsoft.com/azure/devops/organizations/security/namespace-reference, "Tagging"): id
bb50f182-8e5e-40b8-bc21-e8752a1e7ae2, actions Enumerate, Create, Update, Delete (bits 1, 2, 4, 8 in that order), and
the project-level token ``/<projectId>``; *Create tag definition* on the Permissions page is its Create bit.

Tokens are hierarchical as in Azure DevOps: ``repoV2`` (every repository of the organization),
``repoV2/<projectId>`` (every repository of a project) and ``repoV2/<projectId>/<repoId>`` (one repository).
A permission holds on a token when a grant on that token or on one of its ancestors allows every requested bit.
Left out: deny entries, groups and inheritance flags, branch-level tokens (``.../refs/heads/...``), and the
``alwaysAllowAdministrators`` shortcut (the double knows no administrators).
"""

from __future__ import annotations

from enum import IntFlag
from typing import Any, Final

GIT_REPOSITORIES_NAMESPACE_ID: Final = "2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87"
TAGGING_NAMESPACE_ID: Final = "bb50f182-8e5e-40b8-bc21-e8752a1e7ae2"
ROOT_TOKEN: Final = "repoV2"


class GitPermission(IntFlag):
    ADMINISTER = 1
    GENERIC_READ = 2
    GENERIC_CONTRIBUTE = 4
    FORCE_PUSH = 8
    CREATE_BRANCH = 16
    CREATE_TAG = 32
    MANAGE_NOTE = 64
    POLICY_EXEMPT = 128
    CREATE_REPOSITORY = 256
    DELETE_REPOSITORY = 512
    RENAME_REPOSITORY = 1024
    EDIT_POLICIES = 2048
    REMOVE_OTHERS_LOCKS = 4096
    MANAGE_PERMISSIONS = 8192
    PULL_REQUEST_CONTRIBUTE = 16384
    PULL_REQUEST_BYPASS_POLICY = 32768


class TaggingPermission(IntFlag):
    ENUMERATE = 1
    CREATE = 2
    UPDATE = 4
    DELETE = 8


_TAGGING_ACTION_NAMES: Final = {
    TaggingPermission.ENUMERATE: ("Enumerate", "Enumerate tag definitions"),
    TaggingPermission.CREATE: ("Create", "Create tag definition"),
    TaggingPermission.UPDATE: ("Update", "Update tag definition"),
    TaggingPermission.DELETE: ("Delete", "Delete tag definition"),
}


# What an identity needs for Renovate's whole job: clone, push branches, open and update pull requests.
RENOVATE_PERMISSIONS: Final = (
    GitPermission.GENERIC_READ
    | GitPermission.GENERIC_CONTRIBUTE
    | GitPermission.CREATE_BRANCH
    | GitPermission.PULL_REQUEST_CONTRIBUTE
)

_ACTION_NAMES: Final = {
    GitPermission.ADMINISTER: ("Administer", "Administer"),
    GitPermission.GENERIC_READ: ("GenericRead", "Read"),
    GitPermission.GENERIC_CONTRIBUTE: ("GenericContribute", "Contribute"),
    GitPermission.FORCE_PUSH: ("ForcePush", "Force push (rewrite history, delete branches and tags)"),
    GitPermission.CREATE_BRANCH: ("CreateBranch", "Create branch"),
    GitPermission.CREATE_TAG: ("CreateTag", "Create tag"),
    GitPermission.MANAGE_NOTE: ("ManageNote", "Manage notes"),
    GitPermission.POLICY_EXEMPT: ("PolicyExempt", "Bypass policies when pushing"),
    GitPermission.CREATE_REPOSITORY: ("CreateRepository", "Create repository"),
    GitPermission.DELETE_REPOSITORY: ("DeleteRepository", "Delete or disable repository"),
    GitPermission.RENAME_REPOSITORY: ("RenameRepository", "Rename repository"),
    GitPermission.EDIT_POLICIES: ("EditPolicies", "Edit policies"),
    GitPermission.REMOVE_OTHERS_LOCKS: ("RemoveOthersLocks", "Remove others' locks"),
    GitPermission.MANAGE_PERMISSIONS: ("ManagePermissions", "Manage permissions"),
    GitPermission.PULL_REQUEST_CONTRIBUTE: ("PullRequestContribute", "Contribute to pull requests"),
    GitPermission.PULL_REQUEST_BYPASS_POLICY: (
        "PullRequestBypassPolicy",
        "Bypass policies when completing pull requests",
    ),
}


def repository_token(project_id: str | None = None, repository_id: str | None = None) -> str:
    """The security token of the whole organization, of a project, or of one repository."""
    if repository_id is not None and project_id is None:
        raise ValueError("a repository token needs its project id")
    return "/".join(part for part in (ROOT_TOKEN, project_id, repository_id) if part)


def tagging_token(project_id: str) -> str:
    """The Tagging namespace's token of one project."""
    return f"/{project_id}"


def token_ancestry(token: str) -> list[str]:
    """``repoV2/p/r`` -> ``["repoV2", "repoV2/p", "repoV2/p/r"]``: the tokens whose grants apply to ``token``."""
    parts = token.split("/")
    return ["/".join(parts[: index + 1]) for index in range(len(parts))]


def namespace_descriptions() -> list[dict[str, Any]]:
    """``GET _apis/securitynamespaces``: the namespaces the double evaluates."""
    return [namespace_description(), tagging_namespace_description()]


def tagging_namespace_description() -> dict[str, Any]:
    return {
        "namespaceId": TAGGING_NAMESPACE_ID,
        "name": "Tagging",
        "displayName": "Tagging",
        "separatorValue": "/",
        "elementLength": -1,
        "actions": [
            {"bit": int(bit), "name": name, "displayName": display, "namespaceId": TAGGING_NAMESPACE_ID}
            for bit, (name, display) in _TAGGING_ACTION_NAMES.items()
        ],
    }


def namespace_description() -> dict[str, Any]:
    """``GET _apis/securitynamespaces/{id}`` for the Git Repositories namespace, as Azure DevOps describes it."""
    return {
        "namespaceId": GIT_REPOSITORIES_NAMESPACE_ID,
        "name": "Git Repositories",
        "displayName": "Git Repositories",
        "separatorValue": "/",
        "elementLength": -1,
        "writePermission": int(GitPermission.MANAGE_PERMISSIONS),
        "readPermission": int(GitPermission.GENERIC_READ),
        "dataspaceCategory": "Git",
        "actions": [
            {"bit": int(bit), "name": name, "displayName": display, "namespaceId": GIT_REPOSITORIES_NAMESPACE_ID}
            for bit, (name, display) in _ACTION_NAMES.items()
        ],
        "structureValue": 1,
        "extensionType": "Microsoft.TeamFoundation.Git.Server.Plugins.GitSecurityNamespaceExtension",
        "isRemotable": True,
        "useTokenTranslator": True,
        "systemBitMask": 0,
    }

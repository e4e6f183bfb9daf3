"""A loopback double of Azure DevOps Services for one organization, for tests only (never shipped).

What it implements, as Renovate 44.121.2's azure platform (through azure-devops-node-api 17), git and the
runner's own client use it:

- authentication on every request, git included: ``Authorization: Bearer <JWT>`` verified against the Entra ID
  double's key (signature, audience, expiry, not-before, tenant). Refusals answer like the service: 401 with
  ``WWW-Authenticate: Bearer authorization_uri=...`` for a missing or invalid token; 203 with the HTML sign-in
  page for credentials that are no Entra token (Basic/PAT, or a bearer value that is not a JWT); 401 on git
  routes whatever the cause, so git fails (``auth.py``);
- the location service: ``GET _apis/ResourceAreas``, ``OPTIONS [<project>/]_apis/<area>`` with Azure DevOps'
  location ids, route templates and versions, ``GET _apis/connectionData``; api-version checks as the service
  makes them (``locations.py``, ``routing.py``);
- git over smart HTTP at ``/<org>/<project>/_git/<repo>`` backed by real bare repositories through
  ``git http-backend``, clone, fetch and push, with per-ref permission checks on push; a missing, unreadable or
  disabled repository answers 404 with TF401019 (``git.py``);
- REST: projects; repositories (list, get by name or id); items (file contents); refs (list, update); commits;
  branch statistics; commit statuses (``repos_api.py``); pull requests (create, search, get, update including
  auto-complete, title, description, status and completion with a real merge), labels, threads and comments,
  reviewers (``pulls_api.py``); policy configurations and evaluations (``policy_api.py``); work items and WIQL
  for Renovate's issues, with the Basic process (``wit_api.py``); the profile under
  ``/vssps/``, security namespaces and permission evaluation batches answered from configured grants
  (``identity_api.py``, ``security.py``);
- a request log (method, path, query, matched route template, status, the token's ``oid``, whether it verified,
  api-version); unknown routes answer 404 (405 for a known path with another method) and are logged with no
  route, so a test can fail on "called something the double does not implement".

What it leaves out: PATs and OAuth apps (only Entra bearer tokens pass), several organizations, project and
repository creation through REST, pushes through REST (``_apis/git/repositories/{id}/pushes``), teams and
team members (so Renovate's reviewer lookup by team name), iterations,
branch policies enforced on push or completion, deny entries and groups in permissions, SSH, LFS, rate limits
and throttling headers, continuation tokens, and ``$expand``/``includeLinks`` variants of answers.
"""

from .double import DEFAULT_ORGANIZATION, AzureDevOpsDouble, PullRequestSnapshot, SeededRepository
from .enums import PolicyEvaluationStatus
from .security import GIT_REPOSITORIES_NAMESPACE_ID, RENOVATE_PERMISSIONS, GitPermission
from .server import RecordedRequest

__all__ = [
    "DEFAULT_ORGANIZATION",
    "GIT_REPOSITORIES_NAMESPACE_ID",
    "RENOVATE_PERMISSIONS",
    "AzureDevOpsDouble",
    "GitPermission",
    "PolicyEvaluationStatus",
    "PullRequestSnapshot",
    "RecordedRequest",
    "SeededRepository",
]
